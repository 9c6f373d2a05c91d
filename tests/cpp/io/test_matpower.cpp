// MATPOWER case reader and writer: every shipped case against its solved reference's counts and
// input columns, spot values, round trips, the syntax MATPOWER files use, malformed and hostile input.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/matpower.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#if defined(__unix__)
#include <unistd.h>
#endif

namespace fs = std::filesystem;
using namespace libgrid;

namespace {

const fs::path kData = fs::path(LIBGRID_TEST_DATA);
const fs::path kCases = kData / "matpower";
const fs::path kRefs = kData / "refs";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << p.string());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<fs::path> shipped_cases() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(kCases))
        if (e.path().extension() == ".m") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

/// A private scratch directory (ctest runs test cases in parallel processes).
fs::path scratch_dir() {
    const fs::path d = libgrid_test::scratch_dir() / "matpower";  // the process's own (scratch_dir.hpp)
    fs::create_directories(d);
    return d;
}

const Load* load_at(const Network& n, Id bus) {
    for (const Load& l : n.loads)
        if (l.bus == bus) return &l;
    return nullptr;
}
const Shunt* shunt_at(const Network& n, Id bus) {
    for (const Shunt& s : n.shunts)
        if (s.bus == bus) return &s;
    return nullptr;
}
const Bus& bus_with_id(const Network& n, Id id) {
    for (const Bus& b : n.buses)
        if (b.id == id) return b;
    FAIL("no bus " << id);
    return n.buses.front();
}

// A small valid case; the malformed-input tests replace one numbered line of it.
const std::vector<std::string> kSmall = {
    "function mpc = small",                                             // 1
    "mpc.version = '2';",                                               // 2
    "mpc.baseMVA = 100;",                                               // 3
    "mpc.bus = [",                                                      // 4
    "\t1\t3\t0\t0\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;",                   // 5
    "\t2\t1\t90\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;",                 // 6
    "\t3\t2\t0\t0\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;",                   // 7
    "];",                                                               // 8
    "mpc.gen = [",                                                      // 9
    "\t1\t0\t0\t300\t-300\t1\t100\t1\t250\t10;",                        // 10
    "\t3\t85\t0\t300\t-300\t1.025\t100\t1\t270\t10;",                   // 11
    "];",                                                               // 12
    "mpc.branch = [",                                                   // 13
    "\t1\t2\t0\t0.0576\t0\t250\t250\t250\t0\t0\t1\t-360\t360;",         // 14
    "\t2\t3\t0.017\t0.092\t0.158\t250\t250\t250\t0\t0\t1\t-360\t360;",  // 15
    "\t3\t1\t0.039\t0.17\t0.358\t150\t150\t150\t0\t0\t1\t-360\t360;",   // 16
    "];",                                                               // 17
};

std::string join(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines)
        s += l + "\n";
    return s;
}
/// kSmall with line `k` (1-based) replaced by `text` (which may hold several lines or none).
std::string small_with(std::size_t k, const std::string& text) {
    std::vector<std::string> lines = kSmall;
    lines.at(k - 1) = text;
    std::string s;
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (!(i == k - 1 && text.empty())) s += lines[i] + "\n";
    return s;
}
/// kSmall truncated to its first `n` lines, then `tail`.
std::string small_first(std::size_t n, const std::string& tail = "") {
    return join(std::vector<std::string>(kSmall.begin(), kSmall.begin() + static_cast<long>(n))) + tail;
}

struct BadCase {
    const char* what;
    std::string text;
    long line;
    const char* needle;  ///< must appear in what()
};

}  // namespace

TEST_CASE("matpower: every shipped case parses and matches its reference's input data") {
    const auto cases = shipped_cases();
    REQUIRE(cases.size() >= 9);
    int with_ref = 0;
    for (const fs::path& path : cases) {
        CAPTURE(path.string());
        const Network net = read_matpower(path.string());
        CHECK(net.name == path.stem().string());  // the function name, which MATPOWER names after the file
        CHECK(net.sn_mva == 100.0);
        CHECK(net.f_hz == 50.0);
        CHECK(!net.buses.empty());
        const fs::path ref_path = kRefs / (path.stem().string() + ".json");
        if (!fs::exists(ref_path)) continue;
        ++with_ref;
        const nlohmann::json ref = nlohmann::json::parse(slurp(ref_path));
        REQUIRE(net.buses.size() == ref.at("n_bus").get<std::size_t>());
        REQUIRE(net.branches.size() == ref.at("n_branch").get<std::size_t>());
        REQUIRE(net.gens.size() == ref.at("n_gen").get<std::size_t>());
        CHECK(net.sn_mva == ref.at("baseMVA").get<double>());

        // bus numbers in file order, and Pd/Qd/Gs/Bs recovered from the loads and shunts
        const auto& rb = ref.at("bus");
        auto close = [](double a, double b) {
            return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
        };
        int bus_mismatch = 0;
        for (std::size_t i = 0; i < net.buses.size(); ++i) {
            const Bus& b = net.buses[i];
            const Load* l = load_at(net, b.id);
            const Shunt* s = shunt_at(net, b.id);
            const double pd = l ? l->p_mw : 0.0, qd = l ? l->q_mvar : 0.0;
            const double gs = s ? s->p_mw : 0.0, bs = s ? -s->q_mvar : 0.0;
            if (b.id != rb.at("id")[i].get<Id>() || !close(pd, rb.at("Pd_MW")[i].get<double>()) ||
                !close(qd, rb.at("Qd_MVAr")[i].get<double>()) ||
                !close(gs, rb.at("Gs_MW")[i].get<double>()) || !close(bs, rb.at("Bs_MVAr")[i].get<double>()))
                ++bus_mismatch;
        }
        CHECK(bus_mismatch == 0);
        const auto& rg = ref.at("gen");
        int gen_mismatch = 0;
        for (std::size_t k = 0; k < net.gens.size(); ++k) {
            const Gen& g = net.gens[k];
            if (g.id != static_cast<Id>(k + 1) || g.bus != rg.at("bus")[k].get<Id>() ||
                g.in_service != (rg.at("status")[k].get<double>() > 0) ||
                !close(g.vm_pu, rg.at("Vg_pu")[k].get<double>()))
                ++gen_mismatch;
        }
        CHECK(gen_mismatch == 0);
        const auto& rbr = ref.at("branch");
        int branch_mismatch = 0;
        for (std::size_t k = 0; k < net.branches.size(); ++k) {
            const Branch& br = net.branches[k];
            if (br.id != static_cast<Id>(k + 1) || br.from_bus != rbr.at("from")[k].get<Id>() ||
                br.to_bus != rbr.at("to")[k].get<Id>() ||
                br.in_service != (rbr.at("status")[k].get<double>() > 0))
                ++branch_mismatch;
        }
        CHECK(branch_mismatch == 0);
        // one load per bus with Pd or Qd, one shunt per bus with Gs or Bs, ids = bus numbers
        std::size_t n_load = 0, n_shunt = 0;
        for (std::size_t i = 0; i < net.buses.size(); ++i) {
            if (rb.at("Pd_MW")[i].get<double>() != 0 || rb.at("Qd_MVAr")[i].get<double>() != 0) ++n_load;
            if (rb.at("Gs_MW")[i].get<double>() != 0 || rb.at("Bs_MVAr")[i].get<double>() != 0) ++n_shunt;
        }
        CHECK(net.loads.size() == n_load);
        CHECK(net.shunts.size() == n_shunt);
        for (const Load& l : net.loads)
            CHECK(l.id == l.bus);
        for (const Shunt& s : net.shunts)
            CHECK(s.id == s.bus);
    }
    CHECK(with_ref >= 8);
}

TEST_CASE("matpower: spot values") {
    SUBCASE("case9") {
        const Network n = read_matpower((kCases / "case9.m").string());
        REQUIRE(n.branches.size() == 9);
        CHECK(n.branches[0].id == 1);
        CHECK(n.branches[0].from_bus == 1);
        CHECK(n.branches[0].to_bus == 4);
        CHECK(n.branches[0].r_pu == 0.0);
        CHECK(n.branches[0].x_pu == 0.0576);
        CHECK(n.branches[0].rate_a_mva == 250.0);
        CHECK(n.branches[0].ratio == 0.0);
        CHECK(n.branches[0].angmin_deg == -360.0);
        CHECK(n.branches[1].b_pu == 0.158);
        CHECK(n.buses[0].type == BusType::Slack);
        CHECK(n.buses[1].type == BusType::PV);
        CHECK(n.buses[4].type == BusType::PQ);
        CHECK(n.buses[0].vn_kv == 345.0);
        CHECK(n.buses[0].vmax_pu == 1.1);
        CHECK(n.buses[0].vmin_pu == 0.9);
        CHECK(n.buses[0].name.empty());
        REQUIRE(n.loads.size() == 3);
        CHECK(n.loads[0].bus == 5);
        CHECK(n.loads[0].p_mw == 90.0);
        CHECK(n.loads[0].q_mvar == 30.0);
        CHECK(n.shunts.empty());
        REQUIRE(n.gens.size() == 3);
        CHECK(n.gens[0].vm_pu == 1.04);
        CHECK(n.gens[0].p_mw == 72.3);
        CHECK(n.gens[0].q_mvar == 27.03);
        CHECK(n.gens[0].max_q_mvar == 300.0);
        CHECK(n.gens[0].min_q_mvar == -300.0);
        CHECK(n.gens[0].max_p_mw == 250.0);
        CHECK(n.gens[0].min_p_mw == 10.0);
        CHECK(n.gens[2].q_mvar == -10.95);
    }
    SUBCASE("case118: shunt sign, bus names with repeated spaces") {
        const Network n = read_matpower((kCases / "case118.m").string());
        const Shunt* s5 = shunt_at(n, 5);  // Bs = -40 MVAr: a reactor, draws +40 MVAr at 1 p.u.
        REQUIRE(s5 != nullptr);
        CHECK(s5->q_mvar == 40.0);
        CHECK(s5->p_mw == 0.0);
        const Shunt* s34 = shunt_at(n, 34);  // Bs = +14: a capacitor
        REQUIRE(s34 != nullptr);
        CHECK(s34->q_mvar == -14.0);
        CHECK(bus_with_id(n, 1).name == "Riversde  V2");
        CHECK(bus_with_id(n, 8).name == "Olive     V1");
        CHECK(bus_with_id(n, 8).vn_kv == 345.0);
    }
    SUBCASE("case14: baseKV 0 means unknown") {
        const Network n = read_matpower((kCases / "case14.m").string());
        CHECK(n.buses[0].vn_kv == 0.0);
        CHECK(n.buses[13].name == "Bus 14    LV");
    }
    SUBCASE("case300: negative reactance, scientific notation") {
        const Network n = read_matpower((kCases / "case300.m").string());
        CHECK(n.branches[178].from_bus == 1201);
        CHECK(n.branches[178].to_bus == 120);
        CHECK(n.branches[178].x_pu == -0.3697);
        // 37 -> 9001, r = 6e-05
        bool found = false;
        for (const Branch& br : n.branches)
            if (br.from_bus == 37 && br.to_bus == 9001) found = br.r_pu == 6e-05 && br.x_pu == 0.00046;
        CHECK(found);
    }
    SUBCASE("case1354pegase: Inf Q limits, negative Pd, phase shift at ratio 0") {
        const Network n = read_matpower((kCases / "case1354pegase.m").string());
        const Gen* g = nullptr;
        for (const Gen& x : n.gens)
            if (x.bus == 4231) g = &x;
        REQUIRE(g != nullptr);
        CHECK(g->max_q_mvar == kInf);
        CHECK(g->min_q_mvar == -kInf);
        CHECK(g->p_mw == 2641.24);
        const Load* l = load_at(n, 96);
        REQUIRE(l != nullptr);
        CHECK(l->p_mw == -8.4);
        CHECK(l->q_mvar == 28.66);
        const Branch& br = n.branches[1780];
        CHECK(br.from_bus == 549);
        CHECK(br.to_bus == 5002);
        CHECK(br.ratio == 0.0);
        CHECK(br.shift_deg == 0.072386);
    }
    SUBCASE("case_ACTIVSg2000: extra columns ignored, generators out of service, bus_name") {
        const Network n = read_matpower((kCases / "case_ACTIVSg2000.m").string());
        const Bus& b = n.buses[0];
        CHECK(b.id == 1001);
        CHECK(b.vm_pu == 0.9839336);
        CHECK(b.va_deg == -22.646338);
        CHECK(b.vn_kv == 115.0);
        CHECK(b.zone == 9);
        CHECK(b.vmax_pu == 1.1);  // lam_P etc. follow in columns 14-17
        CHECK(b.vmin_pu == 0.9);
        CHECK(b.name == "ODESSA 2 0");
        CHECK(n.buses.back().id == 8160);
        CHECK(n.buses.back().name == "BRYAN 1 2");
        const Gen& g = n.gens[0];  // 25 columns: apf = 211 and the mu_* must not leak in
        CHECK(g.bus == 1004);
        CHECK(g.p_mw == 158.25);
        CHECK(g.q_mvar == -30.38);
        CHECK(g.max_q_mvar == 44.94);
        CHECK(g.min_q_mvar == -30.38);
        CHECK(g.vm_pu == 1.01);
        CHECK(g.mbase_mva == 253.2);
        CHECK(g.max_p_mw == 158.25);
        CHECK(g.min_p_mw == 158.25);
        CHECK(n.gens[10].bus == 1042);
        CHECK_FALSE(n.gens[10].in_service);
        const Branch& br = n.branches[0];  // 21 columns: Pf, Qf, ... ignored
        CHECK(br.r_pu == 0.00524);
        CHECK(br.x_pu == 0.0358);
        CHECK(br.b_pu == 0.00609);
        CHECK(br.rate_a_mva == 221.0);
        CHECK(br.angmin_deg == 0.0);
        CHECK(br.angmax_deg == 0.0);
        const Shunt* s = shunt_at(n, 1010);
        REQUIRE(s != nullptr);
        CHECK(s->q_mvar == 2.19);
    }
}

TEST_CASE("matpower: round trip read -> write -> read is the identity for every shipped case") {
    for (const fs::path& path : shipped_cases()) {
        CAPTURE(path.string());
        const Network first = read_matpower(path.string());
        const std::string text = to_matpower(first);
        const Network second = parse_matpower(text, "written.m");
        CHECK(second == first);
        CHECK(to_matpower(second) == text);  // and the writer is a fixed point
    }
    // through a file as well
    const fs::path dir = scratch_dir();
    const Network n = read_matpower((kCases / "case118.m").string());
    const fs::path out = dir / "case118.m";
    write_matpower(n, out.string());
    CHECK(read_matpower(out.string()) == n);
    fs::remove_all(dir);
}

TEST_CASE("matpower: the syntax MATPOWER files use") {
    const std::string text =
        "function [mpc] = variety()   % header comment\n"      // 1
        "% comment\n"                                          // 2
        "%{\n"                                                 // 3
        "mpc.bus = [ this block comment must be ignored ];\n"  // 4
        "%}\n"                                                 // 5
        "mpc.version = \"2\";\n"                               // 6
        "mpc.baseMVA = [ 250 ];  % a 1 x 1 matrix\n"           // 7
        "\n"                                                   // 8
        "mpc.bus = [\n"                                        // 9
        "  10, 3, 0, 0, 0, 0, 1, 1.0, 0, 230, 1, Inf, -inf, 0, 0   % commas, no ';'\n"
        "  20  1  1.5e2  -2.5E+1  0.5  -19  2  .98  -3.5  0  2  1.1  0.9 NaN nan;;\n"
        "\n"
        "\t30\t1\t-12\t0\t0\t0\t1\t1.\t0 ... continuation comment\n"
        "\t230\t1\t1.1\t0.9\t1e-400\t+7   % extra columns: NaN and anything numeric allowed\n"
        "];\n"
        "mpc.gen = [ 10 1e2 -5 Inf -Inf 1.02 100 1 200 0 ];\n"  // 10 columns
        "mpc.branch = [\r\n"                                    // CRLF line
        "  10 20 0.01 0.1 0.02 0 0 0 0.98 -2 1\r\n"             // 11 columns
        "  20 30 0.01 0.1 0 Inf 0 0 0 0 0\r\n"
        "];\n"
        "mpc.gentype = { 'W2 %; not a comment'; \"it''s \"\"quoted\"\"\" };\n"
        "mpc.gencost = [ 2 0 0 3 0.11 5 150 ];\n"
        "mpc.bus_name = { 'Bus ''A'' % ; x', \"B\"  ,  'C' };  % a row cell is fine too\n"
        "mpc.areas = [1 10; 2 20];\n"
        "mpc.dcline = [];\n"
        "mpc.if.map = [ 1 -2; 2 3 ];\n"
        "mpc.gencost(1, 1) = 2;  % indexed assignment to an unused field is skipped\n"
        "mpc.userfcn = struct('a', {{1, [2 3]}});\n"
        "return;\n"
        "end\n";
    const Network n = parse_matpower(text, "variety.m");
    CHECK(n.name == "variety");
    CHECK(n.sn_mva == 250.0);
    REQUIRE(n.buses.size() == 3);
    CHECK(n.buses[0].id == 10);
    CHECK(n.buses[0].type == BusType::Slack);
    CHECK(n.buses[0].vn_kv == 230.0);
    CHECK(n.buses[0].vmax_pu == kInf);
    CHECK(n.buses[0].vmin_pu == -kInf);
    CHECK(n.buses[0].name == "Bus 'A' % ; x");
    CHECK(n.buses[1].area == 2);
    CHECK(n.buses[1].zone == 2);
    CHECK(n.buses[1].vm_pu == 0.98);
    CHECK(n.buses[1].va_deg == -3.5);
    CHECK(n.buses[1].vn_kv == 0.0);
    CHECK(n.buses[1].name == "B");
    CHECK(n.buses[2].vm_pu == 1.0);
    CHECK(n.buses[2].vn_kv == 230.0);  // after the continuation
    CHECK(n.buses[2].vmin_pu == 0.9);
    CHECK(n.buses[2].name == "C");
    REQUIRE(n.loads.size() == 2);
    CHECK(n.loads[0].id == 20);
    CHECK(n.loads[0].p_mw == 150.0);
    CHECK(n.loads[0].q_mvar == -25.0);
    CHECK(n.loads[1].bus == 30);
    CHECK(n.loads[1].p_mw == -12.0);
    CHECK(n.loads[1].q_mvar == 0.0);
    REQUIRE(n.shunts.size() == 1);
    CHECK(n.shunts[0].bus == 20);
    CHECK(n.shunts[0].p_mw == 0.5);
    CHECK(n.shunts[0].q_mvar == 19.0);
    REQUIRE(n.gens.size() == 1);
    CHECK(n.gens[0].p_mw == 100.0);
    CHECK(n.gens[0].q_mvar == -5.0);
    CHECK(n.gens[0].max_q_mvar == kInf);
    CHECK(n.gens[0].min_q_mvar == -kInf);
    CHECK(n.gens[0].vm_pu == 1.02);
    CHECK(n.gens[0].max_p_mw == 200.0);
    REQUIRE(n.branches.size() == 2);
    CHECK(n.branches[0].ratio == 0.98);
    CHECK(n.branches[0].shift_deg == -2.0);
    CHECK(n.branches[0].angmin_deg == -360.0);  // 11 columns: MATPOWER's defaults
    CHECK(n.branches[0].angmax_deg == 360.0);
    CHECK(n.branches[1].rate_a_mva == kInf);
    CHECK_FALSE(n.branches[1].in_service);
    CHECK(parse_matpower(to_matpower(n)) == n);

    SUBCASE("a case without a function line; underflow reads as zero") {
        const Network m = parse_matpower(
            "mpc.baseMVA = 100; mpc.bus = [1 3 1e-400 0 0 0 1 1 0 0 1 1.1 0.9]; mpc.gen = []; mpc.branch = "
            "[];");
        CHECK(m.name.empty());
        CHECK(m.buses.size() == 1);
        CHECK(m.loads.empty());
        CHECK(m.gens.empty());
        CHECK(m.branches.empty());
    }
    SUBCASE("CRLF and lone CR line endings give the same network and the same error lines") {
        const std::string lf = slurp(kCases / "case9.m");
        std::string crlf, cr;
        for (char c : lf) {
            if (c == '\n') {
                crlf += "\r\n";
                cr += '\r';
            } else {
                crlf += c;
                cr += c;
            }
        }
        const Network ref = parse_matpower(lf);
        CHECK(parse_matpower(crlf) == ref);
        CHECK(parse_matpower(cr) == ref);
        std::string bad = small_with(6, "\t2\t1\t90\t30\t0\t0\t1\tNaN\t0\t345\t1\t1.1\t0.9;");
        std::string bad_crlf;
        for (char c : bad)
            bad_crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
        try {
            parse_matpower(bad_crlf, "crlf.m");
            FAIL("no error");
        } catch (const ParseError& e) {
            CHECK(e.line() == 6);
        }
    }
}

TEST_CASE("matpower: malformed and hostile input gives ParseError naming file and line") {
    std::string garbage =
        "\x7f"
        "ELF\x02\x01\x01";
    garbage += std::string(1, '\0');
    garbage += "\xff\xfe\x10\x80 mpc";
    std::string huge_digits = "1" + std::string(5000, '0');
    const std::vector<BadCase> bad = {
        {"empty file", "", 1, "missing mpc.baseMVA, mpc.bus, mpc.gen, mpc.branch"},
        {"only comments", "% nothing\n\n% here\n", 3, "missing mpc.baseMVA"},
        {"binary garbage", garbage, 1, "unexpected byte 0x7F"},
        {"binary inside a matrix", small_with(6, std::string("\t2\t1\x00\x01", 6)), 6, "byte 0x00"},
        {"unterminated matrix", small_first(15), 13, "mpc.branch: the matrix opened here is never closed"},
        {"missing ']'", small_with(8, ""), 8,
         "found 'mpc' (is the ']' closing the matrix opened at line 4 missing?)"},
        {"1e999", small_with(6, "\t2\t1\t1e999\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "'1e999' is too large"},
        {"-1e999 in an ignored column",
         small_with(11, "\t3\t85\t0\t300\t-300\t1.025\t100\t1\t270\t10\t-1e999;"), 11, "too large"},
        {"a 5001-digit number",
         small_with(6, "\t2\t1\t" + huge_digits + "\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "too large for a double"},
        {"too few branch columns", small_with(16, "\t3\t1\t0.039\t0.17\t0.358\t150\t150;"), 16,
         "mpc.branch row 3: expected at least 11 columns, found 7"},
        {"too few gen columns", small_with(10, "\t1\t0\t0\t300\t-300\t1\t100\t1\t250;"), 10,
         "mpc.gen row 1: expected at least 10 columns, found 9"},
        {"ragged bus matrix", small_with(6, "\t2\t1\t90\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9\t7;"), 6,
         "mpc.bus row 2: expected 13 columns as in row 1, found 14"},
        {"NaN voltage", small_with(6, "\t2\t1\t90\t30\t0\t0\t1\tNaN\t0\t345\t1\t1.1\t0.9;"), 6,
         "mpc.bus row 2, column 8 (Vm): expected a finite number, found NaN"},
        {"Inf resistance", small_with(15, "\t2\t3\tInf\t0.092\t0.158\t250\t250\t250\t0\t0\t1\t-360\t360;"),
         15, "mpc.branch row 2, column 3 (r): expected a finite number, found Inf"},
        {"NaN Q limit", small_with(11, "\t3\t85\t0\tNaN\t-300\t1.025\t100\t1\t270\t10;"), 11,
         "column 4 (Qmax): expected a number or +-Inf, found NaN"},
        {"duplicate bus", small_with(7, "\t2\t2\t0\t0\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 7,
         "mpc.bus row 3: duplicate bus number 2 (also in row 2)"},
        {"gen at unknown bus", small_with(11, "\t7\t85\t0\t300\t-300\t1.025\t100\t1\t270\t10;"), 11,
         "mpc.gen row 2, column 1 (bus): bus 7 is not in mpc.bus"},
        {"branch to unknown bus",
         small_with(15, "\t2\t33\t0.017\t0.092\t0.158\t250\t250\t250\t0\t0\t1\t-360\t360;"), 15,
         "mpc.branch row 2, column 2 (tbus): bus 33 is not in mpc.bus"},
        {"negative baseKV", small_with(6, "\t2\t1\t90\t30\t0\t0\t1\t1\t0\t-345\t1\t1.1\t0.9;"), 6,
         "column 10 (baseKV): expected a voltage >= 0 kV"},
        {"bus type 5", small_with(6, "\t2\t5\t90\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "column 2 (type): expected 1 (PQ), 2 (PV), 3 (reference) or 4 (isolated), found 5"},
        {"fractional bus number", small_with(5, "\t1.5\t3\t0\t0\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 5,
         "column 1 (bus_i): expected a bus number (a positive integer), found 1.5"},
        {"bus number 0", small_with(5, "\t0\t3\t0\t0\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 5, "found 0"},
        {"bus number 1e20", small_with(5, "\t1e20\t3\t0\t0\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 5,
         "expected a bus number"},
        {"area 1e10", small_with(5, "\t1\t3\t0\t0\t0\t0\t1e10\t1\t0\t345\t1\t1.1\t0.9;"), 5,
         "column 7 (area): expected an integer"},
        {"baseMVA 0", small_with(3, "mpc.baseMVA = 0;"), 3, "mpc.baseMVA: expected a positive finite number"},
        {"baseMVA NaN", small_with(3, "mpc.baseMVA = NaN;"), 3, "found NaN"},
        {"baseMVA missing", small_with(3, ""), 16, "missing mpc.baseMVA"},
        {"gen missing", small_first(8, "mpc.branch = [];\n"), 9, "missing mpc.gen (a MATPOWER case needs"},
        {"empty bus matrix", small_first(3, "mpc.bus = [];\n") + join({kSmall.begin() + 8, kSmall.end()}), 4,
         "mpc.bus is empty"},
        {"bus_name count", small_first(17, "mpc.bus_name = {\n'a';\n'b';\n};\n"), 18,
         "mpc.bus_name: expected one name per bus (3), found 2"},
        {"bus_name not a string", small_first(17, "mpc.bus_name = { 'a'; 2; 'c' };\n"), 18,
         "expected a quoted string"},
        {"unterminated string", small_first(17, "mpc.bus_name = {\n'a;\n};\n"), 19, "unterminated string"},
        {"unterminated cell", small_first(17, "mpc.bus_name = {\n'a';\n"), 18, "never closed"},
        {"expression 90-1", small_with(6, "\t2\t1\t90-1\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "unexpected '-' after the number '90'"},
        {"expression 2*3", small_with(6, "\t2\t1\t2*3\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "not expressions"},
        {"sign alone", small_with(6, "\t2\t1\t- 90\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "expected a number after the sign"},
        {"malformed exponent", small_with(6, "\t2\t1\t9e\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "malformed number '9e'"},
        {"double comma", small_with(6, "\t2,1,,90,30,0,0,1,1,0,345,1,1.1,0.9;"), 6, "unexpected ','"},
        {"Infinity", small_with(6, "\t2\t1\tInfinity\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "found 'Infinity'"},
        {"hex literal", small_with(6, "\t2\t1\t0x5A\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;"), 6,
         "unexpected 'x'"},
        {"transposed matrix", small_with(17, "]';"), 17,
         "expected ';' or the end of the line after mpc.branch"},
        {"indexed assignment", small_first(17, "mpc.bus(:, 3) = 0;\n"), 18,
         "indexed assignment to mpc.bus is not supported"},
        {"computed field", small_first(17, "Vbase = mpc.bus(1, 10) * 1e3;\n"), 18, "unexpected 'Vbase'"},
        {"version 1 function", small_with(1, "function [baseMVA, bus, gen, branch] = small"), 1,
         "MATPOWER case format version 1"},
        {"version 3", small_with(2, "mpc.version = '3';"), 2, "unsupported MATPOWER case format version '3'"},
        {"assigned twice", small_first(17, "\nmpc.baseMVA = 10;\n"), 19,
         "mpc.baseMVA is assigned a second time (first at line 3)"},
        {"second function", small_first(17, "function x = y\n"), 18, "unexpected 'function'"},
        {"statement after return", small_first(17, "return\nmpc.baseMVA = 5;\n"), 19, "after 'return'"},
        {"unterminated bracket in an unused field", small_first(17, "mpc.junk = " + std::string(100000, '[')),
         18, "never closed"},
        {"mismatched bracket in an unused field", small_first(17, "mpc.junk = [1 2};\n"), 18,
         "unexpected '}' (the '[' opened at line 18 is still open)"},
        {"unterminated string in an unused field", small_first(17, "mpc.gentype = {'W2;\n};\n"), 18,
         "unterminated string"},
        {"garbage in an unused field", small_first(17, std::string("mpc.junk = [1 \x01];\n")), 18,
         "byte 0x01"},
        {"unterminated block comment", small_first(17, "%{\nmpc.x = 1;\n"), 18, "unterminated block comment"},
        {"'==' instead of '='", small_with(3, "mpc.baseMVA == 100;"), 3, "expected '=' after mpc.baseMVA"},
        {"bus written as a cell", small_with(4, "mpc.bus = {"), 4, "expected '[' to start a matrix"},
    };
    for (const BadCase& b : bad) {
        const std::string name = b.what;
        CAPTURE(name);
        bool threw = false;
        try {
            parse_matpower(b.text, "hostile.m");
        } catch (const ParseError& e) {
            threw = true;
            const std::string msg = e.what();
            CAPTURE(msg);
            CHECK(e.file() == "hostile.m");
            CHECK(e.line() == b.line);
            CHECK(msg.rfind("hostile.m:" + std::to_string(b.line) + ": ", 0) == 0);
            CHECK(msg.find(b.needle) != std::string::npos);
        }
        CHECK(threw);
    }

    // the exact message of the brief's example
    try {
        parse_matpower(small_with(16, "\t3\t1\t0.039\t0.17\t0.358\t150\t150;"), "case.m");
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(std::string(e.what()) == "case.m:16: mpc.branch row 3: expected at least 11 columns, found 7");
    }

    // files: the error names the path; an unreadable path is line 0
    const fs::path dir = scratch_dir();
    const fs::path bad_file = dir / "bad_case.m";
    {
        std::ofstream(bad_file, std::ios::binary)
            << small_with(6, "\t2\t1\t1e999\t30\t0\t0\t1\t1\t0\t345\t1\t1.1\t0.9;");
    }
    try {
        read_matpower(bad_file.string());
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(e.file() == bad_file.string());
        CHECK(e.line() == 6);
        CHECK(std::string(e.what()).find("bad_case.m:6:") != std::string::npos);
    }
    try {
        read_matpower((dir / "does_not_exist.m").string());
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(e.line() == 0);
        CHECK(std::string(e.what()).find("does_not_exist.m:0: cannot open") != std::string::npos);
    }
    try {
        read_matpower(dir.string());
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(e.line() == 0);
        CHECK(std::string(e.what()).find("directory") != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("matpower: random mutations of real cases never crash and never give a non-ParseError") {
    // Deterministic fuzzing: every mutated text either parses (and then round-trips exactly) or is
    // rejected with a ParseError whose line lies inside the text.
    const std::vector<std::string> bases = {join(kSmall), slurp(kCases / "case9.m"),
                                            slurp(kCases / "case14.m")};
    const std::vector<std::string> tokens = {"[",    "]",   "{",     "}",           "'",
                                             "\"",   "%",   "%{\n",  "...",         "Inf",
                                             "-Inf", "NaN", "1e999", "1e-999",      ";",
                                             ",",    "\n",  "\r",    "-",           "+",
                                             ".",    "e",   "mpc.",  "mpc.bus = [", std::string(1, '\0'),
                                             "\xff", "0",   "9",     " ",           "\t"};
    std::mt19937_64 rng(20240601);
    int parsed = 0, rejected = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        std::string t = bases[static_cast<std::size_t>(iter) % bases.size()];
        const int n_mut = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < n_mut && !t.empty(); ++k) {
            const std::size_t at = rng() % t.size();
            switch (rng() % 4) {
                case 0:
                    t[at] = static_cast<char>(rng() % 256);
                    break;
                case 1:
                    t.erase(at, 1 + rng() % 40);
                    break;
                case 2:
                    t.insert(at, tokens[rng() % tokens.size()]);
                    break;
                default:
                    t.insert(at, t.substr(rng() % t.size(), 1 + rng() % 60));
                    break;
            }
        }
        long n_lines = 1;
        for (std::size_t i = 0; i < t.size(); ++i)
            if (t[i] == '\n' || (t[i] == '\r' && (i + 1 >= t.size() || t[i + 1] != '\n'))) ++n_lines;
        try {
            const Network n = parse_matpower(t, "fuzz.m");
            ++parsed;
            Network again = parse_matpower(to_matpower(n), "fuzz_written.m");
            if (n.name.empty()) {  // no function line: the writer must still name the function
                if (again.name != "libgrid_case") FAIL("unnamed case written as " << again.name);
                again.name.clear();
            }
            if (!(again == n)) FAIL("round trip differs for mutated input #" << iter);
        } catch (const ParseError& e) {
            ++rejected;
            if (e.file() != "fuzz.m" || e.line() < 1 || e.line() > n_lines)
                FAIL("bad error location for mutated input #" << iter << ": " << e.what());
        } catch (const std::exception& e) {
            FAIL("mutated input #" << iter << " threw a non-ParseError: " << e.what());
        }
    }
    MESSAGE("fuzz: " << parsed << " parsed, " << rejected << " rejected");
    CHECK(parsed > 0);
    CHECK(rejected > 0);
}

TEST_CASE("matpower: writer") {
    Network net;
    net.name = "Melaka feeder 3";
    net.sn_mva = 10.0;
    Bus b1;
    b1.id = 1;
    b1.type = BusType::Slack;
    b1.vn_kv = 11.0;
    b1.name = "Alpha";
    Bus b2;
    b2.id = 7;
    b2.vn_kv = 11.0;
    b2.vm_pu = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
    b2.va_deg = 1.0 / 3.0;
    Bus b3;
    b3.id = 9;
    b3.vn_kv = 0.4;
    b3.name = "O'Brien";
    b3.vmax_pu = kInf;
    net.buses = {b1, b2, b3};
    Load l1;
    l1.id = 100;
    l1.bus = 7;
    l1.p_mw = 1.5;
    l1.q_mvar = 0.5;
    Load l2 = l1;
    l2.id = 101;
    l2.scaling = 0.5;
    l2.p_mw = 2.0;
    l2.q_mvar = -1.0;
    Load l3 = l1;  // out of service: not written
    l3.id = 102;
    l3.in_service = false;
    l3.const_z_p_percent = 100.0;  // ZIP, but out of service, so irrelevant
    net.loads = {l1, l2, l3};
    Shunt s1;
    s1.id = 1;
    s1.bus = 9;
    s1.p_mw = 0.01;
    s1.q_mvar = -0.3;  // capacitor
    s1.step = 2;
    s1.max_step = 3;
    Shunt s2 = s1;
    s2.id = 2;
    s2.in_service = false;
    net.shunts = {s1, s2};
    Gen g;
    g.id = 42;
    g.bus = 1;
    g.p_mw = 5e-324;  // the smallest subnormal survives
    g.vm_pu = 1.02;
    g.max_p_mw = 1.7976931348623157e308;
    net.gens = {g};
    Branch br;
    br.id = 5;
    br.from_bus = 1;
    br.to_bus = 7;
    br.r_pu = 0.01;
    br.x_pu = 0.05;
    br.shift_deg = -30.0;
    br.in_service = false;
    Branch br2 = br;
    br2.from_bus = 7;
    br2.to_bus = 9;
    br2.in_service = true;
    br2.rate_a_mva = kInf;
    net.branches = {br, br2};

    const std::string text = to_matpower(net);
    CHECK(text.rfind("function mpc = Melaka_feeder_3\n", 0) == 0);
    CHECK(text.find("mpc.version = '2';") != std::string::npos);
    CHECK(text.find("\tInf\t") != std::string::npos);
    CHECK(text.find("-Inf") != std::string::npos);  // the default Gen::min_q_mvar
    CHECK(text.find("'O''Brien';") != std::string::npos);
    CHECK(text.find("inf") == std::string::npos);
    CHECK(text.find("nan") == std::string::npos);

    const Network back = parse_matpower(text, "written.m");
    CHECK(back.name == "Melaka_feeder_3");
    CHECK(back.sn_mva == 10.0);
    REQUIRE(back.buses.size() == 3);
    CHECK(back.buses[0].name == "Alpha");
    CHECK(back.buses[1].name.empty());
    CHECK(back.buses[2].name == "O'Brien");
    CHECK(back.buses[1].vm_pu == 0.1 + 0.2);
    CHECK(back.buses[1].va_deg == 1.0 / 3.0);
    CHECK(back.buses[2].vmax_pu == kInf);
    CHECK(back.buses[2].vn_kv == 0.4);
    REQUIRE(back.loads.size() == 1);  // two in-service loads at bus 7, aggregated
    CHECK(back.loads[0].bus == 7);
    CHECK(back.loads[0].p_mw == 1.5 + 2.0 * 0.5);
    CHECK(back.loads[0].q_mvar == 0.5 + -1.0 * 0.5);
    REQUIRE(back.shunts.size() == 1);
    CHECK(back.shunts[0].bus == 9);
    CHECK(back.shunts[0].p_mw == 0.01 * 2);
    CHECK(back.shunts[0].q_mvar == -0.3 * 2);
    REQUIRE(back.gens.size() == 1);
    CHECK(back.gens[0].id == 1);  // MATPOWER has no gen ids: row number
    CHECK(back.gens[0].p_mw == 5e-324);
    CHECK(back.gens[0].max_p_mw == 1.7976931348623157e308);
    CHECK(back.gens[0].min_q_mvar == -kInf);
    CHECK(back.gens[0].max_q_mvar == kInf);
    CHECK(back.gens[0].vm_pu == 1.02);
    REQUIRE(back.branches.size() == 2);
    CHECK_FALSE(back.branches[0].in_service);
    CHECK(back.branches[0].shift_deg == -30.0);
    CHECK(back.branches[1].rate_a_mva == kInf);

    SUBCASE("no bus_name block without names; out-of-service bus written as isolated") {
        Network n2 = back;
        for (Bus& b : n2.buses)
            b.name.clear();
        n2.buses[1].in_service = false;
        const std::string t2 = to_matpower(n2);
        CHECK(t2.find("bus_name") == std::string::npos);
        const Network r2 = parse_matpower(t2);
        CHECK(r2.buses[1].type == BusType::Isolated);
        CHECK(r2.buses[0].type == BusType::Slack);
    }
    SUBCASE("write_matpower names an unnamed case after its file") {
        Network n2 = back;
        n2.name.clear();
        const fs::path dir = scratch_dir();
        const fs::path p = dir / "feeder-7.m";
        write_matpower(n2, p.string());
        const Network r = read_matpower(p.string());
        CHECK(r.name == "feeder_7");
        Network expect = n2;
        expect.name = "feeder_7";
        CHECK(r == expect);
        fs::remove_all(dir);
    }
}

TEST_CASE("matpower: writer refuses what MATPOWER cannot express") {
    const Network base = read_matpower((kCases / "case9.m").string());
    auto expect_validation = [](const Network& n, const std::string& needle) {
        try {
            to_matpower(n);
            FAIL("no error, expected: " << needle);
        } catch (const ValidationError& e) {
            CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
        }
    };
    auto expect_id = [](const Network& n, const std::string& needle) {
        try {
            to_matpower(n);
            FAIL("no error, expected: " << needle);
        } catch (const IdError& e) {
            CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
        }
    };
    {
        Network n = base;
        Line l;
        l.id = 7;
        l.from_bus = 1;
        l.to_bus = 2;
        n.lines.push_back(l);
        expect_validation(n, "line 7: cannot be written as MATPOWER");
    }
    {
        Network n = base;
        Transformer t;
        t.id = 3;
        n.transformers.push_back(t);
        expect_validation(n, "transformer 3");
    }
    {
        Network n = base;
        Switch s;
        s.id = 4;
        n.switches.push_back(s);
        expect_validation(n, "switch 4");
    }
    {
        Network n = base;
        SGen s;
        s.id = 5;
        n.sgens.push_back(s);
        expect_validation(n, "sgen 5");
    }
    {
        Network n = base;
        Storage s;
        s.id = 6;
        n.storage.push_back(s);
        expect_validation(n, "storage 6");
    }
    {
        Network n = base;
        ExtGrid e;
        e.id = 8;
        e.bus = 1;
        n.ext_grids.push_back(e);
        expect_validation(n, "ext_grid 8");
    }
    {
        Network n = base;
        n.loads[1].const_i_q_percent = 20.0;
        expect_validation(n, "load 7: cannot be written as MATPOWER (it is a ZIP load");
    }
    {
        Network n = base;
        n.gens[2].p_mw = kNaN;
        expect_validation(n, "gen 3: field 'p_mw'");
    }
    {
        Network n = base;
        n.branches[0].x_pu = kInf;
        expect_validation(n, "branch 1: field 'x_pu'");
    }
    {
        Network n = base;
        n.buses[3].name = "two\nlines";
        expect_validation(n, "bus 4: field 'name'");
    }
    {
        Network n = base;
        n.buses[3].vn_kv = -1.0;
        expect_validation(n, "bus 4: field 'vn_kv'");
    }
    {
        Network n = base;
        n.sn_mva = 0.0;
        expect_validation(n, "sn_mva");
    }
    {
        Network n = base;
        n.loads[0].bus = 99;
        expect_id(n, "load 5: field 'bus': bus 99 does not exist");
    }
    {
        Network n = base;
        n.branches[4].to_bus = 99;
        expect_id(n, "branch 5: field 'to_bus'");
    }
    {
        Network n = base;
        n.buses[4].id = 4;
        expect_id(n, "bus 4: duplicate bus id");
    }
}

TEST_CASE("matpower: case_ACTIVSg2000 (660 kB) parses, the same twice") {
    // Its parse speed is measured by benches/bench_io.cpp (BM_MatpowerParseACTIVSg2000), never
    // asserted in a test.
    const std::string text = slurp(kCases / "case_ACTIVSg2000.m");
    const Network a = parse_matpower(text, "case_ACTIVSg2000.m");
    CHECK(a.buses.size() == 2000);
    CHECK(parse_matpower(text, "case_ACTIVSg2000.m") == a);
}
