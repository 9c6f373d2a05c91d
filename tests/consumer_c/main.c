/* A C program built against the installed libgrid package (libgrid::libgrid_c): a power flow on
 * the case given and a two-step simulation of the same network, its summary printed as JSON. */
#include <libgrid/libgrid_c.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char* what) {
    fprintf(stderr, "%s: %s (%s)\n", what, lg_last_error(), lg_status_name(lg_last_status()));
    return 1;
}

int main(int argc, char** argv) {
    lg_network* net = NULL;
    lg_powerflow_result* pf = NULL;
    lg_simulation* sim = NULL;
    size_t nb = 0, need = 0;
    double* vm;
    char* json;
    int conv = 0, it = 0;
    int64_t start = 0;
    double losses = 0;
    if (argc < 2) return 2;
    if (!LG_ABI_COMPATIBLE()) return fail("ABI");
    printf("libgrid %s (header %d.%d.%d)\n", lg_version(), LIBGRID_VERSION_MAJOR, LIBGRID_VERSION_MINOR,
           LIBGRID_VERSION_PATCH);
    if (lg_network_read(argv[1], &net) != LG_OK) return fail("read");
    if (lg_network_bus_count(net, &nb) != LG_OK) return fail("count");
    if (lg_powerflow_run(net, "nr", 1e-8, 30, 0, &pf) != LG_OK) return fail("power flow");
    vm = (double*)malloc(nb * sizeof(double));
    if (!vm || lg_powerflow_bus_vm_pu(pf, vm, nb) != LG_OK) return fail("vm");
    lg_powerflow_converged(pf, &conv);
    lg_powerflow_iterations(pf, &it);
    lg_powerflow_total(pf, "losses_mw", &losses);
    printf("%s in %d iterations, losses %.6f MW, vm[0] %.4f p.u.\n", conv ? "converged" : "diverged", it, losses, vm[0]);
    free(vm);
    lg_powerflow_free(pf);

    if (lg_local_time(2025, 1, 6, 0, 0, &start) != LG_OK) return fail("time");
    if (lg_simulation_create_from_network(net, start, 900, 2, NULL, 0, &sim) != LG_OK) return fail("simulation");
    lg_network_free(net);
    if (lg_simulation_run(sim) != LG_OK) return fail("run");
    if (lg_summary_json(sim, NULL, 0, &need) != LG_OK) return fail("json size");
    json = (char*)malloc(need);
    if (!json || lg_summary_json(sim, json, need, NULL) != LG_OK) return fail("json");
    printf("%s\n", json);
    free(json);
    lg_simulation_free(sim);
    return conv ? 0 : 1;
}
