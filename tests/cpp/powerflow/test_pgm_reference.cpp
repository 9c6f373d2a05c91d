// libgrid against power-grid-model itself (issue 13): the pgm_bench grids as shipped (ext_grid
// sk_mva/rx_ratio, pi transformers, ZIP loads; no hand edits) solve to PGM's node voltages.
// Reference: tests/data/pgm_bench/<grid>.pgm_voltages.csv, written by benches/pgm/pgm_reference (PGM
// 1.13's C++ core, symmetric Newton-Raphson to 1e-12) for the base case and scenarios 0, 99, 199;
// those scenarios' loads are tests/data/pgm_bench/<grid>.scenarios_0_99_199.csv (rows of the shared
// scenario CSV). Data produced by PGM (MPL-2.0), no PGM code.
#include <doctest/doctest.h>

#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace libgrid;

namespace {

const std::string kDir = std::string(LIBGRID_TEST_DATA) + "/pgm_bench/";

struct NodeRef {
    Id node = 0;
    double u_pu = 0.0, u_angle_rad = 0.0;
};

/// scenario (-1 = base case) -> PGM's node voltages.
std::map<int, std::vector<NodeRef>> read_reference(const std::string& grid) {
    std::ifstream f(kDir + grid + ".pgm_voltages.csv");
    REQUIRE_MESSAGE(f.good(), "missing " << grid << ".pgm_voltages.csv");
    std::map<int, std::vector<NodeRef>> out;
    std::string line;
    bool header = false;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (!header) {
            REQUIRE(line == "scenario,node_id,u_pu,u_angle_rad");
            header = true;
            continue;
        }
        std::stringstream ss(line);
        std::string a, b, c, d;
        REQUIRE(std::getline(ss, a, ','));
        REQUIRE(std::getline(ss, b, ','));
        REQUIRE(std::getline(ss, c, ','));
        REQUIRE(std::getline(ss, d, ','));
        out[std::stoi(a)].push_back(NodeRef{Id(std::stoll(b)), std::stod(c), std::stod(d)});
    }
    return out;
}

/// scenario -> (load id -> p_mw, q_mvar), from the scenario CSV's columns load_<id>_p_mw / _q_mvar.
std::map<int, std::map<Id, std::pair<double, double>>> read_scenarios(const std::string& grid) {
    std::ifstream f(kDir + grid + ".scenarios_0_99_199.csv");
    REQUIRE(f.good());
    std::string line;
    REQUIRE(std::getline(f, line));
    std::vector<std::pair<Id, bool>> cols;  // load id, is q
    {
        std::stringstream ss(line);
        std::string h;
        std::getline(ss, h, ',');
        while (std::getline(ss, h, ',')) {
            const std::size_t a = h.find('_'), b = h.find('_', a + 1);
            cols.emplace_back(Id(std::stoll(h.substr(a + 1, b - a - 1))), h.substr(b + 1) == "q_mvar");
        }
    }
    std::map<int, std::map<Id, std::pair<double, double>>> out;
    while (std::getline(f, line)) {
        std::stringstream ss(line);
        std::string v;
        std::getline(ss, v, ',');
        auto& row = out[std::stoi(v)];
        for (const auto& [id, is_q] : cols) {
            REQUIRE(std::getline(ss, v, ','));
            (is_q ? row[id].second : row[id].first) = std::stod(v);
        }
    }
    return out;
}

/// Largest |du| (p.u.) and angle difference (rad, wrapped) of libgrid's solution against PGM's.
std::pair<double, double> max_diff(const Network& net, const PowerFlowResult& r, const std::vector<NodeRef>& ref) {
    double du = 0.0, da = 0.0;
    for (const NodeRef& n : ref) {
        const std::size_t b = net.bus_index(n.node);
        du = std::max(du, std::abs(r.bus_vm_pu[b] - n.u_pu));
        const double d = std::remainder(r.bus_va_deg[b] * std::numbers::pi / 180.0 - n.u_angle_rad, 2.0 * std::numbers::pi);
        da = std::max(da, std::abs(d));
    }
    return {du, da};
}

void check_grid(const std::string& grid, const std::vector<Method>& methods, Method auto_picks) {
    const Network shipped = read_network(kDir + grid + ".input.json");
    const auto ref = read_reference(grid);
    const auto scenarios = read_scenarios(grid);
    REQUIRE(ref.size() == 4);  // base case and scenarios 0, 99, 199
    for (const auto& [s, nodes] : ref) {
        REQUIRE(nodes.size() == shipped.buses.size());
        Network net = shipped;
        if (s >= 0) {
            const auto& row = scenarios.at(s);
            REQUIRE(row.size() == net.loads.size());
            for (Load& l : net.loads) std::tie(l.p_mw, l.q_mvar) = row.at(l.id);
        }
        for (Method m : methods) {
            CAPTURE(grid);
            CAPTURE(s);
            CAPTURE(to_string(m));
            PowerFlowOptions o;
            o.method = m;
            o.tolerance = 1e-10;
            const PowerFlowResult r = run_power_flow(net, o);
            REQUIRE_MESSAGE(r.converged, r.message);
            if (m == Method::Auto) CHECK(r.method_used == auto_picks);
            const auto [du, da] = max_diff(net, r, nodes);
            MESSAGE(grid << " scenario " << s << " " << to_string(r.method_used) << ": max |du| " << du << " p.u., max |dangle| " << da
                          << " rad vs PGM");
            CHECK(du < 1e-6);
            CHECK(da < 1e-6);  // 1e-6 rad: the angle of a 1e-6 p.u. phasor error at 1 p.u.
        }
    }
    // the reference is PGM's source behind its impedance: bus 0 well below the source's 1.05 p.u.
    CHECK(ref.at(-1).front().u_pu < 1.0);
}

}  // namespace

TEST_CASE("pgm reference: radial_1804 as shipped matches power-grid-model's voltages to 1e-6 (NR and sweep)") {
    check_grid("radial_1804", {Method::NewtonRaphson, Method::Sweep, Method::Auto}, Method::Sweep);
}

TEST_CASE("pgm reference: meshed_2605 as shipped matches power-grid-model's voltages to 1e-6 (NR)") {
    check_grid("meshed_2605", {Method::NewtonRaphson, Method::Auto}, Method::NewtonRaphson);
}
