// OpenDSS's node voltages of one script (issue 15, h5: the reference of to_unetwork and the Melaka
// grid as built, tests/data/opendss_refs/README.md). Opt-in, never built by CI: links dss_capi.
//
//   node_voltages <script.dss> > out.csv      columns name (bus.node, lower case), v_re, v_im (volts)
//
// Solved at `set tolerance=1e-9 maxiterations=1000`; the iteration count, convergence and total
// power go to stderr. Exit status 1 when OpenDSS reports an error or does not converge.
#include <dss_capi.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: node_voltages SCRIPT.dss\n");
        return 2;
    }
    DSS_Start(0);
    const std::string compile = "compile [" + std::string(argv[1]) + "]";
    for (const std::string& cmd : {compile, std::string("set tolerance=1e-9"), std::string("set maxiterations=1000"), std::string("solve")}) {
        Text_Set_Command(cmd.c_str());
        if (Error_Get_Number() != 0) {
            std::fprintf(stderr, "OpenDSS: '%s': %s\n", cmd.c_str(), Error_Get_Description());
            return 1;
        }
    }
    double* p = nullptr;
    int32_t pd[4] = {0, 0, 0, 0};
    Circuit_Get_TotalPower(&p, pd);
    std::fprintf(stderr, "converged %d iterations %d total power %.6f kW %.6f kvar\n", Solution_Get_Converged() ? 1 : 0,
                 Solution_Get_Iterations(), p[0], p[1]);
    char** names = nullptr;
    int32_t nd[4] = {0, 0, 0, 0};
    Circuit_Get_AllNodeNames(&names, nd);
    double* v = nullptr;
    int32_t vd[4] = {0, 0, 0, 0};
    Circuit_Get_AllBusVolts(&v, vd);
    std::printf("name,v_re,v_im\n");
    for (int i = 0; i < nd[0]; ++i) std::printf("%s,%.12g,%.12g\n", names[i], v[2 * i], v[2 * i + 1]);
    return Solution_Get_Converged() ? 0 : 1;
}
