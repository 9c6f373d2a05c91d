// A batch of power flows in one call (power-grid-model style): the network's loads scaled by an hourly
// factor give 24 scenarios; run_pf_batch solves them (the model built once, two threads) and gives
// matrices of results, scenarios x elements. Prints the lowest voltage and the losses of each hour;
// with a second argument, writes the batch to that HDF5 file. Checks one scenario against a single
// power flow of the same loads (equal bit for bit by default).
//
//   ex/pf_batch tests/data/cigre/cigre_lv.input.json [/tmp/batch.h5]
#include <libgrid/core/errors.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/batch_pf.hpp>   // run_pf_batch, PfBatchUpdate, PfBatchResult
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/simulation/batch.hpp>     // write_pf_batch_h5

#include <algorithm>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s NETWORK [BATCH.h5]\n", argv[0]);
        return 2;
    }
    try {
        const libgrid::Network net = libgrid::read_network(argv[1]);
        const std::size_t n = 24, loads = net.loads.size();
        std::vector<double> p(n * loads), q(n * loads);  // row s = scenario s, loads in table order
        for (std::size_t s = 0; s < n; ++s) {
            const double factor = 0.4 + 0.6 * (s >= 18 && s <= 22 ? 1.0 : static_cast<double>(s) / 24.0);
            for (std::size_t j = 0; j < loads; ++j) {
                p[s * loads + j] = factor * net.loads[j].p_mw;   // MW, consumption > 0
                q[s * loads + j] = factor * net.loads[j].q_mvar;
            }
        }
        libgrid::PfBatchUpdate up;
        up.n_scenarios = n;
        up.p_mw = p;    // std::span: not copied, must outlive the call
        up.q_mvar = q;  // an empty span keeps the network's q
        libgrid::PfBatchOptions opt;
        opt.pf.method = libgrid::Method::NewtonRaphson;
        opt.threads = 2;  // the results do not depend on it
        const libgrid::PfBatchResult r = libgrid::run_pf_batch(net, up, opt);

        const std::vector<double>& vm = r.array("bus", "vm_pu").values;  // n x buses
        const std::size_t buses = r.group_ids("bus").size();
        for (std::size_t s = 0; s < n; ++s)
            std::printf("hour %2zu: %s, lowest voltage %.5f p.u., losses %.4f MW\n", s, r.converged[s] ? "converged" : "diverged",
                        *std::min_element(vm.begin() + s * buses, vm.begin() + (s + 1) * buses), r.losses_mw[s]);
        if (argc == 3) libgrid::write_pf_batch_h5(argv[2], net, r);  // optional: one file, in one go

        // Scenario 20 as a single power flow: the same voltages, bit for bit.
        const libgrid::PowerFlowResult one = libgrid::run_power_flow(libgrid::apply_pf_batch_scenario(net, up, 20), opt.pf);
        const bool same = std::equal(one.bus_vm_pu.begin(), one.bus_vm_pu.end(), vm.begin() + 20 * buses);
        std::printf("%zu of %zu converged; hour 20 %s the single power flow\n", r.n_converged(), n, same ? "equals" : "DIFFERS FROM");
        return r.n_converged() == n && same ? 0 : 1;
    } catch (const libgrid::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
