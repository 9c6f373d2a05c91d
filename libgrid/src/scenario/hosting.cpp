// libgrid: hosting-capacity studies on a built scenario.
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/hosting.hpp>

#include <map>

namespace libgrid {

std::vector<HostingGroup> hosting_groups(const std::vector<Customer>& customers, const std::string& by) {
    if (by != "feeder" && by != "transformer") throw ValidationError("hosting capacity: field 'group': expected feeder or transformer, got '" + by + "'");
    std::map<Id, HostingGroup> g;
    for (const Customer& c : customers) {
        if (c.type == CustomerType::ChargingSite) continue;  // public sites host no rooftop PV / home chargers
        const Id key = by == "feeder" ? c.feeder : c.transformer;
        HostingGroup& h = g[key];
        h.id = key;
        h.kind = by;
        h.customers.push_back(c.load_id);
    }
    std::vector<HostingGroup> out;
    for (auto& kv : g) out.push_back(std::move(kv.second));
    return out;
}

std::vector<HostingCapacityResult> hosting_capacity(const BuiltScenario& b, const HostingStudy& s) {
    HostingCapacityOptions opt;
    opt.kind = parse_hosting_kind(s.kind);
    opt.pv.kwp_dc = s.kwp;
    opt.pv.inverter_kva = s.kwp;
    opt.ev_charger_kw = s.charger_kw;
    opt.sim = b.options;
    opt.sim.loading_limit_percent = s.loading_limit_percent;
    opt.sim.reverse_flow_is_violation = s.reverse_flow;
    opt.order_seed = b.options.seed;
    return hosting_capacity(b.net, b.devices, hosting_groups(b.customers, s.group), opt);
}

}  // namespace libgrid
