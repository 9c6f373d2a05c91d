// libgrid layer 7: demand-response events through the communication channel (issue 17, second
// part; docs/comms.md "Demand response through the channel").
//
// The head-end sends each event to every targeted device `notice_s` before its start (a
// MessageKind::DemandResponse message, index = the event's start). A device takes part from
// max(start, arrival) to the end; a message that does not arrive before the end is ignored. Without
// comms every device gets it when it is sent. Measurement: a "5-of-5"-style baseline per target
// class from the same intervals of up to 5 previous days of the same day type without an event.
#pragma once

#include <libgrid/simulation/comms.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace libgrid {

/// One event of the top-level scenario key `demand_response.events` (SimulationOptions::demand_response).
struct DemandResponseEvent {
    std::int64_t start = 0;         ///< s local
    std::int64_t end = 0;           ///< s local, > start
    double reduction = 0.2;         ///< share of the baseline to shed, 0..1
    double notice_s = 3600.0;       ///< the head-end sends it this long before the start, s >= 0
    bool buildings = true;          ///< targets BEMS buildings
    bool chargers = false;          ///< targets EV chargers: EV stations and charging sites (issue 17 H5)
    bool homes = false;             ///< targets HEMS homes (issue 17 H5)
    bool operator==(const DemandResponseEvent&) const = default;
};

/// Throws ValidationError naming "demand_response.events[i].<field>": end > start, reduction in
/// [0, 1], notice_s >= 0 and finite, in time order and not overlapping.
void validate(const std::vector<DemandResponseEvent>& events);

/// When a device takes part in an event.
enum class DrReach : int { InTime = 0, Late = 1, Never = 2 };
struct DrParticipation {
    DrReach reach = DrReach::Never;
    std::int64_t from = 0;       ///< takes part in [from, end) (from = end when never)
    double arrival_s = std::numeric_limits<double>::quiet_NaN();  ///< s local, NaN when never
};
/// The message of event `e` to device (r, id) at bus index `bus`, through `comms` (nullptr = no comms:
/// arrives when sent).
DrParticipation dr_participation(const DemandResponseEvent& e, const CommsContext* comms, Receiver r, std::int64_t id, int bus);

/// Per event: the measurement (docs/kpis.md "dr_requested_kw").
struct DrMeasurement {
    double baseline_kw = std::numeric_limits<double>::quiet_NaN();   ///< mean over the event's steps of the baseline
    double actual_kw = std::numeric_limits<double>::quiet_NaN();     ///< mean over the event's steps of the class's power
    double requested_kw = std::numeric_limits<double>::quiet_NaN();  ///< reduction x baseline_kw
    double delivered_kw = std::numeric_limits<double>::quiet_NaN();  ///< baseline_kw - actual_kw
    int baseline_days = 0;       ///< days in the baseline (0: none found, the values are NaN)
    std::size_t steps = 0;       ///< steps of the event inside the run
};
/// The baseline rule on an aggregate series: power_kw[k] the class's power of step k (start t0 + k
/// step_s, local), weekday[k] the step's day type. For each event step k: the mean of power_kw at
/// the same time of day on the up-to-5 most recent earlier days (looking back at most 10 days) with
/// the same day type as the event's day, no event on them and inside the run. step_s must divide a day.
std::vector<DrMeasurement> dr_measure(const std::vector<double>& power_kw, const std::vector<char>& weekday, std::int64_t t0,
                                      double step_s, const std::vector<DemandResponseEvent>& events);

struct SimulationSummary;
class SummaryTables;

/// Adds a class's part to the DR KPIs (docs/kpis.md "dr_requested_kw"): reach counts over all its
/// events; requested and delivered over the events with on[e] (event-time means, divided by the
/// steps of all events with a baseline). reach[e] = {in time, late, never}.
void dr_add_kpis(SimulationSummary& sum, const std::vector<DemandResponseEvent>& ev, const std::vector<DrMeasurement>& m,
                 const std::vector<std::array<std::size_t, 3>>& reach, const std::vector<char>& on);
/// /<path>: one row per event (docs/results_hdf5.md "/dr"); requested and delivered NaN for an event
/// with !(*on)[e] (on == nullptr: every event measured).
void dr_write_table(SummaryTables& t, const std::string& path, const std::vector<DemandResponseEvent>& ev,
                    const std::vector<DrMeasurement>& m, const std::vector<std::array<std::size_t, 3>>& reach,
                    const std::vector<char>* on);

/// Issue 17 (H5): the DR bookkeeping of one target class other than buildings (EV stations, EV
/// sites): its aggregate power series (kW > 0 consuming, one number per step), the day type per step
/// and per event the reach counts; at the end its share of the KPIs and its own table (/dr_<kind>).
/// `active()` is false when no event targets the class (nothing is kept or written then).
class DrClass {
public:
    /// Keep the events that `targeted` of; start t0 (s local), n steps of step_s.
    void prepare(const std::vector<DemandResponseEvent>& events, bool (*targeted)(const DemandResponseEvent&), std::int64_t t0,
                 double step_s, std::size_t n_steps);
    bool active() const { return active_; }
    const std::vector<DemandResponseEvent>& events() const { return ev_; }
    bool targets(std::size_t e) const { return on_[e] != 0; }
    /// Counts one device's participation in event e.
    void count(std::size_t e, DrReach r) { ++reach_[e][std::size_t(r)]; }
    void clear_counts();
    void weekday(std::size_t k, bool wd) { wd_[std::min(k, wd_.size() - 1)] = wd ? 1 : 0; }
    void record(std::int64_t t, double kw);
    /// Adds this class's part to the DR KPIs (requested and delivered: over the events that target
    /// the class, divided by the steps of all events with a baseline, as the buildings' part).
    void finish(SimulationSummary& sum) const;
    /// /<path>: the /dr columns, one row per event (devices 0 for events that do not target the class).
    void table(SummaryTables& t, const std::string& path) const;
    std::vector<double>& agg() { return agg_; }
    std::vector<char>& wd() { return wd_; }

    /// One device of the class as participate() sees it.
    struct Device {
        bool in_service = true;
        std::int64_t id = 0;
        int bus = 0;           ///< bus index (the channel's hops)
        double rated_kw = 0.0; ///< what the cap scales: (1 - reduction) x rated_kw
    };
    /// Each device's participation from its message's arrival (EV stations, charging sites): in
    /// [from, end) of every event that reaches it, its import is capped at (1 - reduction) x
    /// rated_kw. Counts the reach per event. Pure in the channel: recomputed after a resume.
    /// `device(u)` gives device u of n as a Device.
    template <class DeviceOf>
    void participate(const CommsContext* comms, Receiver who, std::size_t n, DeviceOf&& device) {
        clear_counts();
        win_.assign(n, {});
        for (std::size_t u = 0; u < n; ++u) {
            const Device d = device(u);
            if (!d.in_service) continue;
            for (std::size_t e = 0; e < ev_.size(); ++e) {
                if (!targets(e)) continue;
                const DrParticipation q = dr_participation(ev_[e], comms, who, d.id, d.bus);
                count(e, q.reach);
                if (q.reach == DrReach::Never) continue;
                win_[u].push_back({q.from, ev_[e].end, (1.0 - ev_[e].reduction) * d.rated_kw});
            }
        }
        ready_ = true;
    }
    /// participate() has run since prepare().
    bool ready() const { return ready_; }
    /// Device u's import cap at time t (s local): its window's, else infinity.
    double cap_kw(std::size_t u, std::int64_t t) const {
        for (const Window& w : win_[u])
            if (w.from <= t && t < w.end) return w.cap_kw;
        return std::numeric_limits<double>::infinity();
    }

private:
    struct Window {
        std::int64_t from = 0, end = 0;
        double cap_kw = 0.0;
    };
    std::vector<std::vector<Window>> win_;
    bool ready_ = false;
    bool active_ = false;
    std::vector<DemandResponseEvent> ev_;
    std::vector<char> on_;
    std::vector<std::array<std::size_t, 3>> reach_;
    std::vector<double> agg_;
    std::vector<char> wd_;
    std::int64_t t0_ = 0;
    double step_s_ = 900.0;
};

}  // namespace libgrid
