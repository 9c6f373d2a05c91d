// OpenDSS's side of the unbalanced validation and of the speed comparison (benches/opendss/README.md).
// Opt-in, never built by CI: it links DSS-Extensions' dss_capi (OpenDSS's engine as a C library).
//
//   dss_reference refs   <cases_dir> <out_dir>      writes <out_dir>/<config>.csv + .json for the
//                                                    configurations ieee13_taps ... eulv_0926_published
//   dss_reference timing <cases_dir> [N]            OpenDSS's solve time per snapshot (CPU time)
//
// <cases_dir> holds ieee13/, ieee34/, ieee123/, eulv/ as in /work/shared/cases/opendss. The feeders
// are run from a scratch copy made of symbolic links (plus IEEELineCodes.dss -> IEEELineCodes.DSS: the
// scripts name the file with the wrong case, which Linux does not forgive).
#include <dss_capi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

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

std::vector<int> ints(void (*get)(int32_t**, int32_t*)) {
    int32_t* p = nullptr;
    int32_t dims[4] = {0, 0, 0, 0};
    get(&p, dims);
    std::vector<int> out(p, p + dims[0]);
    DSS_Dispose_PInteger(&p);
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// A scratch copy of one feeder folder made of symbolic links, with the lower-case alias
/// IEEELineCodes.dss where the folder has IEEELineCodes.DSS.
fs::path scratch_copy(const fs::path& cases, const std::string& feeder) {
    const fs::path dst = fs::temp_directory_path() / ("dss_reference_" + std::to_string(getpid())) / feeder;
    fs::create_directories(dst);
    for (const auto& e : fs::directory_iterator(cases / feeder)) {
        const fs::path link = dst / e.path().filename();
        if (!fs::exists(fs::symlink_status(link))) fs::create_symlink(fs::absolute(e.path()), link);
    }
    if (fs::exists(dst / "IEEELineCodes.DSS") && !fs::exists(fs::symlink_status(dst / "IEEELineCodes.dss"))) {
        fs::create_symlink(fs::absolute(cases / feeder / "IEEELineCodes.DSS"), dst / "IEEELineCodes.dss");
    }
    return dst;
}

/// Loads' kW from point `point` (1-based) of their yearly shapes: what yearly mode does at minute
/// `point` with useactual=no and kW=1 (the EU LV feeder's loads).
void set_loads_from_shapes(const fs::path& eulv, int point) {
    std::ifstream in(eulv / "Loads.txt");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        std::string tok, name, shape;
        while (ss >> tok) {
            const std::string lt = lower(tok);
            if (lt.rfind("load.", 0) == 0) name = lt.substr(5);
            if (lt.rfind("yearly=", 0) == 0) shape = lt.substr(7);
        }
        if (name.empty() || shape.empty()) continue;
        const std::string n = shape.substr(shape.find('_') + 1);
        std::ifstream sf(eulv / "Daily_1min_100profiles" / ("load_profile_" + n + ".txt"));
        double mult = 0.0;
        for (int i = 0; i < point; ++i) sf >> mult;
        if (!sf) throw std::runtime_error("shape file of load." + name + " too short");
        char buf[160];
        std::snprintf(buf, sizeof buf, "Load.%s.kW=%.17g", name.c_str(), mult);
        run(buf);
    }
}

struct Config {
    std::string name, feeder, master, what;
    std::vector<std::string> before_solve;  ///< commands after compile
};

const char* kTight = "set tolerance=1e-10 maxiterations=1000";

std::vector<Config> configs() {
    const std::vector<std::string> taps13 = {
        "Transformer.Reg1.wdg=2 Tap=(0.00625 10 * 1 +)", "Transformer.Reg2.wdg=2 Tap=(0.00625 8 * 1 +)",
        "Transformer.Reg3.wdg=2 Tap=(0.00625 11 * 1 +)"};
    const std::vector<std::string> reset13 = {"Transformer.Reg1.wdg=2 Tap=1", "Transformer.Reg2.wdg=2 Tap=1",
                                              "Transformer.Reg3.wdg=2 Tap=1"};
    std::vector<std::string> taps34 = {
        "Transformer.reg1a.wdg=2 Tap=(0.00625 12 * 1 +)", "Transformer.reg1b.wdg=2 Tap=(0.00625 5 * 1 +)",
        "Transformer.reg1c.wdg=2 Tap=(0.00625 5 * 1 +)",  "Transformer.reg2a.wdg=2 Tap=(0.00625 13 * 1 +)",
        "Transformer.reg2b.wdg=2 Tap=(0.00625 11 * 1 +)", "Transformer.reg2c.wdg=2 Tap=(0.00625 12 * 1 +)",
        "Set Controlmode=OFF"};
    std::vector<std::string> taps123 = {
        "Transformer.reg1a.wdg=2 Tap=(0.00625 7 * 1 +)",  "Transformer.reg2a.wdg=2 Tap=(0.00625 -1 * 1 +)",
        "Transformer.reg3a.wdg=2 Tap=(0.00625 0 * 1 +)",  "Transformer.reg3c.wdg=2 Tap=(0.00625 -1 * 1 +)",
        "Transformer.reg4a.wdg=2 Tap=(0.00625 8 * 1 +)",  "Transformer.reg4b.wdg=2 Tap=(0.00625 1 * 1 +)",
        "Transformer.reg4c.wdg=2 Tap=(0.00625 5 * 1 +)"};
    for (const char* r : {"creg1a", "creg2a", "creg3a", "creg4a", "creg3c", "creg4b", "creg4c"}) {
        taps123.push_back(std::string("RegControl.") + r + ".maxtapchange=0");
    }
    std::vector<std::string> ctl123;
    for (const char* r : {"creg1a", "creg2a", "creg3a", "creg4a", "creg3c", "creg4b", "creg4c"}) {
        ctl123.push_back(std::string("RegControl.") + r + ".maxtapchange=1 Delay=" + (r[4] == '1' ? "15" : "30"));
    }
    ctl123.push_back("Set MaxControlIter=30");
    auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    return {
        {"ieee13_taps", "ieee13", "IEEE13Nodeckt.dss", "IEEE 13, published taps 10 8 11 forced, Controlmode=OFF",
         with(taps13, {"Set Controlmode=OFF"})},
        {"ieee13_static", "ieee13", "IEEE13Nodeckt.dss",
         "IEEE 13 as shipped, static control from taps 1.0 (settled taps)", reset13},
        {"ieee34_taps", "ieee34", "ieee34Mod2.dss",
         "IEEE 34 Mod2, published taps (reg1 12 5 5, reg2 13 11 12), Controlmode=OFF", taps34},
        {"ieee34_static", "ieee34", "ieee34Mod2.dss", "IEEE 34 Mod2, static control (maxcontroliter=300)",
         {"set maxcontroliter=300"}},
        {"ieee123_taps", "ieee123", "IEEE123Master.dss",
         "IEEE 123, Kersting's taps forced, maxtapchange=0 (Run_IEEE123Bus.DSS 2nd script)", taps123},
        {"ieee123_static", "ieee123", "IEEE123Master.dss",
         "IEEE 123, static control, maxtapchange=1 (Run_IEEE123Bus.DSS 1st script)", ctl123},
        {"eulv_0926_pq", "eulv", "Master.dss",
         "EU LV at 09:26 (shape point 566), every load constant PQ (vmaxpu=1.2)", {"BatchEdit Load..* vmaxpu=1.2"}},
        {"eulv_0926_published", "eulv", "Master.dss", "EU LV at 09:26 (shape point 566), files as published", {}},
    };
}

void compile(const fs::path& cases, const Config& c) {
    const fs::path dir = scratch_copy(cases, c.feeder);
    run("clear");
    run("compile [" + (dir / c.master).string() + "]");
    for (const auto& cmd : c.before_solve) run(cmd);
    if (c.feeder == "eulv") set_loads_from_shapes(dir, 566);
    run(kTight);
}

std::string bus_of(const std::string& s) { return lower(s.substr(0, s.find('.'))); }

bool wanted(const std::string& elem) {
    const std::string e = lower(elem);
    for (const char* k : {"line.", "transformer.", "load.", "capacitor.", "vsource.", "reactor."}) {
        if (e.rfind(k, 0) == 0) return true;
    }
    return false;
}

void write_nodes(std::ostream& out) {
    const auto names = strings(Circuit_Get_AllNodeNames);
    const auto v = doubles(Circuit_Get_AllBusVolts);
    const auto pu = doubles(Circuit_Get_AllBusVmagPu);
    char buf[256];
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string& n = names[i];
        const double re = v[2 * i], im = v[2 * i + 1];
        std::snprintf(buf, sizeof buf, "node,%s,,%s,%s,%.12g,%.12g,%.12g,,,,\n", lower(n.substr(0, n.find('.'))).c_str(),
                      lower(n.substr(0, n.find('.'))).c_str(), n.substr(n.find('.') + 1).c_str(), std::hypot(re, im),
                      std::atan2(im, re) * 180.0 / M_PI, pu[i]);
        out << buf;
    }
}

void write_elements(std::ostream& out) {
    char buf[320];
    for (const auto& name : strings(Circuit_Get_AllElementNames)) {
        if (!wanted(name)) continue;
        Circuit_SetActiveElement(name.c_str());
        const int nt = CktElement_Get_NumTerminals(), nc = CktElement_Get_NumConductors();
        const auto buses = strings(CktElement_Get_BusNames);
        const auto order = ints(CktElement_Get_NodeOrder);
        const auto s = doubles(CktElement_Get_Powers);
        const auto cur = doubles(CktElement_Get_Currents);
        for (int t = 0; t < nt; ++t) {
            for (int k = 0; k < nc; ++k) {
                const int i = t * nc + k;
                std::snprintf(buf, sizeof buf, "power,%s,%d,%s,%d,,,,%.12g,%.12g,%.12g,%.12g\n", lower(name).c_str(), t + 1,
                              bus_of(buses[t]).c_str(), order[i], s[2 * i], s[2 * i + 1],
                              std::hypot(cur[2 * i], cur[2 * i + 1]),
                              std::atan2(cur[2 * i + 1], cur[2 * i]) * 180.0 / M_PI);
                out << buf;
            }
        }
    }
}

std::string taps_json() {
    std::string out;
    char buf[320];
    for (int i = RegControls_Get_First(); i > 0; i = RegControls_Get_Next()) {
        const std::string rc = lower(RegControls_Get_Name());
        const std::string tr = lower(RegControls_Get_Transformer());
        const int wdg = RegControls_Get_Winding();
        const int pos = RegControls_Get_TapNumber();
        Transformers_Set_Name(tr.c_str());
        Transformers_Set_Wdg(wdg);
        std::snprintf(buf, sizeof buf, "%s\n    \"%s\": {\"transformer\": \"%s\", \"winding\": %d, \"tap_pu\": %.10g, \"position\": %d}",
                      out.empty() ? "" : ",", rc.c_str(), tr.c_str(), wdg, Transformers_Get_Tap(), pos);
        out += buf;
    }
    return out;
}

/// Power into the LV side of the EU LV feeder's transformer (terminal 2), kW and kvar: minus the
/// power the transformer's terminal 2 takes.
void lv_side_power(double& p, double& q) {
    Circuit_SetActiveElement("Transformer.TR1");
    const int nc = CktElement_Get_NumConductors();
    const auto s = doubles(CktElement_Get_Powers);
    p = q = 0.0;
    for (int k = 0; k < nc; ++k) {
        p -= s[2 * (nc + k)];
        q -= s[2 * (nc + k) + 1];
    }
}

/// The EU LV feeder in OpenDSS's own yearly mode, 566 one-minute steps from midnight (the last at
/// 09:26), every load constant PQ: the check that setting kW from shape point 566 is the same thing.
void check_eulv_yearly(const fs::path& cases, double p_ref, double q_ref) {
    const fs::path dir = scratch_copy(cases, "eulv");
    run("clear");
    run("compile [" + (dir / "Master.dss").string() + "]");
    run("BatchEdit Load..* vmaxpu=1.2");
    run(kTight);
    run("set mode=yearly number=566 stepsize=1m");
    run("solve");
    double p = 0.0, q = 0.0;
    lv_side_power(p, q);
    std::printf("eulv yearly mode, 566 steps (%.4f h): LV side %.6f kW %.6f kvar (shape point 566: %.6f kW %.6f kvar)\n",
                Solution_Get_dblHour(), p, q, p_ref, q_ref);
}

void write_refs(const fs::path& cases, const fs::path& out_dir) {
    fs::create_directories(out_dir);
    for (const auto& c : configs()) {
        compile(cases, c);
        run("solve");
        std::ofstream csv(out_dir / (c.name + ".csv"));
        csv << "kind,name,terminal,bus,node,v_volts,va_deg,vm_pu,p_kw,q_kvar,i_amps,ia_deg\n";
        write_nodes(csv);
        write_elements(csv);
        const auto tp = doubles(Circuit_Get_TotalPower);
        const auto loss = doubles(Circuit_Get_Losses);
        const auto lineloss = doubles(Circuit_Get_LineLosses);
        std::ofstream js(out_dir / (c.name + ".json"));
        char buf[1024];
        std::snprintf(buf, sizeof buf,
                      "{\n  \"config\": \"%s\",\n  \"what\": \"%s\",\n  \"converged\": %s,\n  \"iterations\": %d,\n"
                      "  \"control_iterations\": %d,\n  \"total_iterations\": %d,\n"
                      "  \"total_power_kw\": %.12g,\n  \"total_power_kvar\": %.12g,\n"
                      "  \"losses_kw\": %.12g,\n  \"losses_kvar\": %.12g,\n  \"line_losses_kw\": %.12g,\n"
                      "  \"line_losses_kvar\": %.12g,\n",
                      c.name.c_str(), c.what.c_str(), Solution_Get_Converged() ? "true" : "false",
                      Solution_Get_Iterations(), Solution_Get_ControlIterations(), Solution_Get_Totaliterations(),
                      tp[0], tp[1], loss[0] / 1000.0, loss[1] / 1000.0, lineloss[0], lineloss[1]);
        js << buf;
        if (c.feeder == "eulv") {
            double p = 0.0, q = 0.0;
            lv_side_power(p, q);
            std::snprintf(buf, sizeof buf, "  \"lv_side_kw\": %.12g,\n  \"lv_side_kvar\": %.12g,\n", p, q);
            js << buf;
            std::printf("%s: power into the LV side %.4f kW %.4f kvar\n", c.name.c_str(), p, q);
        }
        js << "  \"taps\": {" << taps_json() << "\n  }\n}\n";
        std::printf("%s: converged %d, %d iterations, %d control iterations, source %.4f kW %.4f kvar\n",
                    c.name.c_str(), Solution_Get_Converged(), Solution_Get_Iterations(),
                    Solution_Get_ControlIterations(), -tp[0], -tp[1]);
        if (c.name == "eulv_0926_pq") {
            double p = 0.0, q = 0.0;
            lv_side_power(p, q);
            check_eulv_yearly(cases, p, q);
        }
    }
}

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// `set mode=snapshot` makes the next solve start again from OpenDSS's initial (direct Y) solution,
/// so each timed re-solve does the work of a fresh snapshot.
void time_config(const fs::path& cases, const Config& c, int n) {
    compile(cases, c);
    run("solve");
    double t0 = cpu_seconds();
    int iters = 0;
    for (int i = 0; i < n; ++i) {
        run("set mode=snapshot");
        run(kTight);
        run("solve");
        iters += Solution_Get_Iterations();
    }
    const double resolve = (cpu_seconds() - t0) / n;
    t0 = cpu_seconds();
    for (int i = 0; i < n; ++i) {
        compile(cases, c);
        run("solve");
    }
    const double full = (cpu_seconds() - t0) / n;
    std::printf("%-22s re-solve %9.3f ms (%.1f iterations)   compile+solve %9.3f ms   (CPU, mean of %d)\n",
                c.name.c_str(), 1e3 * resolve, static_cast<double>(iters) / n, 1e3 * full, n);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s refs <cases_dir> <out_dir> | timing <cases_dir> [N]\n", argv[0]);
        return 2;
    }
    try {
        DSS_Start(0);
        DSS_Set_AllowForms(0);
        const std::string mode = argv[1];
        const fs::path cases = argv[2];
        if (mode == "refs" && argc >= 4) {
            write_refs(cases, argv[3]);
        } else if (mode == "timing") {
            const int n = argc >= 4 ? std::atoi(argv[3]) : 20;
            for (const auto& c : configs()) {
                if (c.name == "eulv_0926_pq" || c.name == "ieee123_taps" || c.name == "ieee123_static") {
                    time_config(cases, c, n);
                }
            }
        } else {
            std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
            return 2;
        }
        fs::remove_all(fs::temp_directory_path() / ("dss_reference_" + std::to_string(getpid())));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
