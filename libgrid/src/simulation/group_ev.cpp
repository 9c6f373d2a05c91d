// libgrid layer 7: the EV station device group (simulation/device_group.hpp): chargers at a bus,
// behind a customer's meter (whose PV surplus PV-following uses) or on their own. Recorded in /ev.
#include "group_common.hpp"

#include <libgrid/simulation/dr.hpp>

namespace libgrid::groups {

void add_ev_sessions(SummaryTables& t, Id station_id, const EvStation& st) {
    SummaryTables::Table& tab = t.table("summary/ev_sessions", {{"station", "", true, {}, {}},
                                                                {"arrival", kResultsTimeUnits, true, {}, {}},
                                                                {"departure", kResultsTimeUnits, true, {}, {}},
                                                                {"energy_kwh", "kWh", false, {}, {}},
                                                                {"delivered_kwh", "kWh", false, {}, {}},
                                                                {"unmet_kwh", "kWh", false, {}, {}},
                                                                {"status", "", true, {}, {}},
                                                                {"pending_kwh", "kWh", false, {}, {}}});
    for (std::size_t i = 0; i < st.sessions.size() && i < st.records.size(); ++i) {
        tab.columns[0].ints.push_back(station_id);
        tab.columns[1].ints.push_back(st.sessions[i].arrival);
        tab.columns[2].ints.push_back(st.sessions[i].departure);
        tab.columns[3].reals.push_back(st.sessions[i].energy_kwh);
        tab.columns[4].reals.push_back(st.records[i].delivered_kwh);
        tab.columns[5].reals.push_back(st.records[i].unmet_kwh);
        const EvOutcome o = outcome(st.records[i]);
        tab.columns[6].ints.push_back(static_cast<std::int64_t>(o));
        tab.columns[7].reals.push_back(o == EvOutcome::Pending ? std::max(0.0, st.sessions[i].energy_kwh - st.records[i].delivered_kwh) : 0.0);
    }
}

void add_ev_kpi(SimulationSummary& sum, const EvKpi& k) {
    sum.ev_delivered_mwh += k.delivered_kwh / 1000.0;
    sum.ev_not_delivered_mwh += (k.unmet_kwh - k.blocked_kwh) / 1000.0;
    sum.ev_blocked_mwh += k.blocked_kwh / 1000.0;
    sum.ev_pending_mwh += k.pending_kwh / 1000.0;
}

namespace {

class EvGroup final : public DeviceGroup {
public:
    explicit EvGroup(std::vector<EvStationUnit> units) : u_(std::move(units)) {}
    std::string kind() const override { return "ev"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }

    void validate(const NetworkIndex& ix, const SimulationOptions&) const override {
        unique_ids(u_, "ev station");
        for (const EvStationUnit& u : u_) {
            ix.check_bus("ev station " + std::to_string(u.id), u.bus);
            ix.check_customer("ev station " + std::to_string(u.id), u.customer, u.bus);
        }
    }
    void prepare(const RunSetup& s) override {
        std::vector<EvStation*> st;
        std::vector<Id> buses;
        bus_.clear();
        for (EvStationUnit& u : u_) {
            u.station.prepare(double(s.opt->step_s));
            st.push_back(&u.station);
            buses.push_back(u.bus);
            bus_.push_back(int(s.index->bus_at->at(u.bus)));
        }
        link_customers(s, u_, customer_, false);
        p_kw_.assign(u_.size(), 0.0);
        agg_.prepare(s, st, buses, "ev station");
        stations_ = std::move(st);
        // issue 17 (H5): demand_response events that target chargers (docs/comms.md)
        dr_.prepare(s.opt->demand_response, [](const DemandResponseEvent& e) { return e.chargers; }, s.opt->start, double(s.opt->step_s),
                    s.opt->n_steps);
    }
    void bind(const NetworkIndex& ix) override {
        bind_nodes(ix, u_, node_);
        agg_.bind(ix);
    }

    void step(const StepContext& c) override {
        if (dr_.active()) {  // issue 17 (H5)
            if (!dr_.ready()) participate(c.comms);
            dr_.weekday(c.k, c.weekday);
        }
        // grid_aware stations: begin here, share their transformers' headroom, end below
        c.pool->for_each(u_.size(), [&](std::size_t u) {
            EvStationUnit& e = u_[u];
            // issue 16: EV charging is shed first in an island (docs/microgrid.md "Time series")
            if (!e.in_service || node_[u] < 0 || c.ev_shed(node_[u])) {
                p_kw_[u] = 0.0;
                // issue 16: a de-energised station's vehicles keep arriving and leaving, charging nothing
                // (its time goes on: the station's steps stay contiguous when the bus is energised again)
                if (e.in_service && e.station.started_) (void)e.station.step(dead_input(c), c.dt_h);
                return;
            }
            EvStepInput in;
            in.t = c.t;
            in.is_peak = c.comms ? c.comms->peak(Receiver::EvStation, e.id, bus_[u], c.t, c.peak) : c.peak;  // issue 17: the schedule it has
            const int cu = customer_[u];
            in.pv_available_kw = cu >= 0 ? std::max((*c.customer_pv_kw)[std::size_t(cu)] - (*c.customer_load_kw)[std::size_t(cu)], 0.0) : 0.0;
            if (dr_.active()) in.import_limit_kw = dr_.cap_kw(u, c.t);  // issue 17 (H5): DR power cap, else inf
            if (agg_.aggregated(u)) e.station.begin_step(in, c.dt_h);
            else p_kw_[u] = e.station.step(in, c.dt_h);
        }, 64);
        if (agg_.active()) {
            for (std::size_t u = 0; u < u_.size(); ++u)
                if (!agg_.aggregated(u) && c.bus_flex_kw) (*c.bus_flex_kw)[std::size_t(bus_[u])] -= p_kw_[u];
            agg_.share(c, stations_);
            c.pool->for_each(u_.size(), [&](std::size_t u) {
                if (agg_.aggregated(u) && u_[u].in_service && node_[u] >= 0 && !c.ev_shed(node_[u]))
                    p_kw_[u] = u_[u].station.end_step(agg_.limit_kw(u));
            }, 64);
            for (std::size_t u = 0; u < u_.size(); ++u)
                if (agg_.aggregated(u) && c.bus_flex_kw) (*c.bus_flex_kw)[std::size_t(bus_[u])] -= p_kw_[u];
        } else if (c.bus_flex_kw) {
            for (std::size_t u = 0; u < u_.size(); ++u) (*c.bus_flex_kw)[std::size_t(bus_[u])] -= p_kw_[u];
        }
    }
    void add_injections(const Injections& inj) override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0) inj.add(node_[k], p_kw_[k]);
    }

    std::size_t planned_columns() const override { return u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions&) override {
        p_.assign(u_.size(), 0.0);
        if (u_.empty() || !d.recorder()) return;
        declare_units(d, u_);
        std::vector<double> n, kw;  // issue 18: the sizes a results file prices (docs/economics.md)
        for (const EvStationUnit& u : u_) {
            n.push_back(double(u.station.params.n_chargers));
            kw.push_back(u.station.params.charger_kw);
        }
        d.vector("n_chargers", n, "");
        d.vector("charger_kw", kw, "kW");
        d.series("p_mw", "MW", p_);
    }
    void record(const RecordContext& c) override {
        for (std::size_t u = 0; u < u_.size(); ++u) {
            p_[u] = node_[u] >= 0 ? p_kw_[u] / 1000.0 : 0.0;
            c.totals->elements_mw += p_[u];
            c.totals->ev_mw += p_[u];
        }
        if (dr_.active()) {  // issue 17 (H5): the class's aggregate (kW, > 0 consuming): the DR baseline's series
            double a = 0.0;
            for (double p : p_) a -= p * 1000.0;
            dr_.record(c.t, a);
        }
    }
    void meter(const CustomerFlows& f) const override {
        for (std::size_t u = 0; u < u_.size(); ++u)
            if (customer_[u] >= 0) (*f.net_kw)[std::size_t(customer_[u])] -= p_[u] * 1000.0;
    }
    void finish(SimulationSummary& sum) const override {
        for (const EvStationUnit& u : u_) add_ev_kpi(sum, u.station.kpi());
        dr_.finish(sum);  // issue 17 (H5)
    }
    void summary_tables(SummaryTables& t) const override {
        for (const EvStationUnit& u : u_) add_ev_sessions(t, u.id, u.station);
        dr_.table(t, "dr_ev");  // issue 17 (H5): /dr_ev when an event targets chargers
    }

    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.fixed("ev_p_kw", p_kw_);
        for (EvStationUnit& u : u_) state(ar, u.station);
        agg_.archive_limits(ar, "ev");  // issue 17: the grid_aware limits through the channel
        if (dr_.active()) {  // issue 17 (H5): only with events for chargers (other runs' state as before)
            ar.fixed("ev_dr_agg", dr_.agg());
            ar.flag("ev_dr_wd", dr_.wd());
        }
    }

    // ---- issue 17 (H5): demand_response events through the channel (docs/comms.md) ----
    /// Each station's participation from its message's arrival: in [from, end) its net import is
    /// capped at (1 - reduction) x its rated power (chargers x charger_kw). Pure in the channel:
    /// recomputed after a resume.
    void participate(const CommsContext* comms) {
        dr_.participate(comms, Receiver::EvStation, u_.size(), [&](std::size_t u) {
            const EvStationParams& p = u_[u].station.params;
            return DrClass::Device{u_[u].in_service, std::int64_t(u_[u].id), bus_[u], double(p.n_chargers) * p.charger_kw};
        });
    }

    std::vector<EvStationUnit> u_;
    std::vector<int> node_, customer_, bus_;
    std::vector<double> p_kw_, p_;
    EvAggregator agg_;
    std::vector<EvStation*> stations_;
    // issue 17 (H5)
    DrClass dr_;
};

}  // namespace

std::unique_ptr<DeviceGroup> make_ev_group(DeviceSet& d) { return std::make_unique<EvGroup>(std::move(d.ev_stations)); }

}  // namespace libgrid::groups
