// libgrid layer 7: the battery device group (simulation/device_group.hpp): self-consumption, peak
// shaving, time-of-use and scheduled dispatch, once per step. Recorded in /battery.
#include "group_common.hpp"

namespace libgrid::groups {
namespace {

class BatteryGroup final : public DeviceGroup {
public:
    explicit BatteryGroup(std::vector<BatteryUnit> units) : u_(std::move(units)) {
        on_.assign(u_.size(), 0);
        for (std::size_t k = 0; k < u_.size(); ++k) on_[k] = u_[k].in_service;
    }
    std::string kind() const override { return "battery"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }
    const std::vector<BatteryState>& states() const { return state_; }

    void validate(const NetworkIndex& ix, const SimulationOptions& opt) const override {
        std::unordered_map<Id, int> seen;
        for (const BatteryUnit& u : u_) {
            const std::string who = "battery " + std::to_string(u.id);
            if (seen[u.id]++) throw IdError("battery id " + std::to_string(u.id) + " appears twice");
            ix.check_bus(who, u.bus);
            ix.check_customer(who, u.customer, u.bus);
            libgrid::validate(u.params, who);
            if (u.params.strategy == BatteryStrategy::Schedule && u.params.schedule_kw.size() < opt.n_steps)
                throw ValidationError(who + ": field 'schedule_kw': " + std::to_string(u.params.schedule_kw.size()) + " values for " +
                                      std::to_string(opt.n_steps) + " steps");
        }
    }
    bool accepts_events() const override { return true; }
    void set_in_service(std::size_t k, bool on) override { on_[k] = on; }
    bool set_point(std::size_t k, double p_kw) override {
        if (setpoint_kw_.size() != u_.size()) setpoint_kw_.assign(u_.size(), std::numeric_limits<double>::quiet_NaN());
        setpoint_kw_[k] = p_kw;
        return true;
    }
    void prepare(const RunSetup& s) override {
        link_customers(s, u_, customer_, false);
        bus_.clear();  // issue 17: bus indices (hops of messages to the battery)
        for (const BatteryUnit& b : u_) bus_.push_back(int(s.index->bus_at->at(b.bus)));
        state_.clear();
        for (const BatteryUnit& b : u_) state_.push_back(make_battery_state(b.params));
        p_kw_.assign(u_.size(), 0.0);
        e0_.clear();
        for (std::size_t b = 0; b < u_.size(); ++b) e0_.push_back(stored_energy_kwh(u_[b].params, state_[b]));
        // issue 16: grid-forming batteries register their droop source (docs/microgrid.md "Time series")
        link_ = s.forming;
        slot_.assign(u_.size(), -1);
        islanded_.assign(u_.size(), 0);
        if (!link_) return;
        const double f_hz = s.net ? s.net->f_hz : 50.0;
        f_hz_ = f_hz;
        for (std::size_t b = 0; b < u_.size(); ++b) {
            const BatteryParams& p = u_[b].params;
            if (!p.grid_forming) continue;
            const double sn = std::max(p.p_charge_kw, p.p_discharge_kw) / 1000.0;  // MVA
            FormingSource f;
            f.id = u_[b].id;
            f.name = "battery " + std::to_string(u_[b].id);
            f.bus = u_[b].bus;
            f.kp_mw_per_hz = sn / (p.droop_percent / 100.0 * f_hz);
            f.kq_mvar_per_pu = sn / (p.droop_q_percent / 100.0);
            f.p_min_mw = -p.p_charge_kw / 1000.0;
            f.p_max_mw = p.p_discharge_kw / 1000.0;
            f.q_min_mvar = -sn;  // an S-limited inverter: all of its rating for Q at P = 0
            f.q_max_mvar = sn;
            f.sn_mva = sn;
            slot_[b] = int(link_->add(f));
        }
    }
    void bind(const NetworkIndex& ix) override { bind_nodes(ix, u_, node_); }

    // Batteries decide once per step from the site's load and PV (no voltage dependence).
    void step(const StepContext& c) override {
        c.pool->for_each(u_.size(), [&](std::size_t b) {
            islanded_[b] = 0;
            if (slot_[b] >= 0) {
                link_->stored_kwh[std::size_t(slot_[b])] = stored_energy_kwh(u_[b].params, state_[b]);
                link_->capacity_kwh[std::size_t(slot_[b])] = capacity_kwh(u_[b].params, state_[b]);
            }
            if (!on_[b] || node_[b] < 0) {
                p_kw_[b] = 0.0;
                if (slot_[b] >= 0) link_->p_min_kw[std::size_t(slot_[b])] = link_->p_max_kw[std::size_t(slot_[b])] = 0.0;
                return;
            }
            if (slot_[b] >= 0 && link_->droop[std::size_t(slot_[b])]) {
                // forming an island: the power flow gives its power within what its energy allows
                const std::size_t s = std::size_t(slot_[b]);
                battery_island_limits(u_[b].params, state_[b], c.dt_h, link_->p_min_kw[s], link_->p_max_kw[s]);
                // a scheduled outage's end is announced: spread the energy left over the time to it
                if (u_[b].params.ration_to_restoration && c.outage_left_h > c.dt_h) {
                    double pmin_r = 0, pmax_r = 0;  // the same limits over the time left
                    battery_island_limits(u_[b].params, state_[b], c.outage_left_h, pmin_r, pmax_r);
                    link_->p_max_kw[s] = std::min(link_->p_max_kw[s], pmax_r);
                }
                // SoC-adaptive droop: the gain follows the power available this step (at most the
                // rating), so the island's batteries reach their limits together (docs/microgrid.md)
                const BatteryParams& pp = u_[b].params;
                const double rated_kw = std::max(pp.p_charge_kw, pp.p_discharge_kw);
                link_->kp_mw_per_hz[s] = std::max(link_->p_max_kw[s], 1e-3 * rated_kw) / 1000.0 / (pp.droop_percent / 100.0 * f_hz_);
                p_kw_[b] = 0.0;
                islanded_[b] = 1;
                return;
            }
            const int cu = customer_[b];
            DispatchInput in;
            in.site_load_kw = cu >= 0 ? std::max((*c.customer_load_kw)[std::size_t(cu)], 0.0) : 0.0;
            in.site_pv_kw = cu >= 0 ? std::max((*c.customer_pv_kw)[std::size_t(cu)], 0.0) : 0.0;
            // issue 17 (docs/comms.md): the price schedule and the set point as they came through the channel
            in.is_peak = c.comms ? c.comms->peak(Receiver::Battery, u_[b].id, bus_[b], c.t, c.peak) : c.peak;
            in.step_index = std::int64_t(c.k);
            if (c.comms && u_[b].params.strategy == BatteryStrategy::Schedule)
                in.step_index = c.comms->setpoint_step(Receiver::Battery, u_[b].id, bus_[b], std::int64_t(c.k));
            in.hour_of_day = c.hour_of_day;
            // no set point within a day: the battery idles; issue 19: the application's set point
            // replaces the strategy (battery_apply still holds the power and energy limits)
            BatteryRequest req = in.step_index >= 0 ? battery_dispatch(u_[b].params, state_[b], in, c.dt_h) : BatteryRequest{0.0};
            if (b < setpoint_kw_.size() && !std::isnan(setpoint_kw_[b])) req = BatteryRequest{setpoint_kw_[b]};
            p_kw_[b] = battery_apply(u_[b].params, state_[b], req, c.dt_h);
        });
    }
    void add_injections(const Injections& inj) override {
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0 && on_[k] && !islanded_[k]) inj.add(node_[k], p_kw_[k]);
    }

    std::size_t planned_columns() const override { return 3 * u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions&) override {
        for (auto* v : {&p_, &q_, &soc_}) v->assign(u_.size(), 0.0);
        if (u_.empty() || !d.recorder()) return;
        declare_units(d, u_);
        std::vector<double> e;
        for (const BatteryUnit& u : u_) e.push_back(u.params.e_kwh);
        d.vector("e_kwh", e, "kWh");
        std::vector<double> pc, pd;  // issue 18: the sizes a results file prices (docs/economics.md)
        for (const BatteryUnit& u : u_) {
            pc.push_back(u.params.p_charge_kw);
            pd.push_back(u.params.p_discharge_kw);
        }
        d.vector("p_charge_kw", pc, "kW");
        d.vector("p_discharge_kw", pd, "kW");
        d.series("p_mw", "MW", p_);
        d.series("q_mvar", "MVAr", q_);
        d.series("soc", "fraction", soc_);
    }
    void record(const RecordContext& c) override {
        for (std::size_t b = 0; b < u_.size(); ++b) {
            q_[b] = 0.0;
            if (islanded_[b]) {  // issue 16: the island's power flow gave it its power: book it
                const std::size_t s = std::size_t(slot_[b]);
                p_kw_[b] = link_->p_kw[s];
                (void)battery_apply_islanded(u_[b].params, state_[b], p_kw_[b], c.dt_h);
                q_[b] = link_->q_kvar[s] / 1000.0;
            }
            if (slot_[b] >= 0) link_->stored_kwh[std::size_t(slot_[b])] = stored_energy_kwh(u_[b].params, state_[b]);
            p_[b] = node_[b] >= 0 ? p_kw_[b] / 1000.0 : 0.0;
            soc_[b] = state_[b].soc;
            c.totals->elements_mw += p_[b];
            c.totals->battery_mw += p_[b];
        }
    }
    void meter(const CustomerFlows& f) const override {
        for (std::size_t b = 0; b < u_.size(); ++b)
            if (customer_[b] >= 0) (*f.net_kw)[std::size_t(customer_[b])] -= p_[b] * 1000.0;
    }
    void finish(SimulationSummary& sum) const override {
        for (std::size_t b = 0; b < u_.size(); ++b) {
            const BatteryState& st = state_[b];
            sum.battery_charged_mwh += st.charged_kwh / 1000.0;
            sum.battery_discharged_mwh += st.discharged_kwh / 1000.0;
            sum.battery_losses_mwh += st.loss_kwh / 1000.0;
            sum.battery_storage_change_mwh += (stored_energy_kwh(u_[b].params, st) - e0_[b]) / 1000.0;
        }
    }

    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.flag("batt_on", on_);
        ar.fixed("batt_state", state_);
        ar.fixed("batt_p_kw", p_kw_);
    }

    std::vector<BatteryUnit> u_;
    std::vector<char> on_;
    std::vector<int> node_, customer_, bus_;
    std::vector<BatteryState> state_;
    std::vector<double> p_kw_, e0_;
    std::vector<double> setpoint_kw_;  ///< issue 19: the application's set points (NaN: none)
    std::vector<double> p_, q_, soc_;
    FormingLink* link_ = nullptr;
    double f_hz_ = 50.0;
    std::vector<int> slot_;        ///< per battery: its FormingLink source, -1 = grid-following
    std::vector<char> islanded_;   ///< per battery: forming a droop island this step
};

}  // namespace

std::unique_ptr<DeviceGroup> make_battery_group(DeviceSet& d) { return std::make_unique<BatteryGroup>(std::move(d.batteries)); }

const std::vector<BatteryState>* battery_states(const DeviceGroup& g) {
    const auto* b = dynamic_cast<const BatteryGroup*>(&g);
    return b ? &b->states() : nullptr;
}

}  // namespace libgrid::groups
