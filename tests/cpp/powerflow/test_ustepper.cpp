// UTimeStepper (issue 15, helper h2): the unbalanced power flow of a time series.
//  - its rows (nodes, branches, transformers, sources, loads, VUF, neutral) equal run_unbalanced_pf's
//    tables (res.node, res.element terminals, res.unbalance) on IEEE 13 (regulators under static
//    control) and the European LV feeder;
//  - a connection injecting P, Q equals the same network with a negative constant-power load
//    (OpenDSS model 1, vminpu = 0, vmaxpu huge) at the same phases (one, two and three phases);
//  - the energy balance and the residual by conductor close;
//  - parse_phases accepts and rejects;
//  - EU LV's day, 1,440 minutes of set_load from the load shapes, converges every minute and minute
//    566 equals run_unbalanced_pf after apply_loadshapes_at(566 / 60).
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/math/umath.hpp>
#include <libgrid/powerflow/ustepper.hpp>

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

UNetwork ieee13() { return feeder("ieee13", "Compile IEEE13Nodeckt.dss\n"); }
UNetwork eulv(double hour) {
    UNetwork net = feeder("eulv", "Compile Master.dss\n");
    apply_loadshapes_at(net, hour);
    return net;
}

/// a equals b to 1e-9 of b's size (1e-9 absolute below 1); NaN equals NaN.
bool same(double a, double b, double rel = 1e-9) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return std::abs(a - b) <= rel * std::max(1.0, std::abs(b));
}

const UElementResult& element_of(const UPfResult& r, UElementKind kind, int index) {
    const auto it = std::find_if(r.element.begin(), r.element.end(),
                                 [&](const UElementResult& e) { return e.kind == kind && e.index == index; });
    REQUIRE(it != r.element.end());
    return *it;
}

/// The stepper's branch rows against the element terminals of a table.
void check_branches(const UTimeStepper& st, const UNetwork& net, const UPfResult& res, double rel = 1e-9) {
    const int nb = st.n_branches();
    REQUIRE(nb == int(net.lines.size() + net.transformers.size()));
    const std::size_t nbs = std::size_t(nb);
    std::vector<double> i(4 * nbs), load(nbs), loss(nbs);
    st.branch_rows(i.data(), load.data(), loss.data());
    int bad = 0;
    for (int b = 0; b < nb; ++b) {
        const bool tr = st.branch_is_transformer(b);
        CHECK(tr == (b >= int(net.lines.size())));
        const UElementResult& e = element_of(res, tr ? UElementKind::transformer : UElementKind::line, st.branch_element(b));
        double want[4] = {NAN, NAN, NAN, NAN};
        const UTerminalResult& t1 = e.terminals[0];
        for (std::size_t c = 0; c < t1.nodes.size(); ++c)
            if (t1.nodes[c] >= 1 && t1.nodes[c] <= 4) want[t1.nodes[c] - 1] = std::abs(t1.current_a[c]);
        double worst = 0.0;  // the largest phase current of a terminal over that terminal's rating
        for (std::size_t t = 0; t < e.terminals.size() && t < 2; ++t) {
            double rating = tr ? 0.0 : net.lines[std::size_t(st.branch_element(b))].norm_amps;
            if (tr) {
                const UTransformer& x = net.transformers[std::size_t(st.branch_element(b))];
                const UWinding& w = x.windings[t];
                rating = w.kva / x.nphases / (x.nphases == 1 ? w.kv : w.kv / std::sqrt(3.0));
                if (t == 0) CHECK(same(st.branch_rated_amps(b), rating));
            }
            for (std::size_t c = 0; c < e.terminals[t].nodes.size(); ++c)
                if (e.terminals[t].nodes[c] >= 1 && e.terminals[t].nodes[c] <= 3)
                    worst = std::max(worst, std::abs(e.terminals[t].current_a[c]) / rating);
        }
        // The stepper computes a capacitance-free line's current as Ys (V1 - V2), the table as
        // Ys V1 - Ys V2, whose own rounding is a few |Ys| |V| eps (2e-6 A on IEEE 13's switch,
        // 2e-9 A on EU LV's dead ends): that is the floor of the comparison.
        double floor_a = 0.0;
        if (!tr) {
            const ULine& ln = net.lines[std::size_t(st.branch_element(b))];
            double vmax = 0.0;
            for (std::size_t k = 0; k < res.node.bus.size(); ++k)
                if (res.node.bus[k] == ln.bus1.bus || res.node.bus[k] == ln.bus2.bus) vmax = std::max(vmax, res.node.vm_volts[k]);
            floor_a = 64.0 * 2.2e-16 * line_yprim(ln, net.settings.base_frequency_hz).cwiseAbs().maxCoeff() * vmax;
        }
        auto close_a = [rel, floor_a](double a, double b) { return same(a, b, rel) || std::abs(a - b) <= floor_a; };
        const double r = tr ? 1.0 : net.lines[std::size_t(st.branch_element(b))].norm_amps;
        bool ok = same(loss[std::size_t(b)], e.losses_kva.real(), rel) &&
                  close_a(load[std::size_t(b)] * r / 100.0, worst * r);
        for (int k = 0; k < 4; ++k) ok = ok && close_a(i[4 * std::size_t(b) + std::size_t(k)], want[k]);
        if (!ok) ++bad;
    }
    CHECK(bad == 0);
}

void check_transformers_sources_loads(const UTimeStepper& st, const UNetwork& net, const UPfResult& res) {
    const std::size_t nt = net.transformers.size();
    std::vector<double> tp(6 * nt), tq(6 * nt);
    st.transformer_rows(tp.data(), tq.data());
    for (std::size_t t = 0; t < nt; ++t) {
        const UElementResult& e = element_of(res, UElementKind::transformer, int(t));
        double p[6] = {0, 0, 0, 0, 0, 0}, q[6] = {0, 0, 0, 0, 0, 0};
        for (std::size_t w = 0; w < 2; ++w)
            for (std::size_t c = 0; c < e.terminals[w].nodes.size(); ++c) {
                const int ph = e.terminals[w].nodes[c];
                if (ph < 1 || ph > 3) continue;
                p[3 * w + std::size_t(ph - 1)] += e.terminals[w].power_kva[c].real();
                q[3 * w + std::size_t(ph - 1)] += e.terminals[w].power_kva[c].imag();
            }
        for (std::size_t k = 0; k < 6; ++k) {
            CHECK(same(tp[6 * t + k], p[k]));
            CHECK(same(tq[6 * t + k], q[k]));
        }
    }
    REQUIRE(st.n_sources() == int(res.source_kva_phase.size()));
    std::vector<double> sp(3 * std::size_t(st.n_sources())), sq(sp.size());
    st.source_rows(sp.data(), sq.data());
    for (std::size_t s = 0; s < res.source_kva_phase.size(); ++s)
        for (std::size_t k = 0; k < 3; ++k) {
            CHECK(same(sp[3 * s + k], res.source_kva_phase[s][k].real()));
            CHECK(same(sq[3 * s + k], res.source_kva_phase[s][k].imag()));
        }
    std::vector<double> lp(net.loads.size()), lq(net.loads.size());
    st.load_rows(lp.data(), lq.data());
    int bad = 0;
    for (std::size_t l = 0; l < net.loads.size(); ++l) {
        cplx s(0.0, 0.0);
        for (const cplx& x : element_of(res, UElementKind::load, int(l)).terminals[0].power_kva) s += x;
        if (!same(lp[l], s.real()) || !same(lq[l], s.imag())) ++bad;
    }
    CHECK(bad == 0);
}

void check_nodes_buses(const UTimeStepper& st, const UNetwork& net, const UPfResult& res) {
    const std::size_t n = std::size_t(st.n_nodes());
    REQUIRE(n == res.node.vm_volts.size());
    std::vector<double> vv(n), pu(n), deg(n);
    st.node_rows(vv.data(), pu.data(), deg.data());
    int bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (st.node_bus(int(i)) != res.node.bus[i] || st.node_conductor(int(i)) != res.node.phase[i]) ++bad;
        if (!same(vv[i], res.node.vm_volts[i]) || !same(pu[i], res.node.vm_pu[i]) || !same(deg[i], res.node.va_deg[i])) ++bad;
        if (!same(st.node_vbase_volts(int(i)) * res.node.vm_pu[i], res.node.vm_volts[i])) ++bad;
    }
    CHECK(bad == 0);
    std::vector<double> vuf(net.buses.size()), vn(net.buses.size());
    st.vuf_rows(vuf.data());
    st.neutral_rows(vn.data());
    std::vector<double> want_vuf(net.buses.size(), NAN), want_vn(net.buses.size(), NAN);
    for (const UUnbalance& u : res.unbalance) {
        want_vuf[std::size_t(u.bus)] = u.vuf_pct;  // to ground: these feeders have no neutral node
        want_vn[std::size_t(u.bus)] = u.v_neutral_volts;
    }
    for (std::size_t b = 0; b < net.buses.size(); ++b) {
        CHECK(same(vuf[b], want_vuf[b]));
        CHECK(same(vn[b], want_vn[b]));
    }
}

/// balance_kw ~ 0 relative to the source power, the residual by conductor too.
void check_balance(const UTimeStepper& st, double source_kw, double rel = 1e-6) {
    double by[4] = {1, 1, 1, 1};
    const double bal = st.balance_kw(by);
    CHECK(std::abs(bal) < rel * std::abs(source_kw));
    for (double r : by) CHECK(std::abs(r) < rel * std::abs(source_kw));
}

void check_against_table(UNetwork a, UNetwork b, const UPfOptions& opt) {
    UTimeStepper st(a, {}, opt);
    REQUIRE(st.solve().converged);
    const UPfResult res = run_unbalanced_pf(b, opt);
    REQUIRE(res.converged);
    check_nodes_buses(st, b, res);
    check_branches(st, b, res);
    check_transformers_sources_loads(st, b, res);
    CHECK(same(st.losses_kw(), res.losses_kva.real()));
    check_balance(st, res.source_kva.real());
    for (std::size_t t = 0; t < a.transformers.size(); ++t)  // the settled taps are back in the caller's network
        for (std::size_t w = 0; w < a.transformers[t].windings.size(); ++w)
            CHECK(a.transformers[t].windings[w].tap == b.transformers[t].windings[w].tap);
}

UPfOptions exact(UMethod method = UMethod::automatic) {
    UPfOptions opt;
    opt.method = method;
    opt.reduced_fixed_point = false;  // run_unbalanced_pf's solver: the same iterates
    return opt;
}

}  // namespace

TEST_CASE("parse_phases: the letters of a, b, c in any case and order; errors name the field") {
    CHECK(parse_phases("a", "pv.1") == std::vector<int>{1});
    CHECK(parse_phases("B", "pv.1") == std::vector<int>{2});
    CHECK(parse_phases("ca", "pv.1") == std::vector<int>{1, 3});
    CHECK(parse_phases("cab", "pv.1") == std::vector<int>{1, 2, 3});
    for (const char* bad : {"", "d", "aa", "abcd", "a b"}) {
        CAPTURE(bad);
        try {
            parse_phases(bad, "pv.roof7");
            FAIL("no error");
        } catch (const ValidationError& e) {
            const std::string what = e.what();
            CHECK(what.find("pv.roof7") != std::string::npos);
            CHECK(what.find("field 'phases'") != std::string::npos);
        }
    }
}

TEST_CASE("UTimeStepper: rows equal run_unbalanced_pf's tables (IEEE 13 under static control, EU LV)") {
    SUBCASE("IEEE 13, automatic") { check_against_table(ieee13(), ieee13(), exact()); }
    SUBCASE("IEEE 13, Newton-Raphson") { check_against_table(ieee13(), ieee13(), exact(UMethod::newton)); }
    SUBCASE("EU LV at 09:26") { check_against_table(eulv(9.0 + 26.0 / 60.0), eulv(9.0 + 26.0 / 60.0), exact()); }
    SUBCASE("EU LV at 09:26, the reduced fixed point (tolerance 1e-12)") {
        UPfOptions opt = exact(UMethod::fixed_point);
        opt.tolerance = 1e-12;
        UPfOptions red = opt;
        red.reduced_fixed_point = true;
        UNetwork a = eulv(9.0 + 26.0 / 60.0), b = a;
        UTimeStepper st(a, {}, red);
        REQUIRE(st.solve().converged);
        const UPfResult res = run_unbalanced_pf(b, opt);
        check_nodes_buses(st, b, res);
        check_branches(st, b, res, 1e-6);  // two solvers: currents through short lines differ by Y dV
        check_transformers_sources_loads(st, b, res);
        check_balance(st, res.source_kva.real());
    }
}

namespace {

/// A negative constant-power load (OpenDSS model 1, vminpu = 0, vmaxpu huge) for a connection.
ULoad negative_load(const UNetwork& net, int bus, const std::vector<int>& phases, double p_kw, double q_kvar) {
    ULoad l;
    l.name = "neg" + std::to_string(bus) + "_" + std::to_string(phases.size());
    l.bus1.bus = bus;
    l.bus1.nodes = phases;
    l.bus1.nodes.push_back(0);
    l.nphases = int(phases.size());
    l.kv = l.nphases == 1 ? net.buses[std::size_t(bus)].kv_base_ll / std::sqrt(3.0) : net.buses[std::size_t(bus)].kv_base_ll;
    l.kw = l.base_kw = -p_kw;
    l.kvar = l.base_kvar = -q_kvar;
    l.model = 1;
    l.vminpu = 0.0;
    l.vmaxpu = 1e9;
    return l;
}

}  // namespace

TEST_CASE("UTimeStepper: a connection injecting P, Q equals a negative constant-power load at its phases") {
    UNetwork net = eulv(9.0 + 26.0 / 60.0);
    calc_voltage_bases(net);
    const int b1 = net.loads[0].bus1.bus;   // LOAD1's bus (phase a)
    const int b2 = net.loads[31].bus1.bus;  // LOAD32's bus
    const int b3 = net.loads[52].bus1.bus;  // LOAD53's bus
    struct C {
        int bus;
        std::vector<int> phases;
        double p, q;
    };
    const std::vector<C> cs = {{b1, {1}, 4.0, 1.5}, {b2, {1, 2, 3}, 12.0, -3.0}, {b3, {2, 3}, 6.0, 2.0}};
    std::vector<UConnection> conns;
    UNetwork ref = net;
    for (const C& c : cs) {
        conns.push_back(UConnection{c.bus, c.phases});
        ref.loads.push_back(negative_load(net, c.bus, c.phases, c.p, c.q));
    }
    UPfOptions opt;
    opt.tolerance = 1e-12;
    UTimeStepper st(net, conns, opt);
    CHECK(st.n_connections() == 3);
    CHECK(st.reduced());  // the reduced fixed point, its load nodes with the connections' (57 of 2,721)
    for (int c = 0; c < 3; ++c) st.set_connection_power(c, cs[std::size_t(c)].p, cs[std::size_t(c)].q);
    REQUIRE(st.solve().converged);
    const UPfResult res = run_unbalanced_pf(ref, opt);
    REQUIRE(res.converged);
    std::vector<double> vv(std::size_t(st.n_nodes())), pu(vv.size()), deg(vv.size());
    st.node_rows(vv.data(), pu.data(), deg.data());
    double worst = 0.0;
    for (std::size_t i = 0; i < vv.size(); ++i) {
        worst = std::max(worst, std::abs(pu[i] - res.node.vm_pu[i]));
        worst = std::max(worst, std::abs(deg[i] - res.node.va_deg[i]) * 0.01);
    }
    CHECK(worst < 1e-9);
    // each connection delivers exactly its power: the negative loads draw -P, -Q at the solved voltages
    for (std::size_t c = 0; c < cs.size(); ++c) {
        cplx s(0.0, 0.0);
        for (const cplx& x : element_of(res, UElementKind::load, int(net.loads.size() + c)).terminals[0].power_kva) s += x;
        CHECK(std::abs(s + cplx(cs[c].p, cs[c].q)) < 1e-9);
    }
    // its voltage: phase a of LOAD1's bus to ground (no neutral node) over the base
    int n1 = -1;
    for (std::size_t i = 0; i < res.node.bus.size(); ++i)
        if (res.node.bus[i] == b1 && res.node.phase[i] == 1) n1 = int(i);
    REQUIRE(n1 >= 0);
    CHECK(std::abs(st.connection_voltage_pu(0) - res.node.v_volts[std::size_t(n1)] / st.node_vbase_volts(n1)) < 1e-9);
    check_balance(st, res.source_kva.real());
    // the sources deliver what the reference's do
    std::vector<double> sp(3), sq(3);
    st.source_rows(sp.data(), sq.data());
    CHECK(std::abs(sp[0] + sp[1] + sp[2] - res.source_kva.real()) < 1e-6);
}

TEST_CASE("UTimeStepper: a three-phase connection's voltage is the positive sequence of its phases") {
    UNetwork net = eulv(12.0);
    calc_voltage_bases(net);
    const int bus = net.transformers[0].windings[1].bus.bus;  // the LV side of the substation
    UTimeStepper st(net, {UConnection{bus, {1, 2, 3}}, UConnection{bus, {1, 3}}});
    REQUIRE(st.solve().converged);
    std::vector<cplx> v;
    double base = 0.0;
    std::vector<double> vv(std::size_t(st.n_nodes())), pu(vv.size()), deg(vv.size());
    st.node_rows(vv.data(), pu.data(), deg.data());
    for (int i = 0; i < st.n_nodes(); ++i)
        if (st.node_bus(i) == bus && st.node_conductor(i) <= 3) {
            v.push_back(std::polar(vv[std::size_t(i)], deg[std::size_t(i)] * M_PI / 180.0));
            base = st.node_vbase_volts(i);
        }
    REQUIRE(v.size() == 3);
    const cplx a = std::polar(1.0, 2.0 * M_PI / 3.0);
    CHECK(std::abs(st.connection_voltage_pu(0) - (v[0] + a * v[1] + a * a * v[2]) / 3.0 / base) < 1e-12);
    CHECK(std::abs(st.connection_voltage_pu(1) - 0.5 * (v[0] + v[2]) / base) < 1e-12);
}

TEST_CASE("UTimeStepper: bad connections are refused naming the connection and the field") {
    UNetwork net = eulv(12.0);
    CHECK_THROWS_WITH_AS(UTimeStepper(net, {UConnection{-1, {1}}}), doctest::Contains("connection 0: field 'bus'"), ValidationError);
    CHECK_THROWS_WITH_AS(UTimeStepper(net, {UConnection{0, {}}}), doctest::Contains("field 'phases'"), ValidationError);
    CHECK_THROWS_WITH_AS(UTimeStepper(net, {UConnection{0, {2, 1}}}), doctest::Contains("field 'phases'"), ValidationError);
    // the source bus of IEEE 13 ("sourcebus") has phases 1..3 but 671's neighbour 684 has no phase 2
    UNetwork n13 = ieee13();
    const int b684 = n13.find_bus("684");
    REQUIRE(b684 >= 0);
    CHECK_THROWS_WITH_AS(UTimeStepper(n13, {UConnection{b684, {2}}}), doctest::Contains("has no node 2"), ValidationError);
}

TEST_CASE("UTimeStepper: EU LV's day, 1,440 minutes of set_load from the load shapes") {
    UNetwork net = feeder("eulv", "Compile Master.dss\n");
    UTimeStepper st(net, {});
    CHECK(st.reduced());
    std::vector<const ULoadShape*> shape(net.loads.size());
    for (std::size_t l = 0; l < net.loads.size(); ++l) shape[l] = load_shape_of(net, net.loads[l]);
    std::vector<double> sp(3 * std::size_t(st.n_sources())), sq(sp.size());
    int failed = 0;
    double max_balance = 0.0;
    for (int minute = 1; minute <= 1440; ++minute) {
        const double hour = minute / 60.0;
        for (std::size_t l = 0; l < net.loads.size(); ++l) {
            double p = 1.0, q = 1.0;
            bool has_q = false;
            REQUIRE(shape[l] != nullptr);
            REQUIRE_FALSE(shape[l]->useactual);
            loadshape_at(*shape[l], hour, p, q, has_q);
            st.set_load(int(l), net.loads[l].base_kw * p, net.loads[l].base_kvar * q);
        }
        if (!st.solve().converged) ++failed;
        double by[4];
        st.source_rows(sp.data(), sq.data());
        max_balance = std::max(max_balance, std::abs(st.balance_kw(by)) / std::abs(sp[0] + sp[1] + sp[2]));
        if (minute != 566) continue;
        UNetwork fresh = feeder("eulv", "Compile Master.dss\n");
        apply_loadshapes_at(fresh, 566 / 60.0);
        const UPfResult res = run_unbalanced_pf(fresh);
        REQUIRE(res.converged);
        for (std::size_t k = 0; k < 3; ++k) {
            CHECK(std::abs(sp[k] - res.source_kva_phase[0][k].real()) < 1e-6 * std::abs(res.source_kva.real()));
            CHECK(std::abs(sq[k] - res.source_kva_phase[0][k].imag()) < 1e-6 * std::abs(res.source_kva.real()));
        }
    }
    CHECK(failed == 0);
    CHECK(max_balance < 1e-6);
}

TEST_CASE("UTimeStepper: a disabled load draws nothing, its set_load is kept aside, the others follow") {
    UNetwork a = eulv(18.0);
    a.loads[4].enabled = false;  // LOAD5
    a.loads[7].vmaxpu = 1.2;     // LOAD8 constant PQ (the feeder runs above 1.05 p.u.)
    UNetwork b = a;
    b.loads[7].kw = 3.5;  // the reference: LOAD8 at 3.5 kW, 1.1 kvar
    b.loads[7].kvar = 1.1;
    UPfOptions opt;
    opt.tolerance = 1e-12;
    UTimeStepper st(a, {}, opt);
    st.set_load(4, 10.0, 2.0);  // no effect: not in the model
    st.set_load(7, 3.5, 1.1);
    REQUIRE(st.solve().converged);
    CHECK_THROWS_AS(st.set_load(int(a.loads.size()), 1.0, 0.0), ValidationError);
    CHECK_THROWS_AS(st.set_connection_power(0, 1.0, 0.0), ValidationError);
    const UPfResult res = run_unbalanced_pf(b, opt);
    REQUIRE(res.converged);
    std::vector<double> lp(a.loads.size()), lq(a.loads.size());
    st.load_rows(lp.data(), lq.data());
    CHECK(lp[4] == 0.0);
    CHECK(lq[4] == 0.0);
    cplx s(0.0, 0.0);
    for (const cplx& x : element_of(res, UElementKind::load, 7).terminals[0].power_kva) s += x;
    CHECK(std::abs(lp[7] - s.real()) < 1e-9);
    CHECK(std::abs(lq[7] - s.imag()) < 1e-9);
    CHECK(std::abs(lp[7] - 3.5) < 1e-9);  // constant PQ inside [vminpu, vmaxpu]: the nominal power
    check_balance(st, res.source_kva.real());
}
