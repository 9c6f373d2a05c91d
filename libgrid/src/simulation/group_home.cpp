// libgrid layer 7: the home device group (simulation/device_group.hpp): homes with a HEMS (house,
// rooftop PV, battery, EV) behind a customer's meter, replacing its load profile. Recorded in /home.
#include "group_common.hpp"

#include <libgrid/simulation/dr.hpp>

#include <algorithm>

namespace libgrid::groups {
namespace {

class HomeGroup final : public DeviceGroup {
public:
    explicit HomeGroup(std::vector<HomeUnit> units) : u_(std::move(units)) {}
    std::string kind() const override { return "home"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }

    void validate(const NetworkIndex& ix, const SimulationOptions&) const override {
        unique_ids(u_, "home");
        for (const HomeUnit& u : u_) {
            ix.check_bus("home " + std::to_string(u.id), u.bus);
            ix.check_customer("home " + std::to_string(u.id), u.customer, u.bus);
            if (u.pv.kwp_dc > 0) libgrid::validate(u.pv, "home " + std::to_string(u.id) + " pv");
        }
    }
    void prepare(const RunSetup& s) override {
        for (HomeUnit& u : u_) {
            // a run starts every house at its setpoint (inside its comfort band): not at a hot 27 C that
            // the first hours would count as discomfort (docs/devices_ev_building.md)
            u.home.building_state.T_air_c = u.home.building_state.T_mass_c = u.home.building.setpoint_c;
            u.home.prepare(double(s.opt->step_s));
        }
        // issue 17 (H5): demand_response events that target homes (docs/comms.md)
        bus_ix_.assign(u_.size(), -1);
        for (std::size_t u = 0; u < u_.size(); ++u) {
            const auto it = s.index->bus_at->find(u_[u].bus);
            if (it != s.index->bus_at->end()) bus_ix_[u] = int(it->second);
        }
        dr_.prepare(s.opt->demand_response, [](const DemandResponseEvent& e) { return e.homes; }, s.opt->start, double(s.opt->step_s),
                    s.opt->n_steps);
        dr_ready_ = false;
        dr_win_.assign(u_.size(), {});
        p_kw_.assign(u_.size(), 0.0);
        out_.assign(u_.size(), HomeOutput{});
        link_customers(s, u_, customer_, true);
    }
    void bind(const NetworkIndex& ix) override { bind_nodes(ix, u_, node_); }

    void step(const StepContext& c) override {
        if (dr_.active()) {  // issue 17 (H5)
            if (!dr_ready_) participate(c.comms);
            dr_.weekday(c.k, c.weekday);
        }
        c.pool->for_each(u_.size(), [&](std::size_t u) {
            HomeUnit& h = u_[u];
            // issue 16: a home shed in an island is off as a whole (house, PV, battery, EV)
            if (!h.in_service || node_[u] < 0 || c.customer_is_shed(customer_[u])) {
                p_kw_[u] = 0.0;
                if (h.in_service) {
                    // issue 16: a de-energised home draws nothing (no islanded power flow yet); its EV's
                    // sessions go on without charging (contiguous steps when energised again)
                    out_[u] = HomeOutput{};
                    if (h.home.ev.started_) (void)h.home.ev.step(dead_input(c), c.dt_h);
                }
                return;
            }
            HomeInput in = climate_input<HomeInput>(c);
            if (c.comms) in.is_peak = c.comms->peak(Receiver::Home, h.id, bus_ix_[u], c.t, c.peak);  // issue 17: the schedule it has
            in.pv_available_kw = h.pv.kwp_dc > 0 ? pv_step(h.pv, c.weather, c.node_vm(node_[u])).p_kw : 0.0;
            if (dr_.active()) dr_input(u, c.t, in);  // issue 17 (H5)
            out_[u] = h.home.step(in, c.dt_s);
            p_kw_[u] = out_[u].p_kw;
        }, 64);
    }
    void add_injections(const Injections& inj) override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0) inj.add(node_[k], p_kw_[k]);
    }

    std::size_t planned_columns() const override { return 5 * u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions&) override {
        for (auto* v : {&p_, &ev_, &pv_, &bat_, &bld_}) v->assign(u_.size(), 0.0);
        if (u_.empty() || !d.recorder()) return;
        declare_units(d, u_);
        std::vector<double> pv, e, pb, ev;  // issue 18: the sizes a results file prices (docs/economics.md)
        for (const HomeUnit& u : u_) {
            pv.push_back(u.pv.kwp_dc);
            e.push_back(u.home.battery.capacity_kwh);
            pb.push_back(std::max(u.home.battery.p_charge_max_kw, u.home.battery.p_discharge_max_kw));
            ev.push_back(u.home.ev.params.n_chargers > 0 && !u.home.ev.sessions.empty() ? u.home.ev.params.charger_kw : 0.0);
        }
        d.vector("pv_kwp", pv, "kW");
        d.vector("battery_kwh", e, "kWh");
        d.vector("battery_kw", pb, "kW");
        d.vector("ev_charger_kw", ev, "kW");
        d.series("p_mw", "MW", p_);
        d.series("ev_mw", "MW", ev_);
        d.series("pv_mw", "MW", pv_);
        d.series("battery_mw", "MW", bat_);
        d.series("building_mw", "MW", bld_);
    }
    void record(const RecordContext& c) override {
        StepTotals& tot = *c.totals;
        for (std::size_t u = 0; u < u_.size(); ++u) {
            const bool on = node_[u] >= 0;
            p_[u] = on ? p_kw_[u] / 1000.0 : 0.0;
            ev_[u] = on ? out_[u].p_ev_kw / 1000.0 : 0.0;
            pv_[u] = on ? out_[u].p_pv_kw / 1000.0 : 0.0;
            bat_[u] = on ? out_[u].p_battery_kw / 1000.0 : 0.0;
            bld_[u] = on ? out_[u].p_building_kw / 1000.0 : 0.0;
            tot.elements_mw += p_[u];
            tot.ev_mw += ev_[u];
            tot.pv_mw += pv_[u];
            tot.load_mw -= bld_[u];
            tot.home_mw -= bld_[u];
            tot.battery_mw += bat_[u];
        }
        if (dr_.active()) {  // issue 17 (H5): the homes' net import (kW, > 0 consuming): the DR baseline's series
            double a = 0.0;
            for (double p : p_) a -= p * 1000.0;
            dr_.record(c.t, a);
        }
    }
    void meter(const CustomerFlows& f) const override {
        for (std::size_t u = 0; u < u_.size(); ++u)
            if (customer_[u] >= 0) {
                const std::size_t c = std::size_t(customer_[u]);
                (*f.net_kw)[c] -= p_[u] * 1000.0;
                (*f.extra_load_kw)[c] -= bld_[u] * 1000.0;
                (*f.pv_kw)[c] += pv_[u] * 1000.0;
            }
    }
    void finish(SimulationSummary& sum) const override {
        for (const HomeUnit& u : u_) add_ev_kpi(sum, u.home.ev.kpi());
        for (const HomeUnit& u : u_) sum.home_comfort_degree_hours += u.home.building_state.comfort_degree_hours;
        dr_.finish(sum);  // issue 17 (H5)
    }
    void summary_tables(SummaryTables& t) const override {
        for (const HomeUnit& u : u_) add_ev_sessions(t, u.id, u.home.ev);
        dr_.table(t, "dr_home");  // issue 17 (H5): /dr_home when an event targets homes
    }

    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.fixed("home_p_kw", p_kw_);
        ar.fixed("home_out", out_);
        for (HomeUnit& u : u_) {
            state(ar, u.home.building_state);
            state(ar, u.home.battery);
            state(ar, u.home.ev);
        }
        if (dr_.active()) {  // issue 17 (H5): only with events for homes (other runs' state as before)
            ar.fixed("home_dr_agg", dr_.agg());
            ar.flag("home_dr_wd", dr_.wd());
        }
    }

    // ---- issue 17 (H5): demand_response events through the channel (docs/comms.md) ----
    struct DrWindow {
        std::int64_t from = 0, end = 0;
        double ev_cap_kw = 0.0;
    };
    /// Each home's participation from its message's arrival: its house gets a DrEvent [from, end)
    /// (+2 K, AC electric power capped at (1 - reduction) x its rating, as a building; the house in a
    /// DR mode), its battery covers its import and its EV charger is capped at (1 - reduction) x rated.
    /// Pure in the channel (the house's parameters are the scenario's plus these): recomputed after a resume.
    void participate(const CommsContext* comms) {
        dr_.clear_counts();
        dr_win_.assign(u_.size(), {});
        for (std::size_t u = 0; u < u_.size(); ++u) {
            if (!u_[u].in_service) continue;
            BuildingParams b = u_[u].home.building;
            const bool had_dr = b.mode == BemsMode::DemandResponse || b.mode == BemsMode::PreCoolAndDemandResponse;
            if (!had_dr) b.dr_events.clear();  // inactive in its mode: kept inactive
            const EvStationParams& ep = u_[u].home.ev.params;
            bool any = false;
            for (std::size_t e = 0; e < dr_.events().size(); ++e) {
                if (!dr_.targets(e)) continue;
                const DemandResponseEvent& ev = dr_.events()[e];
                const DrParticipation q = dr_participation(ev, comms, Receiver::Home, u_[u].id, bus_ix_[u]);
                dr_.count(e, q.reach);
                if (q.reach == DrReach::Never) continue;
                dr_win_[u].push_back({q.from, ev.end, (1.0 - ev.reduction) * double(ep.n_chargers) * ep.charger_kw});
                bool overlaps = false;  // the house's own DR events (if any) win
                for (const DrEvent& o : b.dr_events) overlaps = overlaps || (o.start < ev.end && q.from < o.end);
                if (overlaps) continue;
                DrEvent de;
                de.start = q.from;
                de.end = ev.end;
                de.setpoint_raise_k = 2.0;  // ASSUMPTION: as the buildings (devices.buildings.dr_events' default)
                de.power_cap_kw = (1.0 - ev.reduction) * b.ac_capacity_kw_th / b.cop_nom;
                b.dr_events.push_back(de);
                any = true;
            }
            if (!any) continue;  // the house as it was
            b.mode = b.mode == BemsMode::PreCool || b.mode == BemsMode::PreCoolAndDemandResponse ? BemsMode::PreCoolAndDemandResponse
                                                                                               : BemsMode::DemandResponse;
            std::sort(b.dr_events.begin(), b.dr_events.end(), [](const DrEvent& x, const DrEvent& y) { return x.start < y.start; });
            u_[u].home.building = std::move(b);
        }
        dr_ready_ = true;
    }
    void dr_input(std::size_t u, std::int64_t t, HomeInput& in) const {
        for (const DrWindow& w : dr_win_[u])
            if (w.from <= t && t < w.end) {
                in.dr = true;
                in.dr_ev_cap_kw = w.ev_cap_kw;
                return;
            }
    }

    std::vector<HomeUnit> u_;
    std::vector<int> node_, customer_;
    std::vector<double> p_kw_;
    std::vector<HomeOutput> out_;
    std::vector<double> p_, ev_, pv_, bat_, bld_;
    // issue 17 (H5)
    std::vector<int> bus_ix_;
    DrClass dr_;
    bool dr_ready_ = false;
    std::vector<std::vector<DrWindow>> dr_win_;
};

}  // namespace

std::unique_ptr<DeviceGroup> make_home_group(DeviceSet& d) { return std::make_unique<HomeGroup>(std::move(d.homes)); }

}  // namespace libgrid::groups
