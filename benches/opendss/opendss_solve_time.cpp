// OpenDSS's own solve time on a feeder, for the side-by-side figures of docs/performance.md
// ("Issue 14: unbalanced snapshots"). Opt-in tool: needs OpenDSS built as DSS-Extensions' dss_capi
// (not a libgrid dependency). Build and run (one core):
//
//   g++ -O2 -std=c++17 benches/opendss/opendss_solve_time.cpp -I$DSS/include -L$DSS/lib/linux_x64
//       -ldss_capi -Wl,-rpath,$DSS/lib/linux_x64 -o /tmp/opendss_solve_time
//   taskset -c 0 /tmp/opendss_solve_time FEEDER.dss [HH:MM|-] [repeats] ["extra command" ...]
//
// It compiles the script (which may solve once itself), runs the extra commands, then, when HH:MM
// is given, switches to yearly mode with a 1-minute step and sets the clock one step before HH:MM
// (OpenDSS's yearly solve advances the clock, evaluates the load shapes, then solves a snapshot),
// and times `solve`:
//  - cold: the first solve after compiling (it builds the system Y and its factorisation, as a
//    fresh snapshot does); the script compiled afresh `cold` times (min(repeats, 10)), median;
//  - warm: `repeats` more solves of the same circuit (Y kept, each starting from the previous
//    solution: OpenDSS's best case), median and minimum.
// Prints those, the compile time, iterations, control iterations, total power and node count.
#include <dss_capi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double seconds_of(const char* cmd) {
    const auto t0 = std::chrono::steady_clock::now();
    Text_Set_Command(cmd);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check(const char* what) {
    const int32_t n = Error_Get_Number();
    if (n != 0) {
        std::fprintf(stderr, "%s: OpenDSS error %d: %s\n", what, n, Error_Get_Description());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FEEDER.dss [HH:MM] [repeats] [\"command\" ...]\n", argv[0]);
        return 2;
    }
    const std::string at = argc > 2 && std::string(argv[2]) != "-" ? argv[2] : "";
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 50;
    DSS_Start(0);
    const std::string compile = "compile [" + std::string(argv[1]) + "]";
    std::string set_time;
    double t_compile = 0;
    auto prepare = [&] {
        t_compile = seconds_of(compile.c_str());
        check("compile");
        for (int k = 4; k < argc; ++k) {
            Text_Set_Command(argv[k]);
            check(argv[k]);
        }
        if (!at.empty()) {
            int h = 0, m = 0;
            if (std::sscanf(at.c_str(), "%d:%d", &h, &m) != 2) std::exit(2);
            Text_Set_Command("set mode=yearly number=1 stepsize=1m");
            const int before = h * 3600 + m * 60 - 60;  // the solve advances one step first
            set_time = "set time=(" + std::to_string(before / 3600) + ", " + std::to_string(before % 3600) + ")";
            check("set mode");
        }
    };
    auto one = [&] {
        if (!set_time.empty()) Text_Set_Command(set_time.c_str());
        const double t = seconds_of("solve");
        check("solve");
        return t;
    };
    std::vector<double> cold;
    for (int r = 0; r < std::max(1, std::min(repeats, 10)); ++r) {
        prepare();
        cold.push_back(one());
    }
    std::sort(cold.begin(), cold.end());
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) t.push_back(one());
    std::sort(t.begin(), t.end());
    double* p = nullptr;
    int32_t dims[4] = {0, 0, 0, 0};
    Circuit_Get_TotalPower(&p, dims);
    std::printf("%s at %s: compile %.3f ms; cold solve median %.3f ms (%zu compiles); warm solve median %.3f ms, min %.3f ms "
                "(%d repeats); iterations %d, control iterations %d, converged %d; total power %.3f kW %.3f kvar; %d nodes\n",
                argv[1], at.empty() ? "snapshot" : at.c_str(), t_compile * 1e3, cold[cold.size() / 2] * 1e3, cold.size(),
                t.empty() ? 0.0 : t[t.size() / 2] * 1e3, t.empty() ? 0.0 : t.front() * 1e3, repeats, Solution_Get_Iterations(),
                Solution_Get_ControlIterations(), int(Solution_Get_Converged()), p[0], p[1], Circuit_Get_NumNodes());
    return 0;
}
