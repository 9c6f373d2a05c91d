// libgrid model: the balanced Network as a three-phase UNetwork (issue 15). Rules and sources:
// docs/unbalanced.md, "From a balanced Network".
#include "libgrid/model/to_unetwork.hpp"

#include "libgrid/core/errors.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <numbers>
#include <set>
#include <unordered_map>

namespace libgrid {

namespace {

constexpr double kSqrt3 = 1.7320508075688772;
/// Short-circuit power standing for an ideal ext grid (MVA): z = vn^2 / 1e8 ohm.
constexpr double kIdealSourceMva = 1e8;

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string who(const char* table, Id id) {
    std::string s(table);
    s += " id ";
    s += std::to_string(id);
    return s;
}

/// prefix + id (appended: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string).
std::string tagged(const char* prefix, Id id) {
    std::string s(prefix);
    s += std::to_string(id);
    return s;
}

std::string bus_name(Id id) { return tagged("b", id); }

/// "a", "b", "c", "ab", "bc", "ca" (or "ac", "ba", "cb"), "abc": the phase nodes, ascending.
std::vector<int> parse_phase_nodes(const std::string& text, const std::string& element) {
    const std::string s = lower(text);
    std::vector<int> nodes;
    bool bad = s.empty();
    for (char c : s) {
        if (c < 'a' || c > 'c') bad = true;
        nodes.push_back(c - 'a' + 1);
    }
    std::sort(nodes.begin(), nodes.end());
    bad = bad || std::adjacent_find(nodes.begin(), nodes.end()) != nodes.end();
    if (bad)
        throw ValidationError(element + ": field 'phases': '" + text +
                              "' is not one of a, b, c, ab, bc, ca, abc");
    return nodes;
}

struct VectorGroup {
    bool hv_delta = true, lv_delta = false;
    int clock = 11;
};

/// "Dyn11", "YNyn0", "Dd0", "Dy1", "Yyn0", ... (case-insensitive; the n only says the neutral is
/// brought out, which the LV side always is here).
VectorGroup parse_vector_group(const std::string& text, const std::string& element) {
    const std::string s = lower(text);
    std::size_t i = 0;
    auto winding = [&](bool& delta) {
        if (i < s.size() && s[i] == 'd') {
            delta = true, ++i;
            return true;
        }
        if (i < s.size() && s[i] == 'y') {
            delta = false, ++i;
            if (i < s.size() && s[i] == 'n') ++i;
            return true;
        }
        return false;
    };
    VectorGroup g;
    bool ok = winding(g.hv_delta) && winding(g.lv_delta) && i < s.size();
    if (ok) {
        const std::string digits = s.substr(i);
        ok = digits.size() <= 2 && std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (ok) g.clock = std::stoi(digits);
    }
    if (!ok || g.clock > 11)
        throw ValidationError(element + ": field 'vector_group': '" + text + "' is not a vector group such as Dyn11 or YNyn0");
    if (!g.hv_delta && g.lv_delta)
        throw ValidationError(element + ": field 'vector_group': '" + text + "': wye-delta (Yd) is not supported");
    const bool odd_needed = g.hv_delta != g.lv_delta;
    if ((g.clock % 2 == 1) != odd_needed || (!odd_needed && g.clock % 4 != 0))
        throw ValidationError(element + ": field 'vector_group': '" + text +
                              "': clock " + std::to_string(g.clock) +
                              (odd_needed ? " (Dy takes an odd clock)" : " (Yy and Dd take 0, 4 or 8)"));
    return g;
}

/// Odd clock: Dyn<clock>; else YNyn<clock>. shift = 30 x clock (LV lags HV by shift).
VectorGroup group_from_shift(double shift_deg, const std::string& element) {
    const double c = shift_deg / 30.0;
    const long k = std::lround(c);
    if (std::abs(c - double(k)) > 1e-9)
        throw ValidationError(element + ": field 'shift_degree': " + std::to_string(shift_deg) +
                              " is not a multiple of 30 (give its vector group in the options)");
    const int clock = int(((k % 12) + 12) % 12);
    VectorGroup g;
    g.clock = clock;
    g.hv_delta = clock % 2 == 1;
    g.lv_delta = false;
    if (!g.hv_delta && clock % 4 != 0)
        throw ValidationError(element + ": field 'shift_degree': clock " + std::to_string(clock) +
                              " of a wye-wye transformer cannot be wired (0, 4 or 8)");
    return g;
}

/// The bus nodes the transformer's conductors 1, 2, 3 go to on each side. OpenDSS's delta-wye
/// (HV delta, ANSI) makes the LV lag by 30 degrees: clock b = 1; same-type windings b = 0. Rotating
/// the LV conductors adds 4 or 8 to the clock; reversing b and c on both sides makes it -b.
void wiring(const VectorGroup& g, std::array<int, 3>& hv, std::array<int, 3>& lv) {
    const int b = g.hv_delta != g.lv_delta ? 1 : 0;
    auto mod12 = [](int x) { return ((x % 12) + 12) % 12; };
    if (mod12(g.clock - b) % 4 == 0) {
        hv = {1, 2, 3};
        const int m = mod12(g.clock - b) / 4;  // 0, 1 (+4), 2 (+8)
        lv = m == 0 ? std::array<int, 3>{1, 2, 3} : m == 1 ? std::array<int, 3>{3, 1, 2} : std::array<int, 3>{2, 3, 1};
    } else {
        hv = {1, 3, 2};
        const int m = mod12(g.clock + b) / 4;
        lv = m == 0 ? std::array<int, 3>{1, 3, 2} : m == 1 ? std::array<int, 3>{3, 2, 1} : std::array<int, 3>{2, 1, 3};
    }
}

struct Ctx {
    const Network& net;
    const ToUnbalancedOptions& opt;
    UNetwork& u;
    std::unordered_map<Id, int> ubus;  ///< Network bus id -> UNetwork bus index
    int bus(Id id) const { return ubus.at(id); }
    bool lv(Id id) const { return net.buses[net.bus_index(id)].vn_kv <= opt.lv_kv_max; }
    bool neutral(Id id) const { return opt.model_neutral && lv(id); }
};

/// Diagonal n x n matrix.
std::vector<double> diagonal(const std::vector<double>& d) {
    const std::size_t n = d.size();
    std::vector<double> m(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) m[i * n + i] = d[i];
    return m;
}

void add_buses(Ctx& c) {
    std::set<double> bases;
    // names -> index (UNetwork::add_bus searches linearly: quadratic on the city's ~1M buses, H5)
    std::unordered_map<std::string, int> index;
    for (std::size_t i = 0; i < c.u.buses.size(); ++i) index.emplace(c.u.buses[i].name, int(i));
    for (const Bus& b : c.net.buses) {
        if (!b.in_service)
            throw ValidationError(who("bus", b.id) + ": field 'in_service': out-of-service buses are not converted (remove the bus)");
        const std::string name = bus_name(b.id);
        const auto found = index.find(name);
        int k = found != index.end() ? found->second : -1;
        if (k < 0) {  // as add_bus (bus_name is lower case already)
            UBus nb;
            nb.name = name;
            c.u.buses.push_back(nb);
            k = int(c.u.buses.size()) - 1;
            index.emplace(name, k);
        }
        c.u.buses[std::size_t(k)].kv_base_ll = b.vn_kv;
        c.u.buses[std::size_t(k)].id = b.id;
        c.u.buses[std::size_t(k)].vmin_pu = b.vmin_pu;  // issue 15 (H4): the band of violations
        c.u.buses[std::size_t(k)].vmax_pu = b.vmax_pu;
        c.ubus[b.id] = k;
        bases.insert(b.vn_kv);
    }
    c.u.settings.voltage_bases_kv.assign(bases.begin(), bases.end());
}

/// Open line switches take their line out (the balanced model keeps the line's far end energised;
/// the unbalanced model has no open end).
std::set<Id> open_elements(const Network& net, SwitchElement et) {
    std::set<Id> out;
    for (const Switch& s : net.switches)
        if (s.et == et && !s.closed) out.insert(s.element);
    return out;
}

void add_lines(Ctx& c) {
    const ToUnbalancedOptions& o = c.opt;
    const std::set<Id> open = open_elements(c.net, SwitchElement::Line);
    for (const Line& l : c.net.lines) {
        const std::string w = who("line", l.id);
        if (l.g_us_per_km != 0.0) throw ValidationError(w + ": field 'g_us_per_km': shunt conductance is not modelled in the unbalanced line");
        ULine ul;
        ul.name = tagged("l", l.id);
        ul.id = l.id;
        ul.length_km = l.length_km;
        const double par = double(l.parallel);
        const double r = l.r_ohm_per_km / par, x = l.x_ohm_per_km / par, cc = l.c_nf_per_km * par;
        const bool four = c.neutral(l.from_bus) && c.neutral(l.to_bus);
        const auto lp = o.line_phases.find(l.id);
        std::vector<int> nodes = {1, 2, 3};
        if (lp != o.line_phases.end()) {
            nodes = parse_phase_nodes(lp->second, w);
            if (nodes.size() != 1 && nodes.size() != 3)
                throw ValidationError(w + ": field 'phases': a line is single-phase (a, b, c) or three-phase");
            if (nodes.size() == 1 && !four)
                throw ValidationError(w + ": field 'phases': a single-phase line needs the neutral modelled (an LV line, model_neutral)");
        }
        if (four) {
            nodes.push_back(4);
            const std::size_t n = nodes.size();
            std::vector<double> rd(n, r), xd(n, x), cd(n, cc);
            rd.back() = r * o.neutral_r_ratio;
            ul.r_ohm_per_km = diagonal(rd), ul.x_ohm_per_km = diagonal(xd), ul.c_nf_per_km = diagonal(cd);
        } else {
            ul.r_ohm_per_km = sequence_to_phase(r, r * o.r0_r1, 3);
            ul.x_ohm_per_km = sequence_to_phase(x, x * o.x0_x1, 3);
            ul.c_nf_per_km = sequence_to_phase(cc, cc * o.c0_c1, 3);
        }
        ul.nphases = int(nodes.size());
        ul.bus1 = UTerminal{c.bus(l.from_bus), nodes};
        ul.bus2 = UTerminal{c.bus(l.to_bus), nodes};
        if (std::isfinite(l.max_i_ka)) {
            ul.norm_amps = l.max_i_ka * 1000.0 * par * l.df;
            ul.emerg_amps = ul.norm_amps * 1.5;
        }
        ul.enabled = l.in_service && !open.count(l.id);
        c.u.lines.push_back(std::move(ul));
    }
}

void add_switches(Ctx& c) {
    for (const Switch& s : c.net.switches) {
        if (s.et != SwitchElement::Bus) continue;
        ULine ul;
        ul.name = tagged("sw", s.id);
        ul.id = s.id;  // issue 15b: events name the switch by its id
        ul.is_switch = true;
        ul.enabled = s.closed;
        ul.length_km = 1.0;
        std::vector<int> nodes = {1, 2, 3};
        if (c.neutral(s.bus) && c.neutral(s.element)) nodes.push_back(4);
        const std::size_t n = nodes.size();
        ul.nphases = int(n);
        ul.r_ohm_per_km = diagonal(std::vector<double>(n, c.opt.switch_ohm));
        ul.x_ohm_per_km = ul.r_ohm_per_km;
        ul.c_nf_per_km.assign(n * n, 0.0);
        ul.bus1 = UTerminal{c.bus(s.bus), nodes};
        ul.bus2 = UTerminal{c.bus(s.element), nodes};
        c.u.lines.push_back(std::move(ul));
    }
}

UWinding winding(const Ctx& c, Id bus, bool delta, const std::array<int, 3>& perm, double kv, double kva, double r_pct) {
    UWinding w;
    w.delta = delta;
    w.kv = kv;
    w.kva = kva;
    w.r_pct = r_pct;
    std::vector<int> nodes(perm.begin(), perm.end());
    if (!delta) {
        const bool n4 = c.neutral(bus);
        nodes.push_back(n4 ? 4 : 0);
        if (n4) w.rneut_ohm = std::max(c.opt.substation_earth_ohm, 0.0);
    }
    w.bus = UTerminal{c.bus(bus), nodes};
    return w;
}

/// The OLTC (Transformer::oltc: hold the LV bus at oltc_vm_pu +- oltc_band_pu / 2, one tap step at a
/// time) as OpenDSS's RegControl: regulated winding 2 (the LV side, phase a: phase to neutral on a
/// wye winding, phase to phase on a delta one, as RegControl samples it), on a 120 V PT, the taps on
/// the tap side's winding (TapWinding: an HV tap moves the other way), at most one tap per control
/// iteration. A remote controlled bus (oltc_bus) has no RegControl equivalent here: refused.
void add_oltc(Ctx& c, const Transformer& t, int index) {
    const std::string w = who("transformer", t.id);
    if (t.oltc_bus >= 0 && t.oltc_bus != t.lv_bus)
        throw ValidationError(w + ": field 'oltc_bus': an OLTC holding another bus than its LV bus is not converted to the unbalanced model");
    const UTransformer& ut = c.u.transformers[std::size_t(index)];
    const UWinding& lv = ut.windings[1];
    const double vbase = lv.delta ? lv.kv * 1000.0 : lv.kv * 1000.0 / kSqrt3;  // RegControl's BaseVoltage
    URegControl rc;
    rc.name = tagged("oltc", t.id);
    rc.transformer = index;
    rc.winding = 2;
    rc.tap_winding = t.tap_side == TapSide::HV ? 1 : 2;
    rc.ptratio = vbase / 120.0;
    rc.vreg = 120.0 * t.oltc_vm_pu;
    rc.band = 120.0 * t.oltc_band_pu;
    rc.ptphase = 1;
    rc.maxtapchange = 1;
    c.u.regcontrols.push_back(rc);
}

void add_transformers(Ctx& c) {
    const std::set<Id> open = open_elements(c.net, SwitchElement::Transformer);
    for (const Transformer& t : c.net.transformers) {
        const std::string w = who("transformer", t.id);
        if (t.tap_step_deg != 0.0 && t.tap_pos != t.tap_neutral && t.tap_side != TapSide::None)
            throw ValidationError(w + ": field 'tap_step_degree': phase-shifting taps are not converted");
        const auto vg = c.opt.vector_groups.find(t.id);
        const VectorGroup g = vg != c.opt.vector_groups.end() ? parse_vector_group(vg->second, w) : group_from_shift(t.shift_deg, w);
        std::array<int, 3> hv{}, lv{};
        wiring(g, hv, lv);
        UTransformer ut;
        ut.name = tagged("t", t.id);
        ut.id = t.id;
        ut.nphases = 3;
        const double kva = t.sn_mva * 1000.0 * double(t.parallel);
        ut.windings.push_back(winding(c, t.hv_bus, g.hv_delta, hv, t.vn_hv_kv, kva, t.vkr_percent / 2.0));
        ut.windings.push_back(winding(c, t.lv_bus, g.lv_delta, lv, t.vn_lv_kv, kva, t.vkr_percent / 2.0));
        ut.xhl_pct = std::sqrt(std::max(t.vk_percent * t.vk_percent - t.vkr_percent * t.vkr_percent, 0.0));
        ut.noload_loss_pct = t.pfe_kw / (t.sn_mva * 1000.0) * 100.0;
        ut.imag_pct = std::sqrt(std::max(t.i0_percent * t.i0_percent - ut.noload_loss_pct * ut.noload_loss_pct, 0.0));
        if (t.tap_side != TapSide::None) {
            UWinding& tw = ut.windings[t.tap_side == TapSide::HV ? 0 : 1];
            const double step = t.tap_step_percent / 100.0;
            tw.tap = 1.0 + double(t.tap_pos - t.tap_neutral) * step;
            tw.min_tap = 1.0 + double(t.tap_min - t.tap_neutral) * step;
            tw.max_tap = 1.0 + double(t.tap_max - t.tap_neutral) * step;
            tw.num_taps = std::max(t.tap_max - t.tap_min, 1);
        }
        ut.enabled = t.in_service && !open.count(t.id);
        c.u.transformers.push_back(std::move(ut));
        if (t.oltc && t.tap_side != TapSide::None) add_oltc(c, t, int(c.u.transformers.size()) - 1);
    }
}

void set_load_law(const Load& l, const ToUnbalancedOptions& o, ULoad& ul) {
    const double zp = l.const_z_p_percent / 100.0, ip = l.const_i_p_percent / 100.0;
    const double zq = l.const_z_q_percent / 100.0, iq = l.const_i_q_percent / 100.0;
    if (zp == 0.0 && ip == 0.0 && zq == 0.0 && iq == 0.0)
        ul.model = 1;
    else if (zp == 1.0 && zq == 1.0)
        ul.model = 2;
    else {
        ul.model = 8;
        ul.zipv = {zp, ip, 1.0 - zp - ip, zq, iq, 1.0 - zq - iq, 0.0};
    }
    ul.vminpu = o.load_vminpu;
    ul.vmaxpu = o.load_vmaxpu;
    ul.vlowpu = std::max(o.load_vminpu - 0.1, 0.0);
}

void add_loads(Ctx& c) {
    for (const Load& l : c.net.loads) {
        const std::string w = who("load", l.id);
        const auto lp = c.opt.load_phases.find(l.id);
        std::vector<int> nodes = parse_phase_nodes(lp != c.opt.load_phases.end() ? lp->second : c.opt.default_load_phases, w);
        const Bus& b = c.net.buses[c.net.bus_index(l.bus)];
        ULoad ul;
        ul.name = tagged("ld", l.id);
        ul.id = l.id;
        ul.nphases = int(nodes.size());
        ul.kv = ul.nphases == 1 ? b.vn_kv / kSqrt3 : b.vn_kv;
        nodes.push_back(c.neutral(l.bus) ? 4 : 0);
        ul.bus1 = UTerminal{c.bus(l.bus), nodes};
        ul.kw = ul.base_kw = l.p_mw * l.scaling * 1000.0;
        ul.kvar = ul.base_kvar = l.q_mvar * l.scaling * 1000.0;
        set_load_law(l, c.opt, ul);
        ul.enabled = l.in_service;
        c.u.loads.push_back(std::move(ul));
    }
}

/// Earth electrodes: a one-conductor line from the neutral (node 4) to ground at the same bus.
void add_earths(Ctx& c) {
    if (!c.opt.model_neutral || !(c.opt.customer_earth_ohm > 0.0)) return;
    std::set<Id> done;
    for (const Load& l : c.net.loads) {
        if (!l.in_service || !c.neutral(l.bus) || !done.insert(l.bus).second) continue;
        ULine e;
        e.name = "earth_" + bus_name(l.bus);
        e.nphases = 1;
        e.bus1 = UTerminal{c.bus(l.bus), {4}};
        e.bus2 = UTerminal{c.bus(l.bus), {0}};
        e.r_ohm_per_km = {c.opt.customer_earth_ohm};
        e.x_ohm_per_km = {0.0};
        e.c_nf_per_km = {0.0};
        e.length_km = 1.0;
        c.u.lines.push_back(std::move(e));
    }
}

void add_sources(Ctx& c) {
    for (const ExtGrid& e : c.net.ext_grids) {
        const Bus& b = c.net.buses[c.net.bus_index(e.bus)];
        UVsource s;
        s.name = c.u.vsources.empty() ? "source" : tagged("source", e.id);
        s.id = e.id;
        s.bus1 = UTerminal{c.bus(e.bus), {1, 2, 3}};
        s.nphases = 3;
        s.basekv = b.vn_kv;
        s.pu = e.vm_pu;
        s.angle_deg = e.va_deg;
        const double sk = std::isfinite(e.sk_mva) ? e.sk_mva : kIdealSourceMva;
        const double z = b.vn_kv * b.vn_kv / sk;
        const double x = z / std::sqrt(1.0 + e.rx_ratio * e.rx_ratio);
        s.z1_ohm = s.z0_ohm = {x * e.rx_ratio, x};
        s.enabled = e.in_service;
        c.u.vsources.push_back(std::move(s));
    }
    if (c.u.vsources.empty()) throw ValidationError("network " + c.net.name + ": field 'ext_grids': no ext grid to be the source");
}

/// Shunts: a capacitor (q < 0, p = 0) becomes a grounded-wye Capacitor; generators, static
/// generators and storage with power are refused (the devices layer adds them per phase).
void add_others(Ctx& c) {
    for (const Shunt& s : c.net.shunts) {
        if (!s.in_service || s.step == 0) continue;
        if (s.p_mw != 0.0 || !(s.q_mvar < 0.0))
            throw ValidationError(who("shunt", s.id) + ": field 'p_mw/q_mvar': only capacitors (p = 0, q < 0) are converted");
        UCapacitor cap;
        cap.name = tagged("sh", s.id);
        cap.bus1 = UTerminal{c.bus(s.bus), {1, 2, 3}};
        cap.kv = c.net.buses[c.net.bus_index(s.bus)].vn_kv;
        cap.kvar = {-s.q_mvar * 1000.0 * double(s.step)};
        c.u.capacitors.push_back(std::move(cap));
    }
    if (!c.net.branches.empty())
        throw ValidationError(who("branch", c.net.branches.front().id) + ": MATPOWER branches (per unit) are not converted");
    for (const Gen& g : c.net.gens)
        if (g.in_service) throw ValidationError(who("gen", g.id) + ": voltage-controlled generators are not converted");
    for (const SGen& g : c.net.sgens)
        if (g.in_service && (g.p_mw != 0.0 || g.q_mvar != 0.0))
            throw ValidationError(who("sgen", g.id) + ": field 'p_mw': a static generator with power is not converted (add it as a device on its phases)");
    for (const Storage& s : c.net.storage)
        if (s.in_service && (s.p_mw != 0.0 || s.q_mvar != 0.0))
            throw ValidationError(who("storage", s.id) + ": field 'p_mw': storage with power is not converted (add it as a device on its phases)");
}

}  // namespace

UNetwork to_unetwork(const Network& net, const ToUnbalancedOptions& opt) {
    for (const FormingSource& f : net.forming)
        if (f.in_service)
            throw ValidationError(who("forming", f.id) + ": field 'in_service': grid-forming sources are not in the unbalanced model yet "
                                  "(docs/microgrid.md); solve the balanced network");
    UNetwork u;
    u.name = net.name.empty() ? "network" : lower(net.name);
    u.settings.base_frequency_hz = net.f_hz;
    Ctx c{net, opt, u, {}};
    add_buses(c);
    add_sources(c);
    add_lines(c);
    add_switches(c);
    add_transformers(c);
    add_loads(c);
    add_earths(c);
    add_others(c);
    return u;
}

}  // namespace libgrid
