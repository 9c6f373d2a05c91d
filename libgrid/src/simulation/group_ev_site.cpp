// libgrid layer 7: the charging-site device group (simulation/device_group.hpp): chargers, a PV
// canopy and a battery behind one connection under one site controller. Recorded in /ev_site.
#include "group_common.hpp"

#include <libgrid/simulation/dr.hpp>

namespace libgrid::groups {
namespace {

class EvSiteGroup final : public DeviceGroup {
public:
    explicit EvSiteGroup(std::vector<ChargingSiteUnit> units) : u_(std::move(units)) {}
    std::string kind() const override { return "ev_site"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }

    void validate(const NetworkIndex& ix, const SimulationOptions&) const override {
        unique_ids(u_, "charging site");
        for (const ChargingSiteUnit& u : u_) {
            ix.check_bus("charging site " + std::to_string(u.id), u.bus);
            if (u.canopy.kwp_dc > 0) libgrid::validate(u.canopy, "charging site " + std::to_string(u.id) + " canopy");
        }
    }
    void prepare(const RunSetup& s) override {
        std::vector<EvStation*> st;
        std::vector<Id> buses;
        bus_.clear();
        for (ChargingSiteUnit& u : u_) {
            u.site.prepare(double(s.opt->step_s));
            st.push_back(&u.site.evs);
            buses.push_back(u.bus);
            bus_.push_back(int(s.index->bus_at->at(u.bus)));
        }
        p_kw_.assign(u_.size(), 0.0);
        out_.assign(u_.size(), SiteStepOutput{});
        agg_.prepare(s, st, buses, "charging site");
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
        c.pool->for_each(u_.size(), [&](std::size_t u) {
            ChargingSiteUnit& cs = u_[u];
            // issue 16: EV charging shed in an island: the site controller charges the cars from its
            // canopy and battery only (its outage reserve usable), importing nothing from the island
            cs.site.battery.outage = cs.in_service && node_[u] >= 0 && c.ev_shed(node_[u]);
            if (!cs.in_service || node_[u] < 0) {
                p_kw_[u] = 0.0;
                out_[u] = SiteStepOutput{};
                // issue 16: de-energised: the chargers deliver nothing, the battery and canopy idle;
                // the sessions go on (contiguous steps when energised again)
                if (cs.in_service && cs.site.evs.started_) (void)cs.site.evs.step(dead_input(c), c.dt_h);
                return;
            }
            SiteStepInput in;
            in.t = c.t;
            in.is_peak = c.comms ? c.comms->peak(Receiver::EvSite, cs.id, bus_[u], c.t, c.peak) : c.peak;  // issue 17: the schedule it has
            in.pv_available_kw = cs.canopy.kwp_dc > 0 ? pv_step(cs.canopy, c.weather, c.node_vm(node_[u])).p_kw : 0.0;
            if (agg_.aggregated(u)) {
                cs.site.begin_step(in, c.dt_h);
                return;
            }
            if (cs.site.battery.outage) {
                cs.site.begin_step(in, c.dt_h);
                out_[u] = cs.site.end_step(0.0);
                p_kw_[u] = out_[u].p_kw;
                return;
            }
            const double cap = dr_.active() ? dr_.cap_kw(u, c.t) : kInf;  // issue 17 (H5): DR import cap, else inf
            if (cap < kInf) {
                cs.site.begin_step(in, c.dt_h);
                out_[u] = cs.site.end_step(cap);
            } else {
                out_[u] = cs.site.step(in, c.dt_h);
            }
            p_kw_[u] = out_[u].p_kw;
        }, 64);
        if (agg_.active()) {  // grid_aware sites: their transformers' headroom, shared (group_ev_grid.cpp)
            for (std::size_t u = 0; u < u_.size(); ++u)
                if (!agg_.aggregated(u) && c.bus_flex_kw) (*c.bus_flex_kw)[std::size_t(bus_[u])] -= p_kw_[u];
            agg_.share(c, stations_);
            c.pool->for_each(u_.size(), [&](std::size_t u) {
                if (!agg_.aggregated(u) || !u_[u].in_service || node_[u] < 0) return;
                double lim = c.ev_shed(node_[u]) ? 0.0 : agg_.limit_kw(u);
                if (dr_.active()) lim = std::min(lim, dr_.cap_kw(u, c.t));  // issue 17 (H5)
                out_[u] = u_[u].site.end_step(lim);
                p_kw_[u] = out_[u].p_kw;
            }, 64);
        }
    }
    void add_injections(const Injections& inj) override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0) inj.add(node_[k], p_kw_[k]);
    }

    std::size_t planned_columns() const override { return 4 * u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions&) override {
        for (auto* v : {&p_, &ev_, &pv_, &bat_}) v->assign(u_.size(), 0.0);
        if (u_.empty() || !d.recorder()) return;
        declare_units(d, u_);
        std::vector<double> n, kw, pv, e, pb;  // issue 18: the sizes a results file prices (docs/economics.md)
        for (const ChargingSiteUnit& u : u_) {
            n.push_back(double(u.site.evs.params.n_chargers));
            kw.push_back(u.site.evs.params.charger_kw);
            pv.push_back(u.canopy.kwp_dc);
            e.push_back(u.site.battery.capacity_kwh);
            pb.push_back(std::max(u.site.battery.p_charge_max_kw, u.site.battery.p_discharge_max_kw));
        }
        d.vector("n_chargers", n, "");
        d.vector("charger_kw", kw, "kW");
        d.vector("pv_kwp", pv, "kW");
        d.vector("battery_kwh", e, "kWh");
        d.vector("battery_kw", pb, "kW");
        d.series("p_mw", "MW", p_);
        d.series("ev_mw", "MW", ev_);
        d.series("pv_mw", "MW", pv_);
        d.series("battery_mw", "MW", bat_);
    }
    void record(const RecordContext& c) override {
        StepTotals& tot = *c.totals;
        for (std::size_t u = 0; u < u_.size(); ++u) {
            const bool on = node_[u] >= 0;
            p_[u] = on ? p_kw_[u] / 1000.0 : 0.0;
            ev_[u] = on ? out_[u].p_ev_kw / 1000.0 : 0.0;
            pv_[u] = on ? out_[u].p_pv_kw / 1000.0 : 0.0;
            bat_[u] = on ? out_[u].p_battery_kw / 1000.0 : 0.0;
            tot.elements_mw += p_[u];
            tot.ev_mw += ev_[u];
            tot.pv_mw += pv_[u];
            tot.battery_mw += bat_[u];
        }
        if (dr_.active()) {  // issue 17 (H5): the class's aggregate (sites' net import, kW, > 0 consuming): the DR series
            double a = 0.0;
            for (double p : p_) a -= p * 1000.0;
            dr_.record(c.t, a);
        }
    }
    void finish(SimulationSummary& sum) const override {
        for (const ChargingSiteUnit& u : u_) add_ev_kpi(sum, u.site.evs.kpi());
        dr_.finish(sum);  // issue 17 (H5)
    }
    void summary_tables(SummaryTables& t) const override {
        for (const ChargingSiteUnit& u : u_) add_ev_sessions(t, u.id, u.site.evs);
        dr_.table(t, "dr_ev_site");  // issue 17 (H5): /dr_ev_site when an event targets chargers
    }

    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.fixed("site_p_kw", p_kw_);
        ar.fixed("site_out", out_);
        for (ChargingSiteUnit& u : u_) {
            state(ar, u.site.evs);
            state(ar, u.site.battery);
            ar.pod("site.peak_import_kw", u.site.peak_import_kw_);
            ar.pod("site.peak_export_kw", u.site.peak_export_kw_);
        }
        agg_.archive_limits(ar, "site");  // issue 17: the grid_aware limits through the channel
        if (dr_.active()) {  // issue 17 (H5): only with events for chargers (other runs' state as before)
            ar.fixed("site_dr_agg", dr_.agg());
            ar.flag("site_dr_wd", dr_.wd());
        }
    }

    // ---- issue 17 (H5): demand_response events through the channel (docs/comms.md) ----
    /// Each site's participation from its message's arrival: in [from, end) its net import is capped
    /// at (1 - reduction) x its chargers' rated power (chargers x charger_kw); its canopy and battery
    /// may still feed the cars beyond it. Pure in the channel: recomputed after a resume.
    void participate(const CommsContext* comms) {
        dr_.participate(comms, Receiver::EvSite, u_.size(), [&](std::size_t u) {
            const EvStationParams& p = u_[u].site.evs.params;
            return DrClass::Device{u_[u].in_service, std::int64_t(u_[u].id), bus_[u], double(p.n_chargers) * p.charger_kw};
        });
    }

    std::vector<ChargingSiteUnit> u_;
    std::vector<int> node_, bus_;
    EvAggregator agg_;
    std::vector<EvStation*> stations_;
    std::vector<double> p_kw_;
    std::vector<SiteStepOutput> out_;
    std::vector<double> p_, ev_, pv_, bat_;
    // issue 17 (H5)
    DrClass dr_;
};

}  // namespace

std::unique_ptr<DeviceGroup> make_ev_site_group(DeviceSet& d) { return std::make_unique<EvSiteGroup>(std::move(d.charging_sites)); }

}  // namespace libgrid::groups
