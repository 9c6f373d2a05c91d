// Steps a day of the LV feeder (lv_feeder.hpp) as a DERMS or a co-simulation would: at noon it sets
// the prosumer's battery to charge at a fixed power (from the grid as well as the PV) and caps its PV,
// at 14:00 it hands the battery back to its own strategy. The voltages are read in memory (SimulationOptions::results_in_memory);
// the same day is then run again to an HDF5 file written in float64, and the program checks that the
// file holds the in-memory values bit for bit, and that the battery followed its set point.
// Exit code 0 when every check holds, 1 otherwise.
//
//   ex/step_day /tmp/step_day.h5
#include "lv_feeder.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>  // ResultsReader
#include <libgrid/results/results.hpp>       // Results, ResultTable
#include <libgrid/simulation/engine.hpp>     // Simulation, SimulationOptions, StepInfo

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace {

constexpr double kSetPointKw = -2.0;  // kW, generator convention: charge at 2 kW from 12:00 to 14:00
constexpr double kPvCapKw = 2.0;      // kW, PV output cap from 12:00 on

const libgrid::LocalTime kDay = libgrid::from_civil(2025, 6, 2);
const libgrid::LocalTime kNoon = kDay + 12 * 3600, kTwo = kDay + 14 * 3600;

/// One day stepped by hand, with the set points changed between steps.
libgrid::SimulationSummary step_the_day(libgrid::Simulation& sim) {
    sim.start();                       // profiles, devices, the results file
    sim.run_until(kNoon);              // every step that starts before 12:00
    sim.set_battery_power(example::kBatteryId, kSetPointKw);  // from the next step on
    sim.set_pv_limit(example::kPvId, kPvCapKw);
    sim.run_until(kTwo);
    sim.set_battery_power(example::kBatteryId, std::numeric_limits<double>::quiet_NaN());  // own strategy again
    while (!sim.done()) {
        const libgrid::StepInfo st = sim.step();
        if (!st.converged) std::printf("step %zu (%s) did not converge\n", st.step, libgrid::format_iso8601(st.time).c_str());
    }
    return sim.finish();  // KPIs, bills; closes the results file
}

/// The in-memory table `group/name` and the file's dataset, compared bit for bit, column by id.
bool same_bits(const libgrid::Results& mem, const libgrid::ResultsReader& file, const std::string& group, const std::string& name) {
    const libgrid::ResultTable t = mem.table(group, name);
    const std::vector<double> values = file.read_vector("/" + group + "/" + name);
    const std::vector<std::int64_t> ids = file.read_int_vector("/" + group + "/id");
    const std::vector<std::int64_t> time = file.read_int_vector("/time");
    if (time != t.time || values.size() != t.rows() * ids.size() || ids.size() != t.columns()) {
        std::printf("%s/%s: shapes differ (file %zu x %zu, memory %zu x %zu)\n", group.c_str(), name.c_str(), time.size(),
                    ids.size(), t.rows(), t.columns());
        return false;
    }
    std::size_t differ = 0;
    for (std::size_t row = 0; row < t.rows(); ++row)
        for (std::size_t c = 0; c < ids.size(); ++c)
            if (std::bit_cast<std::uint64_t>(values[row * ids.size() + c]) != std::bit_cast<std::uint64_t>(t.at(row, ids[c])))
                ++differ;
    std::printf("%s/%s: %zu values, %zu differ from the file\n", group.c_str(), name.c_str(), values.size(), differ);
    return differ == 0;
}

/// The battery followed the set point from 12:00 to 14:00, unless it was full (SoC at soc_max: then it
/// charges less, never more); the PV stayed under its cap from 12:00 on.
bool followed_set_points(const libgrid::Results& mem, const libgrid::BatteryParams& bp) {
    const libgrid::ResultTable p = mem.table("battery", "p_mw"), soc = mem.table("battery", "soc");
    const libgrid::ResultTable pv = mem.table("pv", "p_mw");
    bool ok = true;
    std::size_t exact = 0;
    for (std::size_t row = 0; row < p.rows(); ++row) {
        const double kw = p.at(row, example::kBatteryId) * 1e3, s = soc.at(row, example::kBatteryId);
        if (p.time[row] >= kNoon && p.time[row] < kTwo) {
            const bool at_set_point = std::abs(kw - kSetPointKw) <= 1e-9;
            const bool full = s >= bp.soc_max - 1e-6 && kw <= 0 && kw > kSetPointKw;
            exact += at_set_point;
            if (!at_set_point && !full) {
                std::printf("%s: battery %.6f kW (SoC %.12f), set point %.1f kW\n", libgrid::format_iso8601(p.time[row]).c_str(), kw, s,
                            kSetPointKw);
                ok = false;
            }
        }
        if (p.time[row] >= kNoon && pv.at(row, example::kPvId) * 1e3 > kPvCapKw + 1e-9) {
            std::printf("%s: PV %.6f kW above its cap\n", libgrid::format_iso8601(p.time[row]).c_str(), pv.at(row, example::kPvId) * 1e3);
            ok = false;
        }
    }
    std::printf("battery at its %.1f kW set point in %zu of the 8 steps from 12:00 to 14:00\n", kSetPointKw, exact);
    return ok && exact > 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT.h5\n", argv[0]);
        return 2;
    }
    try {
        libgrid::SimulationOptions opt;
        opt.start = kDay;
        opt.step_s = 900;
        opt.n_steps = 96;
        const libgrid::DeviceSet devices = example::lv_devices(opt.n_steps);

        // 1. In memory: no file.
        opt.results_in_memory = true;
        libgrid::Simulation sim(example::lv_feeder(), devices, opt);
        const libgrid::SimulationSummary s1 = step_the_day(sim);
        const libgrid::Results& mem = sim.results();
        const libgrid::ResultTable vm = mem.bus_vm_pu();  // rows: steps; columns: bus ids
        for (std::size_t row = 40; row < 64; row += 8)
            std::printf("%s  bus 6 at %.5f p.u.\n", libgrid::format_iso8601(vm.time[row]).c_str(), vm.at(row, example::kProsumerBus));

        // 2. The same day to an HDF5 file, float64 (float32 would round every series to 7 digits).
        opt.results_in_memory = false;
        opt.output_path = argv[1];
        opt.h5.float32 = false;
        libgrid::Simulation sim2(example::lv_feeder(), devices, opt);
        const libgrid::SimulationSummary s2 = step_the_day(sim2);

        const libgrid::ResultsReader file(argv[1]);
        bool ok = s1.completed && s2.completed && s1.non_converged_steps == 0;
        ok = same_bits(mem, file, "bus", "vm_pu") && ok;
        ok = same_bits(mem, file, "battery", "p_mw") && ok;
        ok = followed_set_points(mem, devices.batteries.front().params) && ok;

        // 3. A whole run() with a per-step callback that cancels it at 06:00 (a stop button would call
        // cancel() from another thread): the run ends at the next step boundary, completed = false.
        opt.output_path.clear();
        libgrid::Simulation sim3(example::lv_feeder(), devices, opt);
        const libgrid::SimulationSummary s3 = sim3.run([&sim3](const libgrid::StepInfo& st) {
            if (st.time == kDay + 6 * 3600) sim3.cancel();
        });
        std::printf("cancelled run: %zu of %zu steps, stop_reason \"%s\"\n", s3.steps, s3.planned_steps, s3.stop_reason.c_str());
        ok = !s3.completed && s3.steps < s3.planned_steps && s3.stop_reason == "cancelled" && ok;
        std::printf("%s\n", ok ? "step_day: every check holds" : "step_day: FAILED");
        return ok ? 0 : 1;
    } catch (const libgrid::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
