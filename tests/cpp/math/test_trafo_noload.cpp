// math/output.hpp trafo_noload_loss: a transformer's losses split into no-load (magnetising, iron)
// and load (series, copper), checked against the physical circuit for the T and the pi model.
#include <doctest/doctest.h>

#include <libgrid/math/output.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>

using namespace libgrid;

namespace {

/// Ext grid at bus 0 (20 kV, 1.02 p.u.) -- 400 kVA transformer with iron losses -- bus 1 (0.4 kV)
/// with a load of p_mw (0: the transformer idles).
Network idle_or_loaded(TrafoModel model, double p_mw) {
    Network net;
    net.sn_mva = 1.0;
    net.trafo_model = model;
    net.buses = {Bus{0, "mv", 20.0}, Bus{1, "lv", 0.4}};
    net.ext_grids.push_back(ExtGrid{0, 0, 1.02, 0.0, true});
    Transformer t;
    t.id = 0;
    t.hv_bus = 0;
    t.lv_bus = 1;
    t.sn_mva = 0.4;
    t.vn_hv_kv = 20.0;
    t.vn_lv_kv = 0.4;
    t.vk_percent = 4.0;
    t.vkr_percent = 1.2;
    t.pfe_kw = 0.9;
    t.i0_percent = 0.6;
    net.transformers.push_back(t);
    Load ld;
    ld.id = 0;
    ld.bus = 1;
    ld.p_mw = p_mw;
    ld.q_mvar = p_mw * 0.3;
    net.loads.push_back(ld);
    return net;
}

struct Split {
    double total_mw, noload_mw, expected_noload_mw;
};

/// Solves, then the no-load loss from trafo_noload_loss and from the circuit: on the system base
/// (1 MVA) the transformer's z = (rk + j xk) * sn_sys / sn, gm = pfe / sn_sys; T model: ym at the
/// middle node vm = vf - I_f z / 2; pi model: ym / 2 at each end.
Split solve_split(TrafoModel model, double p_mw) {
    Network net = idle_or_loaded(model, p_mw);
    MathModel m = build_math_model(net);
    std::vector<cplx> V(m.n, cplx(1.0, 0.0));
    for (int i = 0; i < m.n; ++i)
        if (m.node_type[i] == BusType::Slack) V[i] = m.v_set[i];
    NewtonRaphsonSolver nr(LinearSolverKind::SparseLU);
    nr.analyze(m);
    REQUIRE(nr.solve(m, V, 1e-12, 20).converged);
    const BranchY& br = m.branches[m.trafo_slot[0]];
    const BranchPower s = branch_power(br, V);
    const Transformer& t = net.transformers[0];
    const double to_sys = net.sn_mva / t.sn_mva;
    const double rk = t.vkr_percent / 100.0, xk = std::sqrt(std::pow(t.vk_percent / 100.0, 2) - rk * rk);
    const cplx z = cplx(rk, xk) * to_sys;
    const double gm = t.pfe_kw / 1000.0 / net.sn_mva;
    const cplx vf = V[br.f], vt = V[br.t];
    double expected = 0.0;
    if (model == TrafoModel::T) {
        const cplx i_f = std::conj(s.from / vf);
        expected = gm * std::norm(vf - i_f * z / 2.0) * net.sn_mva;
    } else {
        expected = gm / 2.0 * (std::norm(vf) + std::norm(vt)) * net.sn_mva;
    }
    return {branch_loss(s, net.sn_mva).real(), trafo_noload_loss(br, V, s, net.sn_mva, model == TrafoModel::T), expected};
}

}  // namespace

TEST_CASE("output: a transformer's no-load loss is its magnetising branch's, T and pi model") {
    for (TrafoModel model : {TrafoModel::T, TrafoModel::Pi}) {
        CAPTURE(int(model));
        // idling: the whole loss is (almost) the iron loss, pfe |V|^2
        const Split idle = solve_split(model, 0.0);
        CHECK(idle.noload_mw == doctest::Approx(idle.expected_noload_mw).epsilon(1e-9));
        CHECK(idle.noload_mw == doctest::Approx(0.9e-3 * 1.02 * 1.02).epsilon(2e-3));
        CHECK(idle.total_mw - idle.noload_mw >= 0.0);
        CHECK(idle.total_mw - idle.noload_mw < 1e-4 * idle.noload_mw);  // the magnetising current's copper loss
        // loaded: the no-load loss stays the iron loss at the voltage it sees; the rest is load loss
        const Split loaded = solve_split(model, 0.3);
        CHECK(loaded.noload_mw == doctest::Approx(loaded.expected_noload_mw).epsilon(1e-9));
        CHECK(loaded.noload_mw < idle.noload_mw);  // the LV voltage sags under load
        CHECK(loaded.total_mw - loaded.noload_mw > 10 * (idle.total_mw - idle.noload_mw));
    }
}
