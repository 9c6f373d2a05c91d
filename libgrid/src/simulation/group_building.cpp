// libgrid layer 7: the building device group (simulation/device_group.hpp): buildings run by a BEMS.
// Behind a customer's meter a building replaces that customer's load profile. Recorded in /building.
#include "group_common.hpp"

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
            ix.check_customer("building " + std::to_string(u.id), u.customer);
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
    }
    void bind(const NetworkIndex& ix) override { bind_nodes(ix, u_, node_); }

    void step(const StepContext& c) override {
        c.pool->for_each(u_.size(), [&](std::size_t u) {
            const BuildingUnit& b = u_[u];
            if (!b.in_service || node_[u] < 0) {
                p_kw_[u] = 0.0;
                return;
            }
            BuildingInput in = climate_input<BuildingInput>(c);
            if (c.comms) in.is_peak = c.comms->peak(Receiver::Building, b.id, -1, c.t, c.peak);  // issue 17: the schedule it has
            out_[u] = building_step(b.params, state_[u], in, c.dt_s);
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
    }
    void summary_tables(SummaryTables& t) const override {
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
    }

    std::vector<BuildingUnit> u_;
    std::vector<int> node_, customer_;
    std::vector<double> p_kw_;
    std::vector<BuildingOutput> out_;
    std::vector<BuildingState> state_;
    std::vector<double> p_, ac_, t_;
};

}  // namespace

std::unique_ptr<DeviceGroup> make_building_group(DeviceSet& d) { return std::make_unique<BuildingGroup>(std::move(d.buildings)); }

}  // namespace libgrid::groups
