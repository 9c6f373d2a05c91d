/* libgrid's C API (issue 19): a stable C interface to the power flow, scenarios and the
 * time-series simulation, in the shared library libgrid_c (CMake: libgrid::libgrid_c).
 * docs/c_api.md has a complete program, the ownership rules and the versioning policy.
 *
 * Conventions
 *  - Every name starts with lg_ (LG_ for constants). The header is C99; C++ may include it.
 *  - Every function returns an lg_status (LG_OK = 0) unless it says otherwise. On an error the
 *    message is lg_last_error() (thread-local: the last failing call of this thread). No C++
 *    exception leaves the library.
 *  - Handles are opaque and owned by the caller: each lg_*_create / lg_*_read / lg_*_load / run
 *    that gives one out has its lg_*_free. Freeing NULL does nothing. An output handle is set only
 *    when the call returns LG_OK (one exception: lg_powerflow_run also gives its result with
 *    LG_ERR_NOT_CONVERGED, so that the caller can read the iterations and the message).
 *  - Arrays go to caller-owned buffers of `n` values. A buffer smaller than needed gives
 *    LG_ERR_ARGUMENT, the message saying how many values are needed, and nothing is written;
 *    the matching count function gives the size first. Element ids are int64_t.
 *  - Strings given to the library are UTF-8 and NUL-terminated; the library copies what it keeps.
 *    Strings it returns (const char*) stay valid as the function says.
 *  - Units as in the C++ API: network quantities in MW, MVAr, p.u., degrees, percent; customer
 *    devices' set points (battery, PV) in kW. Times are local seconds since 1970-01-01 00:00.
 *
 * Thread safety: one handle is used by one thread at a time (the caller locks if it shares one);
 * independent handles may be used on separate threads at once. lg_simulation_cancel() may be
 * called from any thread while another steps the simulation. lg_last_error() is per thread.
 */
#ifndef LIBGRID_C_H
#define LIBGRID_C_H

#include <stddef.h>
#include <stdint.h>

#include <libgrid/libgrid_c_version.h> /* LIBGRID_VERSION_MAJOR, _MINOR, _PATCH, LG_ABI_VERSION */

#if defined(_WIN32)
#  if defined(LIBGRID_C_BUILDING)
#    define LG_API __declspec(dllexport)
#  else
#    define LG_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define LG_API __attribute__((visibility("default")))
#else
#  define LG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes and errors ------------------------------------------------------------ */

typedef enum lg_status {
    LG_OK = 0,
    LG_ERR_ARGUMENT = 1,       /* a NULL pointer, a bad name or value, a buffer too small */
    LG_ERR_IO = 2,             /* a file could not be opened or parsed (the message names it: file:line) */
    LG_ERR_VALIDATION = 3,     /* a value out of its domain (the message names the element and field) */
    LG_ERR_ID = 4,             /* an unknown element id, or ids that collide */
    LG_ERR_NOT_CONVERGED = 5,  /* a power flow did not converge (lg_powerflow_run: result still given) */
    LG_ERR_SOLVER = 6,         /* the numerical core failed (a singular matrix, ...) */
    LG_ERR_STATE = 7,          /* not possible in the handle's state (step after the end, no results kept) */
    LG_ERR_MEMORY = 8,         /* out of memory */
    LG_ERR_OTHER = 9           /* anything else (the message says what) */
} lg_status;

/* The message of the last call of this thread that failed ("" when none failed yet). Valid until
 * the next failing call on this thread. */
LG_API const char* lg_last_error(void);
/* The status of the last failing call of this thread (LG_OK when none failed yet). */
LG_API lg_status lg_last_status(void);
/* "LG_OK", "LG_ERR_IO", ... (a static string; "LG_ERR_UNKNOWN" for a value not in the enum). */
LG_API const char* lg_status_name(lg_status status);

/* ---- version ----------------------------------------------------------------------------- */

/* The library's version as "MAJOR.MINOR.PATCH" (static string). */
LG_API const char* lg_version(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH of the library (compare with LIBGRID_VERSION_NUMBER). */
LG_API int lg_version_number(void);
/* The ABI version of the library: its SONAME's number (compare with LG_ABI_VERSION). */
LG_API int lg_abi_version(void);
/* True when the library loaded at run time has the ABI this header was written for. */
#define LG_ABI_COMPATIBLE() (lg_abi_version() == LG_ABI_VERSION)

/* ---- element kinds ------------------------------------------------------------------------ */

/* Tables of a network; names in the simulation and results functions: "bus", "branch", "line",
 * "trafo", "load", "gen", "sgen", "storage", "ext_grid", "switch", "shunt". */
typedef enum lg_element {
    LG_BUS = 0,
    LG_BRANCH = 1,    /* MATPOWER branches */
    LG_LINE = 2,
    LG_TRAFO = 3,
    LG_LOAD = 4,
    LG_GEN = 5,
    LG_SGEN = 6,
    LG_STORAGE = 7,
    LG_EXT_GRID = 8,
    LG_SWITCH = 9,
    LG_SHUNT = 10
} lg_element;

/* ---- networks ---------------------------------------------------------------------------- */

typedef struct lg_network lg_network;

/* Reads a network by the file's extension: MATPOWER (.m) or libgrid's network JSON (.json).
 * OpenDSS scripts (.dss) describe unbalanced networks: run them through a scenario
 * (network.file) with lg_scenario_load. LG_ERR_IO names the file (and line) on a bad file. */
LG_API lg_status lg_network_read(const char* path, lg_network** out);
LG_API void lg_network_free(lg_network* net);
/* Number of elements of a kind. */
LG_API lg_status lg_network_count(const lg_network* net, lg_element kind, size_t* count);
/* Their ids, in the network's table order (the order of every per-element array below). */
LG_API lg_status lg_network_ids(const lg_network* net, lg_element kind, int64_t* out, size_t n);
/* Shortcuts: lg_network_count(net, LG_BUS, count), lg_network_ids(net, LG_BUS, out, n). */
LG_API lg_status lg_network_bus_count(const lg_network* net, size_t* count);
LG_API lg_status lg_network_bus_ids(const lg_network* net, int64_t* out, size_t n);
/* The position of element `id` of a kind in its table (LG_ERR_ID when there is none). */
LG_API lg_status lg_network_index(const lg_network* net, lg_element kind, int64_t id, size_t* index);

/* ---- power flow -------------------------------------------------------------------------- */

typedef struct lg_powerflow_result lg_powerflow_result;

/* Flags of lg_powerflow_run. */
#define LG_PF_FLAT_START 1u          /* start from 1 p.u., 0 degrees (else the case's voltages) */
#define LG_PF_ENFORCE_Q_LIMITS 2u    /* generators' reactive limits (PV buses turn PQ) */
#define LG_PF_NO_CONTROLS 4u         /* tap changers and switched shunts stay where they are */

/* A balanced power flow. method: "nr" (Newton-Raphson; also NULL), "fdxb", "dc", "sweep", "auto".
 * tolerance: max mismatch, p.u. (<= 0: 1e-8); max_iterations (<= 0: 30). The result is the
 * caller's (lg_powerflow_free) and independent of `net` afterwards. Returns LG_OK when converged,
 * LG_ERR_NOT_CONVERGED (result given, lg_powerflow_message says why) when not. */
LG_API lg_status lg_powerflow_run(const lg_network* net, const char* method, double tolerance,
                                  int max_iterations, unsigned flags, lg_powerflow_result** out);
LG_API void lg_powerflow_free(lg_powerflow_result* res);
LG_API lg_status lg_powerflow_converged(const lg_powerflow_result* res, int* converged);
LG_API lg_status lg_powerflow_iterations(const lg_powerflow_result* res, int* iterations);
/* Why it failed ("" when it converged). Valid while `res` lives. */
LG_API const char* lg_powerflow_message(const lg_powerflow_result* res);

/* Per-element quantities by name, arrays in the network's table order:
 *   bus:    "bus_vm_pu", "bus_va_deg", "bus_p_mw", "bus_q_mvar" (net injection), "bus_frequency_hz"
 *   branch: "branch_p_from_mw", "branch_q_from_mvar", "branch_p_to_mw", "branch_q_to_mvar",
 *           "branch_loading_percent"
 *   line:   "line_p_from_mw", "line_q_from_mvar", "line_p_to_mw", "line_q_to_mvar", "line_i_from_ka",
 *           "line_i_to_ka", "line_pl_mw", "line_ql_mvar", "line_loading_percent"
 *   trafo:  "trafo_p_hv_mw", "trafo_q_hv_mvar", "trafo_p_lv_mw", "trafo_q_lv_mvar", "trafo_i_hv_ka",
 *           "trafo_i_lv_ka", "trafo_pl_mw", "trafo_ql_mvar", "trafo_loading_percent"
 *   gen:    "gen_p_mw", "gen_q_mvar";  ext_grid: "ext_grid_p_mw", "ext_grid_q_mvar";
 *   sgen:   "sgen_p_mw";  shunt: "shunt_p_mw", "shunt_q_mvar"
 * A de-energised bus has NaN voltage. Unknown name: LG_ERR_ARGUMENT listing the names. */
LG_API lg_status lg_powerflow_size(const lg_powerflow_result* res, const char* quantity, size_t* count);
LG_API lg_status lg_powerflow_get(const lg_powerflow_result* res, const char* quantity, double* out, size_t n);
/* One element's value by its id (the element kind is the quantity's prefix). LG_ERR_ID: no such id. */
LG_API lg_status lg_powerflow_value(const lg_powerflow_result* res, const char* quantity, int64_t id, double* value);
/* Shortcuts of lg_powerflow_get for the bus voltages. */
LG_API lg_status lg_powerflow_bus_vm_pu(const lg_powerflow_result* res, double* out, size_t n);
LG_API lg_status lg_powerflow_bus_va_deg(const lg_powerflow_result* res, double* out, size_t n);
/* Totals by name: "losses_mw" (sum over branches of P_from + P_to), "losses_mvar" (Q_from + Q_to,
 * line charging included, hence often negative), "max_mismatch" (p.u.), "solve_time_s",
 * "ext_grid_p_mw", "gen_p_mw", "sgen_p_mw" (sums, generator convention). */
LG_API lg_status lg_powerflow_total(const lg_powerflow_result* res, const char* name, double* value);

/* ---- scenarios --------------------------------------------------------------------------- */

typedef struct lg_scenario lg_scenario;

/* Reads and validates a scenario file (YAML; docs/scenarios.md). LG_ERR_IO names file:line and key. */
LG_API lg_status lg_scenario_load(const char* path, lg_scenario** out);
LG_API void lg_scenario_free(lg_scenario* sc);
/* Sets one key to a YAML value, as `libgrid run --set key=value` does ("horizon.steps", "96").
 * An unknown key or a bad value gives LG_ERR_VALIDATION naming the key; the scenario is unchanged. */
LG_API lg_status lg_scenario_set(lg_scenario* sc, const char* key, const char* yaml_value);
/* The same from one "key=value" string. */
LG_API lg_status lg_scenario_override(lg_scenario* sc, const char* key_equals_value);

/* ---- simulations (whole or stepped) ------------------------------------------------------ */

typedef struct lg_simulation lg_simulation;

/* Flags of the simulation constructors. */
#define LG_SIM_RESULTS_IN_MEMORY 1u  /* keep every series in memory (the lg_results_* functions) */

/* A simulation of a scenario (built now: its network, devices and options; the scenario may be
 * freed afterwards). output_path: the HDF5 results file, or NULL for none. */
LG_API lg_status lg_simulation_create(const lg_scenario* sc, const char* output_path, unsigned flags,
                                      lg_simulation** out);
/* A simulation of a network alone (no devices; loads stay at their nominal power): n_steps steps of
 * step_s seconds (60 .. 3600, dividing an hour) from `start` (local s, lg_local_time). */
LG_API lg_status lg_simulation_create_from_network(const lg_network* net, int64_t start, int64_t step_s,
                                                   size_t n_steps, const char* output_path, unsigned flags,
                                                   lg_simulation** out);
LG_API void lg_simulation_free(lg_simulation* sim);
/* Local seconds since 1970-01-01 00:00 of a civil date and time (for start and run_until). */
LG_API lg_status lg_local_time(int year, int month, int day, int hour, int minute, int64_t* out);

/* The whole run (start, every step, finish). LG_ERR_STATE when it was stepped or finished already. */
LG_API lg_status lg_simulation_run(lg_simulation* sim);
/* Prepares a stepped run (profiles, devices, the results file); lg_simulation_step calls it if needed. */
LG_API lg_status lg_simulation_start(lg_simulation* sim);
/* Runs the next step. LG_ERR_STATE when every step is done, or the run was finished or cancelled.
 * A step whose power flow does not converge is flagged (lg_simulation_last_step) and is not an error. */
LG_API lg_status lg_simulation_step(lg_simulation* sim);
/* Steps while the next step starts before `t` (local s); *steps_run (may be NULL): how many. */
LG_API lg_status lg_simulation_run_until(lg_simulation* sim, int64_t t, size_t* steps_run);
/* Ends the run: bills, KPIs, the results file closed. Then the lg_summary_* functions answer. */
LG_API lg_status lg_simulation_finish(lg_simulation* sim);
/* From any thread: the run stops at the next step boundary (status "cancelled"). */
LG_API lg_status lg_simulation_cancel(lg_simulation* sim);
/* Steps done; planned steps; the local start time of the next step; every step done (0 / 1). */
LG_API lg_status lg_simulation_steps_done(const lg_simulation* sim, size_t* steps);
LG_API lg_status lg_simulation_total_steps(const lg_simulation* sim, size_t* steps);
LG_API lg_status lg_simulation_next_time(const lg_simulation* sim, int64_t* t);
LG_API lg_status lg_simulation_done(const lg_simulation* sim, int* done);
/* The last step run: its local start time, whether its power flow converged, its iterations
 * (any output may be NULL). LG_ERR_STATE before the first step. */
LG_API lg_status lg_simulation_last_step(const lg_simulation* sim, int64_t* time, int* converged, int* iterations);

/* The elements of the simulation by kind: the network's ("bus", "line", "trafo", "load", "switch",
 * ... as lg_element's names) and the devices' ("battery", "pv"). */
LG_API lg_status lg_simulation_count(const lg_simulation* sim, const char* kind, size_t* count);
LG_API lg_status lg_simulation_ids(const lg_simulation* sim, const char* kind, int64_t* out, size_t n);

/* Set points between steps; they act from the next step on. */
/* A battery's AC power, kW, + discharging, - charging, held until changed (its limits still apply);
 * NaN: back to its own strategy. LG_ERR_ID for an unknown battery. */
LG_API lg_status lg_simulation_set_battery_power(lg_simulation* sim, int64_t battery, double p_kw);
/* A PV unit's AC output cap, kW (>= 0); INFINITY: no cap. */
LG_API lg_status lg_simulation_set_pv_limit(lg_simulation* sim, int64_t pv, double p_max_kw);
/* Opens (0) or closes (1) a switch. */
LG_API lg_status lg_simulation_set_switch(lg_simulation* sim, int64_t sw, int closed);
/* Takes an element in (1) or out (0) of service: "line", "trafo", "load", "sgen", "ext_grid", "pv", "battery". */
LG_API lg_status lg_simulation_set_in_service(lg_simulation* sim, const char* element, int64_t id, int in_service);

/* ---- results kept in memory (LG_SIM_RESULTS_IN_MEMORY; the steps done so far) --------------
 * A series is named by group and name as in the results file (docs/results_hdf5.md): ("bus",
 * "vm_pu"), ("line", "loading_percent"), ("battery", "p_mw"), ("ext_grid", "p_mw"), ... Rows are
 * steps, columns elements (by id) x phases. LG_ERR_STATE when the simulation keeps no results;
 * LG_ERR_ARGUMENT naming "group/name" when the run has no such series. */
#define LG_LAST_ROW ((size_t)-1)
/* The number of series and the i-th one's "group/name" (copied into buf of buf_size bytes). */
LG_API lg_status lg_results_series_count(const lg_simulation* sim, size_t* count);
LG_API lg_status lg_results_series_name(const lg_simulation* sim, size_t i, char* buf, size_t buf_size);
LG_API lg_status lg_results_shape(const lg_simulation* sim, const char* group, const char* name, size_t* rows,
                                  size_t* columns, size_t* phases);
/* The step start times (local s) of the rows. */
LG_API lg_status lg_results_times(const lg_simulation* sim, int64_t* out, size_t n);
/* The columns' element ids. */
LG_API lg_status lg_results_ids(const lg_simulation* sim, const char* group, const char* name, int64_t* out, size_t n);
/* One value: element `id`, row `row` (LG_LAST_ROW: the last step), phase (0 on balanced runs). */
LG_API lg_status lg_results_value(const lg_simulation* sim, const char* group, const char* name, int64_t id,
                                  size_t row, size_t phase, double* value);
/* One row (all columns x phases, row-major as lg_results_ids) or one element's series over the rows. */
LG_API lg_status lg_results_row(const lg_simulation* sim, const char* group, const char* name, size_t row,
                                double* out, size_t n);
LG_API lg_status lg_results_series(const lg_simulation* sim, const char* group, const char* name, int64_t id,
                                   size_t phase, double* out, size_t n);

/* ---- the summary (after lg_simulation_run or lg_simulation_finish) ------------------------ */

/* A KPI by its name (docs/kpis.md: "losses_mwh", "import_mwh", "min_vm_pu", "steps",
 * "energy_balance_max_error_mw", ...; counts as doubles), and "completed" (0 / 1).
 * LG_ERR_STATE before the run ended; LG_ERR_ARGUMENT for an unknown name. */
LG_API lg_status lg_summary_get(const lg_simulation* sim, const char* name, double* value);
/* The summary as JSON text ({"steps", "completed", "kpis": {name: {"value", "unit", "boundary"}}}),
 * NUL-terminated, into buf of buf_size bytes; *needed (may be NULL) gets the size needed,
 * terminator included. buf may be NULL with buf_size 0 to ask for the size only (then LG_OK). */
LG_API lg_status lg_summary_json(const lg_simulation* sim, char* buf, size_t buf_size, size_t* needed);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LIBGRID_C_H */
