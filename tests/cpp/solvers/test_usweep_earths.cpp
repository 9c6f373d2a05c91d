// The unbalanced solvers on multi-earthed neutrals (issue 15): the Melaka grid as built (four-wire
// LV, a 1 ohm star-point earth, 10 ohm customer earths). `automatic` recognises the multi-earthed
// neutral and solves it with the fixed point (the sweep diverges there), to OpenDSS's answer; and
// AutoUSolver does not retry a method that failed once.
#include <doctest/doctest.h>

#include "libgrid/io/dss.hpp"
#include "libgrid/math/umath.hpp"
#include "libgrid/powerflow/unbalanced.hpp"
#include "libgrid/scenario/melaka_grid.hpp"
#include "libgrid/solvers/usolvers.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

MelakaUGrid as_built(double imbalance) {
    MelakaGridOptions o;
    o.size = GridSize::Small;
    o.seed = 1;
    MelakaPhaseOptions po;
    po.imbalance = imbalance;
    return melaka_unetwork(generate_melaka_grid(o), po);
}

std::string feeder(const std::string& rel) { return std::string(LIBGRID_TEST_DATA) + "/opendss/" + rel; }

double max_dv_pu(const UMathModel& m, const std::vector<cplx>& a, const std::vector<cplx>& b) {
    double worst = 0.0;
    for (int n = 0; n < m.n_nodes; ++n) {
        const double vb = m.node_vbase_v[std::size_t(n)];
        worst = std::max(worst, std::abs(a[std::size_t(n)] - b[std::size_t(n)]) / (std::isfinite(vb) && vb > 0.0 ? vb : 1.0));
    }
    return worst;
}

}  // namespace

TEST_CASE("usolvers multi-earthed: the Melaka grid as built is recognised, the feeders are not") {
    MelakaUGrid ug = as_built(0.3);
    const UMathModel m = build_umath_model(ug.net);
    CHECK(multi_earthed(m));
    // without the customers' earths only the star point is earthed: one bus
    MelakaGridOptions go;
    go.size = GridSize::Small;
    go.seed = 1;
    MelakaPhaseOptions po;
    po.imbalance = 0.3;
    po.convert.customer_earth_ohm = 0.0;
    const UMathModel one = build_umath_model(melaka_unetwork(generate_melaka_grid(go), po).net);
    CHECK_FALSE(multi_earthed(one));
    for (const char* f : {"ieee13/IEEE13Nodeckt.dss", "eulv/Master.dss"}) {
        INFO(f);
        const UMathModel fm = build_umath_model(read_dss(feeder(f)).net);
        CHECK_FALSE(multi_earthed(fm));
        CHECK(make_usolver(fm, UMethod::automatic)->method() == UMethod::sweep);  // as before
    }
}

TEST_CASE("usolvers multi-earthed: automatic solves the Melaka grid as built with the fixed point, OpenDSS's answer") {
    MelakaUGrid ug = as_built(0.3);  // tests/data/opendss_refs/melaka_small_as_built.csv's configuration
    const UMathModel m = build_umath_model(ug.net);
    // the sweep alone does not converge here (what automatic used to try first at every solve)
    {
        auto sweep = make_usolver(m, UMethod::sweep);
        std::vector<cplx> v = m.v_start;
        CHECK_FALSE(sweep->solve(v, {1e-10, 100}).converged);
    }
    auto a = make_usolver(m, UMethod::automatic);
    CHECK(a->method() == UMethod::fixed_point);
    std::vector<cplx> va = m.v_start;
    const USolveStats st = a->solve(va, {1e-10, 100});
    REQUIRE(st.converged);
    CHECK(a->method() == UMethod::fixed_point);
    CHECK(st.iterations <= 20);
    auto nr = make_usolver(m, UMethod::newton);
    std::vector<cplx> vn = m.v_start;
    REQUIRE(nr->solve(vn, {1e-12, 100}).converged);
    CHECK(max_dv_pu(m, va, vn) < 1e-8);
    // through run_unbalanced_pf: OpenDSS's total power (tests/data/opendss_refs/README.md)
    UPfOptions uo;
    uo.tolerance = 1e-10;
    const UPfResult r = run_unbalanced_pf(ug.net, uo);
    REQUIRE(r.converged);
    CHECK(r.method_used == UMethod::fixed_point);
    CHECK(r.source_kva.real() == doctest::Approx(2411.063066).epsilon(1e-6));
    CHECK(r.source_kva.imag() == doctest::Approx(1084.730066).epsilon(1e-6));
}

TEST_CASE("usolvers: automatic does not retry a method that failed") {
    const UMathModel m = build_umath_model(read_dss(feeder("ieee13/IEEE13Nodeckt.dss")).net);
    auto a = make_usolver(m, UMethod::automatic);
    REQUIRE(a->method() == UMethod::sweep);
    std::vector<cplx> v = m.v_start;
    (void)a->solve(v, {1e-12, 2});  // the sweep cannot converge in 2 iterations: it has failed once
    CHECK(a->method() == UMethod::newton);
    // the next solve goes straight to Newton-Raphson: the same iterations as Newton-Raphson alone
    auto nr = make_usolver(m, UMethod::newton);
    std::vector<cplx> va = m.v_start, vn = m.v_start;
    const USolveStats sa = a->solve(va, {1e-10, 100});
    const USolveStats sn = nr->solve(vn, {1e-10, 100});
    REQUIRE(sa.converged);
    REQUIRE(sn.converged);
    CHECK(a->method() == UMethod::newton);
    CHECK(sa.iterations == sn.iterations);
    CHECK(max_dv_pu(m, va, vn) == 0.0);
    a->refactor();  // Y's values again: still Newton-Raphson
    va = m.v_start;
    CHECK(a->solve(va, {1e-10, 100}).iterations == sn.iterations);
    CHECK(a->method() == UMethod::newton);
}
