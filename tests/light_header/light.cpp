// Issue 19: a translation unit that uses only the light power-flow header (no Eigen): the ctest
// light_header_no_eigen lists its headers; this file also builds and runs as light_header_case9.
#include <libgrid/powerflow.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    try {
        const libgrid::Network net = libgrid::read_network(argv[1]);
        const libgrid::PowerFlowResult r = libgrid::run_power_flow(net);
        std::printf("%s, %zu buses, losses %.4f MW %.4f MVAr\n", r.converged ? "converged" : "diverged", net.buses.size(),
                    r.losses_mw, r.losses_mvar);
        return r.converged ? 0 : 1;
    } catch (const libgrid::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
