// A tiny program built against the installed libgrid package, through the umbrella header only
// (issue 19: libgrid.hpp is the whole public API): a power flow, the same case read by
// read_network, and a two-step simulation whose summary is printed as JSON.
#include <libgrid/libgrid.hpp>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    libgrid::Network net = libgrid::read_matpower(argv[1]);
    libgrid::PowerFlowResult res = libgrid::run_power_flow(net, {});
    std::printf("%s in %d iterations, losses %.6f MW\n", res.converged ? "converged" : "diverged",
                res.iterations, res.losses_mw);
    const libgrid::Network again = libgrid::read_network(argv[1]);  // by the file's extension
    libgrid::SimulationOptions opt;
    opt.start = libgrid::from_civil(2025, 1, 6);
    opt.n_steps = 2;
    const libgrid::SimulationSummary s = libgrid::Simulation(again, libgrid::DeviceSet{}, opt).run();
    std::cout << libgrid::summary_to_json(s, -1) << "\n";
    return res.converged && s.completed ? 0 : 1;
}
