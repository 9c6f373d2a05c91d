// libgrid layer 7: demand-response events through the communication channel (simulation/dr.hpp,
// docs/comms.md "Demand response through the channel").
#include <libgrid/core/errors.hpp>
#include <libgrid/simulation/dr.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace libgrid {

void validate(const std::vector<DemandResponseEvent>& events) {
    for (std::size_t i = 0; i < events.size(); ++i) {
        const DemandResponseEvent& e = events[i];
        const std::string w = "demand_response.events[" + std::to_string(i) + "]";
        if (!(e.end > e.start)) throw ValidationError(w + ": field 'end': must be after 'start'");
        if (!(e.reduction >= 0.0 && e.reduction <= 1.0))
            throw ValidationError(w + ": field 'reduction': must be in [0, 1], got " + std::to_string(e.reduction));
        if (!(e.notice_s >= 0.0 && std::isfinite(e.notice_s)))
            throw ValidationError(w + ": field 'notice': must be a duration >= 0, got " + std::to_string(e.notice_s) + " s");
        if (i > 0 && e.start < events[i - 1].end)
            throw ValidationError(w + ": field 'start': events must be in time order and not overlap");
    }
}

DrParticipation dr_participation(const DemandResponseEvent& e, const CommsContext* comms, Receiver r, std::int64_t id, int bus) {
    DrParticipation p;
    const double sent = double(e.start) - e.notice_s;
    double arrival = sent;
    if (comms && comms->options) {
        const Delivery d = comms->message(r, id, bus, MessageKind::DemandResponse, e.start);
        arrival = d.arrived ? sent + d.delay_s : std::numeric_limits<double>::quiet_NaN();
    }
    if (!(arrival < double(e.end))) {  // never, or not before the end
        p.reach = DrReach::Never;
        p.from = e.end;
        return p;
    }
    p.arrival_s = arrival;
    if (arrival <= double(e.start)) {
        p.reach = DrReach::InTime;
        p.from = e.start;
    } else {
        p.reach = DrReach::Late;
        p.from = std::int64_t(std::ceil(arrival));  // acts from the first step starting at or after its arrival
    }
    return p;
}

std::vector<DrMeasurement> dr_measure(const std::vector<double>& power_kw, const std::vector<char>& weekday, std::int64_t t0, double step_s,
                                      const std::vector<DemandResponseEvent>& events) {
    std::vector<DrMeasurement> out(events.size());
    const std::int64_t n = std::int64_t(power_kw.size());
    if (!(step_s > 0.0) || n == 0) return out;
    const std::int64_t spd = std::int64_t(std::llround(86400.0 / step_s));  // steps per day
    const auto day_of = [](std::int64_t t) { return t >= 0 ? t / 86400 : -((-t + 86399) / 86400); };
    // days (local) touched by any event: not baseline days
    const auto event_day = [&](std::int64_t day) {
        for (const DemandResponseEvent& e : events)
            if (day_of(e.start) <= day && day <= day_of(e.end - 1)) return true;
        return false;
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
        const DemandResponseEvent& e = events[i];
        DrMeasurement& m = out[i];
        // the event's steps inside the run: steps whose start is in [start, end)
        const std::int64_t k0 = std::max<std::int64_t>(0, std::int64_t(std::ceil(double(e.start - t0) / step_s)));
        const std::int64_t k1 = std::min<std::int64_t>(n, std::int64_t(std::ceil(double(e.end - t0) / step_s)));
        if (k1 <= k0) continue;
        m.steps = std::size_t(k1 - k0);
        // the baseline days: same day type as the event's first step's day, no event, inside the run
        const bool wd = weekday[std::size_t(k0)] != 0;
        const std::int64_t eday = day_of(t0 + std::int64_t(double(k0) * step_s));
        std::vector<std::int64_t> back;  // days back (1..10)
        for (std::int64_t d = 1; d <= 10 && back.size() < 5; ++d) {
            const std::int64_t kk = k0 - d * spd;
            if (kk < 0) break;
            if ((weekday[std::size_t(kk)] != 0) != wd || event_day(eday - d)) continue;
            back.push_back(d);
        }
        m.baseline_days = int(back.size());
        double act = 0.0, base = 0.0;
        for (std::int64_t k = k0; k < k1; ++k) {
            act += power_kw[std::size_t(k)];
            double b = 0.0;
            for (std::int64_t d : back) b += power_kw[std::size_t(k - d * spd)];
            if (!back.empty()) base += b / double(back.size());
        }
        m.actual_kw = act / double(m.steps);
        if (back.empty()) continue;
        m.baseline_kw = base / double(m.steps);
        m.requested_kw = e.reduction * m.baseline_kw;
        m.delivered_kw = m.baseline_kw - m.actual_kw;
    }
    return out;
}

}  // namespace libgrid
