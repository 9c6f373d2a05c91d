// Reads a network (a MATPOWER case, or any format read_network knows by the file's extension), runs a
// Newton-Raphson power flow and prints the bus voltages, the generators' output and the losses. Then
// solves the case at 96 load levels the way the time-series engine does: the model and the solver's
// symbolic analysis built once, each solve warm-started from the last.
//
//   ex/powerflow_matpower tests/data/matpower/case9.m
#include <libgrid/core/errors.hpp>
#include <libgrid/io/network_io.hpp>        // read_network (.m or .json, by the file's extension)
#include <libgrid/math/math_model.hpp>      // build_math_model, update_injections (the kernel level)
#include <libgrid/powerflow/powerflow.hpp>  // run_power_flow, PowerFlowOptions, PowerFlowResult
#include <libgrid/powerflow/results.hpp>    // initial_voltages
#include <libgrid/solvers/solvers.hpp>      // NewtonRaphsonSolver

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

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

        // Solving many times: the network's loads follow a daily shape (scaling), the model is built once.
        libgrid::Network day = net;
        libgrid::MathModel m = libgrid::build_math_model(day);  // topology + Ybus, once
        libgrid::NewtonRaphsonSolver nr;                        // KLU when built with it, else SparseLU
        nr.analyze(m);                                          // Jacobian pattern + symbolic LU, once
        std::vector<libgrid::cplx> V = libgrid::initial_voltages(day, m, false);
        double lowest = 2.0;
        int solved = 0;
        for (int k = 0; k < 96; ++k) {
            const double level = 0.6 + 0.4 * std::sin(3.14159265358979 * k / 96.0);  // 0.6 .. 1.0
            for (libgrid::Load& l : day.loads) l.scaling = level;
            libgrid::update_injections(day, m);                                  // no allocation
            const libgrid::SolveStatus st = nr.solve(m, V, 1e-8, 20);            // warm start from the last V
            solved += st.converged;
            for (std::size_t i = 0; i < day.buses.size(); ++i)
                if (m.bus_node[i] >= 0) lowest = std::min(lowest, std::abs(V[m.bus_node[i]]));
        }
        std::printf("96 load levels: %d converged, lowest voltage %.5f p.u.\n", solved, lowest);
        return solved == 96 ? 0 : 1;
    } catch (const libgrid::Error& e) {  // the file's problem, located: "case.m:12: ..."
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
