// The three unbalanced solvers on the four test feeders' nodal models (IEEE 13, 34, 123, European
// LV at 09:26): each converges and they agree with each other to 1e-8 p.u.; the answer satisfies
// the model's own equations (Y V = i_source + add_load_compensation(V)); the loads' current with
// derivatives (load_phase_current_jac) gives load_phase_current's current for every model and band.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/math/umath.hpp>
#include <libgrid/solvers/usolvers.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

std::string feeder(const std::string& rel) { return std::string(LIBGRID_TEST_DATA) + "/opendss/" + rel; }

/// The European LV feeder's loads at 09:26 (the peak): kW = base kW x the 1-minute shape's value.
void eulv_at_0926(UNetwork& net) {
    const int minute = 9 * 60 + 26;  // point `minute` (1-based) of a 1-minute shape is at minute `minute`
    for (ULoad& l : net.loads) {
        const std::string& shape = !l.yearly.empty() ? l.yearly : l.daily;
        for (const ULoadShape& s : net.loadshapes)
            if (!shape.empty() && s.name.size() == shape.size() &&
                std::equal(s.name.begin(), s.name.end(), shape.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
                const double mult = s.mult[std::size_t(minute - 1) % s.mult.size()];
                l.kw = l.base_kw * mult;
                l.kvar = l.base_kvar * (s.qmult.empty() ? mult : s.qmult[std::size_t(minute - 1) % s.qmult.size()]);
            }
    }
}

/// 1 / the node's base (its start voltage's magnitude where the model has no base)
double inv_base(const UMathModel& m, int n) {
    const double vb = m.node_vbase_v[std::size_t(n)];
    if (std::isfinite(vb) && vb > 0.0) return 1.0 / vb;
    const double vs = std::abs(m.v_start[std::size_t(n)]);
    return vs > 1e-3 ? 1.0 / vs : 1.0;
}

struct Case {
    const char* name;
    const char* file;
    bool eulv;
};

}  // namespace

TEST_CASE("usolvers on the feeders: fixed point, Newton-Raphson and sweep agree to 1e-8 p.u.") {
    const Case cases[] = {{"ieee13", "ieee13/IEEE13Nodeckt.dss", false},
                          {"ieee34", "ieee34/ieee34Mod1.dss", false},
                          {"ieee123", "ieee123/IEEE123Master.dss", false},
                          {"eulv", "eulv/Master.dss", true}};
    for (const Case& c : cases) {
        INFO(std::string(c.name));
        UNetwork net = read_dss(feeder(c.file)).net;
        if (c.eulv) eulv_at_0926(net);
        const UMathModel m = build_umath_model(net);
        USolveOptions opt;
        opt.tolerance = 1e-10;
        std::vector<cplx> vnr = m.v_start;
        const USolveStats snr = make_usolver(m, UMethod::newton)->solve(vnr, opt);
        INFO("nr: " << snr.iterations << " iterations, max dv " << snr.max_dv_pu);
        REQUIRE(snr.converged);
        CHECK(snr.iterations <= 8);
        MESSAGE(std::string(c.name) << ": " << m.n_nodes << " nodes, radial " << m.radial << "; nr " << snr.iterations << " iterations");
        // the model's own equations hold at Newton's answer
        std::vector<cplx> rhs = m.i_source;
        add_load_compensation(m, vnr, rhs);
        const Eigen::VectorXcd yv = m.Y * Eigen::Map<const Eigen::VectorXcd>(vnr.data(), m.n_nodes);
        double worst = 0.0;
        for (int n = 0; n < m.n_nodes; ++n) {
            double scale = std::abs(rhs[std::size_t(n)]);
            for (Eigen::SparseMatrix<cplx>::InnerIterator it(m.Y, n); it; ++it) scale += std::abs(it.value()) * std::abs(vnr[std::size_t(it.row())]);
            worst = std::max(worst, std::abs(yv[n] - rhs[std::size_t(n)]) / scale);
        }
        CHECK(worst < 1e-10);
        for (UMethod meth : {UMethod::fixed_point, UMethod::sweep}) {
            INFO(std::string(to_string(meth)));
            std::unique_ptr<USolver> solver;
            if (meth == UMethod::sweep) {
                // the sweep walks every feeder here: radial at the nodes (three single-phase
                // regulators side by side are not a mesh), one source
                REQUIRE_NOTHROW(solver = make_usolver(m, meth));
            } else {
                solver = make_usolver(m, meth);
            }
            std::vector<cplx> v = m.v_start;
            const USolveStats st = solver->solve(v, opt);
            MESSAGE(std::string(c.name) << ": " << std::string(to_string(meth)) << " " << st.iterations << " iterations");
            REQUIRE(st.converged);
            double d = 0.0;
            for (int n = 0; n < m.n_nodes; ++n) d = std::max(d, std::abs(v[std::size_t(n)] - vnr[std::size_t(n)]) * inv_base(m, n));
            CHECK(d < 1e-8);
        }
    }
}

TEST_CASE("usolvers: load_phase_current_jac's current is load_phase_current's, every model and band") {
    UMathLoad ld;
    ld.p_w = 3000.0;
    ld.q_var = 1200.0;
    ld.q_fixed_var = 1000.0;
    ld.vbase_v = 240.0;
    ld.y_nom = cplx(ld.p_w, -ld.q_var) / (240.0 * 240.0);
    const double zipv[7] = {0.3, 0.3, 0.4, 0.2, 0.3, 0.5, 0.6};
    std::copy(zipv, zipv + 7, ld.zipv);
    for (int model : {1, 2, 3, 4, 5, 6, 7, 8})
        for (double vpu : {0.0, 0.3, 0.5, 0.55, 0.62, 0.8, 0.95, 0.97, 1.0, 1.05, 1.2})
            for (double deg : {-170.0, -30.0, 0.0, 95.0}) {
                ld.model = model;
                ld.cvrwatt = deg < 0.0 ? 0.8 : 1.0;
                ld.cvrvar = deg < 0.0 ? 3.0 : 2.0;
                const cplx v = std::polar(vpu * 240.0, deg * 3.14159265358979 / 180.0);
                INFO("model " << model << " at " << vpu << " p.u., " << deg << " deg");
                const cplx a = load_phase_current(ld, v), b = load_phase_current_jac(ld, v).i;
                CHECK(std::abs(a - b) <= 1e-13 * (std::abs(a) + 1e-9));
            }
}
