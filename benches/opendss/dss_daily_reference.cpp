// OpenDSS's yearly (daily) mode on the IEEE European LV test feeder: the minute-by-minute references of
// tests/cpp/powerflow/test_eulv_day.cpp (tests/data/opendss_refs/README.md, "eulv_daily_*") and OpenDSS's
// wall time for the whole day (docs/performance.md, "Issue 15: the European LV day").
// Opt-in, never built by CI: it links DSS-Extensions' dss_capi (OpenDSS's engine as a C library).
//
//   dss_daily_reference refs   <eulv_dir> <out_dir>    writes <out_dir>/eulv_daily_published.csv and
//                                                      eulv_daily_pq.csv (1,440 rows each)
//   dss_daily_reference timing <eulv_dir> [N]          the day's wall and CPU time, median of N (5)
//
// <eulv_dir> holds Master.dss (/work/shared/cases/opendss/eulv or tests/data/opendss/eulv). The day is
// OpenDSS's own time series, as the script's commented-out block runs it: `set mode=yearly
// stepsize=1m` from hour 0; each solve first advances the clock one step, then evaluates every load's
// yearly shape at the new hour and solves, so solve k (1..1440) is at minute k (shape point k).
// Variants: "published" (the scripts as EPRI publishes them: a load above vmaxpu = 1.05 of its kV is
// constant Z) and "pq" (`BatchEdit Load..* vmaxpu=1.2`: every load constant PQ, as the IEEE document).
#include <dss_capi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

void run(const std::string& cmd) {
    Text_Set_Command(cmd.c_str());
    if (Error_Get_Number() != 0) {
        throw std::runtime_error("OpenDSS: '" + cmd + "': " + Error_Get_Description());
    }
}

std::vector<std::string> strings(void (*get)(char***, int32_t*)) {
    char** p = nullptr;
    int32_t dims[4] = {0, 0, 0, 0};
    get(&p, dims);
    std::vector<std::string> out(p, p + dims[0]);
    DSS_Dispose_PPAnsiChar(&p, dims[1]);
    return out;
}

std::vector<double> doubles(void (*get)(double**, int32_t*)) {
    double* p = nullptr;
    int32_t dims[4] = {0, 0, 0, 0};
    get(&p, dims);
    std::vector<double> out(p, p + dims[0]);
    DSS_Dispose_PDouble(&p);
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct Variant {
    const char* name;
    const char* what;
    std::vector<std::string> commands;  ///< after the compile
};

const std::vector<Variant>& variants() {
    static const std::vector<Variant> v = {
        {"published", "Master.dss as published (loads above 1.05 x 0.23 kV are constant Z)", {}},
        {"pq", "Master.dss, then BatchEdit Load..* vmaxpu=1.2 (every load constant PQ)",
         {"BatchEdit Load..* vmaxpu=1.2"}},
    };
    return v;
}

/// Compile the feeder (its own snapshot `solve` included), then the variant's commands.
void compile(const fs::path& eulv, const Variant& v) {
    run("clear");
    run("compile [" + (eulv / "Master.dss").string() + "]");
    for (const auto& c : v.commands) run(c);
}

/// |V| to ground of conductor 1 of a single-phase load (its phase; conductor 2, its neutral, is
/// node 0 on this feeder, so this is also the load's phase-to-neutral voltage).
double load_volts(const char* load) {
    Circuit_SetActiveElement(load);
    const auto v = doubles(CktElement_Get_Voltages);
    return std::hypot(v[0] - v[2], v[1] - v[3]);
}

struct Minute {
    int iterations = 0;
    double v_load[3] = {0, 0, 0};
    double p_lv[3] = {0, 0, 0}, q_lv[3] = {0, 0, 0};  ///< out of the LV winding into the LV network
    double p_src = 0, q_src = 0;                        ///< delivered by the source
    double vmin[3] = {1e300, 1e300, 1e300}, vmax[3] = {0, 0, 0};  ///< LV nodes, to ground
};

/// Nodes of the LV network: every bus but the source bus (the transformer's LV terminal, bus 1, is in).
struct LvNodes {
    std::vector<int> index, phase;
};

LvNodes lv_nodes() {
    LvNodes lv;
    const auto names = strings(Circuit_Get_AllNodeNames);
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string bus = lower(names[i].substr(0, names[i].find('.')));
        const int ph = std::atoi(names[i].c_str() + names[i].find('.') + 1);
        if (bus == "sourcebus" || ph < 1 || ph > 3) continue;
        lv.index.push_back(static_cast<int>(i));
        lv.phase.push_back(ph - 1);
    }
    return lv;
}

Minute sample(const LvNodes& lv) {
    Minute m;
    m.iterations = Solution_Get_Iterations();
    m.v_load[0] = load_volts("Load.LOAD1");   // bus 34.1: phase a
    m.v_load[1] = load_volts("Load.LOAD32");  // bus 614.3: phase c
    m.v_load[2] = load_volts("Load.LOAD53");  // bus 899.2: phase b
    Circuit_SetActiveElement("Transformer.TR1");
    const int nc = CktElement_Get_NumConductors();  // 4: a, b, c, neutral per terminal
    const auto s = doubles(CktElement_Get_Powers);
    for (int k = 0; k < 3; ++k) {
        m.p_lv[k] = -s[2 * (nc + k)];
        m.q_lv[k] = -s[2 * (nc + k) + 1];
    }
    const auto tp = doubles(Circuit_Get_TotalPower);
    m.p_src = -tp[0];
    m.q_src = -tp[1];
    const auto vm = doubles(Circuit_Get_AllBusVmag);
    for (std::size_t j = 0; j < lv.index.size(); ++j) {
        const double v = vm[static_cast<std::size_t>(lv.index[j])];
        const int ph = lv.phase[j];
        m.vmin[ph] = std::min(m.vmin[ph], v);
        m.vmax[ph] = std::max(m.vmax[ph], v);
    }
    return m;
}

void write_refs(const fs::path& eulv, const fs::path& out_dir) {
    fs::create_directories(out_dir);
    for (const auto& v : variants()) {
        compile(eulv, v);
        run("set tolerance=1e-10 maxiterations=1000");
        run("set mode=yearly number=1 stepsize=1m");
        const LvNodes lv = lv_nodes();
        const fs::path file = out_dir / ("eulv_daily_" + std::string(v.name) + ".csv");
        std::FILE* f = std::fopen(file.c_str(), "w");
        if (f == nullptr) throw std::runtime_error("cannot write " + file.string());
        std::fprintf(f,
                     "minute,iterations,v_load1_a_volts,v_load32_c_volts,v_load53_b_volts,p_lv_a_kw,p_lv_b_kw,p_lv_c_kw,"
                     "q_lv_a_kvar,q_lv_b_kvar,q_lv_c_kvar,p_source_kw,q_source_kvar,vmin_a_volts,vmin_b_volts,"
                     "vmin_c_volts,vmax_a_volts,vmax_b_volts,vmax_c_volts\n");
        int worst_iterations = 0;
        for (int minute = 1; minute <= 1440; ++minute) {
            run("solve");
            if (!Solution_Get_Converged()) throw std::runtime_error("not converged at minute " + std::to_string(minute));
            const double hour = Solution_Get_dblHour();
            if (std::abs(hour - minute / 60.0) > 1e-9) {
                throw std::runtime_error("solve " + std::to_string(minute) + " at hour " + std::to_string(hour));
            }
            const Minute m = sample(lv);
            worst_iterations = std::max(worst_iterations, m.iterations);
            std::fprintf(f, "%d,%d,%.6f,%.6f,%.6f,%.7f,%.7f,%.7f,%.7f,%.7f,%.7f,%.7f,%.7f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f\n",
                         minute, m.iterations, m.v_load[0], m.v_load[1], m.v_load[2], m.p_lv[0], m.p_lv[1], m.p_lv[2],
                         m.q_lv[0], m.q_lv[1], m.q_lv[2], m.p_src, m.q_src, m.vmin[0], m.vmin[1], m.vmin[2], m.vmax[0],
                         m.vmax[1], m.vmax[2]);
            if (minute == 1 || minute == 566 || minute == 1440) {
                std::printf("%s minute %4d: LV side %.4f / %.4f / %.4f kW (%.4f kW %.4f kvar); V min %.3f / %.3f / %.3f, "
                            "max %.3f / %.3f / %.3f\n",
                            v.name, minute, m.p_lv[0], m.p_lv[1], m.p_lv[2], m.p_lv[0] + m.p_lv[1] + m.p_lv[2],
                            m.q_lv[0] + m.q_lv[1] + m.q_lv[2], m.vmin[0], m.vmin[1], m.vmin[2], m.vmax[0], m.vmax[1],
                            m.vmax[2]);
            }
        }
        std::fclose(f);
        std::printf("%s: %s, 1440 solves, at most %d iterations\n", file.c_str(), v.what, worst_iterations);
    }
}

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> x) {
    std::sort(x.begin(), x.end());
    const std::size_t n = x.size();
    return n % 2 == 1 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/// One whole day as a user runs it: (compile,) `set mode=yearly number=1440 stepsize=1m`, `solve`.
/// Prints wall and CPU time of the day alone and of compile + day; `tolerance` empty = OpenDSS's default.
void time_day(const fs::path& eulv, const Variant& v, const std::string& tolerance, int n) {
    std::vector<double> wall_day, cpu_day, wall_all, cpu_all;
    int iterations = 0;
    for (int r = 0; r < n; ++r) {
        const double w0 = wall_seconds(), c0 = cpu_seconds();
        compile(eulv, v);
        if (!tolerance.empty()) run("set tolerance=" + tolerance);
        const double w1 = wall_seconds(), c1 = cpu_seconds();
        run("set mode=yearly number=1440 stepsize=1m");
        run("solve");
        const double w2 = wall_seconds(), c2 = cpu_seconds();
        if (std::abs(Solution_Get_dblHour() - 24.0) > 1e-9) throw std::runtime_error("the day did not reach 24:00");
        iterations = Solution_Get_Totaliterations();
        wall_day.push_back(w2 - w1);
        cpu_day.push_back(c2 - c1);
        wall_all.push_back(w2 - w0);
        cpu_all.push_back(c2 - c0);
    }
    auto least = [](const std::vector<double>& x) { return *std::min_element(x.begin(), x.end()); };
    std::printf("%-9s tolerance %-7s day (1440 solves): wall %7.1f ms (min %7.1f) CPU %7.1f ms (min %7.1f) | "
                "compile+day: wall %7.1f ms CPU %7.1f ms (min %7.1f) | median of %d, last solve %d iterations\n",
                v.name, tolerance.empty() ? "default" : tolerance.c_str(), 1e3 * median(wall_day), 1e3 * least(wall_day),
                1e3 * median(cpu_day), 1e3 * least(cpu_day), 1e3 * median(wall_all), 1e3 * median(cpu_all),
                1e3 * least(cpu_all), n, iterations);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s refs <eulv_dir> <out_dir> | timing <eulv_dir> [N]\n", argv[0]);
        return 2;
    }
    try {
        DSS_Start(0);
        DSS_Set_AllowForms(0);
        const std::string mode = argv[1];
        const fs::path eulv = argv[2];
        if (mode == "refs" && argc >= 4) {
            write_refs(eulv, argv[3]);
        } else if (mode == "timing") {
            const int n = argc >= 4 ? std::atoi(argv[3]) : 5;
            for (const auto& v : variants()) {
                time_day(eulv, v, "", n);
                time_day(eulv, v, "1e-10", n);
            }
        } else {
            std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
            return 2;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
