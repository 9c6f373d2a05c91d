// libgrid scenario: the Melaka grid as built (issue 15): customers on their phases, real
// single-phase services, the grid as a three-phase four-wire UNetwork. docs/melaka.md,
// "As built: phases".
#include "libgrid/scenario/melaka_grid.hpp"

#include "libgrid/core/errors.hpp"

#include <cstring>
#include <unordered_map>

namespace libgrid {

namespace {

/// splitmix64 (Steele, Lea & Flood 2014): one stream per (seed, transformer).
struct PhaseRng {
    std::uint64_t x;
    PhaseRng(std::uint64_t seed, Id transformer) : x(seed * 0x9E3779B97F4A7C15ULL ^ (std::uint64_t(transformer) + 0x50686173ULL)) {}
    std::uint64_t next() {
        std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
};

struct Cycle {
    int next = 0;        ///< the cycle's next phase (0 a, 1 b, 2 c)
    int previous = -1;   ///< the previous single-phase customer's phase
    PhaseRng rng;
};

const MelakaLineType& line_type(const char* name) {
    for (const MelakaLineType& t : melaka_line_types())
        if (std::strcmp(t.name, name) == 0) return t;
    throw ValidationError(std::string("melaka_line_types: no row '") + name + "'");
}

}  // namespace

std::vector<std::string> melaka_customer_phases(const MelakaGrid& g, const MelakaPhaseOptions& opt) {
    if (!(opt.imbalance >= 0.0 && opt.imbalance <= 1.0))
        throw ValidationError("melaka phases: field 'imbalance': " + std::to_string(opt.imbalance) + " is not in [0, 1]");
    static const char* kPhase[] = {"a", "b", "c"};
    std::vector<std::string> out(g.customers.size());
    std::unordered_map<Id, Cycle> cycles;  // per distribution transformer
    for (const Customer& c : g.customers) {
        std::string& ph = out[std::size_t(c.id)];
        if (c.phases != 1) {
            ph = "abc";
            continue;
        }
        auto it = cycles.try_emplace(c.transformer, Cycle{0, -1, PhaseRng(opt.seed, c.transformer)}).first;
        Cycle& cy = it->second;
        const bool repeat = cy.previous >= 0 && cy.rng.uniform() < opt.imbalance;
        const int p = repeat ? cy.previous : cy.next;
        if (!repeat) cy.next = (cy.next + 1) % 3;
        cy.previous = p;
        ph = kPhase[p];
    }
    for (const auto& [id, phase] : opt.rephase) {
        const std::string who = "melaka phases: field 'rephase': customer id " + std::to_string(id);
        if (id < 0 || std::size_t(id) >= g.customers.size()) throw ValidationError(who + ": no such customer");
        if (g.customers[std::size_t(id)].phases != 1) throw ValidationError(who + ": a three-phase customer cannot be re-phased");
        if (phase != "a" && phase != "b" && phase != "c")
            throw ValidationError(who + ": phase '" + phase + "' is not a, b or c");
        out[std::size_t(id)] = phase;
    }
    return out;
}

MelakaUGrid melaka_unetwork(const MelakaGrid& g, const MelakaPhaseOptions& opt) {
    if (!(opt.load_scale >= 0.0)) throw ValidationError("melaka phases: field 'load_scale': must be >= 0");
    MelakaUGrid out;
    out.customer_phases = melaka_customer_phases(g, opt);
    Network net = g.net;
    for (Load& l : net.loads) l.scaling *= opt.load_scale;
    std::unordered_map<Id, std::size_t> line_to;  // meter bus -> its service cable (the line ending there)
    for (std::size_t i = 0; i < net.lines.size(); ++i) line_to[net.lines[i].to_bus] = i;
    const MelakaLineType& svc = line_type("SVC 4x16 Al");
    ToUnbalancedOptions conv = opt.convert;
    for (const Customer& c : g.customers) {
        const std::string& ph = out.customer_phases[std::size_t(c.id)];
        conv.load_phases[c.load_id] = ph;
        if (c.phases != 1) continue;
        const auto it = line_to.find(c.bus);
        if (it == line_to.end()) throw ValidationError("melaka phases: customer id " + std::to_string(c.id) + ": no service cable");
        Line& l = net.lines[it->second];
        l.r_ohm_per_km = svc.r_ohm_per_km;  // per conductor: the loop is phase + neutral (ratio 1)
        l.x_ohm_per_km = svc.x_ohm_per_km;
        l.max_i_ka = svc.max_i_ka;
        l.name = "SVC 2x16 Al";
        conv.line_phases[l.id] = ph;
    }
    out.net = to_unetwork(net, conv);
    out.net.name = "melaka";
    return out;
}

}  // namespace libgrid
