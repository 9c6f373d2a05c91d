// UTimeStepper's rows after the one-pass currents (issue 15, helper h6):
//  - node_rows without angles and node_angles give what the three-argument node_rows gives;
//  - branch_rows' losses, losses_kw and balance_kw come from one pass: the losses summed over the
//    branches equal losses_kw, and the balance equals sources - loads - losses computed from the
//    source and load rows (an independent sum), on IEEE 13 and the European LV feeder at minute 566;
//  - a capacitance-free line's loading (EU LV) equals its largest phase current at terminal 1 /
//    normamps; with capacitance (IEEE 13) it is at least that.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/ustepper.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kData = std::string(LIBGRID_TEST_DATA) + "/opendss/";

UNetwork feeder_at(const std::string& dir, const std::string& master, double hour) {
    UNetwork net = read_dss_string("Compile " + master + "\n", dir, kData + dir).net;
    if (hour >= 0.0) apply_loadshapes_at(net, hour);
    return net;
}

/// `no_shunt`: every line is capacitance-free (|I2| = |I1|, so terminal 1 gives the loading).
void check_rows(UNetwork net, bool no_shunt) {
    UPfOptions opt;
    opt.tolerance = 1e-10;
    UTimeStepper st(net, {}, opt);
    REQUIRE(st.solve().converged);
    const std::size_t n = std::size_t(st.n_nodes()), nb = std::size_t(st.n_branches());
    std::vector<double> v3(n), pu3(n), deg3(n), v2(n), pu2(n), deg(n);
    st.node_rows(v3.data(), pu3.data(), deg3.data());
    st.node_rows(v2.data(), pu2.data());
    st.node_angles(deg.data());
    for (std::size_t k = 0; k < n; ++k) {
        CHECK(v2[k] == v3[k]);
        CHECK(pu2[k] == pu3[k]);
        CHECK(deg[k] == deg3[k]);
    }
    std::vector<double> ia(4 * nb), load(nb), loss(nb);
    st.branch_rows(ia.data(), load.data(), loss.data());
    double loss_sum = 0.0;
    for (std::size_t b = 0; b < nb; ++b)
        if (std::isfinite(loss[b])) loss_sum += loss[b];
    CHECK(loss_sum == doctest::Approx(st.losses_kw()).epsilon(1e-12));
    for (std::size_t b = 0; b < nb; ++b) {  // lines: loading = max phase |I1| / normamps
        if (st.branch_is_transformer(int(b)) || !std::isfinite(load[b])) continue;
        const double rated = st.branch_rated_amps(int(b));
        if (!(rated > 0.0)) continue;
        double worst = 0.0;
        for (int k = 0; k < 3; ++k)
            if (std::isfinite(ia[4 * b + std::size_t(k)])) worst = std::max(worst, ia[4 * b + std::size_t(k)]);
        if (no_shunt)
            CHECK(load[b] == doctest::Approx(100.0 * worst / rated).epsilon(1e-12));
        else  // terminal 2 (with the line's charging current) can only raise it
            CHECK(load[b] >= 100.0 * worst / rated * (1.0 - 1e-12));
    }
    std::vector<double> sp(3 * std::size_t(st.n_sources())), sq(sp.size());
    std::vector<double> lp(net.loads.size()), lq(net.loads.size());
    st.source_rows(sp.data(), sq.data());
    st.load_rows(lp.data(), lq.data());
    double sources = 0.0, loads = 0.0;
    for (double p : sp)
        if (std::isfinite(p)) sources += p;
    for (double p : lp) loads += p;
    double by[4] = {1, 1, 1, 1};
    const double bal = st.balance_kw(by);
    // capacitors draw no real power: the balance is sources - loads - losses up to rounding
    CHECK(bal == doctest::Approx(sources - loads - st.losses_kw()).epsilon(1e-9).scale(std::abs(sources)));
    CHECK(std::abs(bal) < 1e-6 * std::abs(sources));
    for (double r : by) CHECK(std::abs(r) < 1e-6 * std::abs(sources));
}

}  // namespace

TEST_CASE("ustepper rows: node rows without angles, losses and balance from one pass (IEEE 13)") {
    check_rows(feeder_at("ieee13", "IEEE13Nodeckt.dss", -1.0), false);
}

TEST_CASE("ustepper rows: node rows without angles, losses and balance from one pass (EU LV 09:26)") {
    check_rows(feeder_at("eulv", "Master.dss", 566.0 / 60.0), true);
}
