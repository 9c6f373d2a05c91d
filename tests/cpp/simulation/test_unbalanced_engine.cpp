// The time-series engine on an unbalanced network (issue 15, the grid seam): the European LV
// feeder's day, its loads following their OpenDSS load shapes, through Simulation(UNetwork).
//  - every one of the 1,440 one-minute steps converges and closes the energy balance (total and by
//    conductor) to 1e-6 MW;
//  - at minute 566 the source power equals a fresh run_unbalanced_pf after apply_loadshapes_at(566/60)
//    (OpenDSS's yearly mode evaluates the shapes that way: the reference is independent of the engine);
//  - the results carry PLAN15's layout (/node, per-phase branch currents, /trafo and /ext_grid per phase);
//  - the unbalance KPIs are filled; resume without a checkpoint is refused with a clear error.
#include <doctest/doctest.h>

#include "alloc_counter.hpp"
#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <string>

using namespace libgrid;

namespace {

UNetwork eulv() {
    const std::string dir = std::string(LIBGRID_TEST_DATA) + "/opendss/eulv";
    return read_dss_string("Compile Master.dss\n", "eulv", dir).net;
}

SimulationOptions day_options(MemoryRecorder& rec, std::size_t steps) {
    SimulationOptions opt;
    opt.start = from_civil(2026, 1, 1, 0, 1);  // OpenDSS's first yearly-mode solution: 00:01
    opt.step_s = 60;
    opt.n_steps = steps;
    opt.meter_interval_s = 60;  // bills need meter intervals aligned with the clock: 00:01 is on a 1-minute one
    opt.tolerance = 1e-12;
    opt.recorder = &rec;
    return opt;
}

}  // namespace

TEST_CASE("unbalanced engine: the EU LV day closes its balance every step and matches run_unbalanced_pf at minute 566") {
    MemoryRecorder rec;
    Simulation sim(eulv(), DeviceSet{}, day_options(rec, 1440));
    const SimulationSummary sum = sim.run();
    CHECK(sum.steps == 1440);
    CHECK(sum.non_converged_steps == 0);
    REQUIRE(rec.time().size() == 1440);

    const auto& conv = rec.series("solver/converged");
    const auto& bal = rec.series("solver/energy_balance_mw");
    const auto& bal4 = rec.series("solver/energy_balance_by_conductor_mw");
    REQUIRE(bal4.spec.columns == 4);
    double worst = 0.0, worst4 = 0.0;
    for (std::size_t k = 0; k < 1440; ++k) {
        CHECK(conv.at(k, 0) == 1.0);
        worst = std::max(worst, std::abs(bal.at(k, 0)));
        for (std::size_t c = 0; c < 4; ++c) worst4 = std::max(worst4, std::abs(bal4.at(k, c)));
    }
    CHECK(worst < 1e-6);
    CHECK(worst4 < 1e-6);

    // minute 566 = step 565 (step k is at 00:01 + k min); the reference: OpenDSS's rule on a fresh network
    UNetwork ref = eulv();
    apply_loadshapes_at(ref, 566.0 / 60.0);
    UPfOptions po;
    po.tolerance = 1e-12;
    const UPfResult r = run_unbalanced_pf(ref, po);
    REQUIRE(r.converged);
    const double p_ref_mw = r.source_kva.real() / 1000.0, q_ref_mvar = r.source_kva.imag() / 1000.0;
    const double p_mw = rec.series("ext_grid/p_mw").at(565, 0), q_mvar = rec.series("ext_grid/q_mvar").at(565, 0);
    CHECK(std::abs(p_mw - p_ref_mw) <= 1e-9 * std::abs(p_ref_mw));
    CHECK(std::abs(q_mvar - q_ref_mvar) <= 1e-9 * std::abs(q_ref_mvar) + 1e-12);
    // the per-phase source powers add up to the total
    const double p3 = rec.series("ext_grid/p_a_mw").at(565, 0) + rec.series("ext_grid/p_b_mw").at(565, 0) + rec.series("ext_grid/p_c_mw").at(565, 0);
    CHECK(std::abs(p3 - p_mw) <= 1e-12 + 1e-12 * std::abs(p_mw));

    // the layout: nodes with phases, per-phase branch currents, the transformer per phase, load phases
    CHECK(rec.attributes().at("/@model") == "unbalanced");
    const auto& phase = rec.strings().at("node/phase");
    CHECK(phase.size() == rec.series("node/vm_pu").spec.columns);
    CHECK(std::count(phase.begin(), phase.end(), "a") > 0);
    CHECK(std::count(phase.begin(), phase.end(), "n") == 0);  // EU LV: 3-wire lines, the neutral Kron-reduced
    CHECK(rec.has_series("branch/i_n_ka"));
    CHECK(rec.has_series("trafo/p_a_lv_mw"));
    CHECK(rec.has_series("bus/vuf_percent"));
    CHECK(!rec.has_series("bus/vm_pu"));
    CHECK(rec.strings().at("load/phases").size() == 55);
    // the KPIs: phase-to-neutral voltages near 1 p.u., some unbalance and neutral current on this feeder
    CHECK(sum.min_vm_pu > 0.9);
    CHECK(sum.max_vm_pu < 1.1);
    CHECK(sum.max_vuf_percent > 0.0);
    CHECK(sum.vuf_p95_percent <= sum.max_vuf_percent + 1e-3);
    CHECK(std::isnan(sum.max_neutral_current_a));  // no branch of EU LV has a neutral conductor
    CHECK(std::isnan(rec.series("bus/v_neutral_volts").at(565, 0)));
    CHECK(rec.scalars().count("summary/max_vuf_percent") == 1);
    MESSAGE("EU LV day through the engine: " << sum.wall_time_s << " s wall, " << sum.time_powerflow_s << " s power flow, "
                                              << sum.time_record_s << " s recording (MemoryRecorder), " << sum.time_checkpoint_s
                                              << " s re-deriving the model every 256 steps (resync)");
}

TEST_CASE("unbalanced engine: a load switched off by an event draws nothing") {
    MemoryRecorder rec;
    SimulationOptions opt = day_options(rec, 3);
    DeviceSet dev;
    dev.events.push_back(Event{opt.start + 60, EventKind::OutOfService, "load", 1});  // LOAD1 from the second step
    Simulation(eulv(), dev, opt).run();
    const auto& p = rec.series("load/p_mw");
    CHECK(p.at(0, 0) < 0.0);
    CHECK(p.at(1, 0) == 0.0);
    CHECK(std::abs(rec.series("solver/energy_balance_mw").at(1, 0)) < 1e-6);
    // events on lines, switches and transformers: tests/cpp/simulation/test_unbalanced_reliability.cpp
}

TEST_CASE("unbalanced engine: resume without a checkpoint says so") {
    SimulationOptions opt;
    opt.start = from_civil(2026, 1, 1, 0, 1);
    opt.step_s = 60;
    opt.n_steps = 10;
    opt.resume = true;
    opt.output_path = libgrid_test::scratch_path("never_written_unbalanced.h5");
    CHECK_THROWS_WITH_AS(Simulation(eulv(), DeviceSet{}, opt).run(), doctest::Contains("no checkpoint"), Error);
}

namespace {

/// LOAD1's bus (34), phase a: |V| to ground in p.u. at the one step of a run, and the run's balance.
double load1_phase_a_pu(const DeviceSet& dev, double& balance_mw, double& pv_mw) {
    UNetwork net = eulv();
    MemoryRecorder rec;
    SimulationOptions opt = day_options(rec, 1);
    opt.start = from_civil(2026, 1, 1, 12, 0);
    Simulation sim(std::move(net), dev, opt);
    const SimulationSummary sum = sim.run();
    REQUIRE(sum.non_converged_steps == 0);
    balance_mw = rec.series("solver/energy_balance_mw").at(0, 0);
    pv_mw = rec.has_series("pv/p_mw") ? rec.series("pv/p_mw").at(0, 0) : 0.0;
    const auto& name = rec.strings().at("node/bus_name");
    const auto& phase = rec.strings().at("node/phase");
    for (std::size_t i = 0; i < name.size(); ++i)
        if (name[i] == "34" && phase[i] == "a") return rec.series("node/vm_pu").at(0, i);
    FAIL("no node 34.a");
    return 0.0;
}

}  // namespace

TEST_CASE("unbalanced engine: a PV unit on LOAD1's customer at noon lowers LOAD1's phase-a voltage drop") {
    const UNetwork net = eulv();
    const int bus = net.find_bus("34");
    REQUIRE(bus >= 0);
    REQUIRE(net.loads[0].name == "load1");
    DeviceSet none, pv;
    PvUnit u;
    u.id = 1;
    u.bus = bus + 1;  // ids: index + 1
    u.customer = 1;   // LOAD1 (index 0); phases "": its phase a
    u.params.kwp_dc = 5.0;
    u.params.inverter_kva = 5.0;
    pv.pv.push_back(u);
    double bal0 = 0.0, bal1 = 0.0, p0 = 0.0, p1 = 0.0;
    const double v0 = load1_phase_a_pu(none, bal0, p0);
    const double v1 = load1_phase_a_pu(pv, bal1, p1);
    CHECK(p1 > 0.001);  // > 1 kW at noon
    CHECK(v1 > v0 + 1e-4);
    CHECK(std::abs(bal0) < 1e-6);
    CHECK(std::abs(bal1) < 1e-6);
    // a unit on phases that are none is refused, naming the field
    DeviceSet bad = pv;
    bad.pv[0].customer = -1;
    bad.pv[0].phases.assign(2, 'x');
    double b = 0.0, p = 0.0;
    CHECK_THROWS_WITH_AS(load1_phase_a_pu(bad, b, p), doctest::Contains("'phases'"), ValidationError);
}

TEST_CASE("unbalanced engine: the HDF5 file has PLAN15's layout and passes the structure check") {
    SimulationOptions opt;
    opt.start = from_civil(2026, 1, 1, 0, 1);
    opt.step_s = 60;
    opt.n_steps = 30;
    opt.meter_interval_s = 60;
    opt.output_path = libgrid_test::scratch_path("eulv_30min.h5");
    const SimulationSummary s = Simulation(eulv(), DeviceSet{}, opt).run();
    CHECK(s.non_converged_steps == 0);
    check_results_file(opt.output_path);
    ResultsReader r(opt.output_path);
    const std::vector<std::string> phase = r.read_strings("/node/phase");
    const std::vector<double> vm = r.read_vector("/node/vm_pu");
    REQUIRE(!phase.empty());
    CHECK(vm.size() == 30 * phase.size());
    CHECK(r.read_vector("/branch/i_a_ka").size() == 30 * r.read_strings("/branch/name").size());
    CHECK(r.read_vector("/trafo/p_a_lv_mw").size() == 30);
    CHECK(r.read_vector("/solver/energy_balance_by_conductor_mw").size() == 30 * 4);
    CHECK(r.read_strings("/load/phases").size() == 55);
    CHECK(r.read_scalar("/summary/max_vuf_percent") == doctest::Approx(s.max_vuf_percent));
}

TEST_CASE("unbalanced engine: the step loop allocates nothing (EU LV with a PV unit, shapes refilled in blocks)") {
    const UNetwork net = eulv();
    DeviceSet dev;
    PvUnit u;
    u.id = 1;
    u.bus = net.find_bus("34") + 1;
    u.customer = 1;
    u.params.kwp_dc = 5.0;
    u.params.inverter_kva = 5.0;
    dev.pv.push_back(u);
    SimulationOptions opt;
    opt.start = from_civil(2026, 1, 1, 0, 1);
    opt.step_s = 60;
    opt.n_steps = 200;
    opt.meter_interval_s = 60;
    opt.profile_block_steps = 32;  // blocks refilled inside the counted window
    const bool counting = alloc_counter_active();
    WARN_MESSAGE(counting, "the counting operator new is not active in this binary");
    long at_first = -1, at_last = -1;
    Simulation sim(net, dev, opt);
    const SimulationSummary s = sim.run([&](std::size_t done, std::size_t) {
        if (done == 4) at_first = g_operator_new_calls.load();
        if (done == 200) at_last = g_operator_new_calls.load();
    });
    CHECK(s.non_converged_steps == 0);
    MESSAGE("operator new calls in steps 4..199: " << at_last - at_first << "; no recorder: " << s.wall_time_s << " s wall, "
                                                   << s.time_powerflow_s << " s power flow, " << s.time_record_s << " s recording, "
                                                   << s.time_profiles_s << " s shapes, 200 steps");
    if (counting) CHECK(at_last - at_first == 0);
}

TEST_CASE("unbalanced engine: solver.method is honoured (nr = auto's answer, other iterations; dc refused)") {
    MemoryRecorder ra, rn;
    SimulationOptions oa = day_options(ra, 60), on = day_options(rn, 60);
    on.method = Method::NewtonRaphson;
    const SimulationSummary sa = Simulation(eulv(), DeviceSet{}, oa).run();
    const SimulationSummary sn = Simulation(eulv(), DeviceSet{}, on).run();
    CHECK(sa.non_converged_steps == 0);
    CHECK(sn.non_converged_steps == 0);
    CHECK(sn.powerflow_iterations != sa.powerflow_iterations);  // the reduced fixed point vs Newton-Raphson
    const auto& va = ra.series("node/vm_pu");
    const auto& vn = rn.series("node/vm_pu");
    REQUIRE(va.spec.columns == vn.spec.columns);
    double worst = 0.0;
    for (std::size_t k = 0; k < 60; ++k)
        for (std::size_t j = 0; j < va.spec.columns; ++j) worst = std::max(worst, std::abs(va.at(k, j) - vn.at(k, j)));
    CHECK(worst < 1e-8);
    SimulationOptions od = day_options(ra, 1);
    od.method = Method::DC;
    CHECK_THROWS_WITH_AS(Simulation(eulv(), DeviceSet{}, od).run(), doctest::Contains("field 'method': dc is not available on an unbalanced network"), Error);
}
