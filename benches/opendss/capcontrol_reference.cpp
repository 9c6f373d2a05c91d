// OpenDSS's answers for the capacitor-control tests (tests/data/opendss/capcontrol/README.md).
// Opt-in, never built by CI: it links DSS-Extensions' dss_capi (OpenDSS's engine as a C library).
//
//   capcontrol_reference <data_dir> <out_dir> SCRIPT...
//
// <data_dir> is tests/data/opendss (it holds ieee13/, ieee123/, capcontrol/). The folders are copied
// to a scratch folder (with IEEELineCodes.dss -> IEEELineCodes.DSS: the IEEE 13 script names the
// file with the wrong case, which Linux does not forgive); each SCRIPT (a file name in capcontrol/)
// is compiled there (it ends with its own Solve) and <out_dir>/<script stem>.csv gets:
//   meta,converged,<0|1>            meta,control_iterations,<n>     meta,iterations,<n>
//   capacitor,<name>,<state step 1> <state step 2> ...
//   tap,<regcontrol>,<tap position>
//   node,<bus>,<node>,<|V| volts>,<angle deg>,<|V| p.u.>
#include <dss_capi.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

void run(const std::string& cmd) {
    Text_Set_Command(cmd.c_str());
    if (Error_Get_Number() != 0) throw std::runtime_error("OpenDSS: '" + cmd + "': " + Error_Get_Description());
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
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

fs::path scratch(const fs::path& data) {
    const fs::path dir = fs::temp_directory_path() / ("capcontrol_reference_" + std::to_string(getpid()));
    fs::remove_all(dir);
    for (const char* f : {"ieee13", "ieee123", "capcontrol"}) {
        fs::create_directories(dir / f);
        for (const auto& e : fs::directory_iterator(data / f)) fs::copy_file(e.path(), dir / f / e.path().filename());
    }
    fs::create_symlink("IEEELineCodes.DSS", dir / "ieee13" / "IEEELineCodes.dss");
    return dir;
}

void write_ref(const fs::path& script, const fs::path& out_file) {
    run("clear");
    run("compile [" + script.string() + "]");
    std::ofstream out(out_file);
    out << "meta,converged," << (Solution_Get_Converged() ? 1 : 0) << "\n";
    out << "meta,control_iterations," << Solution_Get_ControlIterations() << "\n";
    out << "meta,iterations," << Solution_Get_Iterations() << "\n";
    for (int i = Capacitors_Get_First(); i > 0; i = Capacitors_Get_Next()) {
        int32_t* p = nullptr;
        int32_t dims[4] = {0, 0, 0, 0};
        Capacitors_Get_States(&p, dims);
        out << "capacitor," << lower(Capacitors_Get_Name()) << ",";
        for (int k = 0; k < dims[0]; ++k) out << (k ? " " : "") << p[k];
        out << "\n";
        DSS_Dispose_PInteger(&p);
    }
    for (int i = RegControls_Get_First(); i > 0; i = RegControls_Get_Next())
        out << "tap," << lower(RegControls_Get_Name()) << "," << RegControls_Get_TapNumber() << "\n";
    const auto names = strings(Circuit_Get_AllNodeNames);
    const auto v = doubles(Circuit_Get_AllBusVolts);
    const auto pu = doubles(Circuit_Get_AllBusVmagPu);
    char buf[256];
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string& n = names[i];
        const double re = v[2 * i], im = v[2 * i + 1];
        std::snprintf(buf, sizeof buf, "node,%s,%s,%.12g,%.12g,%.12g\n", lower(n.substr(0, n.find('.'))).c_str(),
                      n.substr(n.find('.') + 1).c_str(), std::hypot(re, im), std::atan2(im, re) * 180.0 / M_PI, pu[i]);
        out << buf;
    }
    std::printf("%s: converged %d, %d control iterations\n", script.filename().c_str(), Solution_Get_Converged(),
                Solution_Get_ControlIterations());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s <data_dir> <out_dir> SCRIPT...\n", argv[0]);
        return 2;
    }
    try {
        DSS_Start(0);
        const fs::path dir = scratch(argv[1]);
        for (int a = 3; a < argc; ++a) {
            const fs::path s = dir / "capcontrol" / argv[a];
            write_ref(s, fs::path(argv[2]) / (s.stem().string() + ".csv"));
        }
        fs::remove_all(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
