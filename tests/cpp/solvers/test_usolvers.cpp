// The unbalanced solvers (fixed point, Newton-Raphson, sweep) on small nodal models built by hand,
// against answers worked in closed form: a source behind an impedance feeding a constant-PQ load
// (the quadratic |V|^2 = E conj(V) - Z conj(S)), its three-phase balanced form with mutual coupling
// (wye and delta), a constant-|I| load, a load pushed into its constant-Z branch, linear cases by a
// dense solve; the loads' derivatives against finite differences.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/solvers/usolvers.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

constexpr double kPi = 3.14159265358979323846;
const cplx kJ{0.0, 1.0};
cplx polar_deg(double mag, double deg) { return std::polar(mag, deg * kPi / 180.0); }
const UMethod kMethods[] = {UMethod::fixed_point, UMethod::newton, UMethod::sweep};

/// [[Y, -Y], [-Y, Y]]: a series element between two terminals of n conductors
Eigen::MatrixXcd series_yprim(const Eigen::MatrixXcd& y) {
    const Eigen::Index n = y.rows();
    Eigen::MatrixXcd p(2 * n, 2 * n);
    p << y, -y, -y, y;
    return p;
}

/// A hand-built model: elements are added with their nodes and yprim; finish() sums Y.
struct Builder {
    UMathModel m;
    explicit Builder(int n_nodes, double vbase_v, int n_buses) {
        m.n_nodes = n_nodes;
        m.node_vbase_v.assign(std::size_t(n_nodes), vbase_v);
        m.node_phase.assign(std::size_t(n_nodes), 1);
        m.node_bus.assign(std::size_t(n_nodes), 0);
        m.i_source.assign(std::size_t(n_nodes), cplx(0.0));
        m.v_start.assign(std::size_t(n_nodes), cplx(0.0));
        m.radial = true;
        (void)n_buses;
    }
    int add(UElementKind kind, int n_terminals, int n_cond, std::vector<int> nodes, Eigen::MatrixXcd yprim) {
        UMathElement e;
        e.kind = kind;
        e.n_terminals = n_terminals;
        e.n_cond = n_cond;
        e.node = std::move(nodes);
        e.yprim = std::move(yprim);
        e.index = int(m.elements.size());
        m.elements.push_back(std::move(e));
        return int(m.elements.size()) - 1;
    }
    /// Source: EMF e (per node) behind the impedance matrix zs, at `nodes` of bus 0.
    void source(const std::vector<int>& nodes, const Eigen::MatrixXcd& zs, const std::vector<cplx>& e) {
        const Eigen::MatrixXcd ys = zs.inverse();
        std::vector<int> all = nodes;
        for (std::size_t k = 0; k < nodes.size(); ++k) all.push_back(-1);
        add(UElementKind::vsource, 2, int(nodes.size()), all, series_yprim(ys));
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            for (std::size_t j = 0; j < nodes.size(); ++j) m.i_source[std::size_t(nodes[i])] += ys(Eigen::Index(i), Eigen::Index(j)) * e[j];
            m.v_start[std::size_t(nodes[i])] = e[i];
        }
        m.source_buses = {0};
    }
    void branch(int element, int from_bus, int to_bus) { m.branches.push_back({element, from_bus, to_bus, false}); }
    /// A load: phase element k between a[k] and b[k] (b = -1 ground); yprim = y_nom on each.
    UMathLoad& load(const std::vector<int>& a, const std::vector<int>& b, cplx s_per_phase_va, double vbase_v, int model) {
        std::vector<int> nodes;
        for (int n : a) nodes.push_back(n);
        for (int n : b)
            if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
        const cplx y = std::conj(s_per_phase_va) / (vbase_v * vbase_v);
        const Eigen::Index nn = Eigen::Index(nodes.size());
        Eigen::MatrixXcd yp = Eigen::MatrixXcd::Zero(nn, nn);
        auto idx = [&nodes](int n) { return Eigen::Index(std::find(nodes.begin(), nodes.end(), n) - nodes.begin()); };
        for (std::size_t k = 0; k < a.size(); ++k) {
            const Eigen::Index i = idx(a[k]), j = idx(b[k]);
            yp(i, i) += y;
            yp(j, j) += y;
            yp(i, j) -= y;
            yp(j, i) -= y;
        }
        const int e = add(UElementKind::load, 1, int(nn), nodes, yp);
        UMathLoad ld;
        ld.element = e;
        ld.load = int(m.loads.size());
        ld.nphases = int(a.size());
        for (std::size_t k = 0; k < a.size(); ++k) {
            ld.a[k] = a[k];
            ld.b[k] = b[k];
        }
        ld.p_w = s_per_phase_va.real();
        ld.q_var = s_per_phase_va.imag();
        ld.vbase_v = vbase_v;
        ld.model = model;
        ld.y_nom = y;
        m.loads.push_back(ld);
        return m.loads.back();
    }
    const UMathModel& finish() {
        std::vector<Eigen::Triplet<cplx>> t;
        for (const UMathElement& e : m.elements)
            for (std::size_t i = 0; i < e.node.size(); ++i)
                for (std::size_t j = 0; j < e.node.size(); ++j)
                    if (e.node[i] >= 0 && e.node[j] >= 0) t.emplace_back(e.node[i], e.node[j], e.yprim(Eigen::Index(i), Eigen::Index(j)));
        m.Y.resize(m.n_nodes, m.n_nodes);
        m.Y.setFromTriplets(t.begin(), t.end());
        m.Y.makeCompressed();
        return m;
    }
};

/// The closed form: a load drawing constant S behind E and Z, |V|^2 = E conj(V) - Z conj(S).
cplx pq_closed_form(cplx e, cplx z, cplx s) {
    const double em = std::abs(e);
    const cplx w = z * std::conj(s);
    const double y = -w.imag() / em;
    const double x = 0.5 * (em + std::sqrt(em * em - 4.0 * (y * y + w.real())));
    return cplx(x, y) * (e / em);
}

/// Solve with `method` from the model's start; the voltages
std::vector<cplx> solve_with(const UMathModel& m, UMethod method, double tol = 1e-12, USolveStats* stats = nullptr) {
    auto s = make_usolver(m, method);
    CHECK(s->method() == method);
    std::vector<cplx> v = m.v_start;
    USolveOptions o;
    o.tolerance = tol;
    const USolveStats st = s->solve(v, o);
    INFO("method " << std::string(to_string(method)) << ": " << st.iterations << " iterations, max dv " << st.max_dv_pu);
    CHECK(st.converged);
    if (stats) *stats = st;
    return v;
}

double max_diff_pu(const std::vector<cplx>& a, const std::vector<cplx>& b, double vbase) {
    double d = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]) / vbase);
    return d;
}

/// Single phase: source (E, Zs) at node 0, a line Zl to node 1, a load at node 1.
Builder single_phase(cplx e, cplx zs, cplx zl, cplx s, int model) {
    Builder b(2, 7200.0, 2);
    b.source({0}, Eigen::MatrixXcd::Constant(1, 1, zs), {e});
    b.m.v_start[1] = e;
    const int line = b.add(UElementKind::line, 2, 1, {0, 1}, series_yprim(Eigen::MatrixXcd::Constant(1, 1, 1.0 / zl)));
    b.branch(line, 0, 1);
    b.m.node_bus[1] = 1;
    UMathLoad& ld = b.load({1}, {-1}, s, 7200.0, model);
    ld.vminpu = 0.85;
    b.finish();
    return b;
}

}  // namespace

TEST_CASE("usolvers: method names") {
    for (UMethod m : {UMethod::automatic, UMethod::fixed_point, UMethod::newton, UMethod::sweep}) CHECK(parse_umethod(to_string(m)) == m);
    CHECK(parse_umethod("NR") == UMethod::newton);
    CHECK_THROWS_AS(parse_umethod("gauss"), ValidationError);
}

TEST_CASE("usolvers: single-phase constant PQ load, the quadratic formula") {
    const cplx e = polar_deg(7200.0, 10.0), zs = {0.5, 2.0}, zl = {1.2, 2.5}, s = {300e3, 120e3};
    const Builder b = single_phase(e, zs, zl, s, 1);
    const cplx v1 = pq_closed_form(e, zs + zl, s);
    const cplx v0 = e - zs * std::conj(s / v1);
    REQUIRE(std::abs(v1) / 7200.0 > 0.9);  // in the constant-PQ range
    for (UMethod meth : kMethods) {
        INFO(std::string(to_string(meth)));
        const std::vector<cplx> v = solve_with(b.m, meth);
        CHECK(std::abs(v[1] - v1) / 7200.0 < 1e-9);
        CHECK(std::abs(v[0] - v0) / 7200.0 < 1e-9);
    }
}

TEST_CASE("usolvers: the answer does not depend on the admittance a load puts into Y") {
    // I_comp = yprim_load V - I(V) takes the load's yprim out again, whatever it is (OpenDSS's
    // loads bump a floating neutral's diagonal, for one)
    const cplx e = polar_deg(7200.0, 10.0), zs = {0.5, 2.0}, zl = {1.2, 2.5}, s = {300e3, 120e3};
    Builder b = single_phase(e, zs, zl, s, 1);
    b.m.elements[2].yprim *= 1.7;
    b.m.elements[2].yprim(1, 1) *= 1.000001;
    b.finish();
    const cplx v1 = pq_closed_form(e, zs + zl, s);
    for (UMethod meth : kMethods) {
        INFO(std::string(to_string(meth)));
        CHECK(std::abs(solve_with(b.m, meth)[1] - v1) / 7200.0 < 1e-9);
    }
}

TEST_CASE("usolvers: constant |I| load and a PQ load below vminpu (constant Z)") {
    const cplx e = polar_deg(7200.0, -5.0), zs = {0.3, 1.5}, zl = {2.0, 4.0}, s = {400e3, 200e3};
    SUBCASE("constant |I|: |I| = |S|/vbase at the angle of V minus the power factor angle") {
        const Builder b = single_phase(e, zs, zl, s, 5);
        const double imag = std::abs(s) / 7200.0;
        // V e^{-j th} + Z |I| e^{-j phi} = |E| e^{j(arg E - th)}: |r + c| = |E|, c = Z |I| e^{-j phi}
        const cplx c = (zs + zl) * imag * std::polar(1.0, -std::arg(s));
        const double r = -c.real() + std::sqrt(std::norm(e) - c.imag() * c.imag());
        const double th = std::arg(e) - std::arg(r + c);
        const cplx v1 = std::polar(r, th);
        REQUIRE(r / 7200.0 > 0.85);
        for (UMethod meth : kMethods) {
            INFO(std::string(to_string(meth)));
            CHECK(std::abs(solve_with(b.m, meth)[1] - v1) / 7200.0 < 1e-9);
        }
    }
    SUBCASE("PQ with vminpu 0.99: between vlowpu and vminpu, |I| linear in |V| (OpenDSS)") {
        Builder b = single_phase(e, zs, zl, s, 1);
        b.m.loads[0].vminpu = 0.99;
        // I = (ILow + M (|V| - Vlow)) / |V| V = (M + A/|V|) V, ILow = Yeq Vlow, M = (Yeq95 V95 - ILow) / (V95 - Vlow)
        const cplx yeq = b.m.loads[0].y_nom, z = zs + zl;
        const double vlow = 0.5 * 7200.0, v95 = 0.99 * 7200.0;
        const cplx ilow = yeq * vlow, mm = (yeq / (0.99 * 0.99) * v95 - ilow) / (v95 - vlow), a = ilow - mm * vlow;
        // V (1 + Z M) + Z A V/|V| = E: |p r + q| = |E| with r = |V|
        const cplx p = 1.0 + z * mm, q = z * a;
        const double qa = std::norm(p), qb = 2.0 * (p * std::conj(q)).real(), qc = std::norm(q) - std::norm(e);
        const double r = (-qb + std::sqrt(qb * qb - 4.0 * qa * qc)) / (2.0 * qa);
        const cplx v1 = std::polar(r, std::arg(e) - std::arg(p * r + q));
        REQUIRE(r / 7200.0 < 0.99);
        REQUIRE(r / 7200.0 > 0.5);
        for (UMethod meth : kMethods) {
            INFO(std::string(to_string(meth)));
            CHECK(std::abs(solve_with(b.m, meth)[1] - v1) / 7200.0 < 1e-9);
        }
    }
}

namespace {
/// Three phases: source with self/mutual impedance at nodes 0-2 (bus 0), a coupled line to nodes
/// 3-5 (bus 1), a balanced load there (wye to ground or delta).
Builder three_phase(bool delta, cplx s_per_phase, double vll) {
    const double vln = vll / std::sqrt(3.0);
    Builder b(6, vln, 2);
    Eigen::MatrixXcd zs(3, 3), zl(3, 3);
    zs << cplx(0.4, 2.0), cplx(0.1, 0.6), cplx(0.1, 0.6), cplx(0.1, 0.6), cplx(0.4, 2.0), cplx(0.1, 0.6), cplx(0.1, 0.6),
        cplx(0.1, 0.6), cplx(0.4, 2.0);
    zl << cplx(1.3, 3.0), cplx(0.3, 1.1), cplx(0.3, 1.1), cplx(0.3, 1.1), cplx(1.3, 3.0), cplx(0.3, 1.1), cplx(0.3, 1.1),
        cplx(0.3, 1.1), cplx(1.3, 3.0);
    std::vector<cplx> e;
    for (int k = 0; k < 3; ++k) e.push_back(polar_deg(vln * 1.02, 5.0 - 120.0 * k));
    b.source({0, 1, 2}, zs, e);
    for (int k = 0; k < 3; ++k) {
        b.m.v_start[std::size_t(3 + k)] = e[std::size_t(k)];
        b.m.node_phase[std::size_t(k)] = b.m.node_phase[std::size_t(3 + k)] = k + 1;
        b.m.node_bus[std::size_t(3 + k)] = 1;
    }
    const int line = b.add(UElementKind::line, 2, 3, {0, 1, 2, 3, 4, 5}, series_yprim(zl.inverse()));
    b.branch(line, 0, 1);
    if (delta)
        b.load({3, 4, 5}, {4, 5, 3}, s_per_phase, vll, 1);
    else
        b.load({3, 4, 5}, {-1, -1, -1}, s_per_phase, vln, 1);
    b.finish();
    return b;
}
}  // namespace

TEST_CASE("usolvers: balanced three-phase with mutual coupling, wye and delta PQ loads") {
    const double vll = 12470.0, vln = vll / std::sqrt(3.0);
    const cplx s = {700e3, 300e3};  // per phase element
    // positive sequence: Z1 = self - mutual, of the source and of the line
    const cplx z1 = cplx(0.4 - 0.1, 2.0 - 0.6) + cplx(1.3 - 0.3, 3.0 - 1.1);
    const cplx ea = polar_deg(vln * 1.02, 5.0);
    const cplx va = pq_closed_form(ea, z1, s);  // a delta element's S is a wye phase's in balance
    for (bool delta : {false, true}) {
        const Builder b = three_phase(delta, s, vll);
        for (UMethod meth : kMethods) {
            INFO(std::string(to_string(meth)) << (delta ? " delta" : " wye"));
            const std::vector<cplx> v = solve_with(b.m, meth);
            for (int k = 0; k < 3; ++k) CHECK(std::abs(v[std::size_t(3 + k)] - va * polar_deg(1.0, -120.0 * k)) / vln < 1e-9);
        }
    }
}

TEST_CASE("usolvers: three single-phase elements side by side between two buses (as regulators)") {
    const double vll = 12470.0, vln = vll / std::sqrt(3.0);
    const cplx s = {700e3, 300e3};
    Builder b = three_phase(false, s, vll);
    // replace the coupled line by three uncoupled single-phase ones, one per phase
    b.m.branches.clear();
    const cplx zl = {1.3, 3.0};
    b.m.elements[1] = b.m.elements[0];  // placeholder, overwritten below
    b.m.elements[1].kind = UElementKind::line;
    b.m.elements[1].n_cond = 1;
    b.m.elements[1].node = {0, 3};
    b.m.elements[1].yprim = series_yprim(Eigen::MatrixXcd::Constant(1, 1, 1.0 / zl));
    b.branch(1, 0, 1);
    for (int k = 1; k < 3; ++k) b.branch(b.add(UElementKind::line, 2, 1, {k, 3 + k}, b.m.elements[1].yprim), 0, 1);
    b.finish();
    const cplx va = pq_closed_form(polar_deg(vln * 1.02, 5.0), cplx(0.4 - 0.1, 2.0 - 0.6) + zl, s);
    for (UMethod meth : kMethods) {
        INFO(std::string(to_string(meth)));
        const std::vector<cplx> v = solve_with(b.m, meth);
        for (int k = 0; k < 3; ++k) CHECK(std::abs(v[std::size_t(3 + k)] - va * polar_deg(1.0, -120.0 * k)) / vln < 1e-9);
    }
}

TEST_CASE("usolvers: line charging and constant-Z loads, against a dense linear solve") {
    const double vln = 7200.0;
    Builder b = three_phase(false, {500e3, 100e3}, vln * std::sqrt(3.0));
    b.m.loads[0].model = 2;
    // unbalance: a second, single-phase constant-Z load on phase b, and charging on the line
    b.load({4}, {-1}, {150e3, 80e3}, vln, 2);
    Eigen::MatrixXcd& yl = b.m.elements[1].yprim;
    Eigen::MatrixXcd ysh(3, 3);
    ysh << cplx(0, 4e-4), cplx(0, -1e-4), cplx(0, -1e-4), cplx(0, -1e-4), cplx(0, 4e-4), cplx(0, -1e-4), cplx(0, -1e-4),
        cplx(0, -1e-4), cplx(0, 4e-4);
    yl.topLeftCorner(3, 3) += ysh / 2.0;
    yl.bottomRightCorner(3, 3) += ysh / 2.0;
    b.finish();
    const Eigen::VectorXcd i = Eigen::Map<const Eigen::VectorXcd>(b.m.i_source.data(), 6);
    const Eigen::VectorXcd x = Eigen::MatrixXcd(b.m.Y).fullPivLu().solve(i);
    const std::vector<cplx> ref(x.data(), x.data() + 6);
    for (UMethod meth : kMethods) {
        INFO(std::string(to_string(meth)));
        CHECK(max_diff_pu(solve_with(b.m, meth), ref, vln) < 1e-9);
    }
}

TEST_CASE("usolvers: a single-phase transformer (yprim blocks with a ratio), ZIP load: the three agree") {
    // 7200 V : 240 V, series impedance z referred to the primary: I1 = y (V1 - n V2), I2 = -n I1
    const double n = 30.0;
    const cplx y = 1.0 / cplx(2.0, 8.0);
    Builder b(3, 7200.0, 3);
    b.m.node_vbase_v[2] = 240.0;
    b.source({0}, Eigen::MatrixXcd::Constant(1, 1, cplx(0.2, 1.0)), {7200.0});
    b.m.v_start[1] = 7200.0;
    b.m.v_start[2] = 240.0;
    const int line = b.add(UElementKind::line, 2, 1, {0, 1}, series_yprim(Eigen::MatrixXcd::Constant(1, 1, 1.0 / cplx(0.8, 1.6))));
    Eigen::MatrixXcd yt(2, 2);
    yt << y, -y * n, -y * n, y * n * n;
    const int tr = b.add(UElementKind::transformer, 2, 1, {1, 2}, yt);
    b.branch(line, 0, 1);
    b.branch(tr, 1, 2);
    b.m.node_bus[1] = 1;
    b.m.node_bus[2] = 2;
    UMathLoad& ld = b.load({2}, {-1}, {20e3, 6e3}, 240.0, 8);
    const double zipv[7] = {0.3, 0.3, 0.4, 0.2, 0.3, 0.5, 0.5};
    std::copy(zipv, zipv + 7, ld.zipv);
    b.finish();
    const std::vector<cplx> ref = solve_with(b.m, UMethod::newton, 1e-13);
    // the equations hold at the answer: Y V = i_source + y_nom v - I(v)
    const Eigen::VectorXcd yv = b.m.Y * Eigen::Map<const Eigen::VectorXcd>(ref.data(), 3);
    const cplx iload = load_phase_current_jac(b.m.loads[0], ref[2]).i;
    CHECK(std::abs(yv[2] - (b.m.loads[0].y_nom * ref[2] - iload)) < 1e-8);
    CHECK(std::abs(yv[0] - b.m.i_source[0]) < 1e-8);
    CHECK(std::abs(ref[2]) / 240.0 > 0.95);
    for (UMethod meth : {UMethod::fixed_point, UMethod::sweep}) {
        INFO(std::string(to_string(meth)));
        const std::vector<cplx> v = solve_with(b.m, meth);
        for (int k = 0; k < 3; ++k) CHECK(std::abs(v[std::size_t(k)] - ref[std::size_t(k)]) / b.m.node_vbase_v[std::size_t(k)] < 1e-9);
    }
}

TEST_CASE("usolvers: the loads' current derivatives agree with finite differences") {
    UMathLoad ld;
    ld.p_w = 3000.0;
    ld.q_var = 1200.0;
    ld.vbase_v = 240.0;
    ld.y_nom = cplx(ld.p_w, -ld.q_var) / (240.0 * 240.0);
    const double zipv[7] = {0.3, 0.3, 0.4, 0.2, 0.3, 0.5, 0.0};
    const double h = 1e-5;
    ld.q_fixed_var = 1000.0;
    for (int model : {1, 2, 3, 4, 40, 5, 6, 7, 8, 80}) {
        ld.model = model == 80 ? 8 : model == 40 ? 4 : model;
        ld.cvrwatt = model == 40 ? 0.8 : 1.0;  // 40: model 4 with other exponents
        ld.cvrvar = model == 40 ? 3.0 : 2.0;
        std::copy(zipv, zipv + 7, ld.zipv);
        if (model == 80) ld.zipv[6] = 0.9;  // the drop-out step near 0.9 p.u.
        for (double vpu : {0.3, 0.6, 0.9, 0.93, 1.0, 1.04, 1.1}) {
            const cplx v = polar_deg(vpu * 240.0, -37.0);
            INFO("model " << model << " at " << vpu << " p.u.");
            const ULoadCurrentJac d = load_phase_current_jac(ld, v);
            const cplx fr = (load_phase_current_jac(ld, v + h).i - load_phase_current_jac(ld, v - h).i) / (2 * h);
            const cplx fi = (load_phase_current_jac(ld, v + kJ * h).i - load_phase_current_jac(ld, v - kJ * h).i) / (2 * h);
            const double scale = std::abs(ld.y_nom) * 10.0;
            CHECK(std::abs(d.di_dvr - fr) < 1e-6 * scale);
            CHECK(std::abs(d.di_dvi - fi) < 1e-6 * scale);
            // and the currents themselves, by the rules
            const double vm = std::abs(v);
            cplx expect;
            // in the band, below vlowpu and above vmaxpu (between vlowpu and vminpu: the feeders' test
            // compares with load_phase_current)
            const bool band = vpu > 0.95 && vpu <= 1.05;
            if (model == 1) expect = vpu <= 0.5 ? ld.y_nom * v : vpu > 1.05 ? ld.y_nom / (1.05 * 1.05) * v : std::conj(cplx(3000, 1200) / v);
            if (model == 2) expect = ld.y_nom * v;
            if (model == 5) expect = vpu <= 0.5 ? ld.y_nom * v : vpu > 1.05 ? ld.y_nom / 1.05 * v : std::conj(cplx(3000, 1200) / (v / vm * 240.0));
            if ((model == 1 || model == 5) && (band || vpu <= 0.5 || vpu > 1.05)) CHECK(std::abs(d.i - expect) < 1e-12 * std::abs(expect));
            if (model == 2) CHECK(std::abs(d.i - expect) < 1e-12 * std::abs(expect));
            if (model == 8 && vpu == 1.0) {
                expect = cplx(ld.y_nom.real() * 0.3, ld.y_nom.imag() * 0.2) * v + std::conj(cplx(900, 360) / (v / vm * 240.0)) +
                         std::conj(cplx(1200, 600) / v);
                CHECK(std::abs(d.i - expect) < 1e-12 * std::abs(expect));
            }
        }
    }
}

TEST_CASE("usolvers: non-convergence is reported, not thrown") {
    const cplx e = 7200.0, zs = {0.5, 2.0}, zl = {1.2, 2.5};
    SUBCASE("too few iterations") {
        const Builder b = single_phase(e, zs, zl, {300e3, 120e3}, 1);
        for (UMethod meth : kMethods) {
            auto s = make_usolver(b.m, meth);
            std::vector<cplx> v = b.m.v_start;
            USolveOptions o;
            o.max_iterations = 1;
            o.tolerance = 1e-14;
            const USolveStats st = s->solve(v, o);
            CHECK_FALSE(st.converged);
            CHECK(st.iterations == 1);
        }
    }
    SUBCASE("voltage collapse: a constant-PQ load beyond the maximum power (vminpu = 0)") {
        Builder b = single_phase(e, zs, zl, {8e6, 4e6}, 1);
        b.m.loads[0].vminpu = 0.0;
        b.m.loads[0].vlowpu = 0.0;
        for (UMethod meth : kMethods) {
            INFO(std::string(to_string(meth)));
            auto s = make_usolver(b.m, meth);
            std::vector<cplx> v = b.m.v_start;
            USolveStats st;
            CHECK_NOTHROW(st = s->solve(v, USolveOptions{}));
            CHECK_FALSE(st.converged);
        }
    }
}

TEST_CASE("usolvers: a singular Y is a SolverError with a message") {
    // the source feeds node 0; nodes 1 and 2 are an island joined by a line (nothing to ground)
    Builder b(3, 7200.0, 3);
    b.source({0}, Eigen::MatrixXcd::Constant(1, 1, cplx(0.5, 2.0)), {7200.0});
    const int line = b.add(UElementKind::line, 2, 1, {1, 2}, series_yprim(Eigen::MatrixXcd::Constant(1, 1, 1.0 / cplx(1.0, 2.0))));
    b.branch(line, 1, 2);
    b.m.node_bus = {0, 1, 2};
    b.finish();
    for (UMethod meth : kMethods) {
        INFO(std::string(to_string(meth)));
        try {
            make_usolver(b.m, meth);
            FAIL("no error");
        } catch (const SolverError& err) {
            const std::string what = err.what();
            INFO(what);
            CHECK(what.find(meth == UMethod::sweep ? "not fed" : "singular") != std::string::npos);
        }
    }
}

TEST_CASE("usolvers: automatic and refactor") {
    const cplx e = 7200.0, zs = {0.5, 2.0}, zl = {1.2, 2.5}, s = {300e3, 120e3};
    Builder b = single_phase(e, zs, zl, s, 1);
    CHECK(make_usolver(b.m, UMethod::automatic)->method() == UMethod::sweep);
    {
        // a second source: the sweep cannot walk it, Newton-Raphson
        Builder c = b;
        c.source({1}, Eigen::MatrixXcd::Constant(1, 1, zs), {e});
        c.finish();
        CHECK(make_usolver(c.m, UMethod::automatic)->method() == UMethod::newton);
    }
    {
        // the sweep does not converge in 5 iterations, Newton-Raphson takes over from the start
        auto a = make_usolver(b.m, UMethod::automatic);
        std::vector<cplx> v = b.m.v_start;
        const USolveStats st = a->solve(v, {1e-12, 5});
        CHECK(st.converged);
        CHECK(a->method() == UMethod::newton);
        CHECK(std::abs(v[1] - pq_closed_form(e, zs + zl, s)) / 7200.0 < 1e-9);
    }
    for (UMethod meth : kMethods) {
        INFO(std::string(to_string(meth)));
        Builder c = b;
        auto solver = make_usolver(c.m, meth);
        std::vector<cplx> v = c.m.v_start;
        REQUIRE(solver->solve(v, {1e-12, 100}).converged);
        // the line's impedance doubles: new values, same pattern
        const cplx zl2 = 2.0 * zl;
        c.m.elements[1].yprim = series_yprim(Eigen::MatrixXcd::Constant(1, 1, 1.0 / zl2));
        const Eigen::SparseMatrix<cplx> before = c.m.Y;
        c.finish();
        REQUIRE(c.m.Y.nonZeros() == before.nonZeros());
        solver->refactor();
        REQUIRE(solver->solve(v, {1e-12, 100}).converged);
        CHECK(std::abs(v[1] - pq_closed_form(e, zs + zl2, s)) / 7200.0 < 1e-9);
    }
}
