// UPowerFlow (the compiled re-solve) and the reduced fixed point (issue 14, helper h6).
//  - a re-solve after update_loads equals a fresh run_unbalanced_pf on the changed network
//    (EU LV at two times of its load shapes; IEEE 123 with every load scaled, every method);
//  - the reduced fixed point (iteration on the load nodes) equals the full fixed point on the four
//    feeders, and again after a tap move (refactor);
//  - IEEE 13 under static control through UPowerFlow settles on run_unbalanced_pf's taps and answer.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kFeeders = std::string(LIBGRID_TEST_DATA) + "/opendss/";

UNetwork feeder(const std::string& dir, const std::string& script) {
    return read_dss_string(script, dir, kFeeders + dir).net;
}

UNetwork eulv(bool pq) {
    return feeder("eulv", std::string("Compile Master.dss\n") + (pq ? "BatchEdit Load..* vmaxpu=1.2\n" : ""));
}

/// max over nodes of |a - b| / (the node's base; its |a| when it has none)
double max_diff_pu(const UMathModel& m, const std::vector<cplx>& a, const std::vector<cplx>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double vb = std::isfinite(m.node_vbase_v[i]) && m.node_vbase_v[i] > 0 ? m.node_vbase_v[i] : std::max(std::abs(a[i]), 1.0);
        worst = std::max(worst, std::abs(a[i] - b[i]) / vb);
    }
    return worst;
}

UPfOptions options(UMethod method, UControlMode controls = UControlMode::off) {
    UPfOptions opt;
    opt.method = method;
    opt.controls = controls;
    opt.tolerance = 1e-11;
    opt.max_iterations = 300;
    opt.max_control_iterations = 100;
    return opt;
}

}  // namespace

TEST_CASE("UPowerFlow: EU LV re-solved after apply_loadshapes_at equals a fresh solve at each time") {
    for (bool pq : {true, false}) {
        CAPTURE(pq);
        UNetwork net = eulv(pq);
        apply_loadshapes_at(net, 9.0 + 26.0 / 60.0);
        UPowerFlow pf(net, options(UMethod::fixed_point));
        CHECK(pf.reduced());  // 55 load nodes of 2,721
        CHECK(load_node_count(pf.model()) == 55);
        for (double hour : {9.0 + 26.0 / 60.0, 18.5, 3.0}) {
            CAPTURE(hour);
            apply_loadshapes_at(net, hour);
            pf.update_loads();
            const USolveStats st = pf.solve();
            REQUIRE(st.converged);
            UNetwork fresh_net = eulv(pq);
            apply_loadshapes_at(fresh_net, hour);
            const UPfResult fresh = run_unbalanced_pf(fresh_net, options(UMethod::fixed_point));
            REQUIRE(fresh.converged);
            CHECK(max_diff_pu(pf.model(), pf.v(), fresh.node.v_volts) < 1e-9);
            const UPfResult r = pf.result();
            CHECK(std::abs(r.source_kva - fresh.source_kva) < 1e-6 * std::abs(fresh.source_kva));
            CHECK(std::abs(r.losses_kva - fresh.losses_kva) < 1e-6 * std::abs(fresh.losses_kva) + 1e-9);
            REQUIRE(r.element.size() == fresh.element.size());
            double worst = 0.0;
            for (std::size_t e = 0; e < r.element.size(); ++e) {
                REQUIRE(r.element[e].name == fresh.element[e].name);
                for (std::size_t t = 0; t < r.element[e].terminals.size(); ++t) {
                    const auto& a = r.element[e].terminals[t];
                    const auto& b = fresh.element[e].terminals[t];
                    REQUIRE(a.nodes == b.nodes);
                    for (std::size_t c = 0; c < a.power_kva.size(); ++c) worst = std::max(worst, std::abs(a.power_kva[c] - b.power_kva[c]));
                }
            }
            CHECK(worst < 1e-6);  // kVA, on loads of a few kW
        }
    }
}

TEST_CASE("UPowerFlow: IEEE 123 with every load scaled, each method, equals a fresh solve") {
    const std::string script = "Compile IEEE123Master.dss\n";
    for (UMethod method : {UMethod::fixed_point, UMethod::sweep, UMethod::newton, UMethod::automatic}) {
        const std::string mname = to_string(method);
        CAPTURE(mname);
        UNetwork net = feeder("ieee123", script);
        UPowerFlow pf(net, options(method));
        REQUIRE(pf.solve().converged);
        for (ULoad& l : net.loads) {
            l.kw *= 1.3;
            l.kvar *= 0.7;
        }
        pf.update_loads();
        REQUIRE(pf.solve().converged);
        UNetwork fresh_net = feeder("ieee123", script);
        for (ULoad& l : fresh_net.loads) {
            l.kw *= 1.3;
            l.kvar *= 0.7;
        }
        // against a fresh solve by the same method (the methods themselves agree to ~1e-8 on this
        // feeder; Newton-Raphson stops at its rounding floor, a few 1e-9 p.u.)
        const UPfResult fresh = run_unbalanced_pf(fresh_net, options(method));
        REQUIRE(fresh.converged);
        const double tol = pf.method() == UMethod::newton ? 1e-8 : 1e-9;
        CHECK(max_diff_pu(pf.model(), pf.v(), fresh.node.v_volts) < tol);
        // and a cold start gives the same
        pf.reset_start();
        REQUIRE(pf.solve().converged);
        CHECK(max_diff_pu(pf.model(), pf.v(), fresh.node.v_volts) < tol);
    }
}

TEST_CASE("reduced fixed point: the full fixed point's answer on IEEE 13, 34, 123 and EU LV, and after a tap move") {
    struct F {
        std::string dir, script;
    };
    const std::vector<F> feeders = {{"ieee13", "Compile IEEE13Nodeckt.dss\n"},
                                    {"ieee34", "Compile ieee34Mod2.dss\n"},
                                    {"ieee123", "Compile IEEE123Master.dss\n"},
                                    {"eulv", "Compile Master.dss\n"},
                                    {"eulv", "Compile Master.dss\nBatchEdit Load..* vmaxpu=1.2\n"}};
    for (const F& f : feeders) {
        CAPTURE(f.script);
        UNetwork net = feeder(f.dir, f.script);
        if (f.dir == "eulv") apply_loadshapes_at(net, 9.0 + 26.0 / 60.0);
        UMathModel m = build_umath_model(net);
        const USolveOptions so{1e-11, 500};
        auto full = make_usolver(m, UMethod::fixed_point);
        auto red = make_reduced_usolver(m);
        CHECK(red->method() == UMethod::fixed_point);
        std::vector<cplx> vf = m.v_start, vr = m.v_start;
        const USolveStats sf = full->solve(vf, so), sr = red->solve(vr, so);
        REQUIRE(sf.converged);
        REQUIRE(sr.converged);
        CHECK(std::abs(sf.iterations - sr.iterations) <= 1);  // the same iterates; the test reads L only
        CHECK(max_diff_pu(m, vf, vr) < 1e-9);
        if (net.transformers.empty() || net.regcontrols.empty()) continue;
        // move a regulated winding's tap by 3 steps: both refactor and land on the same answer
        const int t = net.regcontrols[0].transformer;
        const int w = net.regcontrols[0].winding - 1;
        net.transformers[std::size_t(t)].windings[std::size_t(w)].tap += 3 * 0.00625;
        update_transformer_yprim(m, net, t);
        full->refactor();
        red->refactor();
        std::vector<cplx> vf0 = vf;
        REQUIRE(full->solve(vf, so).converged);
        REQUIRE(red->solve(vr, so).converged);
        CHECK(max_diff_pu(m, vf, vf0) > 1e-4);  // the tap did move the answer
        CHECK(max_diff_pu(m, vf, vr) < 1e-9);
    }
}

TEST_CASE("UPowerFlow: IEEE 13 under static control settles as run_unbalanced_pf") {
    const std::string script = "Compile IEEE13Nodeckt.dss\nTransformer.Reg1.wdg=2 Tap=1\nTransformer.Reg2.wdg=2 Tap=1\n"
                               "Transformer.Reg3.wdg=2 Tap=1\n";
    UNetwork a = feeder("ieee13", script), b = feeder("ieee13", script);
    const UPfResult ref = run_unbalanced_pf(a, options(UMethod::fixed_point, UControlMode::static_));
    REQUIRE(ref.converged);
    UPowerFlow pf(b, options(UMethod::fixed_point, UControlMode::static_));
    const USolveStats st = pf.solve();
    REQUIRE(st.converged);
    const UPfResult r = pf.result();
    CHECK(r.control_iterations == ref.control_iterations);
    CHECK(r.control_iterations > 1);  // the taps did move
    REQUIRE(r.taps.size() == 3);
    for (std::size_t k = 0; k < r.taps.size(); ++k) {
        CHECK(r.taps[k].position == ref.taps[k].position);
        CHECK(r.taps[k].position != 0);
    }
    CHECK(max_diff_pu(pf.model(), pf.v(), ref.node.v_volts) < 1e-9);
    // solving again from the settled state: no tap moves, the same answer
    const USolveStats again = pf.solve();
    REQUIRE(again.converged);
    CHECK(pf.status().control_iterations == 1);
    CHECK(max_diff_pu(pf.model(), pf.v(), ref.node.v_volts) < 1e-9);
}
