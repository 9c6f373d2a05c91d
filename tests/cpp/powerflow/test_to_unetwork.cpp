// to_unetwork (issue 15): the balanced Network as a three-phase UNetwork. The reference is the
// balanced power flow itself: a balanced network with three-phase balanced loads is the same grid
// in either model, so phase a's voltage must be the balanced bus voltage.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

using namespace libgrid;

namespace {

Network cigre_lv() { return read_network(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

/// Largest |V| and angle difference of phase a (node 1) from the balanced bus voltages.
void compare_phase_a(const Network& net, UNetwork& u, double& dvm, double& dva, UPfResult* out = nullptr) {
    PowerFlowOptions po;
    po.tolerance = 1e-12;
    po.run_controls = false;
    const PowerFlowResult rb = run_power_flow(net, po);
    REQUIRE(rb.converged);
    UPfOptions uo;
    uo.tolerance = 1e-12;
    UPfResult ru = run_unbalanced_pf(u, uo);
    REQUIRE(ru.converged);
    dvm = dva = 0.0;
    int seen = 0;
    for (std::size_t k = 0; k < ru.node.bus.size(); ++k) {
        if (ru.node.phase[k] != 1) continue;
        const UBus& b = u.buses[std::size_t(ru.node.bus[k])];
        const std::size_t i = net.bus_index(b.id);
        dvm = std::max(dvm, std::abs(ru.node.vm_pu[k] - rb.bus_vm_pu[i]));
        double d = ru.node.va_deg[k] - rb.bus_va_deg[i];
        d = std::remainder(d, 360.0);
        dva = std::max(dva, std::abs(d));
        ++seen;
    }
    CHECK(seen == int(net.buses.size()));
    if (out) *out = std::move(ru);
}

}  // namespace

TEST_CASE("to_unetwork: CIGRE LV, three-phase loads, no neutral: phase a = the balanced voltages to 1e-6 p.u.") {
    const Network net = cigre_lv();
    ToUnbalancedOptions o;
    o.model_neutral = false;
    UNetwork u = to_unetwork(net, o);
    CHECK(u.buses.size() == net.buses.size());
    CHECK(u.loads.size() == net.loads.size());
    CHECK(u.transformers.size() == net.transformers.size());
    for (std::size_t i = 0; i < net.lines.size(); ++i) CHECK(u.lines[i].id == net.lines[i].id);
    for (std::size_t i = 0; i < net.loads.size(); ++i) CHECK(u.loads[i].id == net.loads[i].id);
    CHECK(u.vsources[0].id == net.ext_grids[0].id);
    double dvm = 1.0, dva = 1.0;
    compare_phase_a(net, u, dvm, dva);
    CHECK(dvm < 1e-6);
    CHECK(dva < 1e-4);  // degrees: 1e-6 p.u. of arc is 5.7e-5 degrees
}

TEST_CASE("to_unetwork: CIGRE LV with the neutral modelled and three-phase loads: the same voltages") {
    const Network net = cigre_lv();
    UNetwork u = to_unetwork(net, {});
    double dvm = 1.0, dva = 1.0;
    UPfResult r;
    compare_phase_a(net, u, dvm, dva, &r);
    CHECK(dvm < 1e-6);
    CHECK(dva < 1e-4);
    double vuf = 0.0, vn = 0.0;
    for (const UUnbalance& b : r.unbalance) {
        vuf = std::max(vuf, b.vuf_pct);
        if (!std::isnan(b.v_neutral_volts)) vn = std::max(vn, b.v_neutral_volts);
    }
    CHECK(vuf < 1e-6);
    CHECK(vn < 1e-3);  // a balanced load puts no current in the neutral
}

TEST_CASE("to_unetwork: single-phase loads unbalance the CIGRE LV grid and lift its neutral") {
    const Network net = cigre_lv();
    ToUnbalancedOptions o;
    const char* ph[] = {"a", "b", "c"};
    int k = 0;
    for (const Load& l : net.loads)
        if (net.buses[net.bus_index(l.bus)].vn_kv < 1.0 && l.p_mw < 0.02) o.load_phases[l.id] = ph[k++ % 2];  // a and b only
    // (a house-sized load: CIGRE's 49 kW single-phase would pull its phase below 0.6 p.u.)
    REQUIRE(k > 3);
    UNetwork u = to_unetwork(net, o);
    UPfResult r = run_unbalanced_pf(u);
    REQUIRE(r.converged);
    double vuf = 0.0, vn = 0.0;
    for (const UUnbalance& b : r.unbalance) {
        vuf = std::max(vuf, b.vuf_pct);
        if (!std::isnan(b.v_neutral_volts)) vn = std::max(vn, b.v_neutral_volts);
    }
    CHECK(vuf > 0.1);
    CHECK(vn > 0.1);  // volts
    // Power balance: the source gives the loads plus the losses (loads are constant PQ in band).
    double load_kw = 0.0;
    for (const Load& l : net.loads) load_kw += l.p_mw * 1000.0;
    double served_kw = 0.0;
    for (const UElementResult& e : r.element)
        if (e.kind == UElementKind::load)
            for (const cplx& s : e.terminals[0].power_kva) served_kw += s.real();
    CHECK(served_kw == doctest::Approx(load_kw).epsilon(1e-9));
    CHECK(r.source_kva.real() == doctest::Approx(load_kw + r.losses_kva.real()).epsilon(1e-6));
}

TEST_CASE("to_unetwork: vector groups keep the balanced angles (Dyn1 from shift 30, Dyn11, YNyn0)") {
    for (double shift : {30.0, 330.0, 0.0, 150.0, 210.0, 120.0}) {
        CAPTURE(shift);
        Network net = cigre_lv();
        for (Transformer& t : net.transformers) t.shift_deg = shift;
        UNetwork u = to_unetwork(net, {});
        double dvm = 1.0, dva = 1.0;
        compare_phase_a(net, u, dvm, dva);
        CHECK(dvm < 1e-6);
        CHECK(dva < 1e-4);
    }
}

TEST_CASE("to_unetwork: the options' vector group overrides shift_deg; bad input is named") {
    Network net = cigre_lv();
    ToUnbalancedOptions o;
    o.vector_groups[0] = "Dyn11";  // balanced says 30 (Dyn1): the LV of trafo 0 then leads by 60 more
    UNetwork u = to_unetwork(net, o);
    UPfResult r = run_unbalanced_pf(u);
    REQUIRE(r.converged);
    o.vector_groups[0] = "Dyn2";
    CHECK_THROWS_WITH_AS(to_unetwork(net, o), doctest::Contains("transformer id 0: field 'vector_group'"), ValidationError);
    o.vector_groups.clear();
    o.load_phases[3] = "ad";
    CHECK_THROWS_WITH_AS(to_unetwork(net, o), doctest::Contains("load id 3: field 'phases'"), ValidationError);
    o.load_phases.clear();
    net.lines[2].g_us_per_km = 1.0;
    CHECK_THROWS_WITH_AS(to_unetwork(net, o), doctest::Contains("line id 2: field 'g_us_per_km'"), ValidationError);
}

TEST_CASE("to_unetwork: OpenDSS gives the same node voltages on CIGRE LV with single-phase loads and earthed neutrals") {
    const Network net = cigre_lv();
    ToUnbalancedOptions o;
    int k = 0;
    for (const Load& l : net.loads)
        if (net.buses[net.bus_index(l.bus)].vn_kv < 1.0 && l.p_mw < 0.02) o.load_phases[l.id].assign(1, k++ % 2 ? 'b' : 'a');
    UNetwork u = to_unetwork(net, o);
    UPfOptions uo;
    uo.tolerance = 1e-10;
    const UPfResult r = run_unbalanced_pf(u, uo);
    REQUIRE(r.converged);
    std::ifstream in(std::string(LIBGRID_TEST_DATA) + "/opendss_refs/cigre_lv_1ph.csv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    std::size_t rows = 0;
    double worst = 0.0;
    while (std::getline(in, line)) {
        const auto a = line.find(','), b = line.find(',', a + 1);
        const std::string name = line.substr(0, a);
        const auto dot = name.find('.');
        const int bus = u.find_bus(name.substr(0, dot)), node = std::stoi(name.substr(dot + 1));
        REQUIRE(bus >= 0);
        bool found = false;
        for (std::size_t i = 0; i < r.node.bus.size(); ++i)
            if (r.node.bus[i] == bus && r.node.phase[i] == node) {
                worst = std::max(worst, std::abs(r.node.v_volts[i] - cplx(std::stod(line.substr(a + 1, b - a - 1)), std::stod(line.substr(b + 1)))));
                found = true;
            }
        CHECK(found);
        ++rows;
    }
    CHECK(rows == r.node.bus.size());
    CHECK(worst < 1e-4);
}
