// math/umath on the four OpenDSS test feeders (tests/data/opendss): the model has OpenDSS's nodes,
// and its equation Y V = i_source + I_comp(V), solved here by a plain fixed point (Eigen's sparse
// LU, add_load_compensation), gives OpenDSS's own solution (tests/data/umath/*_v.csv, written by
// OpenDSS: see that folder's README) to 1e-6 p.u. of each node's base.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/math/umath.hpp>

#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

struct RefNode {
    std::string bus;
    int node = 0;
    double vbase_v = 0.0;
    cplx v;
};

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
    std::vector<std::vector<std::string>> rows;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ',')) f.push_back(cell);
        if (!f.empty()) rows.push_back(f);
    }
    return rows;
}

struct Feeder {
    UNetwork net;
    std::vector<RefNode> ref;
};

/// The feeder as the reader gives it, with OpenDSS's taps (after the script's own Solve).
Feeder load_feeder(const std::string& script, const std::string& ref) {
    DssReadOptions opt;
    opt.missing_redirect_is_error = false;
    Feeder f;
    f.net = read_dss(std::string(LIBGRID_TEST_DATA) + "/" + script, opt).net;
    const std::string dir = std::string(LIBGRID_TEST_DATA) + "/umath/";
    std::ifstream taps(dir + ref + "_taps.csv");
    if (taps.good())
        for (const auto& r : read_csv(dir + ref + "_taps.csv"))
            for (UTransformer& t : f.net.transformers)
                if (t.name == r[0]) t.windings[static_cast<std::size_t>(std::stoi(r[1]) - 1)].tap = std::stod(r[2]);
    for (const auto& r : read_csv(dir + ref + "_v.csv"))
        f.ref.push_back(RefNode{r[0], std::stoi(r[1]), std::stod(r[2]), cplx(std::stod(r[3]), std::stod(r[4]))});
    return f;
}

/// V <- Y^-1 (i_source + I_comp(V)) from v_start until the largest change is 1e-10 p.u.
std::vector<cplx> fixed_point(const UMathModel& m, const std::vector<double>& vbase) {
    Eigen::SparseLU<Eigen::SparseMatrix<cplx>> lu;
    lu.compute(m.Y);
    REQUIRE(lu.info() == Eigen::Success);
    std::vector<cplx> v = m.v_start;
    for (int it = 0; it < 200; ++it) {
        std::vector<cplx> rhs = m.i_source;
        add_load_compensation(m, v, rhs);
        const Eigen::VectorXcd x = lu.solve(Eigen::Map<const Eigen::VectorXcd>(rhs.data(), m.n_nodes));
        double dv = 0.0;
        for (int k = 0; k < m.n_nodes; ++k) {
            const auto i = static_cast<std::size_t>(k);
            dv = std::max(dv, std::abs(x(k) - v[i]) / vbase[i]);
            v[i] = x(k);
        }
        if (dv < 1e-10) break;
    }
    return v;
}

void check_feeder(const std::string& script, const std::string& ref, int n_nodes) {
    CAPTURE(script);
    Feeder f = load_feeder(script, ref);
    const UMathModel m = build_umath_model(f.net);
    CHECK(m.n_nodes == n_nodes);
    REQUIRE(static_cast<int>(f.ref.size()) == m.n_nodes);
    std::vector<double> vbase(static_cast<std::size_t>(m.n_nodes), 0.0);
    std::vector<cplx> vref(static_cast<std::size_t>(m.n_nodes));
    for (const RefNode& r : f.ref) {
        const int k = m.bus_node(f.net.find_bus(r.bus), r.node);
        REQUIRE_MESSAGE(k >= 0, r.bus << "." << r.node << " is not in the model");
        vbase[static_cast<std::size_t>(k)] = r.vbase_v;
        vref[static_cast<std::size_t>(k)] = r.v;
    }
    const std::vector<cplx> v = fixed_point(m, vbase);
    double worst = 0.0;
    for (std::size_t k = 0; k < v.size(); ++k) worst = std::max(worst, std::abs(v[k] - vref[k]) / vbase[k]);
    CHECK(worst < 1e-6);
    MESSAGE(script << ": " << m.n_nodes << " nodes, max |V - V_OpenDSS| = " << worst << " p.u.");
}

}  // namespace

TEST_CASE("umath feeders: IEEE 13 (regulator taps as OpenDSS set them)") {
    check_feeder("opendss/ieee13/IEEE13Nodeckt.dss", "ieee13", 41);
}

TEST_CASE("umath feeders: IEEE 34 (Mod1: CVR loads; Mod2)") {
    check_feeder("opendss/ieee34/ieee34Mod1.dss", "ieee34mod1", 95);
    check_feeder("opendss/ieee34/ieee34Mod2.dss", "ieee34mod2", 138);
}

TEST_CASE("umath feeders: IEEE 123") { check_feeder("opendss/ieee123/IEEE123Master.dss", "ieee123", 278); }

TEST_CASE("umath feeders: European LV (radial: the model says so)") {
    check_feeder("opendss/eulv/Master.dss", "eulv", 2721);
    Feeder f = load_feeder("opendss/eulv/Master.dss", "eulv");
    const UMathModel m = build_umath_model(f.net);
    CHECK(m.radial);
    CHECK(m.branches.size() == 906);  // 905 lines and the transformer
    CHECK(m.source_buses.size() == 1);
}

TEST_CASE("umath feeders: every element kind and connection (tests/data/umath/zoo.dss)") {
    // 3-winding, Dyn11 by node order, open delta, neutral impedance, 2-phase wye-delta, load
    // models 1 and 3 to 8, capacitor steps: OpenDSS's solution to 1e-6 p.u.
    check_feeder("umath/zoo.dss", "zoo", 25);
}
