// Power flow against MATPOWER's solved references (tests/data/refs): every case, NR with both
// linear solvers and fast-decoupled XB; DC against an independent dense computation; Q limits;
// non-convergence reported as a flag.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <string>

using namespace libgrid;

namespace {

nlohmann::json load_ref(const std::string& name) {
    std::ifstream f(std::string(LIBGRID_TEST_DATA) + "/refs/" + name + ".json");
    REQUIRE(f.good());
    return nlohmann::json::parse(f);
}

Network load_case(const std::string& name) { return read_matpower(std::string(LIBGRID_TEST_DATA) + "/matpower/" + name + ".m"); }

double angle_diff_deg(double a, double b) {
    double d = std::fmod(a - b, 360.0);
    if (d > 180) d -= 360;
    if (d < -180) d += 360;
    return std::abs(d);
}

void check_against_ref(const std::string& name, const PowerFlowOptions& opt, bool check_flows) {
    CAPTURE(name);
    CAPTURE(to_string(opt.method));
    CAPTURE(to_string(opt.linear_solver));
    const Network net = load_case(name);
    const nlohmann::json ref = load_ref(name);
    const PowerFlowResult r = run_power_flow(net, opt);
    REQUIRE(r.converged);
    const auto& rb = ref["bus"];
    REQUIRE(rb["id"].size() == net.buses.size());
    double worst_vm = 0, worst_va = 0;
    for (std::size_t i = 0; i < net.buses.size(); ++i) {
        REQUIRE(rb["id"][i].get<long>() == net.buses[i].id);
        worst_vm = std::max(worst_vm, std::abs(r.bus_vm_pu[i] - rb["Vm_pu"][i].get<double>()));
        worst_va = std::max(worst_va, angle_diff_deg(r.bus_va_deg[i], rb["Va_deg"][i].get<double>()));
    }
    CHECK(worst_vm <= 1e-6);
    CHECK(worst_va <= 1e-5);
    if (!check_flows) return;
    const auto& br = ref["branch"];
    double worst_flow = 0;
    for (std::size_t k = 0; k < net.branches.size(); ++k) {
        worst_flow = std::max({worst_flow, std::abs(r.branch_p_from_mw[k] - br["Pf_MW"][k].get<double>()),
                               std::abs(r.branch_q_from_mvar[k] - br["Qf_MVAr"][k].get<double>()),
                               std::abs(r.branch_p_to_mw[k] - br["Pt_MW"][k].get<double>()),
                               std::abs(r.branch_q_to_mvar[k] - br["Qt_MVAr"][k].get<double>())});
    }
    CHECK(worst_flow <= 1e-4);
    CHECK(std::abs(r.losses_mw - ref["losses"]["sum_Pf_plus_Pt_MW"].get<double>()) <= 1e-4);
    const auto& rg = ref["gen"];
    double worst_gen = 0;
    for (std::size_t k = 0; k < net.gens.size(); ++k) {
        if (!net.gens[k].in_service) continue;
        worst_gen = std::max({worst_gen, std::abs(r.gen_p_mw[k] - rg["Pg_MW"][k].get<double>()),
                              std::abs(r.gen_q_mvar[k] - rg["Qg_MVAr"][k].get<double>())});
    }
    CHECK(worst_gen <= 1e-4);
}

const char* kCases[] = {"case9", "case14", "case30", "case57", "case118", "case300", "case1354pegase", "case_ACTIVSg2000"};

}  // namespace

TEST_CASE("NR with SparseLU matches MATPOWER on every reference case") {
    PowerFlowOptions opt;
    opt.linear_solver = LinearSolverKind::SparseLU;
    for (const char* c : kCases) check_against_ref(c, opt, true);
}

TEST_CASE("NR with KLU matches MATPOWER on every reference case") {
    if (!KluSolver::available()) return;
    PowerFlowOptions opt;
    opt.linear_solver = LinearSolverKind::KLU;
    for (const char* c : kCases) check_against_ref(c, opt, true);
}

TEST_CASE("fast-decoupled XB converges to MATPOWER's Newton solution") {
    PowerFlowOptions opt;
    opt.method = Method::FastDecoupledXB;
    opt.tolerance = 1e-10;
    for (const char* c : kCases) check_against_ref(c, opt, true);
}

TEST_CASE("NR from a flat start reaches the same solution") {
    PowerFlowOptions opt;
    opt.flat_start = true;
    for (const char* c : {"case9", "case14", "case118", "case300"}) check_against_ref(c, opt, false);
}

TEST_CASE("DC power flow equals an independent dense B-theta solve") {
    for (std::string name : {"case9", "case30", "case118", "case300"}) {
        CAPTURE(name);
        const Network net = load_case(name);
        PowerFlowOptions opt;
        opt.method = Method::DC;
        const PowerFlowResult r = run_power_flow(net, opt);
        REQUIRE(r.converged);
        // Independent: dense B from the raw MATPOWER columns (b = 1/(x * ratio)), shift injections,
        // P = Pg - Pd - Gs, solved by a dense LU with the slack angle fixed.
        const std::size_t n = net.buses.size();
        std::map<Id, int> at;
        for (std::size_t i = 0; i < n; ++i) at[net.buses[i].id] = int(i);
        Eigen::MatrixXd B = Eigen::MatrixXd::Zero(n, n);
        Eigen::VectorXd P = Eigen::VectorXd::Zero(n);
        const double deg = std::numbers::pi / 180.0;
        for (const Branch& br : net.branches) {
            if (!br.in_service) continue;
            const int f = at[br.from_bus], t = at[br.to_bus];
            const double b = 1.0 / (br.x_pu * (br.ratio == 0 ? 1.0 : br.ratio));
            B(f, f) += b; B(t, t) += b; B(f, t) -= b; B(t, f) -= b;
            P(f) += b * br.shift_deg * deg;
            P(t) -= b * br.shift_deg * deg;
        }
        for (const Gen& g : net.gens) if (g.in_service) P(at[g.bus]) += g.p_mw / net.sn_mva;
        for (const Load& l : net.loads) P(at[l.bus]) -= l.p_mw / net.sn_mva;
        for (const Shunt& s : net.shunts) P(at[s.bus]) -= s.p_mw / net.sn_mva;
        int slack = -1;
        for (std::size_t i = 0; i < n; ++i) if (net.buses[i].type == BusType::Slack) slack = int(i);
        REQUIRE(slack >= 0);
        const double theta_s = net.buses[slack].va_deg * deg;
        std::vector<int> keep;
        for (std::size_t i = 0; i < n; ++i) if (int(i) != slack) keep.push_back(int(i));
        Eigen::MatrixXd Br(keep.size(), keep.size());
        Eigen::VectorXd rhs(keep.size());
        for (std::size_t a = 0; a < keep.size(); ++a) {
            rhs(a) = P(keep[a]) - B(keep[a], slack) * theta_s;
            for (std::size_t b = 0; b < keep.size(); ++b) Br(a, b) = B(keep[a], keep[b]);
        }
        Eigen::VectorXd th = Br.partialPivLu().solve(rhs);
        double worst = 0;
        for (std::size_t a = 0; a < keep.size(); ++a) worst = std::max(worst, std::abs(r.bus_va_deg[keep[a]] - th(a) / deg));
        CHECK(worst < 1e-9);
        for (std::size_t i = 0; i < n; ++i) CHECK(r.bus_vm_pu[i] == 1.0);
        CHECK(std::abs(r.losses_mw) < 1e-9);
    }
}

TEST_CASE("reactive limits: PV buses switch to PQ at the violated limit") {
    Network net = load_case("case14");
    // Tighten a generator's range so that its limit binds (case14 gen 2 at bus 2 makes ~ +23.7 MVAr).
    PowerFlowResult free_r = run_power_flow(net, {});
    REQUIRE(free_r.converged);
    const double q_free = free_r.gen_q_mvar[1];
    REQUIRE(q_free > 10.0);
    net.gens[1].max_q_mvar = 10.0;
    PowerFlowOptions opt;
    opt.enforce_q_limits = false;
    PowerFlowResult ignored = run_power_flow(net, opt);
    CHECK(ignored.gen_q_mvar[1] == doctest::Approx(q_free).epsilon(1e-9));
    opt.enforce_q_limits = true;
    PowerFlowResult r = run_power_flow(net, opt);
    REQUIRE(r.converged);
    CHECK(r.gen_q_mvar[1] == doctest::Approx(10.0).epsilon(1e-9));
    // The bus no longer holds its set point: its voltage drops below Vg.
    const std::size_t b = net.bus_index(net.gens[1].bus);
    CHECK(r.bus_vm_pu[b] < net.gens[1].vm_pu - 1e-4);
    for (std::size_t k = 0; k < net.gens.size(); ++k)
        if (k != 0) CHECK(r.gen_q_mvar[k] <= net.gens[k].max_q_mvar + 1e-6);
}

TEST_CASE("non-convergence is a flagged result, not an exception") {
    Network net = load_case("case9");
    for (Load& l : net.loads) l.p_mw *= 20.0;  // far beyond the loadability limit
    PowerFlowOptions opt;
    opt.max_iterations = 15;
    PowerFlowResult r;
    CHECK_NOTHROW(r = run_power_flow(net, opt));
    CHECK_FALSE(r.converged);
    CHECK(!r.message.empty());
}

TEST_CASE("validation errors name the component and the field") {
    Network net = load_case("case9");
    net.branches[2].to_bus = 99;
    CHECK_THROWS_WITH_AS(run_power_flow(net), doctest::Contains("unknown bus id 99"), IdError);
    net = load_case("case9");
    net.loads[0].p_mw = std::nan("");
    CHECK_THROWS_WITH_AS(run_power_flow(net), doctest::Contains("p_mw"), ValidationError);
    net = load_case("case9");
    net.buses[0].type = BusType::PV;  // the only slack gone
    CHECK_THROWS_WITH_AS(run_power_flow(net), doctest::Contains("no slack"), ValidationError);
    net = load_case("case9");
    net.buses[3].vn_kv = -1;
    CHECK_THROWS_WITH_AS(run_power_flow(net), doctest::Contains("vn_kv"), ValidationError);
    net = load_case("case9");
    net.sn_mva = 0;
    CHECK_THROWS_AS(run_power_flow(net), ValidationError);
}
