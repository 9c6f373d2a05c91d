/* docs/c_api.md's example: a power flow, then a stepped day with a battery set point at noon. */
#include <libgrid/libgrid_c.h>

#include <stdio.h>
#include <stdlib.h>

/* Every call returns a status; on an error, print the thread's last message and clean up. */
#define TRY(call)                                                                      \
    do {                                                                               \
        lg_status s_ = (call);                                                         \
        if (s_ != LG_OK) {                                                             \
            fprintf(stderr, "%s: %s\n", lg_status_name(s_), lg_last_error());          \
            goto done;                                                                 \
        }                                                                              \
    } while (0)

int main(int argc, char** argv) {
    lg_network* net = NULL;
    lg_powerflow_result* pf = NULL;
    lg_scenario* sc = NULL;
    lg_simulation* sim = NULL;
    int64_t* bus_ids = NULL;
    int64_t* battery_ids = NULL;
    double* vm = NULL;
    int64_t battery = 0, noon = 0, midnight = 0;
    size_t n_bus = 0, i, worst = 0, n_bat = 0;
    double p_mw = 0, v5 = 0, losses = 0;
    int rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: example CASE.m SCENARIO.yaml\n");
        return 2;
    }
    if (!LG_ABI_COMPATIBLE()) {
        fprintf(stderr, "libgrid_c %s does not match this header (%d.%d)\n", lg_version(),
                LIBGRID_VERSION_MAJOR, LIBGRID_VERSION_MINOR);
        return 1;
    }

    /* 1. A power flow: the lowest bus voltage, by bus id. */
    TRY(lg_network_read(argv[1], &net));
    TRY(lg_network_bus_count(net, &n_bus));
    bus_ids = malloc(n_bus * sizeof *bus_ids);
    vm = malloc(n_bus * sizeof *vm);
    if (!bus_ids || !vm) goto done;
    TRY(lg_network_bus_ids(net, bus_ids, n_bus));
    TRY(lg_powerflow_run(net, "nr", 1e-8, 30, 0, &pf));
    TRY(lg_powerflow_bus_vm_pu(pf, vm, n_bus));
    for (i = 1; i < n_bus; ++i)
        if (vm[i] < vm[worst]) worst = i;
    TRY(lg_powerflow_total(pf, "losses_mw", &losses));
    printf("power flow: lowest voltage %.4f p.u. at bus %lld, losses %.3f MW\n", vm[worst],
           (long long)bus_ids[worst], losses);

    /* 2. A stepped day of a scenario: charge the first battery at 2 kW from noon. */
    TRY(lg_scenario_load(argv[2], &sc));
    TRY(lg_scenario_set(sc, "horizon.steps", "96"));  /* as --set horizon.steps=96 */
    TRY(lg_simulation_create(sc, NULL, LG_SIM_RESULTS_IN_MEMORY, &sim));
    TRY(lg_simulation_count(sim, "battery", &n_bat));
    if (n_bat == 0) {
        fprintf(stderr, "the scenario has no battery\n");
        goto done;
    }
    battery_ids = malloc(n_bat * sizeof *battery_ids);
    if (!battery_ids) goto done;
    TRY(lg_simulation_ids(sim, "battery", battery_ids, n_bat));  /* a buffer of n_bat, or LG_ERR_ARGUMENT */
    battery = battery_ids[0];
    TRY(lg_local_time(2025, 3, 3, 12, 0, &noon));
    TRY(lg_simulation_run_until(sim, noon, NULL));
    TRY(lg_simulation_set_battery_power(sim, battery, -2.0));  /* kW; negative = charging */
    TRY(lg_simulation_step(sim));
    TRY(lg_results_value(sim, "battery", "p_mw", battery, LG_LAST_ROW, 0, &p_mw));
    TRY(lg_results_value(sim, "bus", "vm_pu", 5, LG_LAST_ROW, 0, &v5));
    printf("12:00 battery %lld: %.4f MW, bus 5: %.4f p.u.\n", (long long)battery, p_mw, v5);
    TRY(lg_local_time(2025, 3, 4, 0, 0, &midnight));
    TRY(lg_simulation_run_until(sim, midnight, NULL));
    TRY(lg_simulation_finish(sim));
    TRY(lg_summary_get(sim, "losses_mwh", &losses));
    printf("the day: losses %.3f MWh\n", losses);
    rc = 0;
done:
    lg_simulation_free(sim);  /* every free accepts NULL */
    lg_scenario_free(sc);
    lg_powerflow_free(pf);
    lg_network_free(net);
    free(vm);
    free(bus_ids);
    free(battery_ids);
    return rc;
}
