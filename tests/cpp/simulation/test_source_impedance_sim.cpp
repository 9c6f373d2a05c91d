// A time series with the external grid behind a source impedance (ext_grid sk_mva finite, issue 13):
// the energy balance closes with the source impedance's losses (summary losses_source_mwh, not in
// losses_mwh); /ext_grid/p_mw is what leaves the ideal source; checked from the recorded file too.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"
#include "../../regression/cigre_lv_devices.hpp"

#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <cmath>
#include <string>

using namespace libgrid;

namespace {

double row_sum(const std::vector<double>& v, std::size_t row, std::size_t n) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) s += v[row * n + j];
    return s;
}

}  // namespace

TEST_CASE("source impedance in a time series: the energy balance closes with the source impedance's losses") {
    Network net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    REQUIRE(net.ext_grids.size() == 1);
    const double sk = 10.0, rx = 0.5;  // a weak grid (z = 0.1 p.u. on 1 MVA): the source impedance's drop and losses show
    net.ext_grids[0].sk_mva = sk;
    net.ext_grids[0].rx_ratio = rx;
    SimulationOptions opt;
    opt.start = from_civil(2025, 3, 3);
    opt.n_steps = 96;
    opt.output_path = libgrid_test::scratch_path("source_impedance_sim.h5");
    const DeviceSet devices = libgrid_cigre::cigre_lv_devices(net);  // the CIGRE LV year's devices (PV + battery per load)
    const SimulationSummary s = Simulation(net, devices, opt).run();
    CHECK(s.non_converged_steps == 0);
    CHECK(s.energy_balance_max_error_mw < 1e-6);
    CHECK(s.losses_source_mwh > 1e-4);

    // From the file: ext grid + loads + PV + batteries = branch losses + R |I|^2 in the source
    // impedance, with |I| = |S_ext| / vm_pu (p.u. on sn_mva) from the ideal source's own power.
    ResultsReader r(opt.output_path);
    const auto ext_p = r.read_vector("/ext_grid/p_mw"), ext_q = r.read_vector("/ext_grid/q_mvar");
    const auto load = r.read_vector("/load/p_mw"), pv = r.read_vector("/pv/p_mw"), bat = r.read_vector("/battery/p_mw");
    const auto loss = r.read_vector("/branch/p_loss_mw");
    const std::size_t nl = net.loads.size(), nbr = net.lines.size() + net.transformers.size();
    const double z = net.sn_mva / sk, x = z / std::sqrt(1.0 + rx * rx), rr = rx * x, vm = net.ext_grids[0].vm_pu;
    double worst = 0.0, source_mwh = 0.0, import_mwh = 0.0;
    const double dt_h = 0.25;
    for (std::size_t k = 0; k < opt.n_steps; ++k) {
        const double s_pu2 = (ext_p[k] * ext_p[k] + ext_q[k] * ext_q[k]) / (net.sn_mva * net.sn_mva);
        const double source_loss = rr * s_pu2 / (vm * vm) * net.sn_mva;
        const double lhs = ext_p[k] + row_sum(load, k, nl) + row_sum(pv, k, nl) + row_sum(bat, k, nl);
        worst = std::max(worst, std::abs(lhs - row_sum(loss, k, nbr) - source_loss));
        source_mwh += source_loss * dt_h;
        import_mwh += std::max(ext_p[k], 0.0) * dt_h;
    }
    CHECK(worst < 1e-6);
    CHECK(s.losses_source_mwh == doctest::Approx(source_mwh).epsilon(1e-6));
    CHECK(s.import_mwh == doctest::Approx(import_mwh).epsilon(1e-6));  // import counts what leaves the ideal source
    CHECK(r.read_scalar("/summary/losses_source_mwh") == doctest::Approx(s.losses_source_mwh));

    // The same day with an ideal slack: no source losses, a different (stiffer) grid.
    Network ideal = net;
    ideal.ext_grids[0].sk_mva = ExtGrid{}.sk_mva;
    opt.output_path = libgrid_test::scratch_path("source_impedance_sim_ideal.h5");
    const SimulationSummary si = Simulation(ideal, devices, opt).run();
    CHECK(si.losses_source_mwh == 0.0);
    CHECK(si.energy_balance_max_error_mw < 1e-6);
    CHECK(si.min_vm_pu > s.min_vm_pu);
}
