/* The C API (libgrid_c.h) from C99: a power flow against MATPOWER's solution, the error paths, a
 * whole scenario run and a stepped day with a battery set point at noon (issue 19).
 *
 *   test_capi DATA_DIR C_DIR TMP_DIR
 * DATA_DIR: tests/data; C_DIR: tests/c (case9_battery.yaml); TMP_DIR: a scratch folder.
 * Exit 0 when every check holds; each failed check is printed with its line. */
#include <libgrid/libgrid_c.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        ++checks;                                                                                \
        if (!(cond)) {                                                                           \
            ++failures;                                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #cond, \
                    lg_last_error());                                                            \
        }                                                                                        \
    } while (0)
#define CHECK_OK(call) CHECK((call) == LG_OK)
#define CHECK_NEAR(a, b, tol) CHECK(fabs((a) - (b)) <= (tol))

static char g_path[1024];
static const char* path_in(const char* dir, const char* name) {
    snprintf(g_path, sizeof g_path, "%s/%s", dir, name);
    return g_path;
}

/* MATPOWER's solution of case9 (tests/data/refs/case9.json, as the C++ tests use it). */
static const double kCase9Vm[9] = {1.04, 1.025, 1.025, 1.0257883928440104, 1.0126543240177757,
                                   1.0323529490023682, 1.0158825836274992, 1.025769372386454, 0.9956308580482945};
static const double kCase9Va[9] = {0, 9.280005481642794, 4.66475133313676, -2.216787799949791, -3.6873961701570637,
                                   1.966716074449074, 0.7275360768742883, 3.7197011546217587, -3.9888052728514682};
static const double kCase9Pf[3] = {71.6410214744824, 30.70366976230788, -59.46273712586018};
static const double kCase9Losses = 4.641021474482862;

static void test_version(void) {
    CHECK(LG_ABI_COMPATIBLE());
    CHECK(lg_version_number() == LIBGRID_VERSION_NUMBER);
    {
        char expect[32];
        snprintf(expect, sizeof expect, "%d.%d.%d", LIBGRID_VERSION_MAJOR, LIBGRID_VERSION_MINOR, LIBGRID_VERSION_PATCH);
        CHECK(strcmp(lg_version(), expect) == 0);
    }
    CHECK(strcmp(lg_status_name(LG_ERR_ID), "LG_ERR_ID") == 0);
}

static void test_powerflow_case9(const char* data) {
    lg_network* net = NULL;
    lg_powerflow_result* res = NULL;
    size_t nb = 0, nbr = 0, i;
    int64_t bus_ids[9], branch_ids[9];
    double vm[9], va[9], pf[9], x = 0;
    int conv = 0, it = 0;

    CHECK_OK(lg_network_read(path_in(data, "matpower/case9.m"), &net));
    if (!net) return;
    CHECK_OK(lg_network_bus_count(net, &nb));
    CHECK(nb == 9);
    CHECK_OK(lg_network_count(net, LG_BRANCH, &nbr));
    CHECK(nbr == 9);
    CHECK_OK(lg_network_bus_ids(net, bus_ids, 9));
    for (i = 0; i < 9; ++i) CHECK(bus_ids[i] == (int64_t)(i + 1));
    CHECK_OK(lg_network_ids(net, LG_BRANCH, branch_ids, 9));

    CHECK_OK(lg_powerflow_run(net, "nr", 1e-10, 0, 0, &res));
    lg_network_free(net);  /* the result does not need the network */
    if (!res) return;
    CHECK_OK(lg_powerflow_converged(res, &conv));
    CHECK(conv == 1);
    CHECK_OK(lg_powerflow_iterations(res, &it));
    CHECK(it >= 1 && it <= 10);
    CHECK(strcmp(lg_powerflow_message(res), "") == 0);
    CHECK_OK(lg_powerflow_bus_vm_pu(res, vm, 9));
    CHECK_OK(lg_powerflow_bus_va_deg(res, va, 9));
    for (i = 0; i < 9; ++i) {
        CHECK_NEAR(vm[i], kCase9Vm[i], 1e-6);
        CHECK_NEAR(va[i], kCase9Va[i], 1e-5);
    }
    CHECK_OK(lg_powerflow_get(res, "branch_p_from_mw", pf, 9));
    for (i = 0; i < 3; ++i) CHECK_NEAR(pf[i], kCase9Pf[i], 1e-4);
    CHECK_OK(lg_powerflow_value(res, "branch_p_from_mw", branch_ids[1], &x));
    CHECK_NEAR(x, kCase9Pf[1], 1e-4);
    CHECK_OK(lg_powerflow_value(res, "bus_vm_pu", 9, &x));
    CHECK_NEAR(x, kCase9Vm[8], 1e-6);
    CHECK_OK(lg_powerflow_total(res, "losses_mw", &x));
    CHECK_NEAR(x, kCase9Losses, 1e-4);
    {   /* generation = load + losses: slack 71.64 + 163 + 85 = 315 + losses */
        double gen = 0;
        CHECK_OK(lg_powerflow_total(res, "gen_p_mw", &gen));
        CHECK_NEAR(gen, 315.0 + kCase9Losses, 1e-4);
    }

    /* error paths on a result: unknown id, unknown quantity, a buffer too small (nothing written) */
    CHECK(lg_powerflow_value(res, "bus_vm_pu", 42, &x) == LG_ERR_ID);
    CHECK(strstr(lg_last_error(), "42") != NULL);
    CHECK(lg_last_status() == LG_ERR_ID);
    CHECK(lg_powerflow_get(res, "bus_vm", vm, 9) == LG_ERR_ARGUMENT);
    CHECK(strstr(lg_last_error(), "bus_vm_pu") != NULL);  /* the known names are listed */
    vm[0] = -1;
    CHECK(lg_powerflow_bus_vm_pu(res, vm, 8) == LG_ERR_ARGUMENT);
    CHECK(strstr(lg_last_error(), "9 needed") != NULL);
    CHECK(vm[0] == -1);
    CHECK(lg_powerflow_bus_vm_pu(res, NULL, 9) == LG_ERR_ARGUMENT);
    CHECK(lg_powerflow_total(res, "nonsense", &x) == LG_ERR_ARGUMENT);
    lg_powerflow_free(res);
}

static void test_powerflow_case14(const char* data) {
    lg_network* net = NULL;
    lg_powerflow_result* res = NULL;
    double vm = 0, va = 0, losses = 0;
    size_t n = 0;
    CHECK_OK(lg_network_read(path_in(data, "matpower/case14.m"), &net));
    if (!net) return;
    CHECK_OK(lg_powerflow_run(net, "fdxb", 1e-9, 100, 0, &res));
    if (res) {
        CHECK_OK(lg_powerflow_size(res, "bus_vm_pu", &n));
        CHECK(n == 14);
        CHECK_OK(lg_powerflow_value(res, "bus_vm_pu", 4, &vm));
        CHECK_OK(lg_powerflow_value(res, "bus_va_deg", 4, &va));
        CHECK_OK(lg_powerflow_total(res, "losses_mw", &losses));
        CHECK_NEAR(vm, 1.0176708536972445, 1e-6);
        CHECK_NEAR(va, -10.312901092220406, 1e-5);
        CHECK_NEAR(losses, 13.393272357431737, 1e-4);
    }
    lg_powerflow_free(res);
    /* not converged: the status says so, and the result is given for its message and iterations */
    res = NULL;
    CHECK(lg_powerflow_run(net, "nr", 1e-12, 1, LG_PF_FLAT_START, &res) == LG_ERR_NOT_CONVERGED);
    CHECK(res != NULL);
    if (res) {
        int conv = 1;
        CHECK_OK(lg_powerflow_converged(res, &conv));
        CHECK(conv == 0);
    }
    lg_powerflow_free(res);
    res = NULL;
    CHECK(lg_powerflow_run(net, "newtonian", 0, 0, 0, &res) == LG_ERR_ARGUMENT);
    CHECK(strstr(lg_last_error(), "newtonian") != NULL);
    CHECK(res == NULL);
    lg_network_free(net);
}

/* libgrid's network JSON (CIGRE LV: lines, a transformer, an ext grid) through the same calls. */
static void test_json_network(const char* data) {
    lg_network* net = NULL;
    lg_powerflow_result* res = NULL;
    size_t nl = 0, nt = 0, ne = 0, nb = 0;
    double ext = 0, losses = 0, *loading;
    int64_t* line_ids;
    CHECK_OK(lg_network_read(path_in(data, "cigre/cigre_lv.input.json"), &net));
    if (!net) return;
    CHECK_OK(lg_network_bus_count(net, &nb));
    CHECK_OK(lg_network_count(net, LG_LINE, &nl));
    CHECK_OK(lg_network_count(net, LG_TRAFO, &nt));
    CHECK_OK(lg_network_count(net, LG_EXT_GRID, &ne));
    CHECK(nb > 10 && nl > 10 && nt >= 1 && ne == 1);
    CHECK_OK(lg_powerflow_run(net, "auto", 0, 0, 0, &res));
    if (res) {
        loading = (double*)malloc(nl * sizeof(double));
        line_ids = (int64_t*)malloc(nl * sizeof(int64_t));
        if (loading && line_ids) {
            double x = 0;
            CHECK_OK(lg_powerflow_get(res, "line_loading_percent", loading, nl));
            CHECK_OK(lg_network_ids(net, LG_LINE, line_ids, nl));
            CHECK_OK(lg_powerflow_value(res, "line_loading_percent", line_ids[nl - 1], &x));
            CHECK(x == loading[nl - 1] && x >= 0);
        }
        if (loading && line_ids) {
            /* a simulation of the network alone (loads at nominal): its step equals the power flow */
            lg_simulation* sim = NULL;
            int64_t start = 0;
            double x = -1;
            size_t k, worst = 0;
            CHECK_OK(lg_local_time(2025, 1, 6, 0, 0, &start));
            CHECK(lg_simulation_create_from_network(net, start, 7, 2, NULL, 0, &sim) == LG_ERR_VALIDATION);
            CHECK(strstr(lg_last_error(), "step_s") != NULL);
            CHECK_OK(lg_simulation_create_from_network(net, start, 900, 2, NULL, LG_SIM_RESULTS_IN_MEMORY, &sim));
            if (sim) {
                CHECK_OK(lg_simulation_step(sim));
                for (k = 1; k < nl; ++k)
                    if (loading[k] > loading[worst]) worst = k;
                CHECK_OK(lg_results_value(sim, "line", "loading_percent", line_ids[worst], 0, 0, &x));
                CHECK_NEAR(x, loading[worst], 1e-6);
                lg_simulation_free(sim);  /* freed unfinished: allowed */
            }
        }
        free(loading);
        free(line_ids);
        /* the slack supplies the losses and the loads: more than the losses */
        CHECK_OK(lg_powerflow_total(res, "ext_grid_p_mw", &ext));
        CHECK_OK(lg_powerflow_total(res, "losses_mw", &losses));
        CHECK(losses > 0 && ext > losses);
    }
    lg_powerflow_free(res);
    lg_network_free(net);
}

static void test_errors(const char* data, const char* tmp) {
    lg_network* net = (lg_network*)&failures;  /* set to NULL by a failing call */
    lg_scenario* sc = NULL;
    FILE* f;
    /* a file that does not exist: LG_ERR_IO naming it */
    CHECK(lg_network_read("/nonexistent/dir/case_x.m", &net) == LG_ERR_IO);
    CHECK(net == NULL);
    CHECK(strstr(lg_last_error(), "/nonexistent/dir/case_x.m") != NULL);
    /* a file that is not a case: LG_ERR_IO naming the file */
    f = fopen(path_in(tmp, "broken.m"), "w");
    CHECK(f != NULL);
    if (f) {
        fputs("function mpc = broken\nmpc.baseMVA = ;\nmpc.bus = [1 2;\n", f);
        fclose(f);
        CHECK(lg_network_read(path_in(tmp, "broken.m"), &net) == LG_ERR_IO);
        CHECK(strstr(lg_last_error(), "broken.m") != NULL);
    }
    /* an OpenDSS script is an unbalanced network: through a scenario, says the message */
    CHECK(lg_network_read(path_in(data, "opendss/ieee13/IEEE13Nodeckt.dss"), &net) == LG_ERR_ARGUMENT);
    CHECK(strstr(lg_last_error(), "lg_scenario_load") != NULL);
    /* NULL arguments */
    CHECK(lg_network_read(NULL, &net) == LG_ERR_ARGUMENT);
    CHECK(strstr(lg_last_error(), "path") != NULL);
    CHECK(lg_network_read(path_in(data, "matpower/case9.m"), NULL) == LG_ERR_ARGUMENT);
    CHECK(lg_network_bus_count(NULL, NULL) == LG_ERR_ARGUMENT);
    CHECK(lg_network_count(NULL, (lg_element)99, NULL) == LG_ERR_ARGUMENT);
    lg_network_free(NULL);
    lg_powerflow_free(NULL);
    lg_simulation_free(NULL);
    lg_scenario_free(NULL);
    /* a scenario file that does not exist; a bad override */
    CHECK(lg_scenario_load("/nonexistent/scenario.yaml", &sc) == LG_ERR_IO);
    CHECK(strstr(lg_last_error(), "scenario.yaml") != NULL);
    CHECK(sc == NULL);
}

/* The whole scenario run to an HDF5 file, the summary by name and as JSON. */
static void test_scenario_run(const char* cdir, const char* tmp) {
    lg_scenario* sc = NULL;
    lg_simulation* sim = NULL;
    double steps = 0, losses = 0, imp = 0, load = 0, completed = 0;
    size_t need = 0;
    char* json;
    CHECK_OK(lg_scenario_load(path_in(cdir, "case9_battery.yaml"), &sc));
    if (!sc) return;
    CHECK_OK(lg_scenario_set(sc, "horizon.steps", "8"));
    CHECK_OK(lg_scenario_override(sc, "seed=3"));
    CHECK(lg_scenario_set(sc, "devices.pv.shar", "0.5") == LG_ERR_VALIDATION);
    CHECK(strstr(lg_last_error(), "devices.pv.shar") != NULL);
    CHECK(lg_scenario_override(sc, "horizon.steps") == LG_ERR_ARGUMENT);
    CHECK_OK(lg_simulation_create(sc, path_in(tmp, "capi_whole.h5"), 0, &sim));
    lg_scenario_free(sc);  /* the simulation does not need the scenario */
    if (!sim) return;
    CHECK(lg_summary_get(sim, "losses_mwh", &losses) == LG_ERR_STATE);  /* not run yet */
    CHECK_OK(lg_simulation_run(sim));
    CHECK(lg_simulation_run(sim) == LG_ERR_STATE);  /* once */
    CHECK_OK(lg_summary_get(sim, "steps", &steps));
    CHECK(steps == 8);
    CHECK_OK(lg_summary_get(sim, "completed", &completed));
    CHECK(completed == 1);
    CHECK_OK(lg_summary_get(sim, "losses_mwh", &losses));
    CHECK_OK(lg_summary_get(sim, "network_gen_mwh", &imp));  /* case9: generators, no ext grid */
    CHECK_OK(lg_summary_get(sim, "load_mwh", &load));
    CHECK(losses > 0 && load > 0 && imp > load);
    CHECK(lg_summary_get(sim, "losses_gwh", &losses) == LG_ERR_ARGUMENT);
    CHECK(lg_results_series_count(sim, &need) == LG_ERR_STATE);  /* no results kept in memory */
    CHECK_OK(lg_summary_json(sim, NULL, 0, &need));
    CHECK(need > 10);
    CHECK(lg_summary_json(sim, (char*)&steps, 4, NULL) == LG_ERR_ARGUMENT);
    json = (char*)malloc(need);
    if (json) {
        CHECK_OK(lg_summary_json(sim, json, need, NULL));
        CHECK(strstr(json, "\"losses_mwh\"") != NULL);
        CHECK(strstr(json, "\"completed\": true") != NULL);
        free(json);
    }
    lg_simulation_free(sim);
    {   /* the file was written */
        FILE* f = fopen(path_in(tmp, "capi_whole.h5"), "rb");
        CHECK(f != NULL);
        if (f) fclose(f);
    }
}

/* The sum of a result row. */
static double row_sum(const lg_simulation* sim, const char* group, const char* name, size_t row) {
    size_t cols = 0, ph = 0, i;
    double s = 0, *v;
    if (lg_results_shape(sim, group, name, NULL, &cols, &ph) != LG_OK) return NAN;
    v = (double*)malloc((cols * ph + 1) * sizeof(double));
    if (!v) return NAN;
    if (lg_results_row(sim, group, name, row, v, cols * ph) != LG_OK) s = NAN;
    else for (i = 0; i < cols * ph; ++i) s += v[i];
    free(v);
    return s;
}

static void test_stepped_day(const char* cdir) {
    lg_scenario* sc = NULL;
    lg_simulation* sim = NULL;
    int64_t noon = 0, t = 0, bat = 0, bats[16];
    size_t n = 0, nbat = 0, rows = 0, done_steps = 0;
    int conv = 0, done = 0;
    double p_before = 1, p_after = 0, p_free = 1, vm = 0, vm_row[9], err = 0;
    CHECK_OK(lg_scenario_load(path_in(cdir, "case9_battery.yaml"), &sc));
    if (!sc) return;
    CHECK_OK(lg_simulation_create(sc, NULL, LG_SIM_RESULTS_IN_MEMORY, &sim));
    lg_scenario_free(sc);
    if (!sim) return;
    CHECK_OK(lg_simulation_count(sim, "battery", &nbat));
    CHECK(nbat >= 1 && nbat <= 16);
    CHECK(lg_simulation_ids(sim, "battery", bats, 0) == LG_ERR_ARGUMENT);
    CHECK_OK(lg_simulation_ids(sim, "battery", bats, 16));
    bat = bats[0];
    CHECK(lg_simulation_last_step(sim, &t, &conv, NULL) == LG_ERR_STATE);

    /* to noon */
    CHECK_OK(lg_local_time(2025, 3, 3, 12, 0, &noon));
    CHECK_OK(lg_simulation_run_until(sim, noon, &n));
    CHECK(n == 48);
    CHECK_OK(lg_simulation_next_time(sim, &t));
    CHECK(t == noon);
    CHECK_OK(lg_simulation_last_step(sim, &t, &conv, NULL));
    CHECK(t == noon - 900 && conv == 1);
    CHECK_OK(lg_results_value(sim, "battery", "p_mw", bat, LG_LAST_ROW, 0, &p_before));
    CHECK(p_before == 0.0);  /* idle */
    CHECK_OK(lg_results_value(sim, "bus", "vm_pu", 5, LG_LAST_ROW, 0, &vm));
    CHECK(vm > 0.9 && vm < 1.1);
    CHECK_OK(lg_results_row(sim, "bus", "vm_pu", LG_LAST_ROW, vm_row, 9));
    CHECK(vm_row[4] == vm);  /* bus 5 is the fifth column */
    CHECK(lg_results_value(sim, "bus", "vm_pu", 77, LG_LAST_ROW, 0, &vm) == LG_ERR_ID);
    CHECK(lg_results_value(sim, "bus", "vm", 5, 0, 0, &vm) == LG_ERR_ARGUMENT);
    CHECK(lg_results_row(sim, "bus", "vm_pu", LG_LAST_ROW, vm_row, 3) == LG_ERR_ARGUMENT);

    /* a set point at noon: charge at 2 kW (generator convention: negative) */
    CHECK(lg_simulation_set_battery_power(sim, 987654, -2.0) == LG_ERR_ID);
    CHECK_OK(lg_simulation_set_battery_power(sim, bat, -2.0));
    CHECK_OK(lg_simulation_step(sim));
    CHECK_OK(lg_results_value(sim, "battery", "p_mw", bat, LG_LAST_ROW, 0, &p_after));
    CHECK_NEAR(p_after, -0.002, 1e-9);
    /* the energy balance of the step: ext grid + every element's P = branch losses (engine.hpp) */
    CHECK_OK(lg_results_shape(sim, "bus", "vm_pu", &rows, NULL, NULL));
    CHECK(rows == 49);
    {
        const double ext = row_sum(sim, "ext_grid", "p_mw", LG_LAST_ROW);
        const double loads = row_sum(sim, "load", "p_mw", LG_LAST_ROW);
        const double pv = row_sum(sim, "pv", "p_mw", LG_LAST_ROW);
        const double bats = row_sum(sim, "battery", "p_mw", LG_LAST_ROW);
        const double gens = row_sum(sim, "gen", "p_mw", LG_LAST_ROW);
        const double losses = row_sum(sim, "branch", "p_loss_mw", LG_LAST_ROW);
        fprintf(stderr, "noon step: ext %.6f loads %.6f pv %.6f battery %.6f gen %.6f losses %.6f MW\n", ext, loads, pv,
                bats, gens, losses);
        /* case9 has generators and no ext grid: a group the network lacks is not recorded */
        CHECK(isnan(ext) && lg_last_status() == LG_ERR_ARGUMENT);
        CHECK(!isnan(loads + pv + bats + gens + losses) && pv > 0 && loads < 0);
        CHECK_NEAR(loads + pv + bats + gens, losses, 1e-6);
    }
    {   /* the whole series of bus 5 and the times of the rows */
        double series[49];
        int64_t times[49];
        char name[64];
        size_t ns = 0, k, found = 0;
        CHECK_OK(lg_results_series(sim, "bus", "vm_pu", 5, 0, series, 49));
        CHECK_OK(lg_results_times(sim, times, 49));
        CHECK(times[0] == noon - 48 * 900 && times[48] == noon);
        CHECK_OK(lg_results_value(sim, "bus", "vm_pu", 5, 48, 0, &vm));
        CHECK(series[48] == vm);
        CHECK_OK(lg_results_series_count(sim, &ns));
        for (k = 0; k < ns; ++k)
            if (lg_results_series_name(sim, k, name, sizeof name) == LG_OK && strcmp(name, "battery/p_mw") == 0) ++found;
        CHECK(found == 1);
        CHECK(lg_results_series_name(sim, 0, name, 2) == LG_ERR_ARGUMENT);
    }
    /* back to its own strategy (idle): 0 again */
    CHECK_OK(lg_simulation_set_battery_power(sim, bat, NAN));
    CHECK_OK(lg_simulation_step(sim));
    CHECK_OK(lg_results_value(sim, "battery", "p_mw", bat, LG_LAST_ROW, 0, &p_free));
    CHECK(p_free == 0.0);
    {   /* a PV cap of 0 and a load out of service for one step; unknown ids are LG_ERR_ID */
        int64_t pv_id = 0, load_ids[3];
        size_t npv = 0, nload = 0;
        double pv_p = -1, load_p = -1, pv_before = 0;
        CHECK_OK(lg_simulation_count(sim, "pv", &npv));
        CHECK_OK(lg_simulation_count(sim, "load", &nload));
        CHECK(npv == 3 && nload == 3);
        CHECK_OK(lg_simulation_ids(sim, "load", load_ids, 3));
        CHECK_OK(lg_simulation_ids(sim, "pv", bats, 16));
        pv_id = bats[0];
        CHECK_OK(lg_results_value(sim, "pv", "p_mw", pv_id, LG_LAST_ROW, 0, &pv_before));
        CHECK(pv_before > 0);
        CHECK_OK(lg_simulation_set_pv_limit(sim, pv_id, 0.0));
        CHECK_OK(lg_simulation_set_in_service(sim, "load", load_ids[1], 0));
        CHECK(lg_simulation_set_switch(sim, 4242, 0) == LG_ERR_ID);
        CHECK(lg_simulation_set_in_service(sim, "line", 4242, 0) == LG_ERR_ID);
        CHECK(lg_simulation_set_in_service(sim, NULL, 1, 0) == LG_ERR_ARGUMENT);
        CHECK_OK(lg_simulation_step(sim));
        CHECK_OK(lg_results_value(sim, "pv", "p_mw", pv_id, LG_LAST_ROW, 0, &pv_p));
        CHECK_OK(lg_results_value(sim, "load", "p_mw", load_ids[1], LG_LAST_ROW, 0, &load_p));
        CHECK(pv_p == 0.0);
        CHECK(load_p == 0.0);
        CHECK_OK(lg_simulation_set_pv_limit(sim, pv_id, INFINITY));
        CHECK_OK(lg_simulation_set_in_service(sim, "load", load_ids[1], 1));
        CHECK_OK(lg_simulation_step(sim));
        CHECK_OK(lg_results_value(sim, "pv", "p_mw", pv_id, LG_LAST_ROW, 0, &pv_p));
        CHECK_OK(lg_results_value(sim, "load", "p_mw", load_ids[1], LG_LAST_ROW, 0, &load_p));
        CHECK(pv_p > 0 && load_p < 0);
    }

    /* to the end, then the summary */
    CHECK_OK(lg_local_time(2025, 3, 4, 0, 0, &t));
    CHECK_OK(lg_simulation_run_until(sim, t, &n));
    CHECK(n == 44);
    CHECK_OK(lg_simulation_done(sim, &done));
    CHECK(done == 1);
    CHECK(lg_simulation_step(sim) == LG_ERR_STATE);
    CHECK_OK(lg_simulation_steps_done(sim, &done_steps));
    CHECK(done_steps == 96);
    CHECK_OK(lg_simulation_finish(sim));
    CHECK_OK(lg_summary_get(sim, "energy_balance_max_error_mw", &err));
    CHECK(err < 1e-6);
    CHECK_OK(lg_summary_get(sim, "battery_charged_mwh", &err));
    CHECK_NEAR(err, 0.002 * 0.25, 1e-6);  /* one step of 2 kW */
    CHECK(lg_simulation_set_battery_power(sim, bat, 1.0) == LG_ERR_STATE);  /* ended */
    lg_simulation_free(sim);
}

/* Independent handles on separate threads: each thread reads case14, runs power flows and provokes
 * an error of its own; the results equal the serial run's bit for bit, the messages are per thread. */
typedef struct {
    const char* path;
    int64_t bad_id;
    double vm[14];
    int ok;
} thread_job;

static void* thread_main(void* arg) {
    thread_job* job = (thread_job*)arg;
    lg_network* net = NULL;
    lg_powerflow_result* res = NULL;
    double x = 0;
    int round, own_message = 1;
    char expect[32];
    job->ok = 0;
    if (lg_network_read(job->path, &net) != LG_OK) return NULL;
    snprintf(expect, sizeof expect, "id %lld", (long long)job->bad_id);
    for (round = 0; round < 20; ++round) {
        lg_powerflow_free(res);
        res = NULL;
        if (lg_powerflow_run(net, "nr", 1e-10, 0, 0, &res) != LG_OK) break;
        if (lg_powerflow_value(res, "bus_vm_pu", job->bad_id, &x) != LG_ERR_ID) own_message = 0;
        if (!strstr(lg_last_error(), expect)) own_message = 0;
    }
    if (res && lg_powerflow_bus_vm_pu(res, job->vm, 14) == LG_OK && round == 20) job->ok = own_message;
    lg_powerflow_free(res);
    lg_network_free(net);
    return NULL;
}

static void test_threads(const char* data) {
    thread_job jobs[3];
    pthread_t th[3];
    int i, k, started[3];
    char path[1024];
    snprintf(path, sizeof path, "%s/matpower/case14.m", data);
    for (i = 0; i < 3; ++i) {
        jobs[i].path = path;
        jobs[i].bad_id = 1000 + i;
    }
    thread_main(&jobs[0]);  /* serial reference */
    CHECK(jobs[0].ok);
    for (i = 1; i < 3; ++i) started[i] = pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0;
    for (i = 1; i < 3; ++i) {
        CHECK(started[i]);
        if (!started[i]) continue;
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok);
        for (k = 0; k < 14; ++k) CHECK(memcmp(&jobs[i].vm[k], &jobs[0].vm[k], sizeof(double)) == 0);
    }
}

/* An unbalanced scenario (an OpenDSS network, scenarios/eulv_day.yaml): the same calls; the per-phase
 * series by node (node/vm_pu) and the buses' unbalance factor by bus id. */
static void test_unbalanced(const char* cdir) {
    lg_scenario* sc = NULL;
    lg_simulation* sim = NULL;
    size_t nb = 0, rows = 0, cols = 0;
    int64_t* ids;
    double vuf = -1;
    CHECK_OK(lg_scenario_load(path_in(cdir, "../../scenarios/eulv_day.yaml"), &sc));
    if (!sc) return;
    CHECK_OK(lg_scenario_set(sc, "horizon.steps", "2"));
    CHECK_OK(lg_simulation_create(sc, NULL, LG_SIM_RESULTS_IN_MEMORY, &sim));
    lg_scenario_free(sc);
    if (!sim) return;
    CHECK_OK(lg_simulation_count(sim, "bus", &nb));
    CHECK(nb == 907);
    CHECK_OK(lg_simulation_step(sim));
    CHECK_OK(lg_simulation_step(sim));
    CHECK_OK(lg_results_shape(sim, "node", "vm_pu", &rows, &cols, NULL));
    CHECK(rows == 2 && cols > 2 * nb);
    CHECK_OK(lg_results_shape(sim, "bus", "vuf_percent", &rows, &cols, NULL));
    CHECK(rows == 2 && cols == nb);
    ids = (int64_t*)malloc(nb * sizeof(int64_t));
    if (ids) {
        CHECK_OK(lg_simulation_ids(sim, "bus", ids, nb));
        CHECK_OK(lg_results_value(sim, "bus", "vuf_percent", ids[nb - 1], LG_LAST_ROW, 0, &vuf));
        CHECK(vuf >= 0 && vuf < 5);
        free(ids);
    }
    CHECK_OK(lg_simulation_finish(sim));
    lg_simulation_free(sim);
}

/* Cancelled after three steps: no more steps, a summary with completed = 0. */
static void test_cancel(const char* cdir) {
    lg_scenario* sc = NULL;
    lg_simulation* sim = NULL;
    double completed = 1, steps = 0;
    int done = 0;
    CHECK_OK(lg_scenario_load(path_in(cdir, "case9_battery.yaml"), &sc));
    if (!sc) return;
    CHECK_OK(lg_simulation_create(sc, NULL, 0, &sim));
    lg_scenario_free(sc);
    if (!sim) return;
    CHECK_OK(lg_simulation_start(sim));
    CHECK_OK(lg_simulation_step(sim));
    CHECK_OK(lg_simulation_step(sim));
    CHECK_OK(lg_simulation_step(sim));
    CHECK(lg_results_value(sim, "bus", "vm_pu", 5, 0, 0, &steps) == LG_ERR_STATE);  /* not kept */
    CHECK(strstr(lg_last_error(), "LG_SIM_RESULTS_IN_MEMORY") != NULL);
    CHECK_OK(lg_simulation_cancel(sim));
    CHECK_OK(lg_simulation_done(sim, &done));
    CHECK(done == 1);
    CHECK(lg_simulation_step(sim) == LG_ERR_STATE);
    CHECK_OK(lg_simulation_finish(sim));
    CHECK_OK(lg_summary_get(sim, "completed", &completed));
    CHECK_OK(lg_summary_get(sim, "steps", &steps));
    CHECK(completed == 0 && steps == 3);
    CHECK(lg_simulation_finish(sim) == LG_ERR_STATE);
    lg_simulation_free(sim);
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_capi DATA_DIR C_DIR TMP_DIR\n");
        return 2;
    }
    test_version();
    test_powerflow_case9(argv[1]);
    test_powerflow_case14(argv[1]);
    test_json_network(argv[1]);
    test_errors(argv[1], argv[3]);
    test_threads(argv[1]);
    test_scenario_run(argv[2], argv[3]);
    test_stepped_day(argv[2]);
    test_cancel(argv[2]);
    test_unbalanced(argv[2]);
    printf("test_capi: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
