// libgrid layer 7: demand-response events through the communication channel (simulation/dr.hpp,
// docs/comms.md "Demand response through the channel").
#include <libgrid/core/errors.hpp>
#include <libgrid/simulation/device_group.hpp>
#include <libgrid/simulation/dr.hpp>
#include <libgrid/simulation/engine.hpp>

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
        // a class that exports on net over the baseline (homes with PV at noon) has no import to reduce
        m.requested_kw = e.reduction * std::max(m.baseline_kw, 0.0);
        m.delivered_kw = m.baseline_kw - m.actual_kw;
    }
    return out;
}

// ---- issue 17 (H5): a target class other than buildings ----
void DrClass::prepare(const std::vector<DemandResponseEvent>& events, bool (*targeted)(const DemandResponseEvent&), std::int64_t t0,
                      double step_s, std::size_t n_steps) {
    ev_ = events;
    on_.assign(ev_.size(), 0);
    active_ = false;
    for (std::size_t e = 0; e < ev_.size(); ++e)
        if (targeted(ev_[e])) on_[e] = 1, active_ = true;
    reach_.assign(ev_.size(), {0, 0, 0});
    agg_.clear();
    wd_.clear();
    win_.clear();
    ready_ = false;
    if (!active_) return;
    t0_ = t0;
    step_s_ = step_s;
    agg_.assign(n_steps, 0.0);
    wd_.assign(n_steps, 0);
}

void DrClass::clear_counts() { reach_.assign(ev_.size(), {0, 0, 0}); }

void DrClass::record(std::int64_t t, double kw) {
    if (!active_) return;
    const double k = std::round(double(t - t0_) / step_s_);
    if (k >= 0.0 && k < double(agg_.size())) agg_[std::size_t(k)] = kw;
}

void dr_add_kpis(SimulationSummary& sum, const std::vector<DemandResponseEvent>& ev, const std::vector<DrMeasurement>& m,
                 const std::vector<std::array<std::size_t, 3>>& reach, const std::vector<char>& on) {
    sum.dr = true;
    double req = 0.0, del = 0.0, steps = 0.0;
    std::size_t reached = 0, targeted = 0;
    for (std::size_t e = 0; e < ev.size(); ++e) {
        reached += reach[e][0];
        targeted += reach[e][0] + reach[e][1] + reach[e][2];
        if (m[e].baseline_days == 0 || m[e].steps == 0) continue;
        steps += double(m[e].steps);
        if (!on[e]) continue;
        req += m[e].requested_kw * double(m[e].steps);
        del += m[e].delivered_kw * double(m[e].steps);
    }
    sum.dr_reached_devices += reached;
    sum.dr_targeted_devices += targeted;
    if (steps > 0) {
        sum.dr_requested_kw = (std::isnan(sum.dr_requested_kw) ? 0.0 : sum.dr_requested_kw) + req / steps;
        sum.dr_delivered_kw = (std::isnan(sum.dr_delivered_kw) ? 0.0 : sum.dr_delivered_kw) + del / steps;
    }
    if (sum.dr_targeted_devices > 0) sum.dr_devices_reached_share = double(sum.dr_reached_devices) / double(sum.dr_targeted_devices);
}

void dr_write_table(SummaryTables& t, const std::string& path, const std::vector<DemandResponseEvent>& ev,
                    const std::vector<DrMeasurement>& m, const std::vector<std::array<std::size_t, 3>>& reach,
                    const std::vector<char>* on) {
    SummaryTables::Table& d = t.table(path, {{"start", "s", true, {}, {}},
                                             {"end", "s", true, {}, {}},
                                             {"reduction", "fraction", false, {}, {}},
                                             {"notice_s", "s", false, {}, {}},
                                             {"baseline_kw", "kW", false, {}, {}},
                                             {"actual_kw", "kW", false, {}, {}},
                                             {"requested_kw", "kW", false, {}, {}},
                                             {"delivered_kw", "kW", false, {}, {}},
                                             {"baseline_days", "", true, {}, {}},
                                             {"devices", "", true, {}, {}},
                                             {"reached_in_time", "", true, {}, {}},
                                             {"reached_late", "", true, {}, {}},
                                             {"never", "", true, {}, {}}});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t e = 0; e < ev.size(); ++e) {
        const bool measured = on == nullptr || (*on)[e] != 0;
        d.columns[0].ints.push_back(ev[e].start);
        d.columns[1].ints.push_back(ev[e].end);
        d.columns[2].reals.push_back(ev[e].reduction);
        d.columns[3].reals.push_back(ev[e].notice_s);
        d.columns[4].reals.push_back(m[e].baseline_kw);
        d.columns[5].reals.push_back(m[e].actual_kw);
        d.columns[6].reals.push_back(measured ? m[e].requested_kw : nan);
        d.columns[7].reals.push_back(measured ? m[e].delivered_kw : nan);
        d.columns[8].ints.push_back(m[e].baseline_days);
        d.columns[9].ints.push_back(std::int64_t(reach[e][0] + reach[e][1] + reach[e][2]));
        d.columns[10].ints.push_back(std::int64_t(reach[e][0]));
        d.columns[11].ints.push_back(std::int64_t(reach[e][1]));
        d.columns[12].ints.push_back(std::int64_t(reach[e][2]));
    }
}

void DrClass::finish(SimulationSummary& sum) const {
    if (!active_) return;
    dr_add_kpis(sum, ev_, dr_measure(agg_, wd_, t0_, step_s_, ev_), reach_, on_);
}

void DrClass::table(SummaryTables& t, const std::string& path) const {
    if (!active_) return;
    dr_write_table(t, path, ev_, dr_measure(agg_, wd_, t0_, step_s_, ev_), reach_, &on_);
}

}  // namespace libgrid
