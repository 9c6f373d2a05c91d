// run_pf_batch: a batch of load scenarios equals one run_power_flow per scenario, bit for bit, at
// any thread count; warm start converges to the same answer; bad updates are errors naming the
// scenario and the load.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/powerflow/batch_pf.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

/// Scenarios like power-grid-model's benchmark: every load's p and q times a factor in [0, 1)
/// (a small LCG, so the test does not depend on the standard library's distributions).
struct Scenarios {
    std::vector<Id> ids;
    std::vector<double> p, q;
    std::size_t n = 0;
};

Scenarios make_scenarios(const Network& net, std::size_t n, std::uint64_t seed) {
    Scenarios s;
    s.n = n;
    for (const Load& l : net.loads) s.ids.push_back(l.id);
    std::uint64_t x = seed;
    auto u = [&x] {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        return double(x >> 11) * 0x1.0p-53;
    };
    for (std::size_t k = 0; k < n; ++k)
        for (const Load& l : net.loads) {
            s.p.push_back(l.p_mw * u());
            s.q.push_back(l.q_mvar * u());
        }
    return s;
}

PfBatchUpdate update_of(const Scenarios& s) {
    PfBatchUpdate up;
    up.load_ids = s.ids;
    up.n_scenarios = s.n;
    up.p_mw = s.p;
    up.q_mvar = s.q;
    return up;
}

Network radial() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/pgm_bench/radial_1804.input.json"); }

/// Every array of the batch at scenario s equals the single power flow's, bit for bit (NaN = NaN).
void check_equal_to_single(const Network& net, const PfBatchUpdate& up, const PfBatchResult& b, std::size_t s, const PowerFlowOptions& pf) {
    const PowerFlowResult r = run_power_flow(apply_pf_batch_scenario(net, up, s), pf);
    CHECK(bool(b.converged[s]) == r.converged);
    CHECK(b.iterations[s] == r.iterations);
    CHECK(b.max_mismatch[s] == r.max_mismatch);
    CHECK(b.losses_mw[s] == r.losses_mw);
    const std::pair<const char*, const std::vector<double>*> pairs[] = {
        {"bus/vm_pu", &r.bus_vm_pu},          {"bus/va_deg", &r.bus_va_deg},           {"bus/p_mw", &r.bus_p_mw},
        {"line/p_from_mw", &r.line_p_from_mw}, {"line/i_from_ka", &r.line_i_from_ka},  {"line/loading_percent", &r.line_loading_percent},
        {"trafo/p_hv_mw", &r.trafo_p_hv_mw},   {"trafo/loading_percent", &r.trafo_loading_percent},
        {"ext_grid/p_mw", &r.ext_grid_p_mw},   {"ext_grid/q_mvar", &r.ext_grid_q_mvar}};
    for (const auto& [path, v] : pairs) {
        const std::string p(path);
        const std::string group = p.substr(0, p.find('/')), name = p.substr(p.find('/') + 1);
        std::size_t differ = 0;
        for (std::size_t k = 0; k < v->size(); ++k) {
            const double a = b.at(group, name, s, k), e = (*v)[k];
            differ += !(a == e || (std::isnan(a) && std::isnan(e)));
        }
        INFO(path << ", scenario " << s);
        CHECK(differ == 0);
    }
}

}  // namespace

TEST_CASE("run_pf_batch: NR and sweep equal run_power_flow per scenario, bit for bit") {
    const Network net = radial();
    const Scenarios sc = make_scenarios(net, 4, 7);
    const PfBatchUpdate up = update_of(sc);
    for (Method method : {Method::NewtonRaphson, Method::Sweep}) {
        PfBatchOptions opt;
        opt.pf.method = method;
        const PfBatchResult b = run_pf_batch(net, up, opt);
        REQUIRE(b.n_scenarios == 4);
        CHECK(b.n_converged() == 4);
        CHECK(b.method_used == method);
        CHECK(b.group_ids("bus").size() == net.buses.size());
        CHECK(b.array("bus", "vm_pu").values.size() == 4 * net.buses.size());
        for (std::size_t s = 0; s < b.n_scenarios; ++s) check_equal_to_single(net, up, b, s, opt.pf);
        // the scenarios differ from each other (the update is applied)
        CHECK(b.at("ext_grid", "p_mw", 0, 0) != b.at("ext_grid", "p_mw", 1, 0));
    }
}

TEST_CASE("run_pf_batch: identical at any thread count; warm start converges to the same voltages") {
    const Network net = radial();
    const Scenarios sc = make_scenarios(net, 7, 11);  // owns the arrays the update points into
    const PfBatchUpdate up = update_of(sc);
    PfBatchOptions opt;
    const PfBatchResult one = run_pf_batch(net, up, opt);
    opt.threads = 3;
    const PfBatchResult three = run_pf_batch(net, up, opt);
    REQUIRE(one.arrays.size() == three.arrays.size());
    for (std::size_t f = 0; f < one.arrays.size(); ++f) {
        const std::vector<double>& a = one.arrays[f].values;
        const std::vector<double>& b = three.arrays[f].values;
        REQUIRE(a.size() == b.size());
        std::size_t differ = 0;
        for (std::size_t k = 0; k < a.size(); ++k) differ += !(a[k] == b[k] || (std::isnan(a[k]) && std::isnan(b[k])));
        INFO(one.arrays[f].group << "/" << one.arrays[f].name);
        CHECK(differ == 0);
    }
    CHECK(one.iterations == three.iterations);

    opt.warm_start = true;
    const PfBatchResult warm = run_pf_batch(net, up, opt);
    CHECK(warm.n_converged() == up.n_scenarios);
    const std::vector<double>& vc = one.array("bus", "vm_pu").values;
    const std::vector<double>& vw = warm.array("bus", "vm_pu").values;
    double worst = 0.0;
    for (std::size_t k = 0; k < vc.size(); ++k) worst = std::max(worst, std::abs(vc[k] - vw[k]));
    CHECK(worst < 1e-8);
}

TEST_CASE("run_pf_batch: reuse_solver equals run_power_flow to rounding and is identical at any thread count") {
    const Network net = radial();
    const Scenarios sc = make_scenarios(net, 6, 13);
    const PfBatchUpdate up = update_of(sc);
    PfBatchOptions opt;
    const PfBatchResult exact = run_pf_batch(net, up, opt);
    opt.reuse_solver = true;
    const PfBatchResult one = run_pf_batch(net, up, opt);
    opt.threads = 4;
    const PfBatchResult four = run_pf_batch(net, up, opt);
    CHECK(one.n_converged() == 6);
    for (std::size_t f = 0; f < one.arrays.size(); ++f) {
        std::size_t differ = 0;
        double worst = 0.0;
        const std::vector<double>& a = one.arrays[f].values;
        for (std::size_t k = 0; k < a.size(); ++k) {
            differ += !(a[k] == four.arrays[f].values[k] || (std::isnan(a[k]) && std::isnan(four.arrays[f].values[k])));
            if (std::isfinite(a[k])) worst = std::max(worst, std::abs(a[k] - exact.arrays[f].values[k]) / std::max(1.0, std::abs(a[k])));
        }
        INFO(one.arrays[f].group << "/" << one.arrays[f].name);
        CHECK(differ == 0);
        CHECK(worst < 1e-10);
    }
}

TEST_CASE("run_pf_batch: a subset of loads, p only; the others keep the network's values") {
    const Network net = radial();
    PfBatchUpdate up;
    up.load_ids = {net.loads[3].id, net.loads[0].id};
    up.n_scenarios = 2;
    const std::vector<double> p = {0.5, 0.25, 1.5, 0.0};
    up.p_mw = p;
    const Network n1 = apply_pf_batch_scenario(net, up, 1);
    CHECK(n1.loads[3].p_mw == 1.5);
    CHECK(n1.loads[0].p_mw == 0.0);
    CHECK(n1.loads[3].q_mvar == net.loads[3].q_mvar);
    CHECK(n1.loads[5].p_mw == net.loads[5].p_mw);
    const PfBatchResult b = run_pf_batch(net, up);
    for (std::size_t s = 0; s < 2; ++s) check_equal_to_single(net, up, b, s, PowerFlowOptions{});
}

TEST_CASE("run_pf_batch: errors name the scenario, the load and the shape") {
    const Network net = radial();
    Scenarios sc = make_scenarios(net, 3, 5);
    {
        PfBatchUpdate up = update_of(sc);
        up.n_scenarios = 4;  // the arrays hold 3
        CHECK_THROWS_WITH_AS(run_pf_batch(net, up), doctest::Contains("expected 4 scenarios x"), ValidationError);
    }
    {
        Scenarios bad = sc;
        bad.p[2 * net.loads.size() + 5] = std::numeric_limits<double>::quiet_NaN();
        const std::string want = "p_mw of scenario 2, load " + std::to_string(net.loads[5].id) + " is NaN";
        CHECK_THROWS_WITH_AS(run_pf_batch(net, update_of(bad)), doctest::Contains(want.c_str()), ValidationError);
        bad = sc;
        bad.q[7] = std::numeric_limits<double>::infinity();
        const std::string want_q = "q_mvar of scenario 0, load " + std::to_string(net.loads[7].id) + " is infinite";
        CHECK_THROWS_WITH_AS(run_pf_batch(net, update_of(bad)), doctest::Contains(want_q.c_str()), ValidationError);
    }
    {
        Scenarios bad = sc;
        bad.ids[1] = 987654321;
        CHECK_THROWS_WITH_AS(run_pf_batch(net, update_of(bad)), doctest::Contains("no load with id 987654321"), IdError);
        bad.ids[1] = bad.ids[0];
        CHECK_THROWS_WITH_AS(run_pf_batch(net, update_of(bad)), doctest::Contains("repeats load_ids[0]"), IdError);
    }
    {
        PfBatchOptions opt;
        opt.pf.method = Method::DC;
        CHECK_THROWS_AS(run_pf_batch(net, update_of(sc), opt), ValidationError);
        PfBatchResult b = run_pf_batch(net, update_of(sc));
        CHECK_THROWS_WITH_AS(b.array("bus", "nonsense"), doctest::Contains("bus/nonsense"), Error);
        CHECK_THROWS_AS(apply_pf_batch_scenario(net, update_of(sc), 3), ValidationError);
    }
}
