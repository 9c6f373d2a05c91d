// math/output.hpp: per-element outputs from a solved state, the functions the one-call power flow
// and the engine share.
#include <doctest/doctest.h>

#include <libgrid/math/output.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>

using namespace libgrid;

namespace {

/// Ext grid at bus 0 (20 kV) -- transformer -- bus 1 (0.4 kV) -- 0.3 km line -- bus 2 with a ZIP load.
Network feeder() {
    Network net;
    net.sn_mva = 1.0;
    net.buses = {Bus{0, "mv", 20.0}, Bus{1, "lv", 0.4}, Bus{2, "end", 0.4}};
    net.ext_grids.push_back(ExtGrid{0, 0, 1.02, 0.0, true});
    Transformer t;
    t.id = 0;
    t.hv_bus = 0;
    t.lv_bus = 1;
    t.sn_mva = 0.4;
    t.vn_hv_kv = 20.0;
    t.vn_lv_kv = 0.4;
    t.vk_percent = 4.0;
    t.vkr_percent = 1.0;
    net.transformers.push_back(t);
    Line l;
    l.id = 0;
    l.from_bus = 1;
    l.to_bus = 2;
    l.length_km = 0.3;
    l.r_ohm_per_km = 0.2;
    l.x_ohm_per_km = 0.08;
    l.c_nf_per_km = 200.0;
    l.max_i_ka = 0.3;
    net.lines.push_back(l);
    Load ld;
    ld.id = 0;
    ld.bus = 2;
    ld.p_mw = 0.12;
    ld.q_mvar = 0.04;
    ld.const_z_p_percent = 30.0;
    ld.const_i_p_percent = 20.0;
    ld.const_i_q_percent = 50.0;
    net.loads.push_back(ld);
    return net;
}

}  // namespace

TEST_CASE("output: ZIP parts add up to the load at 1 p.u. and follow |V| elsewhere") {
    const Load l = feeder().loads[0];
    const ZipParts z = load_zip_parts(l, 0.12, 0.04);
    CHECK((z.p + z.i + z.z).real() == doctest::Approx(0.12).epsilon(1e-15));
    CHECK((z.p + z.i + z.z).imag() == doctest::Approx(0.04).epsilon(1e-15));
    CHECK(z.z.real() == doctest::Approx(0.036));
    const double vm = 0.95;
    const cplx s = load_power_at(l, 0.12, 0.04, vm);
    CHECK(s.real() == doctest::Approx((z.p + z.i * vm + z.z * (vm * vm)).real()).epsilon(1e-14));
    CHECK(s.imag() == doctest::Approx((z.p + z.i * vm + z.z * (vm * vm)).imag()).epsilon(1e-14));
    CHECK(load_power_at(l, 0.12, 0.04, 1.0).real() == doctest::Approx(0.12).epsilon(1e-15));
}

TEST_CASE("output: branch powers, losses, currents, loading and the slack power of a solved feeder") {
    Network net = feeder();
    MathModel m = build_math_model(net);
    std::vector<cplx> V(m.n, cplx(1.0, 0.0));
    for (int i = 0; i < m.n; ++i)
        if (m.node_type[i] == BusType::Slack) V[i] = m.v_set[i];
    NewtonRaphsonSolver nr(LinearSolverKind::SparseLU);
    nr.analyze(m);
    REQUIRE(nr.solve(m, V, 1e-10, 20).converged);
    const double base = net.sn_mva;

    // node flows = what the network takes out = V conj(Ybus V)
    std::vector<cplx> flow, S;
    node_flows(m, V, flow);
    network_injection(m, V, S);
    for (int i = 0; i < m.n; ++i) {
        CHECK(flow[i].real() == doctest::Approx(S[i].real()).epsilon(1e-9));
        CHECK(flow[i].imag() == doctest::Approx(S[i].imag()).epsilon(1e-9));
    }
    // the line: losses positive and equal to from + to; its current from |S| / (sqrt3 |V| kV)
    const BranchY& line = m.branches[m.line_slot[0]];
    const BranchPower s = branch_power(line, V);
    const cplx loss = branch_loss(s, base);
    CHECK(loss.real() > 0.0);
    CHECK(loss.real() == doctest::Approx((s.from + s.to).real() * base));
    const BranchCurrent i = branch_current(m, line, s, V, base);
    CHECK(i.from_ka == doctest::Approx(std::abs(s.from) * base / (std::sqrt(3.0) * std::abs(V[line.f]) * 0.4)));
    CHECK(line_loading_percent(net.lines[0], i) == doctest::Approx(std::max(i.from_ka, i.to_ka) / 0.3 * 100.0));
    // at the far end the line delivers what the load draws at its voltage
    const cplx drawn = load_power_at(net.loads[0], 0.12, 0.04, std::abs(V[line.t]));
    CHECK(-s.to.real() * base == doctest::Approx(drawn.real()).epsilon(1e-8));
    CHECK(-s.to.imag() * base == doctest::Approx(drawn.imag()).epsilon(1e-8));
    // transformer loading: the larger side current over its rated current
    const BranchY& tr = m.branches[m.trafo_slot[0]];
    const BranchCurrent it = branch_current(m, tr, branch_power(tr, V), V, base);
    const Transformer& t = net.transformers[0];
    CHECK(trafo_loading_percent(t, it) ==
          doctest::Approx(std::max(it.from_ka / (0.4 / (std::sqrt(3.0) * 20.0)), it.to_ka / (0.4 / (std::sqrt(3.0) * 0.4))) * 100.0));
    // the ext grid supplies the load plus both branches' losses
    std::vector<double> ext_p(1, 0.0), ext_q(1, 0.0), gen_p;
    const double placed = place_slack_power(m, flow, V, base, ext_p, ext_q, gen_p);
    const double losses = loss.real() + branch_loss(branch_power(tr, V), base).real();
    CHECK(placed == ext_p[0]);
    CHECK(ext_p[0] == doctest::Approx(drawn.real() + losses).epsilon(1e-8));
    CHECK(source_power(m, m.ext_grid_node[0], flow, V, base).imag() == ext_q[0]);
}
