// Reads a network (a MATPOWER case, or any format read_network knows by the file's extension), runs a
// Newton-Raphson power flow and prints the bus voltages, the generators' output and the losses.
//
//   ex/powerflow_matpower tests/data/matpower/case9.m
#include <libgrid/io/network_io.hpp>       // read_network (.m, .json, .dss by extension)
#include <libgrid/powerflow/powerflow.hpp> // run_power_flow, PowerFlowOptions, PowerFlowResult
#include <libgrid/core/errors.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CASE.m\n", argv[0]);
        return 2;
    }
    try {
        const libgrid::Network net = libgrid::read_network(argv[1]);

        libgrid::PowerFlowOptions opt;                    // tolerance 1e-8 p.u., the case's voltages as start
        opt.method = libgrid::Method::NewtonRaphson;      // or FastDecoupledXB, DC, Sweep, Auto
        const libgrid::PowerFlowResult r = libgrid::run_power_flow(net, opt);  // never throws on divergence
        if (!r.converged) {
            std::fprintf(stderr, "did not converge: %s\n", r.message.c_str());
            return 1;
        }
        // Every array of the result is in the network's own table order: bus_* in net.buses order.
        std::printf("%-6s %10s %10s\n", "bus", "vm_pu", "va_deg");
        for (std::size_t i = 0; i < net.buses.size(); ++i)
            std::printf("%-6lld %10.6f %10.4f\n", static_cast<long long>(net.buses[i].id), r.bus_vm_pu[i], r.bus_va_deg[i]);
        for (std::size_t i = 0; i < r.gen_p_mw.size(); ++i)
            std::printf("gen %lld: %.3f MW %.3f MVAr\n", static_cast<long long>(net.gens[i].id), r.gen_p_mw[i], r.gen_q_mvar[i]);
        std::printf("converged in %d iterations, losses %.6f MW\n", r.iterations, r.losses_mw);
        return 0;
    } catch (const libgrid::Error& e) {  // the file's problem, located: "case.m:12: ..."
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
