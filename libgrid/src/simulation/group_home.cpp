// libgrid layer 7: the home device group (simulation/device_group.hpp): homes with a HEMS (house,
// rooftop PV, battery, EV) behind a customer's meter, replacing its load profile. Recorded in /home.
#include "group_common.hpp"

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
            ix.check_customer("home " + std::to_string(u.id), u.customer);
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
        p_kw_.assign(u_.size(), 0.0);
        out_.assign(u_.size(), HomeOutput{});
        link_customers(s, u_, customer_, true);
    }
    void bind(const NetworkIndex& ix) override { bind_nodes(ix, u_, node_); }

    void step(const StepContext& c) override {
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
            if (c.comms) in.is_peak = c.comms->peak(Receiver::Home, h.id, -1, c.t, c.peak);  // issue 17: the schedule it has
            in.pv_available_kw = h.pv.kwp_dc > 0 ? pv_step(h.pv, c.weather, c.node_vm(node_[u])).p_kw : 0.0;
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
    }
    void summary_tables(SummaryTables& t) const override {
        for (const HomeUnit& u : u_) add_ev_sessions(t, u.id, u.home.ev);
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
    }

    std::vector<HomeUnit> u_;
    std::vector<int> node_, customer_;
    std::vector<double> p_kw_;
    std::vector<HomeOutput> out_;
    std::vector<double> p_, ev_, pv_, bat_, bld_;
};

}  // namespace

std::unique_ptr<DeviceGroup> make_home_group(DeviceSet& d) { return std::make_unique<HomeGroup>(std::move(d.homes)); }

}  // namespace libgrid::groups
