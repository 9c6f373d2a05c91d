// libgrid power flow: UTimeStepper, the unbalanced power flow of a time series (powerflow/ustepper.hpp).
//
// The stepper keeps its own copy of the network with one extra load per connection ("conn.<k>":
// OpenDSS load model 1 with vminpu = vlowpu = 0 and vmaxpu = 1e30, so constant power at every
// voltage but zero, and zero power at construction, so it puts nothing into Y). A UPowerFlow is
// compiled on that copy: the connections are ordinary load elements of the model, hence every
// solver handles them, and the reduced fixed point's load nodes include them. Between steps
// set_load / set_connection_power write one model entry (UPowerFlow::set_load_kw). The rows are
// computed from the model and V with the element currents in one buffer sized in the constructor
// (computed once per solve, on the first row asked for). Taps and capacitor states that the controls
// move, and the voltage bases the power flow computes, are copied back into the caller's network.
#include <libgrid/powerflow/ustepper.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <numbers>

namespace libgrid {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRadToDeg = 180.0 / std::numbers::pi;
const double kSqrt3 = std::sqrt(3.0);

/// OpenDSS's default node of conductor k of a terminal (Circuit.pas ProcessBusDefs).
int default_node(const UTerminal& t, int k, int nphases) {
    if (k < int(t.nodes.size())) return t.nodes[std::size_t(k)];
    return k < nphases ? k + 1 : 0;
}

/// has[bus][p - 1]: some enabled element of the network connects to node p (1..4) of the bus.
std::vector<std::array<bool, 4>> bus_nodes_in_use(const UNetwork& net) {
    std::vector<std::array<bool, 4>> has(net.buses.size(), std::array<bool, 4>{false, false, false, false});
    auto mark = [&has](const UTerminal& t, int nconds, int nphases) {
        if (t.bus < 0 || t.bus >= int(has.size())) return;
        for (int k = 0; k < nconds; ++k) {
            const int p = default_node(t, k, nphases);
            if (p >= 1 && p <= 4) has[std::size_t(t.bus)][std::size_t(p - 1)] = true;
        }
    };
    for (const ULine& l : net.lines)
        if (l.enabled) {
            mark(l.bus1, l.nphases, l.nphases);
            mark(l.bus2, l.nphases, l.nphases);
        }
    for (const UTransformer& t : net.transformers)
        if (t.enabled)
            for (const UWinding& w : t.windings) mark(w.bus, t.nphases + 1, t.nphases);
    for (const ULoad& l : net.loads)
        if (l.enabled) mark(l.bus1, l.delta ? (l.nphases <= 2 ? l.nphases + 1 : l.nphases) : l.nphases + 1, l.nphases);
    for (const UCapacitor& c : net.capacitors)
        if (c.enabled) {
            const int nc = c.delta ? (c.nphases <= 2 ? c.nphases + 1 : c.nphases) : c.nphases;
            mark(c.bus1, nc, c.nphases);
            if (!c.delta) mark(c.bus2, nc, c.nphases);
        }
    for (const UVsource& s : net.vsources)
        if (s.enabled) mark(s.bus1, s.nphases, s.nphases);
    return has;
}

std::string connection_who(int c) { return "connection " + std::to_string(c); }

/// Throws ValidationError unless the connection names a bus of the network and phases it has.
void check_connection(const UNetwork& net, const std::vector<std::array<bool, 4>>& has, const UConnection& cn, int c) {
    const std::string who = connection_who(c);
    if (cn.bus < 0 || cn.bus >= int(net.buses.size()))
        throw ValidationError(who + ": field 'bus': bus index " + std::to_string(cn.bus) + " out of range");
    if (cn.phases.empty() || cn.phases.size() > 3)
        throw ValidationError(who + ": field 'phases': 1 to 3 phases, got " + std::to_string(cn.phases.size()));
    for (std::size_t k = 0; k < cn.phases.size(); ++k) {
        const int p = cn.phases[k];
        if (p < 1 || p > 3 || (k > 0 && p <= cn.phases[k - 1]))
            throw ValidationError(who + ": field 'phases': conductors 1..3, each once, ascending");
        if (!has[std::size_t(cn.bus)][std::size_t(p - 1)])
            throw ValidationError(who + ": field 'phases': bus '" + net.buses[std::size_t(cn.bus)].name +
                                  "' has no node " + std::to_string(p) + " (no element connects to it)");
    }
}

/// The load element that stands for connection c: constant power at every voltage, zero for now.
ULoad connection_load(const UNetwork& net, const std::vector<std::array<bool, 4>>& has, const UConnection& cn, int c) {
    ULoad l;
    l.name = "conn." + std::to_string(c);
    l.bus1.bus = cn.bus;
    l.bus1.nodes = cn.phases;
    l.bus1.nodes.push_back(has[std::size_t(cn.bus)][3] ? 4 : 0);
    l.nphases = int(cn.phases.size());
    const double kv_ll = net.buses[std::size_t(cn.bus)].kv_base_ll;
    const double kv = std::isfinite(kv_ll) && kv_ll > 0.0 ? kv_ll : 1.0;  // only the base of y_nom (unused)
    l.kv = l.nphases == 1 ? kv / kSqrt3 : kv;
    l.kw = l.kvar = l.base_kw = l.base_kvar = 0.0;
    l.model = 1;
    l.vminpu = 0.0;
    l.vlowpu = 0.0;
    l.vmaxpu = 1e30;
    l.daily.clear();
    l.yearly.clear();
    return l;
}

UNetwork with_connections(const UNetwork& net, const std::vector<UConnection>& conns) {
    const auto has = bus_nodes_in_use(net);
    UNetwork own = net;
    own.loads.reserve(net.loads.size() + conns.size());
    for (std::size_t c = 0; c < conns.size(); ++c) {
        check_connection(net, has, conns[c], int(c));
        own.loads.push_back(connection_load(net, has, conns[c], int(c)));
    }
    return own;
}

cplx node_v(const std::vector<cplx>& v, int node) { return node >= 0 ? v[std::size_t(node)] : cplx(0.0, 0.0); }

/// |z| as sqrt(re^2 + im^2): no overflow care needed for volts and amperes, a third of hypot's time.
double mag(cplx z) { return std::sqrt(std::norm(z)); }

/// A two-terminal element whose yprim is exactly [Ys -Ys; -Ys Ys]: its current is Ys (V1 - V2).
bool is_series_only(const UMathElement& e) {
    if (e.n_terminals != 2 || e.i_norton.size() != 0) return false;
    const Eigen::Index n = e.n_cond;
    for (Eigen::Index c = 0; c < n; ++c)
        for (Eigen::Index r = 0; r < n; ++r) {
            const cplx y = e.yprim(r, c);
            if (e.yprim(r, c + n) != -y || e.yprim(r + n, c) != -y || e.yprim(r + n, c + n) != y) return false;
        }
    return true;
}

/// x y in real arithmetic (no NaN / infinity recovery of complex *: no __muldc3 call).
inline cplx mul(cplx x, cplx y) {
    return cplx(x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real());
}

/// c[r] += y * v in real arithmetic (no NaN / infinity recovery of complex *).
inline void mul_add(cplx& c, cplx y, double vr, double vi) {
    c += cplx(y.real() * vr - y.imag() * vi, y.real() * vi + y.imag() * vr);
}

}  // namespace

std::vector<int> parse_phases(const std::string& phases, const std::string& who) {
    const std::string head = who + ": field 'phases': ";
    if (phases.empty()) throw ValidationError(head + "empty; give a, b, c or two or three of them (\"abc\")");
    std::vector<int> out;
    bool seen[3] = {false, false, false};
    for (char ch : phases) {
        const char lc = char(std::tolower(static_cast<unsigned char>(ch)));
        if (lc < 'a' || lc > 'c')
            throw ValidationError(head + "'" + phases + "': '" + std::string(1, ch) + "' is not a phase (a, b or c)");
        const int k = lc - 'a';
        if (seen[k]) throw ValidationError(head + "'" + phases + "': phase '" + std::string(1, lc) + "' given twice");
        seen[k] = true;
    }
    for (int k = 0; k < 3; ++k)
        if (seen[k]) out.push_back(k + 1);
    return out;
}

struct UTimeStepper::Impl {
    UNetwork& user;
    UNetwork own;                      ///< the network plus one load per connection
    std::vector<UConnection> conns;
    int n_loads = 0;                   ///< the caller's loads (own.loads[n_loads + c] is connection c)
    UPowerFlow pf;
    const UMathModel& m;
    std::vector<int> line_elem, trafo_elem, source_elem, load_elem;  ///< element per table entry, -1 none
    std::vector<int> load_math;        ///< math load per caller's load (+ connections at the end), -1 none
    std::vector<int> load_of_elem;     ///< math load of an element, -1
    std::vector<int> offset;           ///< per element: its first entry in cur
    std::vector<char> series_only;     ///< per element: yprim = [Ys -Ys; -Ys Ys] (a line without capacitance)
    std::vector<int> cnode;            ///< per element conductor (flat, as cur): its node, -1 ground
    std::vector<int> cphase;           ///< per element conductor: its node's number (1..3, 4 neutral), 0 ground
    std::vector<std::array<int, 4>> bus_node;  ///< per bus: node of conductors 1..4, -1
    std::vector<double> rated;         ///< per branch, terminal 1 (A)
    std::vector<double> rated2;        ///< per branch, terminal 2 (A)
    /// per branch: terminal 2's currents add nothing to the loading (a series-only element, I2 = -I1,
    /// equal ratings, and every phase conductor of terminal 2 faces a phase conductor of terminal 1)
    std::vector<char> t1_only;
    std::vector<int> cnode_x;          ///< cnode with ground as node n_nodes (vx[n_nodes] = 0)
    std::vector<int> ys_off;           ///< per series-only element: its Ys (h x h, column-major) in ys
    std::vector<cplx> ys;              ///< the series-only elements' Ys blocks, packed
    mutable std::vector<cplx> vx;      ///< V of the last solve plus a 0 for ground (n_nodes + 1)
    mutable std::vector<cplx> cur;     ///< element currents of the last solve (into each conductor)
    mutable std::vector<cplx> pw;      ///< V conj(I) / 1000 per element conductor (kVA into it); not
                                       ///< kept for lines (elem_p has their sum)
    mutable std::vector<double> elem_p;  ///< per element: the power into it, kW (ground conductors skipped)
    mutable double bal_total = 0.0;    ///< the balance of the last solve (balance_kw)
    mutable double bal_by[4] = {0.0, 0.0, 0.0, 0.0};
    mutable bool cur_valid = false;
    /// added (issue 15b, H2): per transformer, the no-load part of its yprim packed in nl_y
    /// (column-major, n x n, n = its conductors), -1 where it has none or is disabled
    std::vector<int> nl_off;
    mutable std::vector<cplx> nl_y;
    mutable std::vector<double> nl_taps;  ///< per transformer, its windings' taps when nl_y was computed (flat)
    std::vector<int> nl_tap_off;          ///< per transformer, its first entry in nl_taps
    void noload_of(std::size_t t) const;

    Impl(UNetwork& net, std::vector<UConnection> c, const UPfOptions& opt)
        : user(net), own(with_connections(net, c)), conns(std::move(c)), n_loads(int(net.loads.size())),
          pf(own, opt), m(pf.model()) {
        for (std::size_t b = 0; b < user.buses.size(); ++b) user.buses[b].kv_base_ll = own.buses[b].kv_base_ll;
        index_elements();
        ratings();
        noload_admittances();
    }
    void index_elements();
    void ratings();
    void noload_admittances();
    const std::vector<cplx>& currents() const;
    void fill_currents() const;
    void element_currents(std::size_t el) const;
    int math_element_of_branch(int b) const {
        return b < int(line_elem.size()) ? line_elem[std::size_t(b)] : trafo_elem[std::size_t(b) - line_elem.size()];
    }
    cplx power_kva(int el, int j) const {  ///< into conductor j of element el (currents() first)
        return pw[std::size_t(offset[std::size_t(el)] + j)];
    }
    double element_p_kw(int el) const { return elem_p[std::size_t(el)]; }
    void sync_back();
};

void UTimeStepper::Impl::index_elements() {
    line_elem.assign(own.lines.size(), -1);
    trafo_elem.assign(own.transformers.size(), -1);
    source_elem.assign(own.vsources.size(), -1);
    load_elem.assign(own.loads.size(), -1);
    load_math.assign(own.loads.size(), -1);
    load_of_elem.assign(m.elements.size(), -1);
    offset.assign(m.elements.size(), 0);
    int total = 0;
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        const UMathElement& el = m.elements[e];
        offset[e] = total;
        total += int(el.node.size());
        const std::size_t i = std::size_t(el.index);
        switch (el.kind) {
            case UElementKind::line: line_elem[i] = int(e); break;
            case UElementKind::transformer: trafo_elem[i] = int(e); break;
            case UElementKind::vsource: source_elem[i] = int(e); break;
            case UElementKind::load: load_elem[i] = int(e); break;
            case UElementKind::capacitor: break;
        }
    }
    for (std::size_t l = 0; l < m.loads.size(); ++l) {
        load_math[std::size_t(m.loads[l].load)] = int(l);
        load_of_elem[std::size_t(m.loads[l].element)] = int(l);
    }
    cur.assign(std::size_t(total), cplx(0.0, 0.0));
    pw.assign(std::size_t(total), cplx(0.0, 0.0));
    cnode.reserve(std::size_t(total));
    cphase.reserve(std::size_t(total));
    for (const UMathElement& el : m.elements)
        for (int node : el.node) {
            cnode.push_back(node);
            cphase.push_back(node >= 0 ? m.node_phase[std::size_t(node)] : 0);
        }
    series_only.assign(m.elements.size(), 0);
    ys_off.assign(m.elements.size(), -1);
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        if (!is_series_only(m.elements[e])) continue;
        series_only[e] = 1;
        ys_off[e] = int(ys.size());
        const int h = m.elements[e].n_cond;
        for (int col = 0; col < h; ++col)
            for (int r = 0; r < h; ++r) ys.push_back(m.elements[e].yprim(r, col));
    }
    cnode_x.reserve(cnode.size());
    for (int node : cnode) cnode_x.push_back(node >= 0 ? node : m.n_nodes);
    vx.assign(std::size_t(m.n_nodes) + 1, cplx(0.0, 0.0));
    elem_p.assign(m.elements.size(), 0.0);
    bus_node.assign(own.buses.size(), std::array<int, 4>{-1, -1, -1, -1});
    for (int n = 0; n < m.n_nodes; ++n) {
        const int p = m.node_phase[std::size_t(n)];
        if (p >= 1 && p <= 4) bus_node[std::size_t(m.node_bus[std::size_t(n)])][std::size_t(p - 1)] = n;
    }
}

void UTimeStepper::Impl::ratings() {
    for (const ULine& l : own.lines) {
        rated.push_back(l.norm_amps);
        rated2.push_back(l.norm_amps);
    }
    auto winding_amps = [](const UTransformer& t, const UWinding& w) {  // Transformer.pas NormAmps at kVA
        const double kv_phase = t.nphases == 1 ? w.kv : w.kv / kSqrt3;
        return w.kva / t.nphases / kv_phase;
    };
    for (const UTransformer& t : own.transformers) {
        rated.push_back(t.windings.empty() ? kNaN : winding_amps(t, t.windings[0]));
        rated2.push_back(t.windings.size() < 2 ? kNaN : winding_amps(t, t.windings[1]));
    }
    t1_only.assign(rated.size(), 0);
    for (std::size_t b = 0; b < rated.size(); ++b) {
        const int el = math_element_of_branch(int(b));
        if (el < 0 || !series_only[std::size_t(el)] || !(rated[b] == rated2[b])) continue;
        const int h = m.elements[std::size_t(el)].n_cond, off = offset[std::size_t(el)];
        bool ok = true;
        for (int c = 0; c < h; ++c) {
            const int p1 = cphase[std::size_t(off + c)], p2 = cphase[std::size_t(off + h + c)];
            if (p2 >= 1 && p2 <= 3 && !(p1 >= 1 && p1 <= 3)) ok = false;
        }
        t1_only[b] = ok ? 1 : 0;
    }
}

/// The no-load (shunt) part of each transformer's yprim: its yprim less the yprim without
/// %noloadloss and %imag (transformer_yprim is linear in the no-load admittance: OpenDSS's Yprim_Shunt).
void UTimeStepper::Impl::noload_admittances() {
    nl_off.assign(own.transformers.size(), -1);
    nl_tap_off.assign(own.transformers.size(), 0);
    for (std::size_t t = 0; t < own.transformers.size(); ++t) {
        const UTransformer& x = own.transformers[t];
        nl_tap_off[t] = int(nl_taps.size());
        for (const UWinding& w : x.windings) nl_taps.push_back(w.tap);
        const int el = trafo_elem[t];
        if (el < 0 || (x.noload_loss_pct == 0.0 && x.imag_pct == 0.0)) continue;
        const std::size_t n = m.elements[std::size_t(el)].node.size();
        nl_off[t] = int(nl_y.size());
        nl_y.resize(nl_y.size() + n * n);
        noload_of(t);
    }
}

/// Transformer t's no-load yprim into its slot of nl_y at its present taps (a tap moved by a
/// regulator scales it: the only time this runs after the constructor, and the only allocation).
void UTimeStepper::Impl::noload_of(std::size_t t) const {
    const UTransformer& x = own.transformers[t];
    UTransformer bare = x;
    bare.noload_loss_pct = 0.0;
    bare.imag_pct = 0.0;
    const Eigen::MatrixXcd y = transformer_yprim(x) - transformer_yprim(bare);
    std::copy(y.data(), y.data() + y.size(), nl_y.begin() + nl_off[t]);
    for (std::size_t w = 0; w < x.windings.size(); ++w) nl_taps[std::size_t(nl_tap_off[t]) + w] = x.windings[w].tap;
}

/// The currents into element el's conductors from vx (the last solve's V, ground 0).
void UTimeStepper::Impl::element_currents(std::size_t el) const {
    const UMathElement& e = m.elements[el];
    const int n = int(e.node.size());
    cplx* c = cur.data() + offset[el];
    const int* nd = cnode_x.data() + offset[el];
    std::fill(c, c + n, cplx(0.0, 0.0));
    if (series_only[el]) {  // I1 = Ys (V1 - V2), I2 = -I1: a quarter of the work, Ys packed
        const int h = e.n_cond;
        const cplx* y = ys.data() + ys_off[el];
        for (int col = 0; col < h; ++col) {
            const cplx dv = vx[std::size_t(nd[col])] - vx[std::size_t(nd[col + h])];
            const cplx* yc = y + std::size_t(col) * std::size_t(h);
            for (int r = 0; r < h; ++r) mul_add(c[r], yc[r], dv.real(), dv.imag());
        }
        for (int r = 0; r < h; ++r) c[r + h] = -c[r];
        return;
    }
    const int li = load_of_elem[el];
    if (li >= 0) {  // a load's own law (not its nominal admittance)
        const UMathLoad& ld = m.loads[std::size_t(li)];
        for (int k = 0; k < ld.nphases; ++k) {
            const int b = ld.delta ? (k + 1) % n : n - 1;
            const cplx ik = load_phase_current(ld, vx[std::size_t(nd[k])] - vx[std::size_t(nd[b])]);
            c[k] += ik;
            c[b] -= ik;
        }
        return;
    }
    const cplx* y = e.yprim.data();  // column-major n x n
    for (int col = 0; col < n; ++col) {
        const cplx vc = vx[std::size_t(nd[col])];
        if (vc == cplx(0.0, 0.0)) continue;
        const cplx* yc = y + std::size_t(col) * std::size_t(n);
        for (int r = 0; r < n; ++r) mul_add(c[r], yc[r], vc.real(), vc.imag());
    }
    if (e.i_norton.size() == n)
        for (int r = 0; r < n; ++r) c[r] -= e.i_norton(r);
}

/// Every element's currents, the power into each conductor, and the balance, in one pass.
void UTimeStepper::Impl::fill_currents() const {
    const std::vector<cplx>& v = pf.v();
    std::copy(v.begin(), v.end(), vx.begin());
    double by[4] = {0.0, 0.0, 0.0, 0.0};  // local: the compiler keeps them apart from pw's stores
    double sources = 0.0, conns = 0.0, loads = 0.0, shunts = 0.0, losses = 0.0;
    for (std::size_t el = 0; el < m.elements.size(); ++el) {
        element_currents(el);
        const UMathElement& e = m.elements[el];
        const std::size_t off = std::size_t(offset[el]), end = off + e.node.size();
        double p = 0.0;
        const bool keep = e.kind != UElementKind::line;  // a line's pw is read by no row: not stored
        for (std::size_t k = off; k < end; ++k) {  // V conj(I) / 1000 in real arithmetic
            const cplx vk = vx[std::size_t(cnode_x[k])];
            const double ir = cur[k].real(), ii = -cur[k].imag();
            const double pk = (vk.real() * ir - vk.imag() * ii) / 1000.0;
            if (keep) pw[k] = cplx(pk, (vk.real() * ii + vk.imag() * ir) / 1000.0);
            const int ph = cphase[k];
            if (ph == 0) continue;  // ground: no power
            p += pk;
            by[std::min(ph, 4) - 1] += pk;
        }
        elem_p[el] = p;
        switch (e.kind) {
            case UElementKind::line:
            case UElementKind::transformer: losses += p; break;
            case UElementKind::vsource: sources -= p; break;
            case UElementKind::capacitor: shunts += p; break;
            case UElementKind::load:
                if (e.index >= n_loads)
                    conns -= p;  // a connection: power out of it into the grid
                else
                    loads += p;
                break;
        }
    }
    std::copy(by, by + 4, bal_by);
    bal_total = sources + conns - loads - losses - shunts;
    cur_valid = true;
}

const std::vector<cplx>& UTimeStepper::Impl::currents() const {
    if (!cur_valid) fill_currents();
    return cur;
}

void UTimeStepper::Impl::sync_back() {
    if (own.regcontrols.empty() && own.capcontrols.empty()) return;
    for (std::size_t t = 0; t < own.transformers.size(); ++t)
        for (std::size_t w = 0; w < own.transformers[t].windings.size(); ++w)
            user.transformers[t].windings[w].tap = own.transformers[t].windings[w].tap;
    for (std::size_t c = 0; c < own.capacitors.size(); ++c) {
        const std::vector<int>& from = own.capacitors[c].states;
        std::vector<int>& to = user.capacitors[c].states;
        if (from.size() == to.size()) std::copy(from.begin(), from.end(), to.begin());
    }
}

// ---- the object -----------------------------------------------------------------------------

UTimeStepper::UTimeStepper(UNetwork& net, std::vector<UConnection> connections, const UPfOptions& opt)
    : impl_(std::make_unique<Impl>(net, std::move(connections), opt)) {}

UTimeStepper::~UTimeStepper() = default;

int UTimeStepper::n_nodes() const { return impl_->m.n_nodes; }
int UTimeStepper::node_bus(int node) const { return impl_->m.node_bus.at(std::size_t(node)); }
int UTimeStepper::node_conductor(int node) const { return impl_->m.node_phase.at(std::size_t(node)); }
double UTimeStepper::node_vbase_volts(int node) const { return impl_->m.node_vbase_v.at(std::size_t(node)); }
int UTimeStepper::n_connections() const { return int(impl_->conns.size()); }
const UConnection& UTimeStepper::connection(int c) const { return impl_->conns.at(std::size_t(c)); }
int UTimeStepper::n_branches() const { return int(impl_->line_elem.size() + impl_->trafo_elem.size()); }
bool UTimeStepper::branch_is_transformer(int b) const { return b >= int(impl_->line_elem.size()); }
int UTimeStepper::branch_element(int b) const {
    return branch_is_transformer(b) ? b - int(impl_->line_elem.size()) : b;
}
double UTimeStepper::branch_rated_amps(int b) const { return impl_->rated.at(std::size_t(b)); }
int UTimeStepper::n_sources() const { return int(impl_->source_elem.size()); }
void UTimeStepper::rebase_loads() {
    impl_->pf.rebase_loads(impl_->n_loads);
    impl_->cur_valid = false;
}

bool UTimeStepper::reduced() const { return impl_->pf.reduced(); }

void UTimeStepper::set_load(int load, double kw, double kvar) {
    Impl& s = *impl_;
    if (load < 0 || load >= s.n_loads)
        throw ValidationError("UTimeStepper::set_load: load index " + std::to_string(load) + " out of range");
    const int ml = s.load_math[std::size_t(load)];
    if (ml >= 0) {
        s.pf.set_load_kw(ml, kw, kvar);
    } else {  // disabled: not in the model
        s.own.loads[std::size_t(load)].kw = kw;
        s.own.loads[std::size_t(load)].kvar = kvar;
    }
}

void UTimeStepper::set_connection_power(int c, double p_kw, double q_kvar) {
    Impl& s = *impl_;
    if (c < 0 || c >= int(s.conns.size()))
        throw ValidationError("UTimeStepper::set_connection_power: connection " + std::to_string(c) + " out of range");
    s.pf.set_load_kw(s.load_math[std::size_t(s.n_loads + c)], -p_kw, -q_kvar);  // a load of the opposite sign
}

USolveStats UTimeStepper::solve() {
    Impl& s = *impl_;
    s.cur_valid = false;
    const USolveStats st = s.pf.solve();
    s.sync_back();
    return st;
}

const UPfResult& UTimeStepper::status() const { return impl_->pf.status(); }

std::complex<double> UTimeStepper::connection_voltage_pu(int c) const {
    const Impl& s = *impl_;
    const UConnection& cn = s.conns.at(std::size_t(c));
    const std::array<int, 4>& bn = s.bus_node[std::size_t(cn.bus)];
    const std::vector<cplx>& v = s.pf.v();
    const cplx vn = node_v(v, bn[3]);
    cplx ph[3];
    double base = 0.0;
    for (std::size_t k = 0; k < cn.phases.size(); ++k) {
        const int node = bn[std::size_t(cn.phases[k] - 1)];
        ph[k] = node_v(v, node) - vn;
        base = s.m.node_vbase_v[std::size_t(node)];
    }
    if (cn.phases.size() == 1) return ph[0] / base;
    if (cn.phases.size() == 2) return 0.5 * (ph[0] + ph[1]) / base;
    const cplx a = std::polar(1.0, 2.0 * std::numbers::pi / 3.0);
    return (ph[0] + a * ph[1] + a * a * ph[2]) / 3.0 / base;
}

void UTimeStepper::node_rows(double* v_volts, double* vm_pu, double* va_deg) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& v = s.pf.v();
    for (int n = 0; n < s.m.n_nodes; ++n) {
        const double vm = mag(v[std::size_t(n)]);
        v_volts[n] = vm;
        vm_pu[n] = vm / s.m.node_vbase_v[std::size_t(n)];
        va_deg[n] = std::arg(v[std::size_t(n)]) * kRadToDeg;
    }
}

void UTimeStepper::node_rows(double* v_volts, double* vm_pu) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& v = s.pf.v();
    for (int n = 0; n < s.m.n_nodes; ++n) {
        const double vm = mag(v[std::size_t(n)]);
        v_volts[n] = vm;
        vm_pu[n] = vm / s.m.node_vbase_v[std::size_t(n)];
    }
}

void UTimeStepper::node_angles(double* va_deg) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& v = s.pf.v();
    for (int n = 0; n < s.m.n_nodes; ++n) va_deg[n] = std::arg(v[std::size_t(n)]) * kRadToDeg;
}

const std::vector<std::complex<double>>& UTimeStepper::voltages() const { return impl_->pf.v(); }

void UTimeStepper::set_voltages(const std::vector<std::complex<double>>& v) {
    impl_->pf.set_v(v);
    impl_->cur_valid = false;
}

void UTimeStepper::transformer_noload_rows(double* p_kw, double* q_kvar) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& v = s.pf.v();
    for (std::size_t t = 0; t < s.nl_off.size(); ++t) {
        const int el = s.trafo_elem[t];
        p_kw[t] = q_kvar[t] = el < 0 ? kNaN : 0.0;
        if (s.nl_off[t] < 0) continue;
        bool moved = false;
        for (std::size_t w = 0; w < s.own.transformers[t].windings.size(); ++w)
            moved = moved || s.own.transformers[t].windings[w].tap != s.nl_taps[std::size_t(s.nl_tap_off[t]) + w];
        if (moved) s.noload_of(t);
        const std::vector<int>& nd = s.m.elements[std::size_t(el)].node;
        const std::size_t n = nd.size();
        const cplx* y = s.nl_y.data() + s.nl_off[t];
        cplx sum(0.0, 0.0);
        for (std::size_t r = 0; r < n; ++r) {
            cplx i(0.0, 0.0);
            for (std::size_t c = 0; c < n; ++c) i += mul(y[c * n + r], node_v(v, nd[c]));
            sum += mul(node_v(v, nd[r]), std::conj(i));
        }
        p_kw[t] = sum.real() / 1000.0;
        q_kvar[t] = sum.imag() / 1000.0;
    }
}

void UTimeStepper::source_rows(double* p_kw, double* q_kvar) const {
    const Impl& s = *impl_;
    s.currents();
    for (std::size_t i = 0; i < s.source_elem.size(); ++i) {
        const int el = s.source_elem[i];
        for (int k = 0; k < 3; ++k) {
            p_kw[3 * i + std::size_t(k)] = el < 0 ? kNaN : 0.0;
            q_kvar[3 * i + std::size_t(k)] = el < 0 ? kNaN : 0.0;
        }
        if (el < 0) continue;
        const UMathElement& e = s.m.elements[std::size_t(el)];
        for (int c = 0; c < e.n_cond && c < 3; ++c) {  // terminal 1, by conductor (as UPfResult::source_kva_phase)
            const cplx sk = -s.power_kva(el, c);
            p_kw[3 * i + std::size_t(c)] = sk.real();
            q_kvar[3 * i + std::size_t(c)] = sk.imag();
        }
    }
}

void UTimeStepper::load_rows(double* p_kw, double* q_kvar) const {
    const Impl& s = *impl_;
    s.currents();
    for (int l = 0; l < s.n_loads; ++l) {
        const int el = s.load_elem[std::size_t(l)];
        cplx sum(0.0, 0.0);
        if (el >= 0)
            for (int j = 0; j < int(s.m.elements[std::size_t(el)].node.size()); ++j) sum += s.power_kva(el, j);
        p_kw[l] = sum.real();
        q_kvar[l] = sum.imag();
    }
}

void UTimeStepper::branch_rows(double* i_amps, double* loading_percent, double* p_loss_kw) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& cur = s.currents();
    const int nb = n_branches();
    for (int b = 0; b < nb; ++b) {
        double* ib = i_amps + 4 * b;
        std::fill(ib, ib + 4, kNaN);
        const int el = s.math_element_of_branch(b);
        loading_percent[b] = kNaN;
        p_loss_kw[b] = kNaN;
        if (el < 0) continue;
        const UMathElement& e = s.m.elements[std::size_t(el)];
        const int off = s.offset[std::size_t(el)];
        double worst = 0.0;
        const int nt = s.t1_only[std::size_t(b)] ? 1 : e.n_terminals;  // |I2| = |I1|: one sqrt
        for (int t = 0; t < nt; ++t) {
            const double r = t == 0 ? s.rated[std::size_t(b)] : s.rated2[std::size_t(b)];
            for (int c = 0; c < e.n_cond; ++c) {
                const std::size_t k = std::size_t(off + t * e.n_cond + c);
                const int p = s.cphase[k];
                if (p == 0) continue;
                const double a = mag(cur[k]);
                if (t == 0 && p >= 1 && p <= 4) ib[p - 1] = a;
                if (p >= 1 && p <= 3 && t < 2 && r > 0.0) worst = std::max(worst, a / r);
            }
        }
        loading_percent[b] = 100.0 * worst;
        p_loss_kw[b] = s.elem_p[std::size_t(el)];
    }
}

void UTimeStepper::transformer_rows(double* p_kw, double* q_kvar) const {
    const Impl& s = *impl_;
    s.currents();
    for (std::size_t t = 0; t < s.trafo_elem.size(); ++t) {
        const int el = s.trafo_elem[t];
        for (int k = 0; k < 6; ++k) {
            p_kw[6 * t + std::size_t(k)] = el < 0 ? kNaN : 0.0;
            q_kvar[6 * t + std::size_t(k)] = el < 0 ? kNaN : 0.0;
        }
        if (el < 0) continue;
        const UMathElement& e = s.m.elements[std::size_t(el)];
        for (int w = 0; w < e.n_terminals && w < 2; ++w) {
            for (int c = 0; c < e.n_cond; ++c) {
                const int j = w * e.n_cond + c;
                const int node = e.node[std::size_t(j)];
                if (node < 0) continue;
                const int p = s.m.node_phase[std::size_t(node)];
                if (p < 1 || p > 3) continue;
                const cplx sk = s.power_kva(el, j);
                p_kw[6 * t + std::size_t(3 * w + p - 1)] += sk.real();
                q_kvar[6 * t + std::size_t(3 * w + p - 1)] += sk.imag();
            }
        }
    }
}

void UTimeStepper::vuf_rows(double* vuf_percent) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& v = s.pf.v();
    const cplx a = std::polar(1.0, 2.0 * std::numbers::pi / 3.0);
    const cplx a2 = mul(a, a);
    for (std::size_t b = 0; b < s.bus_node.size(); ++b) {
        const std::array<int, 4>& bn = s.bus_node[b];
        if (bn[0] < 0 || bn[1] < 0 || bn[2] < 0) {
            vuf_percent[b] = kNaN;
            continue;
        }
        const cplx vn = node_v(v, bn[3]);
        const cplx va = v[std::size_t(bn[0])] - vn, vb = v[std::size_t(bn[1])] - vn, vc = v[std::size_t(bn[2])] - vn;
        const double v1 = mag(va + mul(a, vb) + mul(a2, vc)), v2 = mag(va + mul(a2, vb) + mul(a, vc));
        vuf_percent[b] = v1 > 0.0 ? 100.0 * v2 / v1 : 0.0;
    }
}

void UTimeStepper::neutral_rows(double* v_neutral_volts) const {
    const Impl& s = *impl_;
    for (std::size_t b = 0; b < s.bus_node.size(); ++b) {
        const int n = s.bus_node[b][3];
        v_neutral_volts[b] = n >= 0 ? mag(s.pf.v()[std::size_t(n)]) : kNaN;
    }
}

double UTimeStepper::losses_kw() const {
    const Impl& s = *impl_;
    s.currents();
    double loss = 0.0;
    for (int el : s.line_elem)
        if (el >= 0) loss += s.element_p_kw(el);
    for (int el : s.trafo_elem)
        if (el >= 0) loss += s.element_p_kw(el);
    return loss;
}

int UTimeStepper::branch_worst_phase(int b) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& cur = s.currents();
    const int el = s.math_element_of_branch(b);
    if (el < 0) return 0;
    const UMathElement& e = s.m.elements[std::size_t(el)];
    const int off = s.offset[std::size_t(el)];
    double worst = 0.0;
    int phase = 0;
    for (int t = 0; t < e.n_terminals && t < 2; ++t) {  // as branch_rows
        const double r = t == 0 ? s.rated[std::size_t(b)] : s.rated2[std::size_t(b)];
        for (int c = 0; c < e.n_cond; ++c) {
            const int p = s.cphase[std::size_t(off + t * e.n_cond + c)];
            if (p < 1 || p > 3 || !(r > 0.0)) continue;
            const double a = mag(cur[std::size_t(off + t * e.n_cond + c)]) / r;
            if (a > worst) {
                worst = a;
                phase = p;
            }
        }
    }
    return phase;
}

double UTimeStepper::balance_kw(double* residual_by_conductor_kw) const {
    const Impl& s = *impl_;
    s.currents();  // the balance is summed with the currents, in the same pass
    std::copy(s.bal_by, s.bal_by + 4, residual_by_conductor_kw);
    return s.bal_total;
}

void UTimeStepper::conductor_rows(double* loading_percent, double* neutral_loss_kw, double* trafo_phase_percent, double* neutral_amps) const {
    const Impl& s = *impl_;
    const std::vector<cplx>& cur = s.currents();  // fills vx with the last solve's V as well
    const int nb = n_branches();
    const int nl = int(s.line_elem.size());
    for (int t = 0; t < nb - nl; ++t) std::fill(trafo_phase_percent + 3 * t, trafo_phase_percent + 3 * t + 3, kNaN);
    for (int b = 0; b < nb; ++b) {
        double* lb = loading_percent + 4 * b;
        std::fill(lb, lb + 4, kNaN);
        neutral_loss_kw[b] = kNaN;
        neutral_amps[b] = kNaN;
        const int el = s.math_element_of_branch(b);
        if (el < 0) continue;
        const UMathElement& e = s.m.elements[std::size_t(el)];
        const int off = s.offset[std::size_t(el)];
        const bool line = b < nl;
        // a line from a bus to the same bus (an earth electrode, a neutral-to-ground link) is no cable
        const bool cable = line && s.own.lines[std::size_t(b)].bus1.bus != s.own.lines[std::size_t(b)].bus2.bus;
        for (int t = 0; t < e.n_terminals; ++t) {
            const double r = t == 0 ? s.rated[std::size_t(b)] : s.rated2[std::size_t(b)];
            for (int c = 0; c < e.n_cond; ++c) {
                const std::size_t k = std::size_t(off + t * e.n_cond + c);
                const int p = s.cphase[k];
                if (p < 1 || p > 4) continue;  // ground (or a node beyond the neutral)
                if (p == 4) {
                    const cplx v = s.vx[std::size_t(s.cnode_x[k])];
                    const double pk = (v.real() * cur[k].real() + v.imag() * cur[k].imag()) / 1000.0;  // Re(V conj(I))
                    neutral_loss_kw[b] = std::isnan(neutral_loss_kw[b]) ? pk : neutral_loss_kw[b] + pk;
                }
                const double a = mag(cur[k]);
                if (p == 4 && (cable || !line) && (std::isnan(neutral_amps[b]) || a > neutral_amps[b])) neutral_amps[b] = a;
                if (!line && t == 1 && p <= 3 && r > 0.0) trafo_phase_percent[3 * (b - nl) + p - 1] = 100.0 * a / r;
                if ((line && !cable) || t >= 2 || !(r > 0.0)) continue;
                const double pct = 100.0 * a / r;
                if (std::isnan(lb[p - 1]) || pct > lb[p - 1]) lb[p - 1] = pct;
            }
        }
    }
}

}  // namespace libgrid
