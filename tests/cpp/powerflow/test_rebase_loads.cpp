// UPowerFlow / UTimeStepper::rebase_loads (issue 15, H5): Y's load admittances moved to what the loads
// draw changes the iterations, not the answer; the reduced fixed point re-reads the loads' yprims.
#include <doctest/doctest.h>

#include "libgrid/io/dss.hpp"
#include "libgrid/powerflow/unbalanced.hpp"
#include "libgrid/powerflow/ustepper.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

UNetwork eulv() { return read_dss(std::string(LIBGRID_TEST_DATA) + "/opendss/eulv/Master.dss").net; }

UPfOptions opts(bool reduced) {
    UPfOptions o;
    o.method = UMethod::fixed_point;
    o.controls = UControlMode::off;
    o.tolerance = 1e-10;
    o.reduced_fixed_point = reduced;
    return o;
}

double max_dv_pu(const std::vector<cplx>& a, const std::vector<cplx>& b) {
    double w = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) w = std::max(w, std::abs(a[i] - b[i]) / 230.0);
    return w;
}

}  // namespace

TEST_CASE("rebase_loads: the European LV feeder's morning, the same voltages in fewer iterations") {
    UNetwork na = eulv(), nb = eulv();
    std::vector<const ULoadShape*> shape;
    for (const ULoad& l : na.loads) shape.push_back(load_shape_of(na, l));
    UTimeStepper a(na, {}, opts(true)), b(nb, {}, opts(true));
    REQUIRE(a.reduced());
    int ia = 0, ib = 0;
    double worst = 0.0;
    for (int minute = 1; minute <= 480; ++minute) {
        for (std::size_t i = 0; i < na.loads.size(); ++i) {
            double p = 1.0, q = 1.0;
            bool has_q = false;
            loadshape_at(*shape[i], minute / 60.0, p, q, has_q);
            a.set_load(int(i), na.loads[i].base_kw * p, na.loads[i].base_kvar * q);
            b.set_load(int(i), nb.loads[i].base_kw * p, nb.loads[i].base_kvar * q);
        }
        if (minute == 1) b.rebase_loads();  // Y at the first minute's kW (the scripts': kW = 1)
        const USolveStats sa = a.solve(), sb = b.solve();
        REQUIRE(sa.converged);
        REQUIRE(sb.converged);
        ia += sa.iterations;
        ib += sb.iterations;
        worst = std::max(worst, max_dv_pu(a.voltages(), b.voltages()));
    }
    CHECK(worst < 1e-9);  // both within 1e-10 p.u. steps of the same fixed point
    CHECK(ib < ia);       // Y nearer what the loads draw: the fixed point contracts faster
    MESSAGE("iterations, 480 minutes: " << ia << " as built, " << ib << " rebased");
}

TEST_CASE("rebase_loads: the reduced fixed point after a rebase gives the full fixed point's answer") {
    UNetwork nr = eulv(), nf = eulv();  // built at the scripts' kW = 1, then the loads at 09:26 and Y rebased
    UPowerFlow r(nr, opts(true)), f(nf, opts(false));
    REQUIRE(r.reduced());
    REQUIRE_FALSE(f.reduced());
    apply_loadshapes_at(nr, 9.0 + 26.0 / 60.0);
    apply_loadshapes_at(nf, 9.0 + 26.0 / 60.0);
    r.update_loads();
    f.update_loads();
    r.rebase_loads();
    f.rebase_loads();
    REQUIRE(r.solve().converged);
    REQUIRE(f.solve().converged);
    CHECK(max_dv_pu(r.v(), f.v()) < 1e-9);
    // and the answer is the one of a model built at 09:26 (only Y's split between yprim and compensation moved)
    UNetwork nb = eulv();
    apply_loadshapes_at(nb, 9.0 + 26.0 / 60.0);
    UPowerFlow asbuilt(nb, opts(false));
    REQUIRE(asbuilt.solve().converged);
    CHECK(max_dv_pu(r.v(), asbuilt.v()) < 1e-9);
}
