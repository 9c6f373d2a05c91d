// Validation cases as data: every folder tests/data/validation/<case>/ holds a case.json (the input
// network, the power flows to run, what each must meet), and this one test runs them all, one SUBCASE
// per folder named by the folder. Adding a reference case is adding a folder; the format is in
// tests/data/README.md ("Validation cases") and docs/testing.md.
//   build/tests/libgrid_tests -tc="validation cases*" -sc="*case118*"
#include <doctest/doctest.h>

#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/solvers/method.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <set>
#include <string>
#include <vector>

using namespace libgrid;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kValidationDir = fs::path(LIBGRID_TEST_DATA) / "validation";

json read_json(const fs::path& p) {
    std::ifstream f(p);
    INFO("reading ", p.string());
    REQUIRE(f.good());
    return json::parse(f);
}

/// Every key of `obj` must be one of `known`: a misspelt key fails instead of skipping a check.
void require_known_keys(const json& obj, const std::set<std::string>& known, const char* where) {
    REQUIRE(obj.is_object());
    for (const auto& [k, v] : obj.items()) {
        INFO(std::string(where), ": unknown key '", k, "'");
        CHECK(known.count(k) == 1);
    }
}

std::vector<fs::path> case_folders() {
    std::vector<fs::path> out;
    if (fs::is_directory(kValidationDir))
        for (const auto& e : fs::directory_iterator(kValidationDir))
            if (e.is_directory()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

double angle_diff_deg(double a, double b) {
    double d = std::fmod(a - b, 360.0);
    if (d > 180) d -= 360;
    if (d < -180) d += 360;
    return std::abs(d);
}

/// One run's options from case.json: method, linear_solver, tolerance, flat_start, enforce_q_limits.
PowerFlowOptions run_options(const json& run) {
    require_known_keys(run, {"method", "linear_solver", "tolerance", "flat_start", "enforce_q_limits", "check"}, "run");
    PowerFlowOptions o;
    if (run.contains("method")) o.method = parse_method(run["method"].get<std::string>());
    if (run.contains("linear_solver")) o.linear_solver = parse_linear_solver(run["linear_solver"].get<std::string>());
    if (run.contains("tolerance")) o.tolerance = run["tolerance"].get<double>();
    if (run.contains("flat_start")) o.flat_start = run["flat_start"].get<bool>();
    if (run.contains("enforce_q_limits")) o.enforce_q_limits = run["enforce_q_limits"].get<bool>();
    return o;
}

double tol(const json& t, const char* key) {
    INFO("expected.tolerance needs '", key, "'");
    REQUIRE(t.contains(key));
    return t[key].get<double>();
}

/// Against a solved reference in the tests/data/refs format (tests/data/refs/README.md): bus Vm and
/// Va by bus id in the case's order; with `all`, branch flows at both ends, losses and generator P, Q.
void check_reference(const Network& net, const PowerFlowResult& r, const json& ref, const json& t, bool all) {
    const auto& rb = ref["bus"];
    REQUIRE(rb["id"].size() == net.buses.size());
    double worst_vm = 0, worst_va = 0;
    for (std::size_t i = 0; i < net.buses.size(); ++i) {
        REQUIRE(rb["id"][i].get<long>() == net.buses[i].id);
        worst_vm = std::max(worst_vm, std::abs(r.bus_vm_pu[i] - rb["Vm_pu"][i].get<double>()));
        worst_va = std::max(worst_va, angle_diff_deg(r.bus_va_deg[i], rb["Va_deg"][i].get<double>()));
    }
    CHECK(worst_vm <= tol(t, "vm_pu"));
    CHECK(worst_va <= tol(t, "va_deg"));
    if (!all) return;
    const auto& br = ref["branch"];
    REQUIRE(br["Pf_MW"].size() == net.branches.size());
    double worst_flow = 0;
    for (std::size_t k = 0; k < net.branches.size(); ++k)
        worst_flow = std::max({worst_flow, std::abs(r.branch_p_from_mw[k] - br["Pf_MW"][k].get<double>()),
                               std::abs(r.branch_q_from_mvar[k] - br["Qf_MVAr"][k].get<double>()),
                               std::abs(r.branch_p_to_mw[k] - br["Pt_MW"][k].get<double>()),
                               std::abs(r.branch_q_to_mvar[k] - br["Qt_MVAr"][k].get<double>())});
    CHECK(worst_flow <= tol(t, "flow_mva"));
    CHECK(std::abs(r.losses_mw - ref["losses"]["sum_Pf_plus_Pt_MW"].get<double>()) <= tol(t, "losses_mw"));
    const auto& rg = ref["gen"];
    REQUIRE(rg["Pg_MW"].size() == net.gens.size());
    double worst_gen = 0;
    for (std::size_t k = 0; k < net.gens.size(); ++k) {
        if (!net.gens[k].in_service) continue;
        worst_gen = std::max({worst_gen, std::abs(r.gen_p_mw[k] - rg["Pg_MW"][k].get<double>()),
                              std::abs(r.gen_q_mvar[k] - rg["Qg_MVAr"][k].get<double>())});
    }
    CHECK(worst_gen <= tol(t, "gen_mva"));
}

/// Largest |V_a - V_b| (complex, p.u.) over the energised buses; both must energise the same buses.
double max_v_diff(const PowerFlowResult& a, const PowerFlowResult& b) {
    constexpr double kDeg = std::numbers::pi / 180.0;
    double d = 0.0;
    for (std::size_t k = 0; k < a.bus_vm_pu.size(); ++k) {
        REQUIRE(a.bus_energized[k] == b.bus_energized[k]);
        if (!a.bus_energized[k]) continue;
        d = std::max(d, std::abs(std::polar(a.bus_vm_pu[k], a.bus_va_deg[k] * kDeg) -
                                 std::polar(b.bus_vm_pu[k], b.bus_va_deg[k] * kDeg)));
    }
    return d;
}

/// Against another method on the same network (no outside reference): voltages within `vm_pu`
/// (complex difference), losses within `losses_rel` (relative).
void check_agreement(const Network& net, const PowerFlowResult& r, const json& other) {
    require_known_keys(other, {"method", "linear_solver", "tolerance", "vm_pu", "losses_rel"}, "expected.agree_with");
    json run = other;
    run.erase("vm_pu");
    run.erase("losses_rel");
    const PowerFlowResult r2 = run_power_flow(net, run_options(run));
    REQUIRE(r2.converged);
    CHECK(max_v_diff(r, r2) <= other.at("vm_pu").get<double>());
    if (other.contains("losses_rel"))
        CHECK(r.losses_mw == doctest::Approx(r2.losses_mw).epsilon(other["losses_rel"].get<double>()));
}

void check_run(const fs::path& dir, const Network& net, const json& run, const json& expected) {
    const PowerFlowOptions opt = run_options(run);
    CAPTURE(run.dump());
    if (opt.linear_solver == LinearSolverKind::KLU && !KluSolver::available()) {
        MESSAGE("KLU not built: run skipped");
        return;
    }
    const PowerFlowResult r = run_power_flow(net, opt);
    CHECK(r.converged == expected.value("converged", true));
    if (!r.converged) return;
    if (expected.contains("method_used")) CHECK(to_string(r.method_used) == to_string(parse_method(expected["method_used"])));
    const bool all = run.value("check", std::string("all")) == "all";
    if (!all) CHECK(run["check"].get<std::string>() == "voltages");
    if (expected.contains("reference"))
        check_reference(net, r, read_json(dir / expected["reference"].get<std::string>()), expected.at("tolerance"), all);
    if (expected.contains("agree_with")) check_agreement(net, r, expected["agree_with"]);
    if (expected.contains("vm_pu_range")) {
        const double lo = expected["vm_pu_range"][0].get<double>(), hi = expected["vm_pu_range"][1].get<double>();
        for (std::size_t b = 0; b < net.buses.size(); ++b)
            if (r.bus_energized[b]) {
                CHECK(r.bus_vm_pu[b] > lo);
                CHECK(r.bus_vm_pu[b] < hi);
            }
    }
}

void run_case(const fs::path& dir) {
    const fs::path file = dir / "case.json";
    INFO("validation case ", file.string());
    REQUIRE(fs::is_regular_file(file));
    const json c = read_json(file);
    require_known_keys(c, {"description", "source", "input", "runs", "expected"}, "case.json");
    REQUIRE(c.contains("input"));
    REQUIRE(c.contains("runs"));
    REQUIRE(c.contains("expected"));
    const json& expected = c["expected"];
    require_known_keys(expected, {"converged", "method_used", "reference", "tolerance", "agree_with", "vm_pu_range"},
                       "expected");
    // at least one check besides convergence, so that a folder cannot pass on nothing
    CHECK((expected.contains("reference") || expected.contains("agree_with") || expected.contains("vm_pu_range")));
    const Network net = read_network((dir / c["input"].get<std::string>()).lexically_normal().string());
    REQUIRE(c["runs"].is_array());
    REQUIRE(!c["runs"].empty());
    for (const json& run : c["runs"]) check_run(dir, net, run, expected);
}

}  // namespace

TEST_CASE("validation cases: every folder in tests/data/validation") {
    const std::vector<fs::path> dirs = case_folders();
    REQUIRE(dirs.size() >= 1);
    for (const fs::path& dir : dirs) {
        const std::string name = dir.filename().string();
        SUBCASE(name.c_str()) { run_case(dir); }
    }
}
