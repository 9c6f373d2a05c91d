// libgrid layer 7: the PV device group (simulation/device_group.hpp): inverters with volt-var and
// volt-watt, re-evaluated between control rounds and inside the sweep. Recorded in /pv.
#include "group_common.hpp"

namespace libgrid::groups {
namespace {

class PvGroup final : public DeviceGroup {
public:
    explicit PvGroup(std::vector<PvUnit> units) : u_(std::move(units)) {
        on_.assign(u_.size(), 0);
        for (std::size_t k = 0; k < u_.size(); ++k) on_[k] = u_[k].in_service;
        for (const PvUnit& u : u_) vdep_ = vdep_ || u.params.qmode == QControl::VoltVar || u.params.volt_watt;
    }
    std::string kind() const override { return "pv"; }
    std::size_t size() const override { return u_.size(); }
    Id id(std::size_t k) const override { return u_[k].id; }

    void validate(const NetworkIndex& ix, const SimulationOptions&) const override {
        std::unordered_map<Id, int> seen;
        for (const PvUnit& u : u_) {
            const std::string who = "pv " + std::to_string(u.id);
            if (seen[u.id]++) throw IdError("pv id " + std::to_string(u.id) + " appears twice");
            ix.check_bus(who, u.bus);
            ix.check_customer(who, u.customer, u.bus);
            libgrid::validate(u.params, who);
        }
    }
    bool accepts_events() const override { return true; }
    void set_in_service(std::size_t k, bool on) override { on_[k] = on; }
    void prepare(const RunSetup& s) override {
        link_customers(s, u_, customer_, false);
        out_.assign(u_.size(), PvOutput{});
        vm_eval_.assign(u_.size(), 1.0);
        // issue 16: frequency-watt in droop islands (the grid applies it; docs/microgrid.md)
        link_ = s.forming;
        slot_.assign(u_.size(), -1);
        if (link_)
            for (std::size_t k = 0; k < u_.size(); ++k)
                slot_[k] = int(link_->add_pv(u_[k].bus, u_[k].params.inverter_kva > 0 ? u_[k].params.inverter_kva : u_[k].params.kwp_dc));
    }
    /// The share of its power unit k keeps after the island's frequency-watt (1 grid-connected).
    double fw_ratio(std::size_t k) const { return slot_[k] >= 0 ? link_->pv_ratio[std::size_t(slot_[k])] : 1.0; }
    void bind(const NetworkIndex& ix) override {
        bind_nodes(ix, u_, node_);
        nodes_.clear();
        for (int node : node_)
            if (node >= 0) nodes_.push_back(node);
        std::sort(nodes_.begin(), nodes_.end());
        nodes_.erase(std::unique(nodes_.begin(), nodes_.end()), nodes_.end());
        s_p_without_.assign(std::size_t(ix.n_nodes), 0.0);
        // the units at each node (CSR), for the sweep's per-node hook
        unit_lo_.assign(std::size_t(ix.n_nodes) + 1, 0);
        for (int node : node_)
            if (node >= 0) unit_lo_[std::size_t(node) + 1]++;
        for (std::size_t i = 0; i + 1 < unit_lo_.size(); ++i) unit_lo_[i + 1] += unit_lo_[i];
        unit_at_.assign(unit_lo_.back(), 0);
        std::vector<int> fill(unit_lo_.begin(), unit_lo_.end() - 1);
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (node_[k] >= 0) unit_at_[std::size_t(fill[std::size_t(node_[k])]++)] = int(k);
    }

    /// Issue 19: the application's output cap (Simulation::set_pv_limit), kW; inf = none.
    bool set_point(std::size_t k, double p_max_kw) override {
        if (cap_kw_.size() != u_.size()) cap_kw_.assign(u_.size(), std::numeric_limits<double>::infinity());
        cap_kw_[k] = p_max_kw;
        return true;
    }
    void cap(std::size_t k) {
        if (k >= cap_kw_.size() || !(out_[k].p_kw > cap_kw_[k])) return;
        out_[k].curtailed_kw += out_[k].p_kw - cap_kw_[k];
        out_[k].p_kw = cap_kw_[k];
    }

    void step(const StepContext& c) override {
        reevaluate(c);
        std::vector<double>& cust_pv = *c.customer_pv_kw;
        for (std::size_t u = 0; u < u_.size(); ++u)
            if (customer_[u] >= 0) cust_pv[std::size_t(customer_[u])] += out_[u].p_kw;
    }
    bool inject_late() const override { return true; }
    void add_injections(const Injections& inj) override {
        if (vdep_ && inj.solver_hook)
            for (int node : nodes_) s_p_without_[std::size_t(node)] = (*inj.s_p)[std::size_t(node)];
        for (std::size_t k = 0; k < u_.size(); ++k) {
            const bool on = node_[k] >= 0 && on_[k];
            if (on) inj.add(node_[k], out_[k].p_kw, out_[k].q_kvar);
            if (slot_[k] >= 0) link_->pv_p_kw[std::size_t(slot_[k])] = on ? out_[k].p_kw : 0.0;
        }
    }
    bool voltage_dependent() const override { return vdep_; }
    double voltage_change(const std::vector<cplx>& V) const override {
        double dv = 0.0;
        for (std::size_t k = 0; k < u_.size(); ++k)
            if (on_[k] && node_[k] >= 0) dv = std::max(dv, std::abs(std::abs(V[std::size_t(node_[k])]) - vm_eval_[k]));
        return dv;
    }
    void reevaluate(const StepContext& c) override {
        c.pool->for_each(u_.size(), [&](std::size_t k) {
            if (!on_[k] || node_[k] < 0) {
                out_[k] = PvOutput{};
                vm_eval_[k] = 1.0;
                return;
            }
            vm_eval_[k] = c.node_vm(node_[k]);
            out_[k] = pv_step(u_[k].params, c.weather, vm_eval_[k]);
            cap(k);
        });
    }
    void solver_hook_nodes(std::vector<int>& nodes) const override { nodes.insert(nodes.end(), nodes_.begin(), nodes_.end()); }
    bool solver_hook_node(int node, double vm, const Injections& inj, const StepContext& c, double tol) override {
        if (!(vm > 0.0) || !std::isfinite(vm)) return false;  // a diverging sweep stops on its own
        const int a = unit_lo_[std::size_t(node)], b = unit_lo_[std::size_t(node) + 1];
        double dv = 0.0;
        for (int j = a; j < b; ++j) {
            const std::size_t k = std::size_t(unit_at_[std::size_t(j)]);
            if (on_[k]) dv = std::max(dv, std::abs(vm - vm_eval_[k]));
        }
        if (dv <= tol) return false;
        (*inj.s_p)[std::size_t(node)] = s_p_without_[std::size_t(node)];
        for (int j = a; j < b; ++j) {
            const std::size_t k = std::size_t(unit_at_[std::size_t(j)]);
            if (!on_[k]) continue;
            vm_eval_[k] = vm;
            out_[k] = pv_step(u_[k].params, c.weather, vm);
            cap(k);
            inj.add(node, out_[k].p_kw, out_[k].q_kvar);
        }
        return true;
    }

    std::size_t planned_columns() const override { return 4 * u_.size(); }
    void declare(SeriesDeclarer& d, const SimulationOptions& opt) override {
        for (auto* v : {&p_, &q_, &curt_, &avail_}) v->assign(u_.size(), 0.0);
        if (u_.empty() || !d.recorder()) return;
        declare_units(d, u_);
        std::vector<double> kwp;
        for (const PvUnit& u : u_) kwp.push_back(u.params.kwp_dc);
        d.vector("kwp_dc", kwp, "kW");
        d.series("p_mw", "MW", p_);
        if (opt.record_reactive || vdep_ || std::any_of(u_.begin(), u_.end(), [](const PvUnit& u) { return u.params.qmode != QControl::None; }))
            d.series("q_mvar", "MVAr", q_);
        d.series("curtailed_mw", "MW", curt_);
        d.series("available_mw", "MW", avail_);
    }
    void record(const RecordContext& c) override {
        StepTotals& tot = *c.totals;
        for (std::size_t u = 0; u < u_.size(); ++u) {
            const bool on = on_[u] && node_[u] >= 0;
            const double r = on ? fw_ratio(u) : 1.0;  // issue 16: frequency-watt in a droop island
            p_[u] = on ? out_[u].p_kw * r / 1000.0 : 0.0;
            q_[u] = on ? out_[u].q_kvar / 1000.0 : 0.0;
            avail_[u] = on ? out_[u].available_kw / 1000.0 : 0.0;
            curt_[u] = on ? (out_[u].curtailed_kw + out_[u].p_kw * (1.0 - r)) / 1000.0 : 0.0;
            tot.elements_mw += p_[u];
            tot.pv_mw += p_[u];
            tot.pv_available_mw += avail_[u];
            tot.pv_curtailed_mw += curt_[u];
        }
    }
    void meter(const CustomerFlows& f) const override {
        for (std::size_t u = 0; u < u_.size(); ++u)
            if (customer_[u] >= 0) {
                (*f.net_kw)[std::size_t(customer_[u])] -= p_[u] * 1000.0;
                (*f.pv_kw)[std::size_t(customer_[u])] += p_[u] * 1000.0;
            }
    }

    void save_state(detail::StateOut& ar) override { archive(ar); }
    void restore_state(detail::StateIn& ar) override { archive(ar); }

private:
    template <class Ar>
    void archive(Ar& ar) {
        ar.flag("pv_on", on_);
        ar.fixed("pv_out", out_);
        ar.fixed("pv_vm_eval", vm_eval_);
    }

    std::vector<PvUnit> u_;
    std::vector<char> on_;
    bool vdep_ = false;
    std::vector<int> node_, customer_;
    std::vector<PvOutput> out_;
    std::vector<double> vm_eval_;       // |V| each inverter was last evaluated at
    std::vector<double> cap_kw_;        // issue 19: the application's output caps, kW (inf: none)
    std::vector<int> nodes_;            // distinct nodes with PV
    std::vector<cplx> s_p_without_;     // per node, this round's injection before PV
    std::vector<int> unit_lo_, unit_at_;  // per node, its units: unit_at_[unit_lo_[node] .. unit_lo_[node + 1])
    std::vector<double> p_, q_, curt_, avail_;
    FormingLink* link_ = nullptr;
    std::vector<int> slot_;  ///< per unit: its FormingLink PV entry (frequency-watt), -1 none
};

}  // namespace

std::unique_ptr<DeviceGroup> make_pv_group(DeviceSet& d) { return std::make_unique<PvGroup>(std::move(d.pv)); }

}  // namespace libgrid::groups
