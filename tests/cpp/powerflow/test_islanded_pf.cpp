// Islanded power flow with grid-forming droop sources (docs/microgrid.md): analytic checks of the
// sharing by P-f and Q-V droop, the island frequency, limits, collapse, an island next to a
// grid-connected part, the energy balance, and bad input. Expected values come from the droop
// laws and the result's own losses, not from libgrid's per-unit model.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

Bus bus(Id id, double kv = 0.4) {
    Bus b;
    b.id = id;
    b.vn_kv = kv;
    return b;
}
Line line(Id id, Id f, Id t, double r, double x, double km = 0.2) {
    Line l;
    l.id = id;
    l.from_bus = f;
    l.to_bus = t;
    l.length_km = km;
    l.r_ohm_per_km = r;
    l.x_ohm_per_km = x;
    return l;
}
Load load(Id id, Id b, double p, double q = 0.0) {
    Load l;
    l.id = id;
    l.bus = b;
    l.p_mw = p;
    l.q_mvar = q;
    return l;
}
FormingSource forming(Id id, Id b, double kp, double p0 = 0.0) {
    FormingSource f;
    f.id = id;
    f.bus = b;
    f.kp_mw_per_hz = kp;
    f.p_set_mw = p0;
    return f;
}

/// Three 0.4 kV buses in a line, a forming source at each end (kp 1 and 2 MW/Hz), a load in the
/// middle; purely resistive lines unless x is given.
Network island(double load_mw = 0.1, double load_mvar = 0.0, double x = 0.0) {
    Network n;
    n.sn_mva = 1.0;
    n.f_hz = 50.0;
    for (Id i : {1, 2, 3}) n.buses.push_back(bus(i));
    n.lines.push_back(line(1, 1, 2, 0.2, x));
    n.lines.push_back(line(2, 2, 3, 0.3, x));
    n.loads.push_back(load(1, 2, load_mw, load_mvar));
    n.forming.push_back(forming(10, 1, 1.0));
    n.forming.push_back(forming(11, 3, 2.0));
    return n;
}

PowerFlowOptions tight() {
    PowerFlowOptions o;
    o.tolerance = 1e-12;
    return o;
}

double load_p(const Network& n, const PowerFlowResult& r) {
    double p = 0.0;
    for (std::size_t k = 0; k < n.loads.size(); ++k)
        if (n.loads[k].in_service && r.bus_energized[n.bus_index(n.loads[k].bus)]) p += n.loads[k].p_mw;
    return p;
}

}  // namespace

TEST_CASE("islanded power flow: two forming sources with kp 1:2 share a resistive island's load 1:2") {
    const Network n = island();
    const PowerFlowResult r = run_power_flow(n, tight());
    INFO(r.message, " it=", r.iterations, " mis=", r.max_mismatch);
    REQUIRE(r.converged);
    REQUIRE(r.islands.size() == 1);
    CHECK(r.islands[0].droop);
    CHECK_FALSE(r.islands[0].collapsed);
    CHECK(r.deenergized_buses.empty());
    const double p1 = r.forming_p_mw[0], p2 = r.forming_p_mw[1];
    CHECK(p1 > 0.03);
    CHECK(std::abs(p2 / p1 - 2.0) < 1e-9);  // P0 = 0: P_k = -kp_k df
    // df = -(load + losses - sum P0) / sum kp
    const double df = r.islands[0].frequency_hz - 50.0;
    CHECK(r.losses_mw > 0.0);
    CHECK(std::abs(df - (-(0.1 + r.losses_mw - 0.0) / 3.0)) < 1e-9 * 0.1 / 3.0);
    for (double f : r.bus_frequency_hz) CHECK(f == r.islands[0].frequency_hz);
    // energy balance: sources = load + losses
    CHECK(std::abs(p1 + p2 - (0.1 + r.losses_mw)) < 1e-9);
    CHECK(std::abs(r.islands[0].forming_p_mw - (p1 + p2)) < 1e-12);
}

TEST_CASE("islanded power flow: set points P0 shift the sharing, the change from P0 still goes 1:2") {
    Network n = island(0.2);
    n.forming[0].p_set_mw = 0.05;
    n.forming[1].p_set_mw = 0.02;
    const PowerFlowResult r = run_power_flow(n, tight());
    REQUIRE(r.converged);
    const double d1 = r.forming_p_mw[0] - 0.05, d2 = r.forming_p_mw[1] - 0.02;
    CHECK(std::abs(d2 / d1 - 2.0) < 1e-9);
    const double df = r.islands[0].frequency_hz - 50.0;
    CHECK(std::abs(df - (-(0.2 + r.losses_mw - 0.07) / 3.0)) < 1e-9 * std::abs(df));
    CHECK(std::abs(r.forming_p_mw[0] + r.forming_p_mw[1] - (0.2 + r.losses_mw)) < 1e-9);
}

TEST_CASE("islanded power flow: Q-V droop") {
    Network n = island(0.1, 0.05, 0.08);
    n.forming[0].kq_mvar_per_pu = 1.0;
    n.forming[1].kq_mvar_per_pu = 2.0;
    n.forming[0].q_set_mvar = 0.01;
    n.forming[0].v_set_pu = 1.02;
    n.forming[1].v_set_pu = 1.01;
    const PowerFlowResult r = run_power_flow(n, tight());
    REQUIRE(r.converged);
    const double v1 = r.bus_vm_pu[0], v3 = r.bus_vm_pu[2];
    // Q_k = Q0_k - kq_k (|V_k| - v_set_k), at each source's own bus
    CHECK(std::abs(r.forming_q_mvar[0] - (0.01 - 1.0 * (v1 - 1.02))) < 1e-12);
    CHECK(std::abs(r.forming_q_mvar[1] - (0.0 - 2.0 * (v3 - 1.01))) < 1e-12);
    // reactive balance: sources = load + series reactive losses
    CHECK(std::abs(r.forming_q_mvar[0] + r.forming_q_mvar[1] - (0.05 + r.losses_mvar)) < 1e-9);
    CHECK(std::abs(r.forming_p_mw[1] / r.forming_p_mw[0] - 2.0) < 1e-9);  // P still shared 1:2
    CHECK(r.forming_q_mvar[0] > 0.0);
    CHECK(r.forming_q_mvar[1] > 0.0);
}

TEST_CASE("islanded power flow: a source at p_max holds it and the other takes the rest") {
    Network n = island(0.15);
    n.forming[1].p_max_mw = 0.06;  // the larger-kp source (the angle reference) is limited
    const PowerFlowResult r = run_power_flow(n, tight());
    REQUIRE(r.converged);
    CHECK(r.forming_p_mw[1] == 0.06);
    CHECK(r.forming_p_limit[1] == 1);
    CHECK(r.forming_p_limit[0] == 0);
    const double p1 = r.forming_p_mw[0];
    CHECK(std::abs(p1 + 0.06 - (0.15 + r.losses_mw)) < 1e-9);
    const double df = r.islands[0].frequency_hz - 50.0;
    CHECK(std::abs(df - (-p1 / 1.0)) < 1e-9 * std::abs(df));  // the free source alone sets df
    // and the limited one's droop would give more than its limit
    CHECK(-2.0 * df > 0.06);
}

TEST_CASE("islanded power flow: a source at p_min (a battery charging at its limit) holds it") {
    Network n = island(0.01);
    n.forming[0].p_set_mw = -0.2;  // asked to charge hard
    n.forming[0].p_min_mw = -0.05;
    n.forming[1].p_set_mw = 0.1;
    const PowerFlowResult r = run_power_flow(n, tight());
    REQUIRE(r.converged);
    CHECK(r.forming_p_mw[0] == -0.05);
    CHECK(r.forming_p_limit[0] == -1);
    CHECK(std::abs(r.forming_p_mw[0] + r.forming_p_mw[1] - (0.01 + r.losses_mw)) < 1e-9);
}

TEST_CASE("islanded power flow: all sources at their P limit collapse the island with the cause") {
    Network n = island(0.5);
    n.forming[0].p_max_mw = 0.1;
    n.forming[1].p_max_mw = 0.2;
    // a grid-connected part too, which still solves
    n.buses.push_back(bus(20));
    n.buses.push_back(bus(21));
    n.lines.push_back(line(20, 20, 21, 0.2, 0.1));
    n.loads.push_back(load(20, 21, 0.05));
    ExtGrid e;
    e.id = 1;
    e.bus = 20;
    n.ext_grids.push_back(e);
    const PowerFlowResult r = run_power_flow(n, tight());
    CHECK(r.converged);
    REQUIRE(r.islands.size() == 2);
    const IslandResult& c = r.islands.back();
    CHECK(c.collapsed);
    CHECK(c.bus == 1);
    CHECK(c.n_buses == 3);
    CHECK(std::isnan(c.frequency_hz));
    CHECK(c.cause.find("sources at their P limit: load exceeds 0.3 MW") != std::string::npos);
    CHECK(r.message.find("island of bus 1 collapsed") != std::string::npos);
    CHECK(r.deenergized_buses == std::vector<Id>{1, 2, 3});
    CHECK(std::isnan(r.bus_vm_pu[0]));
    CHECK(r.forming_p_mw[0] == 0.0);
    CHECK(r.forming_p_mw[1] == 0.0);
    CHECK(r.bus_energized[4] == 1);
    CHECK(r.bus_frequency_hz[4] == 50.0);
    CHECK(std::abs(r.ext_grid_p_mw[0] - (0.05 + r.losses_mw)) < 1e-9);
}

TEST_CASE("islanded power flow: a droop island next to a grid-connected part leaves that part as it was") {
    Network grid;
    grid.sn_mva = 1.0;
    for (Id i : {20, 21, 22}) grid.buses.push_back(bus(i));
    grid.lines.push_back(line(20, 20, 21, 0.2, 0.1));
    grid.lines.push_back(line(21, 21, 22, 0.3, 0.1));
    grid.loads.push_back(load(20, 22, 0.08, 0.02));
    FormingSource gf = forming(30, 21, 1.0, 0.03);  // grid-following while connected: P = P0
    gf.q_set_mvar = 0.01;
    grid.forming.push_back(gf);
    ExtGrid e;
    e.id = 1;
    e.bus = 20;
    grid.ext_grids.push_back(e);
    const PowerFlowResult alone = run_power_flow(grid, tight());
    REQUIRE(alone.converged);
    CHECK(alone.forming_p_mw[0] == 0.03);
    CHECK(alone.forming_q_mvar[0] == 0.01);
    CHECK(alone.islands.size() == 1);
    CHECK_FALSE(alone.islands[0].droop);
    CHECK(alone.islands[0].frequency_hz == 50.0);

    Network both = island();
    for (const Bus& b : grid.buses) both.buses.push_back(b);
    for (const Line& l : grid.lines) both.lines.push_back(l);
    for (const Load& l : grid.loads) both.loads.push_back(l);
    both.forming.push_back(gf);
    both.ext_grids = grid.ext_grids;
    const PowerFlowResult r = run_power_flow(both, tight());
    REQUIRE(r.converged);
    REQUIRE(r.islands.size() == 2);
    for (int b = 0; b < 3; ++b) {
        CHECK(std::abs(r.bus_vm_pu[3 + b] - alone.bus_vm_pu[b]) < 1e-12);
        CHECK(std::abs(r.bus_va_deg[3 + b] - alone.bus_va_deg[b]) < 1e-10);
        CHECK(r.bus_frequency_hz[3 + b] == 50.0);
    }
    CHECK(std::abs(r.ext_grid_p_mw[0] - alone.ext_grid_p_mw[0]) < 1e-12);
    CHECK(r.forming_p_mw[2] == 0.03);
    // and the island is the island alone
    const PowerFlowResult isl = run_power_flow(island(), tight());
    CHECK(std::abs(r.forming_p_mw[0] - isl.forming_p_mw[0]) < 1e-12);
    CHECK(std::abs(r.islands[0].frequency_hz - isl.islands[0].frequency_hz) < 1e-12);
    // energy balance over the whole network
    const double src = r.ext_grid_p_mw[0] + r.forming_p_mw[0] + r.forming_p_mw[1] + r.forming_p_mw[2];
    CHECK(std::abs(src - (load_p(both, r) + r.losses_mw)) < 1e-9);
}

TEST_CASE("islanded power flow: the sweep refuses a droop island, auto picks Newton-Raphson") {
    const Network n = island();
    PowerFlowOptions o;
    o.method = Method::Sweep;
    CHECK_THROWS_WITH_AS(run_power_flow(n, o), doctest::Contains("cannot solve a droop island"), ValidationError);
    o.method = Method::FastDecoupledXB;
    CHECK_THROWS_AS(run_power_flow(n, o), ValidationError);
    o.method = Method::Auto;
    const PowerFlowResult r = run_power_flow(n, o);
    CHECK(r.converged);
    CHECK(r.method_used == Method::NewtonRaphson);
}

TEST_CASE("islanded power flow: bad input names the forming source and the field") {
    {
        Network n = island();
        n.forming[1].kp_mw_per_hz = 0.0;
        CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains("forming 11: field 'kp_mw_per_hz'"), ValidationError);
        n.forming[1].kp_mw_per_hz = -1.0;
        CHECK_THROWS_WITH_AS(run_power_flow(n), doctest::Contains("forming 11: field 'kp_mw_per_hz'"), ValidationError);
    }
    {
        Network n = island();
        n.forming[0].bus = 99;
        CHECK_THROWS_WITH_AS(run_power_flow(n), doctest::Contains("forming 10: field 'bus': unknown bus id 99"), IdError);
    }
    {
        Network n = island();
        n.forming[0].p_set_mw = std::nan("");
        CHECK_THROWS_WITH_AS(run_power_flow(n), doctest::Contains("forming 10: field 'p_set_mw'"), ValidationError);
        n.forming[0].p_set_mw = 0.0;
        n.forming[0].p_max_mw = std::nan("");
        CHECK_THROWS_WITH_AS(run_power_flow(n), doctest::Contains("forming 10: field 'p_max_mw'"), ValidationError);
        n.forming[0].p_max_mw = -1.0;
        n.forming[0].p_min_mw = 0.0;
        CHECK_THROWS_WITH_AS(run_power_flow(n), doctest::Contains("forming 10: field 'p_max_mw'"), ValidationError);
    }
    {
        Network n = island();
        n.forming[0].kq_mvar_per_pu = -1.0;
        CHECK_THROWS_WITH_AS(run_power_flow(n), doctest::Contains("forming 10: field 'kq_mvar_per_pu'"), ValidationError);
    }
    {
        Network n = island();
        n.forming.push_back(n.forming[0]);
        CHECK_THROWS_AS(n.validate(), IdError);
    }
    {
        const Network n = island();  // the unbalanced model has no forming sources yet: refused, not dropped
        CHECK_THROWS_WITH_AS(to_unetwork(n), doctest::Contains("forming id 10"), ValidationError);
    }
}

TEST_CASE("islanded power flow: the forming table round-trips through the case JSON") {
    Network n = island();
    n.forming[0].p_min_mw = -0.05;
    n.forming[0].p_max_mw = 0.1;
    n.forming[1].kq_mvar_per_pu = 0.5;
    n.forming[1].name = "battery B";
    const Network back = parse_case_json(to_case_json(n));
    CHECK(back == n);
    CHECK(to_case_json(n).find("\"forming\"") != std::string::npos);
    // no forming source and no ext grid: still "no slack"
    Network dead = island();
    dead.forming.clear();
    CHECK_THROWS_WITH_AS(dead.validate(), doctest::Contains("no slack"), ValidationError);
    // out of service: the island is de-energised when nothing else holds the network up
    Network off = island();
    off.forming[0].in_service = false;
    const PowerFlowResult r = run_power_flow(off, tight());
    CHECK(r.converged);
    CHECK(r.forming_p_mw[0] == 0.0);
    CHECK(std::abs(r.forming_p_mw[1] - (0.1 + r.losses_mw)) < 1e-9);
}

TEST_CASE("islanded power flow: frequency-watt curtails a PV surplus the battery cannot absorb") {
    // One battery (kp 1 MW/Hz) that can charge at 0.05 MW at most, a light load and a PV of
    // 0.2 MW available (sn 0.25 MVA) with IEEE 1547-2018 frequency-watt (deadband 0.036 Hz, 5 %).
    Network n;
    n.sn_mva = 1.0;
    for (Id i : {1, 2}) n.buses.push_back(bus(i));
    n.lines.push_back(line(1, 1, 2, 0.2, 0.05));
    n.loads.push_back(load(1, 2, 0.02));
    FormingSource b = forming(10, 1, 1.0);
    b.p_min_mw = -0.05;
    n.forming.push_back(b);
    SGen pv;
    pv.id = 5;
    pv.bus = 2;
    pv.p_mw = 0.2;
    pv.sn_mva = 0.25;
    pv.fw_enabled = true;
    n.sgens.push_back(pv);
    const PowerFlowResult r = run_power_flow(n, tight());
    REQUIRE(r.converged);
    CHECK(r.forming_p_mw[0] == -0.05);  // charging at its limit
    CHECK(r.forming_p_limit[0] == -1);
    const double p_pv = r.sgen_p_mw[0];
    CHECK(std::abs(p_pv - (0.02 + r.losses_mw + 0.05)) < 1e-9);  // the PV covers load, losses and charging
    // P = P_avail - P_rated (df - db) / (droop f_nom)  =>  df = db + (P_avail - P) droop f_nom / P_rated
    const double df = r.islands[0].frequency_hz - 50.0;
    CHECK(std::abs(df - (0.036 + (0.2 - p_pv) * 0.05 * 50.0 / 0.25)) < 1e-9);
    CHECK(r.bus_p_mw[1] == doctest::Approx(p_pv - 0.02).epsilon(1e-12));
    // without frequency-watt the island cannot be held
    n.sgens[0].fw_enabled = false;
    const PowerFlowResult off = run_power_flow(n, tight());
    REQUIRE(off.islands.size() == 1);
    CHECK(off.islands[0].collapsed);
    CHECK(off.islands[0].cause.find("generation exceeds the 0.05 MW they can absorb") != std::string::npos);
    // grid-connected, frequency-watt does nothing (nominal frequency)
    n.sgens[0].fw_enabled = true;
    ExtGrid e;
    e.id = 1;
    e.bus = 1;
    n.ext_grids.push_back(e);
    const PowerFlowResult con = run_power_flow(n, tight());
    REQUIRE(con.converged);
    CHECK(con.sgen_p_mw[0] == 0.2);
}

TEST_CASE("islanded power flow: per step, one analysis, new set points and limits each solve (the engine's use)") {
    Network n = island(0.1, 0.02, 0.05);
    MathModel m = build_math_model(n);
    NewtonRaphsonSolver nr;
    nr.analyze(m);  // once: the pattern holds whatever the limit states
    std::vector<cplx> V = initial_voltages(n, m, false);
    const double loads[] = {0.1, 0.25, 0.05, 0.3};
    const double pmax[] = {kInf, 0.12, kInf, 0.2};
    for (int step = 0; step < 4; ++step) {
        n.loads[0].p_mw = loads[step];
        n.forming[1].p_max_mw = pmax[step];
        n.forming[0].p_set_mw = 0.01 * step;
        update_injections(n, m);
        const SolveStatus st = nr.solve(m, V, 1e-12, 30);
        INFO("step ", step, " it ", st.iterations, " mis ", st.max_mismatch, " collapsed ", int(nr.island_collapsed()[0]),
             " plim ", int(nr.forming_p_limit()[0]), int(nr.forming_p_limit()[1]));
        REQUIRE(st.converged);
        const PowerFlowResult ref = run_power_flow(n, tight());
        REQUIRE(ref.converged);
        CHECK(std::abs(50.0 + nr.island_df_hz()[0] - ref.islands[0].frequency_hz) < 1e-9);
        CHECK(nr.forming_p_limit()[1] == ref.forming_p_limit[1]);
        for (int b = 0; b < 3; ++b) CHECK(std::abs(std::abs(V[b]) - ref.bus_vm_pu[b]) < 1e-9);
    }
    // a step beyond both sources: the solver reports the island collapsed instead of diverging
    n.loads[0].p_mw = 1.0;
    n.forming[0].p_max_mw = 0.1;
    update_injections(n, m);
    const SolveStatus st = nr.solve(m, V, 1e-12, 30);
    CHECK_FALSE(st.converged);
    CHECK(nr.island_collapsed()[0] == 1);
    // and the next step, back within the sources' reach, solves again from the same solver
    n.loads[0].p_mw = 0.1;
    update_injections(n, m);
    V = initial_voltages(n, m, false);
    CHECK(nr.solve(m, V, 1e-12, 30).converged);
    CHECK(nr.island_collapsed()[0] == 0);
    CHECK(std::abs(50.0 + nr.island_df_hz()[0] - run_power_flow(n, tight()).islands[0].frequency_hz) < 1e-9);
}
