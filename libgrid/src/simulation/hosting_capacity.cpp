// libgrid: hosting capacity in kW, by bisection on a scale factor of every customer's limit (PV)
// or on the number of chargers (EV).
#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/rng.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

namespace libgrid {

HostingKind parse_hosting_kind(const std::string& s) {
    if (s == "pv") return HostingKind::PV;
    if (s == "ev") return HostingKind::EV;
    throw ValidationError("hosting capacity: field 'kind': unknown '" + s + "' (pv, ev)");
}

std::string HostingCapacityResult::limit_name(HostingKind kind) const {
    if (limited) return limit.kind;
    return kind == HostingKind::PV ? "roof_limit" : "connection_limit";
}

namespace {

struct Prober {
    const Network* net;    ///< the balanced network, or
    const UNetwork* unet;  ///< the unbalanced one
    const DeviceSet& base;
    const HostingCapacityOptions& opt;
    std::unordered_map<Id, Id> bus_of_load;
    /// Unbalanced: per customer, the share of its units on phases a, b, c (1/n on each of its n).
    std::unordered_map<Id, std::array<double, 3>> phase_share;
    Id next_id = 0;

    /// Runs the period with `d`; returns the first violation (or non-convergence).
    Violation run(DeviceSet d) const {
        SimulationOptions so = opt.sim;
        so.output_path.clear();
        so.recorder = nullptr;
        so.stop_at_first_violation = true;
        Simulation sim = unet ? Simulation(*unet, std::move(d), so) : Simulation(*net, std::move(d), so);
        const SimulationSummary s = sim.run();
        Violation v = s.first_violation;
        if (!v.found && s.non_converged_steps > 0) v = Violation{true, 0, "not_converged", -1, double(s.non_converged_steps), ""};
        return v;
    }

    /// PV: customer i of the group gets scale * kw[i] kW (inverter AC; DC by the unit's ratio).
    Violation probe_pv(const std::vector<Id>& customers, const std::vector<double>& kw, double scale) const {
        DeviceSet d = base;
        const double dc_ac = opt.pv.kwp_dc / opt.pv.inverter_kva;
        for (std::size_t i = 0; i < customers.size(); ++i) {
            const double k = scale * kw[i];
            if (!(k > 0)) continue;
            PvUnit u;
            u.id = next_id + Id(i);
            u.bus = bus_of_load.at(customers[i]);
            u.customer = customers[i];
            u.params = opt.pv;
            u.params.inverter_kva = k;
            u.params.kwp_dc = k * dc_ac;
            d.pv.push_back(u);
        }
        return run(std::move(d));
    }

    /// EV: chargers at the first n customers of `order`.
    Violation probe_ev(const std::vector<Id>& order, std::size_t n) const {
        DeviceSet d = base;
        const LocalTime end = opt.sim.start + std::int64_t(opt.sim.n_steps) * opt.sim.step_s;
        for (std::size_t i = 0; i < n; ++i) {
            const Id c = order[i];
            EvStationUnit u;
            u.id = next_id + Id(i);
            u.bus = bus_of_load.at(c);
            u.customer = c;
            u.station.params.id = u.id;
            u.station.params.charger_kw = opt.ev_charger_kw;
            u.station.params.strategy = opt.ev_strategy;
            u.station.sessions = generate_sessions(ChargerKind::Home, opt.ev_charger_kw, opt.sim.start, end, opt.order_seed, std::uint64_t(c),
                                                   opt.ev_sessions_per_day);
            d.ev_stations.push_back(std::move(u));
        }
        return run(std::move(d));
    }
};

/// Unbalanced networks: a customer's phases (its load's terminal: the first nphases conductors, a
/// one-phase delta load two) as shares of a, b, c.
std::array<double, 3> load_phase_share(const ULoad& l) {
    std::array<double, 3> f{0.0, 0.0, 0.0};
    const std::size_t n = std::size_t(l.delta && l.nphases == 1 ? 2 : l.nphases);
    int count = 0;
    for (std::size_t k = 0; k < n && k < l.bus1.nodes.size(); ++k)
        if (l.bus1.nodes[k] >= 1 && l.bus1.nodes[k] <= 3 && f[std::size_t(l.bus1.nodes[k] - 1)] == 0.0) {
            f[std::size_t(l.bus1.nodes[k] - 1)] = 1.0;
            ++count;
        }
    for (double& x : f) x = count > 0 ? x / count : 1.0 / 3.0;
    return f;
}

/// Unbalanced networks: the kW added per phase when customer i gets kw_of(i) (i = 0 .. n-1).
template <class KwOf>
void added_by_phase(const Prober& p, const std::vector<Id>& customers, KwOf&& kw_of, HostingCapacityResult& r) {
    if (!p.unet) return;
    for (double& x : r.added_kw_phase) x = 0.0;
    for (std::size_t i = 0; i < customers.size(); ++i) {
        const double k = kw_of(i);
        const std::array<double, 3>& f = p.phase_share.at(customers[i]);
        for (std::size_t ph = 0; ph < 3; ++ph) r.added_kw_phase[ph] += k * f[ph];
    }
}

/// Per-customer kW limits of a group (one unit each when not given).
std::vector<double> group_max_kw(const HostingGroup& g, const HostingCapacityOptions& o) {
    if (g.max_kw.empty()) return std::vector<double>(g.customers.size(), o.kind == HostingKind::PV ? o.pv.inverter_kva : o.ev_charger_kw);
    if (g.max_kw.size() != g.customers.size())
        throw ValidationError("hosting capacity: group " + std::to_string(g.id) + ": field 'max_kw': " + std::to_string(g.max_kw.size()) +
                              " values for " + std::to_string(g.customers.size()) + " customers");
    for (double k : g.max_kw)
        if (!(k >= 0) || !std::isfinite(k))
            throw ValidationError("hosting capacity: group " + std::to_string(g.id) + ": field 'max_kw': must be finite and >= 0");
    return g.max_kw;
}

/// Bisection between lo (no violation) and hi (a violation, at_hi) until done(lo, hi): returns lo,
/// and at_hi becomes the violation of the last hi. probe(x) runs the grid with x added.
template <class T, class Probe, class Mid, class Done>
T bisect(T lo, T hi, Violation& at_hi, Probe&& probe, Mid&& mid, Done&& done) {
    while (!done(lo, hi)) {
        const T m = mid(lo, hi);
        const Violation v = probe(m);
        if (v.found) {
            hi = m;
            at_hi = v;
        } else {
            lo = m;
        }
    }
    return lo;
}

/// The probe with nothing added: a limit broken already ends the group's search.
template <class Probe>
bool violated_without(Probe&& probe, HostingCapacityResult& r) {
    const Violation v0 = probe(0);
    if (!v0.found) return false;
    r.violated_without = r.limited = true;
    r.limit = v0;
    return true;
}

void pv_group(const Prober& p, const HostingGroup& g, const std::vector<double>& kw, HostingCapacityResult& r, const std::function<void()>& tick) {
    double add_max = 0.0;  // kW the customers can add
    for (double k : kw) add_max += k;
    r.max_kw = r.installed_kw + add_max;
    r.tolerance_kw = p.opt.tolerance_kw;
    const auto probe = [&](double scale) {  // every customer at scale x its limit
        ++r.runs;
        const Violation v = p.probe_pv(g.customers, kw, scale);
        tick();
        return v;
    };
    if (violated_without(probe, r)) return;
    const std::size_t eligible = std::size_t(std::count_if(kw.begin(), kw.end(), [](double k) { return k > 0; }));
    if (add_max <= 0) return;
    Violation at_hi = probe(1.0);
    if (!at_hi.found) {
        r.added_kw = add_max;
        r.hosted = eligible;
        added_by_phase(p, g.customers, [&](std::size_t i) { return kw[i]; }, r);
        return;
    }
    const double lo = bisect(
        0.0, 1.0, at_hi, probe, [](double a, double b) { return 0.5 * (a + b); },
        [&](double a, double b) { return (b - a) * add_max <= p.opt.tolerance_kw; });
    r.added_kw = lo * add_max;
    r.hosted = lo > 0 ? eligible : 0;
    r.limited = true;
    r.limit = at_hi;
    added_by_phase(p, g.customers, [&](std::size_t i) { return lo * kw[i]; }, r);
}

void ev_group(const Prober& p, const HostingGroup& g, const std::vector<double>& kw, HostingCapacityResult& r, const std::function<void()>& tick) {
    std::vector<Id> order;  // the eligible customers in a fixed seeded order
    for (std::size_t i = 0; i < g.customers.size(); ++i)
        if (kw[i] > 0) order.push_back(g.customers[i]);
    Rng rng(p.opt.order_seed, stream_id({0x686f7374ULL, std::uint64_t(g.id)}));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[std::size_t(rng.next() % i)]);
    const double unit = p.opt.ev_charger_kw;
    r.max_kw = r.installed_kw + double(order.size()) * unit;
    r.tolerance_kw = unit;
    const auto probe = [&](std::size_t n) {  // chargers at the first n customers of the order
        ++r.runs;
        const Violation v = p.probe_ev(order, n);
        tick();
        return v;
    };
    if (violated_without(probe, r)) return;
    if (order.empty()) return;
    Violation at_hi = probe(order.size());
    if (!at_hi.found) {
        r.hosted = order.size();
    } else {
        r.hosted = bisect(
            std::size_t{0}, order.size(), at_hi, probe, [](std::size_t a, std::size_t b) { return a + (b - a) / 2; },
            [](std::size_t a, std::size_t b) { return b - a <= 1; });
        r.limited = true;
        r.limit = at_hi;
    }
    r.added_kw = double(r.hosted) * unit;
    added_by_phase(p, order, [&](std::size_t i) { return i < r.hosted ? unit : 0.0; }, r);
}

/// The study once the prober knows where every customer is.
std::vector<HostingCapacityResult> run_groups(Prober& p, const std::vector<HostingGroup>& groups, const HostingCapacityOptions& options) {
    const DeviceSet& base = p.base;
    if (options.kind == HostingKind::PV) validate(options.pv, "hosting capacity pv");
    if (options.kind == HostingKind::EV && !(options.ev_charger_kw > 0))
        throw ValidationError("hosting capacity: field 'ev_charger_kw': must be > 0");
    if (!(options.tolerance_kw > 0) || !std::isfinite(options.tolerance_kw))
        throw ValidationError("hosting capacity: field 'tolerance_kw': must be finite and > 0");
    // unit ids above every id in use
    Id max_id = 0;
    for (const PvUnit& u : base.pv) max_id = std::max(max_id, u.id);
    for (const EvStationUnit& u : base.ev_stations) max_id = std::max(max_id, u.id);
    p.next_id = max_id + 1000000;
    std::vector<HostingCapacityResult> out;
    out.reserve(groups.size());
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        const HostingGroup& g = groups[gi];
        HostingCapacityResult r;
        r.group = g.id;
        r.group_kind = g.kind;
        r.customers = g.customers.size();
        r.rating_kva = g.rating_kva;
        r.installed_kw = g.installed_kw;
        for (Id c : g.customers)
            if (!p.bus_of_load.count(c)) throw IdError("hosting capacity: group " + std::to_string(g.id) + ": unknown customer (load) id " + std::to_string(c));
        const std::vector<double> kw = group_max_kw(g, options);
        const std::function<void()> tick = [&] {
            if (options.progress) options.progress(gi, groups.size(), r.runs);
        };
        if (p.unet) added_by_phase(p, {}, [](std::size_t) { return 0.0; }, r);  // zeros until an answer
        if (options.kind == HostingKind::PV) pv_group(p, g, kw, r, tick);
        else ev_group(p, g, kw, r, tick);
        r.hosting_kw = r.installed_kw + r.added_kw;
        r.share = r.max_kw > 0 ? r.hosting_kw / r.max_kw : 1.0;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace

std::vector<HostingCapacityResult> hosting_capacity(const Network& net, const DeviceSet& base, const std::vector<HostingGroup>& groups,
                                                    const HostingCapacityOptions& options) {
    Prober p{&net, nullptr, base, options, {}, {}, 0};
    for (const Load& l : net.loads) p.bus_of_load[l.id] = l.bus;
    return run_groups(p, groups, options);
}

std::vector<HostingCapacityResult> hosting_capacity(const UNetwork& net, const DeviceSet& base, const std::vector<HostingGroup>& groups,
                                                    const HostingCapacityOptions& options) {
    Prober p{nullptr, &net, base, options, {}, {}, 0};
    for (std::size_t i = 0; i < net.loads.size(); ++i) {  // the engine's ids: ULoad::id / UBus::id, else index + 1
        const ULoad& l = net.loads[i];
        const Id id = l.id >= 0 ? Id(l.id) : Id(i) + 1;
        const std::size_t b = std::size_t(l.bus1.bus);
        if (l.bus1.bus < 0 || b >= net.buses.size()) continue;  // unet.validate() names it in the first run
        p.bus_of_load[id] = net.buses[b].id >= 0 ? Id(net.buses[b].id) : Id(b) + 1;
        p.phase_share[id] = load_phase_share(l);
    }
    return run_groups(p, groups, options);
}

}  // namespace libgrid
