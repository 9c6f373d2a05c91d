// The IEEE 13 and 34 node test feeders under the conditions of their published solutions (issue 14):
// tests/data/opendss/published_variants/ (EPRI's scripts, unchanged, compiled and then edited where the
// IEEE documents' model differs; that folder's README gives each change and its source) against the
// published voltages, input power and losses (tests/data/ieee_feeders/published.json).
//
// A published value "reproduces" when it is within half a unit of its last printed digit: magnitudes are
// printed with 4 decimals (5e-5 p.u.), angles with 2 (0.005 deg), powers with 3 (0.0005 kW).
// Not every value reproduces (docs/unbalanced.md, "Reproducing the published digits"): the test names
// the ones that do and asserts each of them to the printed digit; every other one is reported (MESSAGE)
// with its difference. Nothing is loosened: no value outside half a digit is counted as reproduced.
// Separately, libgrid must equal OpenDSS on the same variant scripts (published_variants/opendss_*.csv,
// written by OpenDSS itself at tolerance 1e-10), so the differences left are the model's, not the solver's.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kData = std::string(LIBGRID_TEST_DATA);
const std::string kVariants = kData + "/opendss/published_variants/";

constexpr double kHalfMag = 0.5e-4;   // 4 decimals printed
constexpr double kHalfAng = 0.5e-2;   // 2 decimals printed
constexpr double kRound = 1e-9;       // RG60.C, 1.06875 (tap 11), is printed 1.0687: exactly half a digit away

double angle_diff_deg(double a, double b) { return std::remainder(a - b, 360.0); }

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct Solved {
    UNetwork net;
    UPfResult res;
    std::map<std::pair<std::string, int>, std::size_t> row;  ///< (bus, phase) -> node row
};

Solved solve_variant(const std::string& file) {
    Solved s;
    s.net = read_dss(kVariants + file).net;
    UPfOptions opt;
    opt.method = UMethod::fixed_point;
    opt.controls = UControlMode::off;
    opt.tolerance = 1e-11;
    opt.max_iterations = 200;
    s.res = run_unbalanced_pf(s.net, opt);
    REQUIRE_MESSAGE(s.res.converged, s.res.message);
    for (std::size_t i = 0; i < s.res.node.bus.size(); ++i) {
        s.row[{s.net.buses[s.res.node.bus[i]].name, s.res.node.phase[i]}] = i;
    }
    return s;
}

struct Compared {
    int values = 0, reproduced = 0;
    double worst_dv = 0.0, worst_da = 0.0;
};

/// Every published (magnitude, angle): the pairs named in `reproduces` ("bus.phase" as printed) are
/// asserted to the printed digits; the others are reported with their differences.
Compared compare_voltages(const std::string& feeder, const Solved& s, const std::set<std::string>& reproduces) {
    const std::map<std::string, std::string> alias = {{"RG60", "rg60"}, {"RG10", "814r"}, {"RG11", "852r"}};
    std::ifstream f(kData + "/ieee_feeders/published.json");
    const auto pub = nlohmann::json::parse(f)[feeder];
    Compared c;
    std::set<std::string> seen;
    for (const auto& [bus_printed, phases] : pub["voltages"].items()) {
        const auto a = alias.find(bus_printed);
        const std::string bus = lower(a != alias.end() ? a->second : bus_printed);
        for (const auto& [ph, val] : phases.items()) {
            const std::string key = bus_printed + "." + ph;
            const auto it = s.row.find({bus, ph[0] - 'A' + 1});
            if (it == s.row.end()) {
                MESSAGE(feeder << " " << key << ": internal node of the published program, not in the model");
                CHECK(reproduces.count(key) == 0);
                continue;
            }
            const double dv = s.res.node.vm_pu[it->second] - val[0].get<double>();
            const double da = angle_diff_deg(s.res.node.va_deg[it->second], val[1].get<double>());
            const bool ok = std::abs(dv) <= kHalfMag + kRound && std::abs(da) <= kHalfAng + kRound;
            ++c.values;
            c.reproduced += ok ? 1 : 0;
            c.worst_dv = std::max(c.worst_dv, std::abs(dv));
            c.worst_da = std::max(c.worst_da, std::abs(da));
            seen.insert(key);
            if (reproduces.count(key) != 0) {
                CAPTURE(key);
                CHECK(std::abs(dv) <= kHalfMag + kRound);
                CHECK(std::abs(da) <= kHalfAng + kRound);
            } else {
                MESSAGE(feeder << " " << key << " not reproduced: |V| " << s.res.node.vm_pu[it->second] << " (printed "
                               << val[0].get<double>() << ", diff " << dv << " p.u.), angle " << s.res.node.va_deg[it->second]
                               << " (printed " << val[1].get<double>() << ", diff " << da << " deg)");
            }
        }
    }
    for (const std::string& k : reproduces) CHECK_MESSAGE(seen.count(k) == 1, k << " is not a published node of the model");
    MESSAGE(feeder << ": " << c.reproduced << " of " << c.values << " published (magnitude, angle) pairs to the printed "
                   << "digits; worst |dV| " << c.worst_dv << " p.u., worst |dangle| " << c.worst_da << " deg");
    return c;
}

/// Input power (the source's, at the feeder head: the variants put the source there) and losses
/// (lines + transformers) against the published totals. None of them reproduces to the printed
/// 0.001 kW (docs/unbalanced.md): reported, with the differences.
void report_totals(const std::string& feeder, const Solved& s) {
    std::ifstream f(kData + "/ieee_feeders/published.json");
    const auto pub = nlohmann::json::parse(f)[feeder];
    const double p = pub["input"]["kW"]["total"].get<double>(), q = pub["input"]["kVAr"]["total"].get<double>();
    const double lp = pub["losses"]["kW"]["total"].get<double>(), lq = pub["losses"]["kVAr"]["total"].get<double>();
    std::ostringstream m;
    m << std::fixed << std::setprecision(3) << feeder << ": input " << s.res.source_kva.real() << " kW "
      << s.res.source_kva.imag() << " kvar (printed " << p << ", " << q << "; diff " << s.res.source_kva.real() - p
      << ", " << s.res.source_kva.imag() - q << "), losses " << s.res.losses_kva.real() << " kW "
      << s.res.losses_kva.imag() << " kvar (printed " << lp << ", " << lq << "; diff " << s.res.losses_kva.real() - lp
      << ", " << s.res.losses_kva.imag() - lq << ")";
    MESSAGE(m.str());
}

/// libgrid against OpenDSS on the same script (opendss_<variant>.csv): every node to 1e-6 p.u.
/// and 1e-4 deg, the source power and the losses to 1e-3 kW / kvar.
void check_against_opendss(const std::string& variant, const Solved& s) {
    std::ifstream f(kVariants + "opendss_" + variant + ".csv");
    REQUIRE(f.good());
    std::string line;
    int nodes = 0;
    double worst_dv = 0.0, worst_da = 0.0;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#' || line.rfind("node,", 0) == 0) continue;
        std::stringstream ss(line);
        std::string name, a, b;
        std::getline(ss, name, ',');
        std::getline(ss, a, ',');
        std::getline(ss, b, ',');
        if (name == "total_kw_kvar") {
            CHECK(std::abs(s.res.source_kva.real() - std::stod(a)) <= 1e-3);
            CHECK(std::abs(s.res.source_kva.imag() - std::stod(b)) <= 1e-3);
        } else if (name == "losses_kw_kvar") {
            CHECK(std::abs(s.res.losses_kva.real() - std::stod(a)) <= 1e-3);
            CHECK(std::abs(s.res.losses_kva.imag() - std::stod(b)) <= 1e-3);
        } else {
            const std::size_t dot = name.rfind('.');
            const auto it = s.row.find({name.substr(0, dot), std::stoi(name.substr(dot + 1))});
            CHECK_MESSAGE(it != s.row.end(), "node " << name << " missing");
            if (it == s.row.end()) continue;
            ++nodes;
            worst_dv = std::max(worst_dv, std::abs(s.res.node.vm_pu[it->second] - std::stod(a)));
            worst_da = std::max(worst_da, std::abs(angle_diff_deg(s.res.node.va_deg[it->second], std::stod(b))));
        }
    }
    MESSAGE(variant << ": " << nodes << " nodes against OpenDSS, worst |dV| " << worst_dv << " p.u., |dangle| " << worst_da
                    << " deg");
    CHECK(nodes == static_cast<int>(s.row.size()));
    CHECK(worst_dv <= 1e-6);
    CHECK(worst_da <= 1e-4);
}

}  // namespace

TEST_CASE("published solutions: the published-conditions variants solve as OpenDSS solves them") {
    for (const char* v : {"ieee13_published", "ieee13_published_rated", "ieee34_published"}) {
        CAPTURE(v);
        const Solved s = solve_variant(std::string(v) + ".dss");
        check_against_opendss(v, s);
    }
}

// IEEE 13 with changes (1)-(7) of published_variants/README.md: 20 of the 35 pairs reproduce; the rest
// are up to 3.6 units of the 4th decimal and 2.7 units of the 2nd (angle) away (docs/unbalanced.md).
TEST_CASE("published solutions: IEEE 13 under the published conditions") {
    const Solved s = solve_variant("ieee13_published.dss");
    const Compared c = compare_voltages("ieee13", s,
                                        {"650.A", "650.B", "650.C", "RG60.A", "RG60.B", "RG60.C", "632.A", "632.B",
                                         "633.B", "634.A", "634.B", "645.C", "646.B", "671.A", "671.B", "680.A",
                                         "680.B", "684.A", "692.B", "675.B"});
    CHECK(c.values == 35);
    report_totals("ieee13", s);
}

// The same with the load and capacitor ratings at the nominal voltage (change (8), inferred): the same 20
// pairs reproduce; the input power per phase comes within 0.03 kW of the published (reported).
TEST_CASE("published solutions: IEEE 13 under the published conditions, ratings at the nominal voltage") {
    const Solved s = solve_variant("ieee13_published_rated.dss");
    const Compared c = compare_voltages("ieee13", s,
                                        {"650.A", "650.B", "650.C", "RG60.A", "RG60.B", "RG60.C", "632.A", "632.B",
                                         "633.B", "634.A", "634.B", "645.C", "646.B", "671.A", "671.B", "680.A",
                                         "680.B", "684.A", "692.B", "675.B"});
    CHECK(c.values == 35);
    report_totals("ieee13", s);
}

// IEEE 34 (Mod 2) with changes (1)-(4): 16 pairs reproduce, the rest are up to 1.8 units of the 4th
// decimal and 7 units of the 2nd (angle) away.
TEST_CASE("published solutions: IEEE 34 under the published conditions") {
    const Solved s = solve_variant("ieee34_published.dss");
    const Compared c = compare_voltages("ieee34", s,
                                        {"800.A", "800.B", "800.C", "802.A", "802.B", "802.C", "806.A", "806.B",
                                         "808.A", "808.B", "812.B", "814.A", "814.B", "RG10.A", "816.B", "818.A"});
    CHECK(c.values == 92);
    report_totals("ieee34", s);
}
