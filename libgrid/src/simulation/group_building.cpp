// libgrid layer 7: the building device group (simulation/device_group.hpp): buildings run by a BEMS.
// Behind a customer's meter a building replaces that customer's load profile. Recorded in /building.
#include "group_common.hpp"

#include <libgrid/simulation/dr.hpp>

#include <array>

namespace libgrid::groups {
namespace {

class BuildingGroup final : public DeviceGroup {
public:
    explicit BuildingGroup(std::vector<BuildingUnit> units) : u_(std::move(units)) {}
    std::string kind() const override { return "building"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }

    void validate(const NetworkIndex& ix, const SimulationOptions&) const override {
        unique_ids(u_, "building");
        for (const BuildingUnit& u : u_) {
            ix.check_bus("building " + std::to_string(u.id), u.bus);
            ix.check_customer("building " + std::to_string(u.id), u.customer, u.bus);
            libgrid::validate(u.params);
            if (!(u.critical_share >= 0.0 && u.critical_share <= 1.0))
                throw ValidationError("building " + std::to_string(u.id) + ": field 'critical_share': must be in [0, 1], got " +
                                      std::to_string(u.critical_share));
        }
    }
    void prepare(const RunSetup& s) override {
        state_.clear();
        state_.assign(u_.size(), BuildingState{});
        for (std::size_t k = 0; k < u_.size(); ++k)  // at its setpoint, inside its comfort band (as homes)
            state_[k].T_air_c = state_[k].T_mass_c = u_[k].params.setpoint_c;
        p_kw_.assign(u_.size(), 0.0);
        out_.assign(u_.size(), BuildingOutput{});
        link_customers(s, u_, customer_, true);
        prepare_dr(s);  // issue 17 (H2): demand_response events through the channel
    }
    void bind(const NetworkIndex& ix) override { bind_nodes(ix, u_, node_); }

    void step(const StepContext& c) override {
        if (!dr_.empty()) {
            if (!dr_ready_) participate(c.comms);
            wd_[std::min(c.k, wd_.size() - 1)] = c.weekday ? 1 : 0;
        }
        c.pool->for_each(u_.size(), [&](std::size_t u) {
            const BuildingUnit& b = u_[u];
            if (!b.in_service || node_[u] < 0) {
                p_kw_[u] = 0.0;
                return;
            }
            BuildingInput in = climate_input<BuildingInput>(c);
            if (c.comms) in.is_peak = c.comms->peak(Receiver::Building, b.id, bus_ix_[u], c.t, c.peak);  // issue 17: the schedule it has
            out_[u] = building_step(dr_params_.empty() ? b.params : dr_params_[u], state_[u], in, c.dt_s);
            p_kw_[u] = out_[u].p_kw;
            // issue 16: shed in an island: only the critical-load panel stays on (the thermal state
            // goes on as computed: the model does not follow the indoor temperature while shed)
            if (c.customer_is_shed(customer_[u])) p_kw_[u] *= b.critical_share;
        }, 64);
    }
    void add_injections(const Injections& inj) override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0) inj.add(node_[k], p_kw_[k]);
    }

    std::size_t planned_columns() const override { return 3 * u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions&) override {
        for (auto* v : {&p_, &ac_, &t_}) v->assign(u_.size(), 0.0);
        if (u_.empty() || !d.recorder()) return;
        declare_units(d, u_);
        std::vector<double> area;  // issue 18: the size a results file prices (BEMS per m2, docs/economics.md)
        for (const BuildingUnit& u : u_) area.push_back(u.params.floor_area_m2);
        d.vector("floor_area_m2", area, "m2");
        d.series("p_mw", "MW", p_);
        d.series("ac_mw", "MW", ac_);
        d.series("t_air_c", "degC", t_);
    }
    void record(const RecordContext& c) override {
        for (std::size_t u = 0; u < u_.size(); ++u) {
            const bool on = node_[u] >= 0;
            p_[u] = on ? p_kw_[u] / 1000.0 : 0.0;
            ac_[u] = on ? -out_[u].p_ac_kw / 1000.0 : 0.0;
            t_[u] = state_[u].T_air_c;
            c.totals->elements_mw += p_[u];
            c.totals->load_mw -= p_[u];
            c.totals->building_mw -= p_[u];
        }
        if (!dr_.empty()) {  // the class's aggregate (kW, > 0 consuming): the DR baseline's series
            const double k = std::round(double(c.t - t0_) / step_s_);
            if (k >= 0.0 && k < double(agg_.size())) {
                double a = 0.0;
                for (double p : p_) a -= p * 1000.0;
                agg_[std::size_t(k)] = a;
            }
        }
    }
    void meter(const CustomerFlows& f) const override {
        for (std::size_t u = 0; u < u_.size(); ++u)
            if (customer_[u] >= 0) {
                (*f.net_kw)[std::size_t(customer_[u])] -= p_[u] * 1000.0;
                (*f.extra_load_kw)[std::size_t(customer_[u])] -= p_[u] * 1000.0;
            }
    }
    void finish(SimulationSummary& sum) const override {
        for (const BuildingState& b : state_) sum.building_comfort_degree_hours += b.comfort_degree_hours;
        if (dr_.empty()) return;
        // issue 17 (H2): the DR KPIs (docs/kpis.md): event-time means over events with a baseline;
        // requested and delivered over the events for buildings (H5: the EV classes add theirs)
        std::vector<char> on(dr_.size());
        for (std::size_t e = 0; e < dr_.size(); ++e) on[e] = dr_[e].buildings ? 1 : 0;
        dr_add_kpis(sum, dr_, dr_measure(agg_, wd_, t0_, step_s_, dr_), reach_, on);
    }
    void summary_tables(SummaryTables& t) const override {
        // issue 17 (H2): /dr, one row per event (every event's measurement of the buildings)
        if (!dr_.empty()) dr_write_table(t, "dr", dr_, dr_measure(agg_, wd_, t0_, step_s_, dr_), reach_, nullptr);
        if (u_.empty()) return;
        SummaryTables::Table& tab = t.table("summary/building", {{"id", "", true, {}, {}},
                                                                 {"comfort_degree_hours", "K h", false, {}, {}},
                                                                 {"electricity_kwh", "kWh", false, {}, {}},
                                                                 {"ac_kwh", "kWh", false, {}, {}}});
        for (std::size_t u = 0; u < u_.size(); ++u) {
            tab.columns[0].ints.push_back(u_[u].id);
            tab.columns[1].reals.push_back(state_[u].comfort_degree_hours);
            tab.columns[2].reals.push_back(state_[u].electricity_kwh);
            tab.columns[3].reals.push_back(state_[u].ac_kwh);
        }
    }

    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.fixed("bld_p_kw", p_kw_);
        ar.fixed("bld_out", out_);
        for (BuildingState& b : state_) state(ar, b);
        if (!dr_.empty()) {  // issue 17 (H2): only with demand_response events (other runs' state as before)
            ar.fixed("bld_dr_agg", agg_);
            ar.flag("bld_dr_wd", wd_);
        }
    }

    // ---- issue 17 (H2): demand_response events through the channel (docs/comms.md) ----
    void prepare_dr(const RunSetup& s) {
        dr_ = s.opt->demand_response;
        dr_params_.clear();
        dr_ready_ = false;
        reach_.assign(dr_.size(), {0, 0, 0});
        agg_.clear();
        wd_.clear();
        bus_ix_.assign(u_.size(), -1);  // issue 17: the bus index, for the hops of its messages
        for (std::size_t u = 0; u < u_.size(); ++u)
            if (const auto it = s.index->bus_at->find(u_[u].bus); it != s.index->bus_at->end()) bus_ix_[u] = int(it->second);
        if (dr_.empty()) return;
        t0_ = s.opt->start;
        step_s_ = double(s.opt->step_s);
        agg_.assign(s.opt->n_steps, 0.0);
        wd_.assign(s.opt->n_steps, 0);
        bus_ix_.assign(u_.size(), -1);
        for (std::size_t u = 0; u < u_.size(); ++u) {
            const auto it = s.index->bus_at->find(u_[u].bus);
            if (it != s.index->bus_at->end()) bus_ix_[u] = int(it->second);
            // the scenario's own BEMS events (devices.buildings.dr_events) must not overlap a channel event
            const BuildingParams& p = u_[u].params;
            if (p.mode != BemsMode::DemandResponse && p.mode != BemsMode::PreCoolAndDemandResponse) continue;
            for (std::size_t e = 0; e < dr_.size(); ++e)
                for (std::size_t j = 0; j < p.dr_events.size(); ++j)
                    if (dr_[e].buildings && p.dr_events[j].start < dr_[e].end && dr_[e].start < p.dr_events[j].end)
                        throw ValidationError("building " + std::to_string(u_[u].id) + ": demand_response.events[" + std::to_string(e) +
                                              "] overlaps devices.buildings.dr_events[" + std::to_string(j) + "]");
        }
    }
    /// Each building's participation from its message's arrival: a copy of its parameters with the
    /// events it takes part in added as DrEvents [from, end) (2 K setpoint raise, AC electric power
    /// capped at (1 - reduction) x its rating), in a DR mode. Pure in the channel: recomputed after a resume.
    void participate(const CommsContext* comms) {
        dr_params_.resize(u_.size());
        reach_.assign(dr_.size(), {0, 0, 0});
        for (std::size_t u = 0; u < u_.size(); ++u) {
            BuildingParams p = u_[u].params;
            const bool had_dr = p.mode == BemsMode::DemandResponse || p.mode == BemsMode::PreCoolAndDemandResponse;
            if (!had_dr) p.dr_events.clear();  // inactive in its mode: kept inactive
            p.mode = p.mode == BemsMode::PreCool || p.mode == BemsMode::PreCoolAndDemandResponse ? BemsMode::PreCoolAndDemandResponse
                                                                                               : BemsMode::DemandResponse;
            for (std::size_t e = 0; e < dr_.size(); ++e) {
                if (!dr_[e].buildings || !u_[u].in_service) continue;
                const DrParticipation q = dr_participation(dr_[e], comms, Receiver::Building, u_[u].id, bus_ix_[u]);
                ++reach_[e][std::size_t(q.reach)];
                if (q.reach == DrReach::Never) continue;
                DrEvent de;
                de.start = q.from;
                de.end = dr_[e].end;
                de.setpoint_raise_k = kDrRaiseK;
                de.power_cap_kw = (1.0 - dr_[e].reduction) * p.ac_capacity_kw_th / p.cop_nom;
                p.dr_events.push_back(de);
            }
            std::sort(p.dr_events.begin(), p.dr_events.end(), [](const DrEvent& a, const DrEvent& b) { return a.start < b.start; });
            dr_params_[u] = std::move(p);
        }
        dr_ready_ = true;
    }
    static constexpr double kDrRaiseK = 2.0;  ///< ASSUMPTION: as devices.buildings.dr_events' default

    std::vector<BuildingUnit> u_;
    std::vector<int> node_, customer_;
    std::vector<double> p_kw_;
    std::vector<BuildingOutput> out_;
    std::vector<BuildingState> state_;
    std::vector<double> p_, ac_, t_;
    // issue 17 (H2)
    std::vector<DemandResponseEvent> dr_;
    std::vector<BuildingParams> dr_params_;
    bool dr_ready_ = false;
    std::vector<std::array<std::size_t, 3>> reach_;  ///< per event: in time, late, never
    std::vector<int> bus_ix_;
    std::vector<double> agg_;   ///< per step: the buildings' power, kW (> 0 consuming)
    std::vector<char> wd_;      ///< per step: weekday (day type)
    LocalTime t0_ = 0;
    double step_s_ = 900.0;
};

}  // namespace

std::unique_ptr<DeviceGroup> make_building_group(DeviceSet& d) { return std::make_unique<BuildingGroup>(std::move(d.buildings)); }

}  // namespace libgrid::groups
