// A tiny program built against the installed libgrid package.
#include <libgrid/libgrid.hpp>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    libgrid::Network net = libgrid::read_matpower(argv[1]);
    libgrid::PowerFlowResult res = libgrid::run_power_flow(net, {});
    std::printf("%s in %d iterations, losses %.6f MW\n", res.converged ? "converged" : "diverged",
                res.iterations, res.losses_mw);
    return res.converged ? 0 : 1;
}
