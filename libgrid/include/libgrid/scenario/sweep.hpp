// libgrid scenario layer: sweeps, variants of one base scenario run side by side in this process.
//
//   SweepFile f = load_sweep_file("scenarios/sweep_ev_pv.yaml");        // file:line: key '...': errors
//   auto rows = run_sweep(f.base, f.variants, 2, "out");                 // out/variant_<i>.h5
//   for (const SummaryKpi& k : summary_kpis(rows[0].summary)) ...        // the KPI table
//
// A variant is a list of (scenario key, YAML value) set on the base with override_key, so a sweep is
// validated by the scenario reader itself. Each variant is built and run by run_batch
// (simulation/batch.hpp) on its own thread. `libgrid sweep` and Python's libgrid.sweep (in-process
// variants) use this; Python's Dask path runs the same variants on other processes or machines.
// Schema of sweep files: docs/sweeps.md.
//
// Thread safety (docs/threads.md): run_sweep runs through run_batch (simulation/batch.hpp): variants
// on its own threads, each with its own output file; several sweeps may run at once.
#pragma once

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/batch.hpp>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace libgrid {

/// One variant: (key, YAML value) pairs in the order given. Keys are scenario keys (dotted) or the
/// shortcuts "steps" (horizon.steps) and "size" (network.size).
using SweepVariant = std::vector<std::pair<std::string, std::string>>;

/// The scenario key a variant key sets: "steps" -> "horizon.steps", "size" -> "network.size", else itself.
std::string sweep_key(const std::string& key);

/// The base scenario with outputs.compression_threads = 0 (variants run side by side, one core each;
/// the same bytes either way) and then the variant's keys set, one at a time. A bad key or value
/// throws ValidationError naming the key.
Scenario variant_scenario(const Scenario& base, const SweepVariant& variant);

/// Checks every variant before anything runs: ValidationError "variant 3: key 'devices.ev.shar' =
/// 0.5: ..." for the first bad key or value, or two keys setting one scenario key.
void check_variants(const Scenario& base, const std::vector<SweepVariant>& variants);

/// A parsed and checked sweep file.
struct SweepFile {
    std::string path;                    ///< as given
    std::string name;                    ///< `name`, else the file name without extension
    Scenario base;                       ///< `base` (or inline `scenario`) with `set` applied
    std::vector<SweepVariant> variants;  ///< `grid` (last key fastest) then `variants`; keys as written
    std::string output_dir;              ///< absolute (relative to the sweep file); "" when not given
    int workers = 0;                     ///< 0 when not given
};

/// Reads a sweep file (docs/sweeps.md). ParseError "file:line: key 'grid.seed': ..." for a problem of
/// the file, a value or a variant; the base scenario's own errors name its file, line and key.
SweepFile load_sweep_file(const std::string& path);
/// The same from text; `path` names it in errors and is where a relative `base` is looked for.
SweepFile parse_sweep_file(const std::string& text, const std::string& path);

/// A sweep file's grid may make at most this many variants (ParseError beyond: split the sweep).
inline constexpr std::size_t kMaxSweepVariants = 10000;

/// Runs the variants in this process, `threads` at a time (run_batch). output_dir non-empty: variant i
/// writes <output_dir>/variant_<i>.h5 (an old file of that name is removed first); empty: no files.
/// A variant that fails to build or run keeps its error; the others go on. `stop`: see run_batch.
std::vector<BatchResult> run_sweep(const Scenario& base, const std::vector<SweepVariant>& variants, int threads,
                                   const std::string& output_dir, const std::atomic<int>* stop = nullptr,
                                   const BatchDoneFn& done = {});

/// <output_dir>/variant_<i>.h5
std::string sweep_output(const std::string& output_dir, std::size_t i);

}  // namespace libgrid
