// libgrid: hosting capacity by bisection over the number of equipped customers.
#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/rng.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>

#include <algorithm>
#include <unordered_map>

namespace libgrid {

HostingKind parse_hosting_kind(const std::string& s) {
    if (s == "pv") return HostingKind::PV;
    if (s == "ev") return HostingKind::EV;
    throw ValidationError("hosting capacity: field 'kind': unknown '" + s + "' (pv, ev)");
}

namespace {

struct Prober {
    const Network& net;
    const DeviceSet& base;
    const HostingCapacityOptions& opt;
    std::unordered_map<Id, Id> bus_of_load;
    Id next_id = 0;

    /// Runs the period with units at the first n customers of `order`; returns the first violation.
    Violation probe(const std::vector<Id>& order, std::size_t n) {
        DeviceSet d = base;
        for (std::size_t i = 0; i < n; ++i) {
            const Id c = order[i];
            const Id bus = bus_of_load.at(c);
            if (opt.kind == HostingKind::PV) {
                PvUnit u;
                u.id = next_id + Id(i);
                u.bus = bus;
                u.customer = c;
                u.params = opt.pv;
                d.pv.push_back(u);
            } else {
                EvStationUnit u;
                u.id = next_id + Id(i);
                u.bus = bus;
                u.customer = c;
                u.station.params.id = u.id;
                u.station.params.charger_kw = opt.ev_charger_kw;
                u.station.params.strategy = opt.ev_strategy;
                const LocalTime end = opt.sim.start + std::int64_t(opt.sim.n_steps) * opt.sim.step_s;
                u.station.sessions = generate_sessions(ChargerKind::Home, opt.ev_charger_kw, opt.sim.start, end, opt.order_seed,
                                                       std::uint64_t(c), opt.ev_sessions_per_day);
                d.ev_stations.push_back(std::move(u));
            }
        }
        SimulationOptions so = opt.sim;
        so.output_path.clear();
        so.stop_at_first_violation = true;
        Simulation sim(net, std::move(d), so);
        const SimulationSummary s = sim.run();
        Violation v = s.first_violation;
        if (!v.found && s.non_converged_steps > 0) v = Violation{true, 0, "not_converged", -1, double(s.non_converged_steps)};
        return v;
    }
};

}  // namespace

std::vector<HostingCapacityResult> hosting_capacity(const Network& net, const DeviceSet& base, const std::vector<HostingGroup>& groups,
                                                    const HostingCapacityOptions& options) {
    if (options.kind == HostingKind::PV) validate(options.pv, "hosting capacity pv");
    if (options.kind == HostingKind::EV && !(options.ev_charger_kw > 0))
        throw ValidationError("hosting capacity: field 'ev_charger_kw': must be > 0");
    Prober p{net, base, options, {}, 0};
    for (const Load& l : net.loads) p.bus_of_load[l.id] = l.bus;
    // unit ids above every id in use
    Id max_id = 0;
    for (const PvUnit& u : base.pv) max_id = std::max(max_id, u.id);
    for (const EvStationUnit& u : base.ev_stations) max_id = std::max(max_id, u.id);
    p.next_id = max_id + 1000000;
    std::vector<HostingCapacityResult> out;
    for (const HostingGroup& g : groups) {
        HostingCapacityResult r;
        r.group = g.id;
        r.group_kind = g.kind;
        r.customers = g.customers.size();
        for (Id c : g.customers)
            if (!p.bus_of_load.count(c)) throw IdError("hosting capacity: group " + std::to_string(g.id) + ": unknown customer (load) id " + std::to_string(c));
        // a fixed seeded order: shuffle with the project's deterministic generator
        std::vector<Id> order = g.customers;
        Rng rng(options.order_seed, stream_id({0x686f7374ULL, std::uint64_t(g.id)}));
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[std::size_t(rng.next() % i)]);
        Violation v0 = p.probe(order, 0);
        ++r.runs;
        if (v0.found) {
            r.violated_without = true;
            r.limited = true;
            r.limit = v0;
        } else {
            Violation vmax = p.probe(order, order.size());
            ++r.runs;
            if (!vmax.found) {
                r.hosted = order.size();
            } else {
                std::size_t lo = 0, hi = order.size();  // lo: no violation; hi: violation
                Violation at_hi = vmax;
                while (hi - lo > 1) {
                    const std::size_t mid = lo + (hi - lo) / 2;
                    Violation v = p.probe(order, mid);
                    ++r.runs;
                    if (v.found) {
                        hi = mid;
                        at_hi = v;
                    } else {
                        lo = mid;
                    }
                }
                r.hosted = lo;
                r.limited = true;
                r.limit = at_hi;
            }
        }
        r.share = r.customers ? double(r.hosted) / double(r.customers) : 0.0;
        r.hosted_kw = double(r.hosted) * (options.kind == HostingKind::PV ? options.pv.kwp_dc : options.ev_charger_kw);
        out.push_back(r);
    }
    return out;
}

}  // namespace libgrid
