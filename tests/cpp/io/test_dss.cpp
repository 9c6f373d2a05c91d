// OpenDSS script reader and writer (libgrid/io/dss.hpp): the four test feeders (counts taken from
// the files by hand, values worked by hand or printed by OpenDSS itself), the traps of the format
// each in a small script, errors naming file, line, element and property, and round trips.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/model/unetwork.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace libgrid;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(LIBGRID_TEST_DATA) / "opendss";

DssReadResult read(const std::string& rel, bool missing_ok = false) {
    DssReadOptions o;
    o.missing_redirect_is_error = !missing_ok;
    return read_dss((kData / rel).string(), o);
}

/// A circuit header for inline scripts.
const std::string kHead = "Clear\nSet DefaultBaseFrequency=60\nNew Circuit.t basekv=12.47\n";

UNetwork run(const std::string& body) { return read_dss_string(kHead + body, "t.dss").net; }

const ULine& line(const UNetwork& n, const std::string& name) {
    for (const ULine& l : n.lines)
        if (l.name == name) return l;
    FAIL("no line " << name);
    return n.lines.front();
}
const UTransformer& xf(const UNetwork& n, const std::string& name) {
    for (const UTransformer& t : n.transformers)
        if (t.name == name) return t;
    FAIL("no transformer " << name);
    return n.transformers.front();
}
const ULoad& load(const UNetwork& n, const std::string& name) {
    for (const ULoad& l : n.loads)
        if (l.name == name) return l;
    FAIL("no load " << name);
    return n.loads.front();
}
const URegControl& reg(const UNetwork& n, const std::string& name) {
    for (const URegControl& r : n.regcontrols)
        if (r.name == name) return r;
    FAIL("no regcontrol " << name);
    return n.regcontrols.front();
}
std::string bus_of(const UNetwork& n, const UTerminal& t) { return n.buses[static_cast<std::size_t>(t.bus)].name; }

std::string error_of(const std::string& text, const std::string& name = "t.dss") {
    try {
        (void)read_dss_string(text, name);
    } catch (const ParseError& e) {
        return e.what();
    }
    return "(no error)";
}

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

constexpr double kTap = 0.00625;

}  // namespace

// ---- the four feeders ------------------------------------------------------------------------------

TEST_CASE("dss: IEEE 13 node feeder") {
    const DssReadResult r = read("ieee13/IEEE13Nodeckt.dss");
    const UNetwork& n = r.net;
    CHECK(n.name == "ieee13nodeckt");
    CHECK(n.buses.size() == 16);  // OpenDSS's count, sourcebus included
    CHECK(n.find_bus("sourcebus") == 0);
    CHECK(n.lines.size() == 12);  // 11 lines + the switch 671692
    CHECK(n.transformers.size() == 5);  // sub, reg1..3, xfm1
    CHECK(n.regcontrols.size() == 3);
    CHECK(n.loads.size() == 15);
    CHECK(n.capacitors.size() == 2);
    CHECK(n.vsources.size() == 1);
    CHECK(n.settings.base_frequency_hz == 60.0);
    CHECK(n.settings.voltage_bases_kv == std::vector<double>{115, 4.16, 0.48});
    CHECK(n.settings.calc_voltage_bases);
    CHECK(n.settings.solve_count == 1);
    int with_coords = 0;
    for (const UBus& b : n.buses) with_coords += b.has_coords ? 1 : 0;
    CHECK(with_coords == 16);  // IEEE13Node_BusXY.csv has every bus, SourceBus included
    // source: MVAsc3 = 20000, MVAsc1 = 21000 at 115 kV, X1/R1 = 4, X0/R0 = 3 (VSource.pas)
    const UVsource& v = n.vsources[0];
    CHECK(bus_of(n, v.bus1) == "sourcebus");
    CHECK(v.bus1.nodes == std::vector<int>{1, 2, 3});
    const double x1 = 115.0 * 115.0 / 20000.0 / std::sqrt(1.0 + 1.0 / 16.0);
    CHECK(v.z1_ohm.imag() == doctest::Approx(x1).epsilon(1e-12));
    CHECK(v.z1_ohm.real() == doctest::Approx(x1 / 4.0).epsilon(1e-12));
    CHECK(v.z0_ohm.real() == doctest::Approx(0.179603583012336).epsilon(1e-9));  // OpenDSS: ? vsource.source.r0
    CHECK(v.z0_ohm.imag() == doctest::Approx(0.538810749037007).epsilon(1e-9));
    CHECK(v.pu == 1.0001);
    CHECK(v.angle_deg == 30.0);
    // RPN: XHL=(8 1000 /), %r=(.5 1000 /)
    CHECK(xf(n, "sub").xhl_pct == doctest::Approx(0.008));
    CHECK(xf(n, "sub").windings[0].r_pct == doctest::Approx(0.0005));
    CHECK(xf(n, "sub").windings[0].delta);
    CHECK(xf(n, "sub").windings[1].bus.nodes == std::vector<int>{1, 2, 3, 0});
    // %LoadLoss=0.01 splits into %r = 0.005 on each winding; kVAs / Buses arrays
    const UTransformer& r1 = xf(n, "reg1");
    CHECK(r1.nphases == 1);
    CHECK(r1.windings[0].r_pct == doctest::Approx(0.005));
    CHECK(r1.windings[1].r_pct == doctest::Approx(0.005));
    CHECK(r1.windings[1].kva == 1666.0);
    CHECK(bus_of(n, r1.windings[1].bus) == "rg60");
    CHECK(r1.windings[1].bus.nodes == std::vector<int>{1, 0});
    CHECK(r1.bank == "reg1");
    // XFM1: XHT/XLT given per winding line
    CHECK(xf(n, "xfm1").xht_pct == 1.0);
    CHECK(xf(n, "xfm1").xlt_pct == 1.0);
    const URegControl& g = reg(n, "reg1");
    CHECK(n.transformers[static_cast<std::size_t>(g.transformer)].name == "reg1");
    CHECK(g.winding == 2);
    CHECK(g.vreg == 122.0);
    CHECK(g.band == 2.0);
    CHECK(g.ptratio == 20.0);
    CHECK(g.ctprim == 700.0);
    CHECK(g.r == 3.0);
    CHECK(g.x == 9.0);
    // line 650632: mtx601 in ohm per mile, 2000 ft
    const ULine& l = line(n, "650632");
    CHECK(l.length_km == doctest::Approx(0.6096));
    CHECK(l.r_ohm_per_km[0] == doctest::Approx(0.3465 / 1.609344));
    CHECK(l.x_ohm_per_km[1] == doctest::Approx(0.5017 / 1.609344));
    CHECK(l.r_ohm_per_km[3] == doctest::Approx(0.1560 / 1.609344));  // symmetric from the lower triangle
    // mtx601 has no cmatrix: OpenDSS keeps the line code's default C1 = 3.4, C0 = 1.6 nF per unit length
    CHECK(l.c_nf_per_km[0] == doctest::Approx((1.6 + 2 * 3.4) / 3 / 1.609344));
    CHECK(l.linecode == "mtx601");
    CHECK(bus_of(n, l.bus1) == "rg60");
    // mtx607: 1 phase with its own cmatrix = [236] nF per mile
    CHECK(line(n, "684652").c_nf_per_km[0] == doctest::Approx(236.0 / 1.609344));
    CHECK(line(n, "684652").bus1.nodes == std::vector<int>{1});
    CHECK(line(n, "632645").bus1.nodes == std::vector<int>{3, 2});
    // the switch: Switch=y then r1=1e-4 ... c0=0, length 0.001 (no units)
    const ULine& sw = line(n, "671692");
    CHECK(sw.is_switch);
    CHECK(sw.length_km == doctest::Approx(0.001));
    CHECK(sw.r_ohm_per_km[0] == doctest::Approx(1e-4));
    CHECK(sw.x_ohm_per_km[0] == 0.0);
    CHECK(sw.c_nf_per_km[0] == 0.0);
    CHECK(sw.bus1.nodes == std::vector<int>{1, 2, 3});
    // loads
    CHECK(load(n, "671").delta);
    CHECK(load(n, "671").bus1.nodes == std::vector<int>{1, 2, 3});
    CHECK(load(n, "634a").bus1.nodes == std::vector<int>{1, 0});
    CHECK(load(n, "634a").kv == 0.277);
    CHECK(load(n, "646").delta);
    CHECK(load(n, "646").bus1.nodes == std::vector<int>{2, 3});
    CHECK(load(n, "646").model == 2);
    CHECK(load(n, "692").bus1.nodes == std::vector<int>{3, 1});
    CHECK(load(n, "692").model == 5);
    CHECK(load(n, "671").kvar == 660.0);
    CHECK(load(n, "671").base_kw == 1155.0);
    CHECK(n.capacitors[1].bus1.nodes == std::vector<int>{3});
    CHECK(n.capacitors[0].bus2.bus == -1);  // bus2 default: ground
    CHECK(n.capacitors[0].kvar == std::vector<double>{600});
    CHECK(n.capacitors[0].kv == 4.16);
}

TEST_CASE("dss: IEEE 34 Mod2 feeder and its run script's forced taps") {
    const UNetwork n = read("ieee34/ieee34Mod2.dss").net;
    CHECK(n.name == "ieee34-2");  // New object=circuit.ieee34-2
    CHECK(n.buses.size() == 56);
    CHECK(n.lines.size() == 51);
    CHECK(n.transformers.size() == 8);  // subxf, xfm1, reg1a..c, reg2a..c
    CHECK(n.regcontrols.size() == 6);
    CHECK(n.loads.size() == 38);  // 8 spot + 30 distributed
    CHECK(n.capacitors.size() == 2);
    CHECK(n.vsources[0].pu == 1.05);
    CHECK(n.settings.voltage_bases_kv == std::vector<double>{69, 24.9, 4.16, 0.48});
    CHECK(xf(n, "subxf").ppm_antifloat == 0.0);
    // conns='wye wye' kvs="14.376 14.376" buses=(814.1 814r.1); "~ wdg=1 %r=.0001 wdg=2 %r=.0001 ppm=0"
    const UTransformer& t = xf(n, "reg1a");
    CHECK(t.windings[0].kv == 14.376);
    CHECK(t.windings[1].r_pct == 0.0001);
    CHECK(t.windings[0].r_pct == 0.0001);
    CHECK(t.ppm_antifloat == 0.0);
    CHECK(bus_of(n, t.windings[1].bus) == "814r");
    CHECK(reg(n, "creg2a").delay_s == 30.0);
    // Length=(1.73 2 /) kft
    CHECK(line(n, "l2a").length_km == doctest::Approx(1.73 / 2 * 0.3048));
    // Load.s860.vminpu=0.85 daily=default: a property edit
    CHECK(load(n, "s860").vminpu == 0.85);
    CHECK(load(n, "s860").daily == "default");
    CHECK(load(n, "s830a").bus1.nodes == std::vector<int>{1, 2});

    const DssReadResult run = read("ieee34/Run_IEEE34Mod2.dss");
    const UNetwork& m = run.net;
    CHECK(m.lines.size() == 51);
    CHECK(m.settings.control_mode == "off");
    CHECK(m.settings.max_control_iterations == 300);
    CHECK(m.settings.solve_count == 1);  // the second Compile cleared the first run
    const char* names[6] = {"reg1a", "reg1b", "reg1c", "reg2a", "reg2b", "reg2c"};
    const int steps[6] = {12, 5, 5, 13, 11, 12};
    for (int k = 0; k < 6; ++k) {
        CHECK(xf(m, names[k]).windings[1].tap == doctest::Approx(1.0 + kTap * steps[k]).epsilon(1e-15));
        CHECK(xf(m, names[k]).windings[0].tap == 1.0);
    }
    // ignored: EnergyMeter, show, plot, Interpolate, Set MarkTransformers - one note each
    bool meter = false, plot = false, mark = false;
    for (const std::string& s : run.notes) {
        meter = meter || s.find("New Energymeter.M1") != std::string::npos;
        plot = plot || s.find("ignored: plot") != std::string::npos;
        mark = mark || s.find("marktransformers") != std::string::npos;
    }
    CHECK(meter);
    CHECK(plot);
    CHECK(mark);
}

TEST_CASE("dss: IEEE 34 Mod1 (distributed loads at both ends of the sections)") {
    const UNetwork n = read("ieee34/Run_IEEE34Mod1.dss").net;
    CHECK(n.name == "ieee34-1");
    CHECK(n.buses.size() == 37);  // the README's count, 69 kV source bus included
    CHECK(n.lines.size() == 32);
    CHECK(n.transformers.size() == 8);
    CHECK(n.regcontrols.size() == 6);
    CHECK(n.loads.size() == 68);
    CHECK(n.capacitors.size() == 2);
    std::size_t nodes = 0;  // distinct (bus, node > 0) pairs any element uses: the README's 95
    std::vector<std::vector<int>> seen(n.buses.size());
    auto add = [&](const UTerminal& t) {
        for (int k : t.nodes) {
            auto& s = seen[static_cast<std::size_t>(t.bus)];
            if (k > 0 && std::find(s.begin(), s.end(), k) == s.end()) {
                s.push_back(k);
                ++nodes;
            }
        }
    };
    for (const ULine& l : n.lines) add(l.bus1), add(l.bus2);
    for (const UTransformer& t : n.transformers)
        for (const UWinding& w : t.windings) add(w.bus);
    for (const ULoad& l : n.loads) add(l.bus1);
    for (const UCapacitor& c : n.capacitors) add(c.bus1);
    add(n.vsources[0].bus1);
    CHECK(nodes == 95);
}

TEST_CASE("dss: IEEE 123 node feeder and Kersting's forced taps") {
    const UNetwork n = read("ieee123/IEEE123Master.dss").net;
    CHECK(n.buses.size() == 132);
    CHECK(n.lines.size() == 126);  // 118 sections + Sw1..Sw8
    CHECK(n.transformers.size() == 8);  // reg1a (3-phase), reg2a, reg3a, reg3c, reg4a..c, xfm1
    CHECK(n.regcontrols.size() == 7);
    CHECK(n.loads.size() == 91);
    CHECK(n.capacitors.size() == 4);
    CHECK(n.vsources[0].z1_ohm == std::complex<double>(0.0, 0.0001));
    CHECK(n.vsources[0].z0_ohm == std::complex<double>(0.0, 0.0001));
    CHECK(bus_of(n, n.vsources[0].bus1) == "150");
    // like=: reg3c copies reg3a (kvs, kvas, XHL, %LoadLoss) with its own buses
    const UTransformer& c3 = xf(n, "reg3c");
    CHECK(c3.windings[0].kv == 2.402);
    CHECK(c3.windings[0].kva == 2000.0);
    CHECK(c3.windings[0].r_pct == doctest::Approx(0.000005));
    CHECK(c3.xhl_pct == 0.01);
    CHECK(bus_of(n, c3.windings[0].bus) == "25");
    CHECK(c3.windings[0].bus.nodes == std::vector<int>{3, 0});
    // RegControl like=: creg4b copies creg4a with R=1.4 X=2.6
    const URegControl& g = reg(n, "creg4b");
    CHECK(g.vreg == 124.0);
    CHECK(g.ctprim == 300.0);
    CHECK(g.r == 1.4);
    CHECK(g.x == 2.6);
    CHECK(n.transformers[static_cast<std::size_t>(g.transformer)].name == "reg4b");
    // line codes without units and lines in kft: the code's data are per kft
    const ULine& l = line(n, "l115");
    CHECK(l.length_km == doctest::Approx(0.4 * 0.3048));
    CHECK(l.r_ohm_per_km[0] == doctest::Approx(0.086666667 / 0.3048));
    // the open points: lines to dangling buses
    CHECK(n.find_bus("300_open") >= 0);
    CHECK(n.find_bus("94_open") >= 0);
    CHECK(line(n, "sw1").r_ohm_per_km[0] == doctest::Approx(1e-3));  // r1 = r0 = 1e-3, no units
    CHECK(line(n, "sw1").length_km == doctest::Approx(0.001));
    CHECK(xf(n, "xfm1").windings[1].delta);

    // Run_IEEE123Bus.DSS redirects CircuitplottingScripts.DSS, which EPRI does not ship
    CHECK(error_of("") != "(no error)");
    try {
        (void)read("ieee123/Run_IEEE123Bus.DSS");
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(std::string(e.what()).find("Run_IEEE123Bus.DSS:60: Redirect: file 'CircuitplottingScripts.DSS' not found") !=
              std::string::npos);
        CHECK(e.line() == 60);
    }
    const DssReadResult run = read("ieee123/Run_IEEE123Bus.DSS", true);
    const UNetwork& m = run.net;
    const char* names[7] = {"reg1a", "reg2a", "reg3a", "reg3c", "reg4a", "reg4b", "reg4c"};
    const int steps[7] = {7, -1, 0, -1, 8, 1, 5};
    for (int k = 0; k < 7; ++k)
        CHECK(xf(m, names[k]).windings[1].tap == doctest::Approx(1.0 + kTap * steps[k]).epsilon(1e-15));
    for (const URegControl& r : m.regcontrols) CHECK(r.maxtapchange == 0);
    CHECK(reg(m, "creg1a").delay_s == 15.0);  // the second compile reset the first script's Delay=15/30 edits
    CHECK(reg(m, "creg2a").delay_s == 15.0);
    CHECK(m.settings.max_control_iterations == 10);  // Set MaxControlIter=30 was before the second Compile's Clear
    CHECK(m.settings.solve_count == 1);
    bool missing = false;
    for (const std::string& s : run.notes) missing = missing || s.find("CircuitplottingScripts.DSS") != std::string::npos;
    CHECK(missing);
}

TEST_CASE("dss: European LV feeder, and its load shapes at 09:26") {
    DssReadResult r = read("eulv/Master.dss");
    UNetwork& n = r.net;
    CHECK(n.buses.size() == 907);  // 906 LV buses + sourcebus
    CHECK(n.lines.size() == 905);
    CHECK(n.transformers.size() == 1);
    CHECK(n.loads.size() == 55);
    CHECK(n.loadshapes.size() == 55);
    CHECK(n.regcontrols.empty());
    CHECK(n.settings.base_frequency_hz == 50.0);
    CHECK(n.settings.voltage_bases_kv == std::vector<double>{11, 0.416});
    // Edit Vsource.Source BasekV=11 pu=1.05 ISC3=3000 ISC1=5: OpenDSS prints r1 0.51343603081027,
    // x0 3610.96406536753
    CHECK(n.vsources[0].basekv == 11.0);
    CHECK(n.vsources[0].z1_ohm.real() == doctest::Approx(0.51343603081027).epsilon(1e-12));
    CHECK(n.vsources[0].z0_ohm.imag() == doctest::Approx(3610.96406536753).epsilon(1e-12));
    CHECK(n.transformers[0].sub);
    CHECK(n.transformers[0].windings[0].r_pct == 0.2);  // default
    // line codes by sequence data in ohm per km, lines in m
    const ULine& l1 = line(n, "line1");
    CHECK(l1.length_km == doctest::Approx(1.098e-3));
    CHECK(l1.r_ohm_per_km[0] == doctest::Approx((1.505 + 2 * 0.446) / 3));  // 4c_70
    CHECK(l1.r_ohm_per_km[1] == doctest::Approx((1.505 - 0.446) / 3));
    CHECK(l1.x_ohm_per_km[0] == doctest::Approx((0.083 + 2 * 0.071) / 3));
    CHECK(l1.c_nf_per_km[0] == 0.0);
    // loads: kW=1 PF=0.95, phase to neutral (ground)
    const ULoad& ld = load(n, "load1");
    CHECK(ld.kw == 1.0);
    CHECK(ld.kvar == doctest::Approx(std::sqrt(1.0 / (0.95 * 0.95) - 1.0)));
    CHECK(ld.bus1.nodes == std::vector<int>{1, 0});
    CHECK(bus_of(n, ld.bus1) == "34");
    CHECK(ld.yearly == "shape_1");
    // shapes: 1440 points, minterval=1, mult=(file=...), then batchedit loadshape..* useactual=no
    const ULoadShape& s = n.loadshapes[0];
    CHECK(s.npts == 1440);
    CHECK(s.mult.size() == 1440);
    CHECK(s.interval_h == doctest::Approx(1.0 / 60.0));
    CHECK_FALSE(s.useactual);
    CHECK(s.mult[565] == 0.574);  // load_profile_1.txt line 566
    // buscoords: every bus but sourcebus
    int with_coords = 0;
    for (const UBus& b : n.buses) with_coords += b.has_coords ? 1 : 0;
    CHECK(with_coords == 906);

    apply_loadshapes_at(n, 566.0 / 60.0);
    CHECK(load(n, "load1").kw == doctest::Approx(0.574));  // point 566 of load_profile_1.txt
    CHECK(load(n, "load1").kvar == doctest::Approx(0.574 * std::sqrt(1.0 / (0.95 * 0.95) - 1.0)));
    CHECK(load(n, "load2").kw == doctest::Approx(0.044));  // load_profile_2.txt line 566
    double per_phase[4] = {0, 0, 0, 0};
    double total = 0.0;
    for (const ULoad& l : n.loads) {
        per_phase[l.bus1.nodes[0]] += l.kw;
        total += l.kw;
    }
    // the 55 profiles' line 566 summed by phase (awk over the files): 17.436 / 33.698 / 6.224 kW
    CHECK(per_phase[1] == doctest::Approx(17.436));
    CHECK(per_phase[2] == doctest::Approx(33.698));
    CHECK(per_phase[3] == doctest::Approx(6.224));
    CHECK(total == doctest::Approx(57.358));
    // the published power into the LV network at 09:26 is 59.3836 kW, losses included: a few % above
    CHECK(total < 59.3836);
    CHECK(total > 0.95 * 59.3836);
    // 24:00 is point 1440 (round(1440) = 1440), 00:00 also point 1440, 00:01 point 1
    apply_loadshapes_at(n, 0.0);
    const double at0 = load(n, "load1").kw;
    apply_loadshapes_at(n, 24.0);
    CHECK(load(n, "load1").kw == at0);
    CHECK(at0 == doctest::Approx(n.loadshapes[0].mult[1439]));
    apply_loadshapes_at(n, 1.0 / 60.0);
    CHECK(load(n, "load1").kw == doctest::Approx(n.loadshapes[0].mult[0]));
}

// ---- the traps, each in a small script ------------------------------------------------------------------

TEST_CASE("dss trap: CRLF, comments !, //, /* */ and ~") {
    const UNetwork n = read_dss_string(
                           "Clear\r\nNew Circuit.T basekv=12.47\r\n! New Line.no1 bus1=x bus2=y\r\n"
                           "// New Line.no2 bus1=x bus2=y\r\n/* block\r\nNew Line.no3 bus1=x bus2=y\r\n"
                           "still in the block */\r\nNew Line.L1 bus1=A bus2=B ! trailing comment length=9\r\n"
                           "~ length=2 // another\r\nmore units=kft\r\n",
                           "t.dss")
                           .net;
    REQUIRE(n.lines.size() == 1);
    CHECK(n.lines[0].name == "l1");
    CHECK(n.lines[0].length_km == doctest::Approx(2 * 0.3048));
    CHECK(n.buses[static_cast<std::size_t>(n.lines[0].bus1.bus)].name == "a");
}

TEST_CASE("dss trap: names, classes, properties and commands without regard to case; abbreviations") {
    const UNetwork n = run("NEW LINE.Feeder BUS1=SrcBus BUS2=B2 LENG=3\nline.FEEDER.Phases=1\nEdit Line.feeder bus2=b2.2\ncalcv\n");
    REQUIRE(n.lines.size() == 1);
    CHECK(n.lines[0].name == "feeder");
    CHECK(n.lines[0].nphases == 1);
    CHECK(n.lines[0].length_km == 3.0);
    CHECK(n.lines[0].bus2.nodes == std::vector<int>{2});
    CHECK(n.settings.calc_voltage_bases);
}

TEST_CASE("dss trap: in-line RPN and quoting with () [] {} \"\" ''") {
    const UNetwork n = run(
        "New Transformer.T1 phases=1 XHL=(8 1000 /) buses=(a.1 b.1) conns='wye wye' kvs=\"2.4 2.4\" kvas={100 100}\n"
        "Transformer.t1.wdg=2 Tap=(0.00625  12  * 1 +)\n"
        "New Line.L bus1=a bus2=b length=(1.73 2 /) r1=(2 sqrt) x1=[3]\n"
        "New Load.ld bus1=a.1 phases=1 kv=2.4 kw=(10 2 ^) kvar=(3 chs)\n");
    const UTransformer& t = n.transformers[0];
    CHECK(t.xhl_pct == doctest::Approx(0.008));
    CHECK(t.windings[1].tap == doctest::Approx(1.075));
    CHECK(t.windings[0].kva == 100.0);
    CHECK(t.windings[1].kv == 2.4);
    CHECK(n.lines[0].length_km == doctest::Approx(0.865));
    const double rs = (0.1784 + 2 * std::sqrt(2.0)) / 3;  // Zs with r0 the default 0.1784
    CHECK(n.lines[0].r_ohm_per_km[0] == doctest::Approx(rs));
    CHECK(n.loads[0].kw == doctest::Approx(100.0));
    CHECK(n.loads[0].kvar == doctest::Approx(-3.0));
}

TEST_CASE("dss trap: bus specifications and default nodes") {
    const UNetwork n = run(
        "New Line.l3 bus1=650 bus2=x\n"
        "New Line.l2 phases=2 bus1=650.3.2 bus2=y.3.2\n"
        "New Load.wye3 bus1=650 kv=4.16\n"
        "New Load.wye1 bus1=650.2 phases=1 kv=2.4\n"
        "New Load.wye1n bus1=650.2.4 phases=1 kv=2.4\n"
        "New Load.delta1 bus1=650.1.2 phases=1 conn=delta kv=4.16\n"
        "New Load.delta3 bus1=650 conn=delta kv=4.16\n"
        "New Capacitor.c bus1=650.3 phases=1 kv=2.4 kvar=[50 50]\n"
        "New Capacitor.c2 bus1=650 bus2=650.4.4.4 kv=4.16\n");
    CHECK(n.lines[0].bus1.nodes == std::vector<int>{1, 2, 3});
    CHECK(n.lines[1].bus1.nodes == std::vector<int>{3, 2});
    CHECK(load(n, "wye3").bus1.nodes == std::vector<int>{1, 2, 3, 0});
    CHECK(load(n, "wye1").bus1.nodes == std::vector<int>{2, 0});
    CHECK(load(n, "wye1n").bus1.nodes == std::vector<int>{2, 4});
    CHECK(load(n, "delta1").bus1.nodes == std::vector<int>{1, 2});
    CHECK(load(n, "delta3").bus1.nodes == std::vector<int>{1, 2, 3});
    CHECK(n.capacitors[0].kvar == std::vector<double>{50, 50});
    CHECK(n.capacitors[0].states == std::vector<int>{1, 1});
    CHECK(n.capacitors[0].bus2.bus == -1);
    CHECK(n.capacitors[1].bus2.nodes == std::vector<int>{4, 4, 4});
    CHECK(n.buses.size() == 4);  // sourcebus, 650, x, y
}

TEST_CASE("dss trap: line defaults, Switch=y, units of lines against line codes") {
    const UNetwork n = run(
        "New Line.default bus1=a bus2=b\n"
        "New Line.sw bus1=a bus2=c switch=y\n"
        "New LineCode.mi nphases=1 r1=1 x1=2 r0=1 x0=2 units=mi\n"
        "New LineCode.none nphases=1 r1=1 x1=2 r0=1 x0=2\n"
        "New LineCode.km nphases=1 r1=1 x1=2 r0=1 x0=2 units=km\n"
        "New Line.mi_ft bus1=a.1 bus2=d.1 linecode=mi length=5280 units=ft\n"
        "New Line.none_kft bus1=a.1 bus2=e.1 linecode=none length=2 units=kft\n"
        "New Line.km_none bus1=a.1 bus2=f.1 linecode=km length=0.5\n"
        "New Line.units_first bus1=a.1 bus2=g.1 units=ft length=100 linecode=mi\n");
    const ULine& d = line(n, "default");  // OpenDSS: r1 0.058, x1 0.1206, r0 0.1784, x0 0.4047, c1 3.4, c0 1.6, length 1
    CHECK(d.nphases == 3);
    CHECK(d.length_km == 1.0);
    CHECK(d.r_ohm_per_km[0] == doctest::Approx((0.1784 + 2 * 0.058) / 3));
    CHECK(d.x_ohm_per_km[1] == doctest::Approx((0.4047 - 0.1206) / 3));
    CHECK(d.c_nf_per_km[0] == doctest::Approx((1.6 + 2 * 3.4) / 3));
    CHECK(d.norm_amps == 400.0);
    const ULine& sw = line(n, "sw");  // r1=x1=r0=x0=1, c1=1.1, c0=1 nF, length 0.001
    CHECK(sw.is_switch);
    CHECK(sw.r_ohm_per_km[0] == doctest::Approx(1.0));
    CHECK(sw.r_ohm_per_km[1] == doctest::Approx(0.0));
    CHECK(sw.c_nf_per_km[0] == doctest::Approx((1.0 + 2 * 1.1) / 3));
    CHECK(sw.length_km == doctest::Approx(0.001));
    // 1 ohm per mile, 5280 ft: 1 ohm in total
    const ULine& a = line(n, "mi_ft");
    CHECK(a.r_ohm_per_km[0] * a.length_km == doctest::Approx(1.0));
    CHECK(a.r_ohm_per_km[0] == doctest::Approx(1.0 / 1.609344));
    // no units on the code: its data are per the line's unit (kft)
    const ULine& b = line(n, "none_kft");
    CHECK(b.r_ohm_per_km[0] * b.length_km == doctest::Approx(2.0));
    CHECK(b.length_km == doctest::Approx(0.6096));
    // code per km, no units on the line: the length is in the code's unit
    const ULine& c = line(n, "km_none");
    CHECK(c.r_ohm_per_km[0] * c.length_km == doctest::Approx(0.5));
    // units before the line code: the code's unit converts to the line's (OpenDSS FetchLineCode)
    const ULine& e = line(n, "units_first");
    CHECK(e.r_ohm_per_km[0] * e.length_km == doctest::Approx(100.0 / 5280.0));
    CHECK(e.linecode == "mi");
}

TEST_CASE("dss trap: Kron reduction of a 4-wire line code, its frequency") {
    // Z_pp = [[2 1 1] [1 2 1] [1 1 2]] + j the same, Z_pn = [1 2 0], Z_nn = 4 (ohm/km): reduced
    // r = [[1.75 0.5 1] [0.5 1 1] [1 1 2]] (tests/cpp/model/test_unetwork.cpp works it by hand)
    const UNetwork n = run(
        "New LineCode.k nphases=4 units=km rmatrix=[2 | 1 2 | 1 1 2 | 1 2 0 4] xmatrix=[2 | 1 2 | 1 1 2 | 1 2 0 4]"
        " cmatrix=[10 | 0 10 | 0 0 10 | 0 0 0 10] kron=y\n"
        "New Line.l bus1=a bus2=b linecode=k length=1 units=km\n"
        "New LineCode.f50 nphases=1 r1=1 x1=1 r0=1 x0=1 units=km basefreq=50\n"
        "New Line.f bus1=a.1 bus2=c.1 linecode=f50 length=1 units=km\n");
    const ULine& l = line(n, "l");
    REQUIRE(l.nphases == 3);
    const double want[9] = {1.75, 0.5, 1, 0.5, 1, 1, 1, 1, 2};
    for (std::size_t k = 0; k < 9; ++k) {
        CHECK(l.r_ohm_per_km[k] == doctest::Approx(want[k]));
        CHECK(l.x_ohm_per_km[k] == doctest::Approx(want[k]));
        CHECK(l.c_nf_per_km[k] == doctest::Approx(k % 4 == 0 ? 10.0 : 0.0));
    }
    // a code at 50 Hz in a 60 Hz circuit: X scales with the frequency, R and C do not
    CHECK(line(n, "f").x_ohm_per_km[0] == doctest::Approx(1.2));
    CHECK(line(n, "f").r_ohm_per_km[0] == doctest::Approx(1.0));
}

TEST_CASE("dss trap: transformer wdg= context, arrays, aliases, %loadloss, like=") {
    const UNetwork n = run(
        "New Transformer.a phases=3 windings=3 X12=5 X13=6 X23=7 %noloadloss=0.3 %imag=1.5 ppm=0 sub=y\n"
        "~ wdg=1 bus=s conn=delta kv=115 kva=5000 %r=0.5\n"
        "~ wdg=2 bus=t kv=12.47 kva=3000 tap=1.05 maxtap=1.2 mintap=0.8 numtaps=16\n"
        "~ wdg=3 bus=u kv=4.16 kva=2000 %r=0.4 rneut=5 xneut=1\n"
        "New Transformer.b like=a buses=[p q r] %loadloss=2 %rs=[1 2 3]\n");
    const UTransformer& a = xf(n, "a");
    CHECK(a.windings.size() == 3);
    CHECK(a.xhl_pct == 5.0);
    CHECK(a.xht_pct == 6.0);
    CHECK(a.xlt_pct == 7.0);
    CHECK(a.noload_loss_pct == 0.3);
    CHECK(a.imag_pct == 1.5);
    CHECK(a.ppm_antifloat == 0.0);
    CHECK(a.sub);
    CHECK(a.windings[0].delta);
    CHECK(a.windings[0].bus.nodes.size() == 3);
    CHECK(a.windings[1].bus.nodes == std::vector<int>{1, 2, 3, 0});
    CHECK(a.windings[1].tap == 1.05);
    CHECK(a.windings[1].max_tap == 1.2);
    CHECK(a.windings[1].num_taps == 16);
    CHECK(a.windings[1].r_pct == 0.2);  // default
    CHECK(a.windings[2].rneut_ohm == 5.0);
    const UTransformer& b = xf(n, "b");
    CHECK(b.xlt_pct == 7.0);
    CHECK(b.windings[1].kv == 12.47);
    CHECK(bus_of(n, b.windings[2].bus) == "r");
    CHECK(b.windings[0].r_pct == 1.0);  // %rs after %loadloss
    CHECK(b.windings[2].r_pct == 3.0);
}

TEST_CASE("dss trap: loads - kW with PF, kVA, defaults, BatchEdit with a regular expression") {
    const UNetwork n = run(
        "New Load.pf bus1=a kw=100 pf=0.8\n"
        "New Load.neg bus1=a kw=100 pf=-0.8\n"
        "New Load.kva bus1=a kva=50 pf=0.6\n"
        "New Load.kvar_first bus1=a kvar=30 kw=40\n"
        "New Load.default bus1=a\n"
        "New Load.zip bus1=a model=8 zipv=[0.2 0.3 0.5 0.2 0.3 0.5 0.8] vlowpu=0.4\n"
        "BatchEdit Load..* vmaxpu=1.2\n"
        "batchedit load.^k.* vminpu=0.5\n");
    CHECK(load(n, "pf").kvar == doctest::Approx(75.0));
    CHECK(load(n, "neg").kvar == doctest::Approx(-75.0));
    CHECK(load(n, "kva").kw == doctest::Approx(30.0));
    CHECK(load(n, "kva").kvar == doctest::Approx(40.0));
    // kW after kvar: OpenDSS goes back to kW and PF (0.88 by default)
    CHECK(load(n, "kvar_first").kvar == doctest::Approx(40.0 * std::sqrt(1 / (0.88 * 0.88) - 1)));
    CHECK(load(n, "default").kw == 10.0);
    CHECK(load(n, "default").kv == 12.47);
    CHECK(load(n, "default").nphases == 3);
    CHECK(load(n, "default").kvar == doctest::Approx(10.0 * std::sqrt(1 / (0.88 * 0.88) - 1)));
    CHECK(load(n, "zip").zipv.size() == 7);
    CHECK(load(n, "zip").vlowpu == 0.4);
    for (const ULoad& l : n.loads) CHECK(l.vmaxpu == 1.2);
    CHECK(load(n, "kva").vminpu == 0.5);
    CHECK(load(n, "kvar_first").vminpu == 0.5);
    CHECK(load(n, "pf").vminpu == 0.95);
}

TEST_CASE("dss: BatchEdit patterns - the regular expressions scripts use, in linear time") {
    const std::string loads =
        "New Load.house_1 bus1=a kw=1\nNew Load.house_22 bus1=a kw=1\nNew Load.shop_1 bus1=a kw=1\n"
        "New Load.K9 bus1=a kw=1\nNew Load.a.b bus1=a kw=1\n";
    const auto edited = [&](const std::string& pattern) {  // the loads whose kW the pattern set to 2
        const UNetwork n = run(loads + "BatchEdit Load." + pattern + " kw=2\n");
        std::string out;
        for (const ULoad& l : n.loads)
            if (l.kw == 2.0) out += (out.empty() ? "" : " ") + l.name;
        return out;
    };
    CHECK(edited(".*") == "house_1 house_22 shop_1 k9 a.b");
    CHECK(edited("house") == "house_1 house_22");                 // anywhere in the name
    CHECK(edited("^h.*_1$") == "house_1");                        // anchors
    CHECK(edited("_\\d\\d") == "house_22");                     // \d
    CHECK(edited("^[^hk]") == "shop_1 a.b");                      // a negated class
    CHECK(edited("^s|9$") == "shop_1 k9");                        // alternation
    CHECK(edited("^k[0-9]+") == "k9");                            // OpenDSS lower-cases names; the match ignores case
    CHECK(edited("a\\.b") == "a.b");                              // an escaped dot
    CHECK(edited("^ho?use_2+$") == "house_22");                   // ? and +
    CHECK(edited("e_.*?2") == "house_22");                        // a lazy quantifier matches the same
    CHECK(edited("xyz").empty());
    // a pattern that made std::regex backtrack for minutes (a fuzzer's timeout): now an error, at once
    CHECK(error_of(kHead + loads + "batchedit load..************************************zipv**** kw=2\n")
              .find("bad pattern '.************************************zipv****': nothing to repeat before '*'") !=
          std::string::npos);
    // and the same shape that is valid (every star on its own atom) runs in linear time
    std::string many;
    for (int k = 0; k < 60; ++k) many += ".*";
    CHECK(edited(many + "zipv").empty());
    CHECK(error_of(kHead + "BatchEdit Load.(a|b) kw=1\n").find("groups '(...)' are not supported") != std::string::npos);
    CHECK(error_of(kHead + "BatchEdit Load.a{2} kw=1\n").find("counted repetition") != std::string::npos);
    CHECK(error_of(kHead + "BatchEdit Load.a$b kw=1\n").find("'$' only at the end") != std::string::npos);
    CHECK(error_of(kHead + "BatchEdit Load.[z-a] kw=1\n").find("backwards") != std::string::npos);
}

TEST_CASE("dss trap: the source - the impedance input given last wins, Edit Vsource.Source") {
    const UNetwork ohms = run("Edit Vsource.Source mvasc3=100 r1=1 x1=2 r0=3 x0=4\n");
    CHECK(ohms.vsources[0].z1_ohm == std::complex<double>(1, 2));
    CHECK(ohms.vsources[0].z0_ohm == std::complex<double>(3, 4));
    const UNetwork mva = run("Edit Vsource.Source r1=1 x1=2 mvasc3=100 mvasc1=100\n");
    const double x1 = 12.47 * 12.47 / 100.0 / std::sqrt(1.0 + 1.0 / 16.0);
    CHECK(mva.vsources[0].z1_ohm.imag() == doctest::Approx(x1));
    CHECK(mva.vsources[0].z1_ohm.real() == doctest::Approx(x1 / 4));
    const UNetwork z = run("Vsource.source.z1=[0.5 5] basekv=13.8 bus1=src.1.2.3 phases=3\n");
    CHECK(z.vsources[0].z1_ohm == std::complex<double>(0.5, 5));
    CHECK(z.vsources[0].z0_ohm == std::complex<double>(0.5, 5));  // Z0 defaults to Z1
    CHECK(z.vsources[0].basekv == 13.8);
    CHECK(z.buses[0].name == "src");
    // the default source (VSource.pas): 115 kV, MVAsc3 2000, MVAsc1 2100
    const UNetwork d = read_dss_string("New Circuit.d\n").net;
    const double xd = 115.0 * 115.0 / 2000.0 / std::sqrt(1.0 + 1.0 / 16.0);
    CHECK(d.vsources[0].z1_ohm.imag() == doctest::Approx(xd));
    CHECK(d.vsources[0].basekv == 115.0);
    CHECK(d.buses[0].name == "sourcebus");
}

TEST_CASE("dss trap: Set options, stepsize units, Solve counted, ignored commands noted once each") {
    const DssReadResult r = read_dss_string(
        kHead + "Set mode=yearly number=1440 stepsize=1m controlmode=OFF tolerance=1e-6 maxiter=30 maxcontroliter=20\n"
                "set voltagebases=[12.47, .48]\nSolve\nsolve\nShow voltages\nExport currents\nPlot profile\n"
                "New Monitor.m1 element=line.x terminal=1\n~ mode=1\nNew EnergyMeter.em line.x 1\nInterpolate\nhelp\n",
        "t.dss");
    const USettings& s = r.net.settings;
    CHECK(s.mode == "yearly");
    CHECK(s.number == 1440);
    CHECK(s.stepsize_s == 60.0);
    CHECK(s.control_mode == "off");
    CHECK(s.tolerance == 1e-6);
    CHECK(s.max_iterations == 30);
    CHECK(s.max_control_iterations == 20);
    CHECK(s.voltage_bases_kv == std::vector<double>{12.47, 0.48});
    CHECK(s.solve_count == 2);
    CHECK(r.notes.size() == 7);  // Show, Export, Plot, Monitor (its ~ too), EnergyMeter, Interpolate, help
    CHECK(r.notes[0] == "t.dss:8: ignored: Show");
    CHECK(run("Set stepsize=15s\n").settings.stepsize_s == 15.0);
    CHECK(run("Set stepsize=1h\n").settings.stepsize_s == 3600.0);
    CHECK(run("Set stepsize=900\n").settings.stepsize_s == 900.0);
    const UNetwork f = read_dss_string("Set DefaultBaseFrequency=50\nNew Circuit.x\nNew Line.l bus1=a bus2=b\n").net;
    CHECK(f.settings.base_frequency_hz == 50.0);
    CHECK(f.lines[0].x_ohm_per_km[0] == doctest::Approx((0.4047 + 2 * 0.1206) / 3));  // at the line's own 50 Hz
}

TEST_CASE("dss trap: Redirect relative to the including file, file names without regard to case, Compile, Buscoords") {
    const fs::path dir = fs::path(libgrid_test::scratch_dir()) / "dss_redirect";
    write_file(dir / "Master.DSS", "Clear\nNew Circuit.r\nRedirect sub/Lines.TXT\nBuscoords sub/xy.csv\n");
    write_file(dir / "sub" / "LINES.txt", "New Line.l1 bus1=a bus2=b\nredirect more.dss\n");
    write_file(dir / "sub" / "More.dss", "New Line.l2 bus1=b bus2=c\nNew Loadshape.s npts=3 interval=0.5 mult=(file=m.txt) useactual=yes\n");
    write_file(dir / "sub" / "m.txt", "0.1\r\n0.2\r\n0.3\r\n");
    write_file(dir / "sub" / "xy.csv", "a, 1, 2\nb 3 4\nnot_a_bus 5 6\n");
    write_file(dir / "run.dss", "Compile (master.dss)\nNew Line.l3 bus1=c bus2=d\n");
    const UNetwork n = read_dss((dir / "run.dss").string()).net;
    CHECK(n.lines.size() == 3);
    REQUIRE(n.loadshapes.size() == 1);
    CHECK(n.loadshapes[0].mult == std::vector<double>{0.1, 0.2, 0.3});
    CHECK(n.loadshapes[0].interval_h == 0.5);
    CHECK(n.loadshapes[0].useactual);
    const UBus& a = n.buses[static_cast<std::size_t>(n.find_bus("a"))];
    CHECK(a.has_coords);
    CHECK(a.x == 1.0);
    CHECK(a.y == 2.0);
    CHECK(n.buses[static_cast<std::size_t>(n.find_bus("b"))].y == 4.0);
    CHECK_FALSE(n.buses[static_cast<std::size_t>(n.find_bus("c"))].has_coords);
    // with files disabled (the fuzzer's setting), Redirect is an error naming the command
    DssReadOptions off;
    off.allow_files = false;
    CHECK_THROWS_WITH_AS(read_dss_string("Redirect x.dss\n", "f.dss", dir.string(), off),
                         doctest::Contains("f.dss:1: Redirect x.dss: reading files is disabled"), ParseError);
}

// ---- errors: file, line, element, property ----------------------------------------------------------------

TEST_CASE("dss errors name the file, the line, the element and the property") {
    CHECK(error_of(kHead + "New Load.L1 bus1=a kw=abc\n") == "t.dss:4: load.l1: property 'kw': 'abc' is not a number");
    CHECK(error_of(kHead + "New Transformer.reg1 kvs=[1 x]\n").find("t.dss:4: transformer.reg1: property 'kvs': ") == 0);
    CHECK(error_of(kHead + "New Line.l bus1=a bus2=b\nEdit Line.nosuch length=2\n") == "t.dss:5: Edit: line.nosuch not found");
    CHECK(error_of(kHead + "Load.nosuch.kw=1\n") == "t.dss:4: Edit: load.nosuch not found");
    CHECK(error_of(kHead + "New Line.l bus1=a bus2=b.x\n") ==
          "t.dss:4: line.l: property 'bus2': node 'x' of bus 'b.x' is not a node number");
    CHECK(error_of(kHead + "New Line.l bus1=a bus2=b colour=red\n") ==
          "t.dss:4: line.l: property 'colour': unknown property of line");
    CHECK(error_of(kHead + "Redirect nowhere.dss\n") == "t.dss:4: Redirect: file 'nowhere.dss' not found");
    CHECK(error_of(kHead + "New Line.l bus1=a bus2=b linecode=nope\n") ==
          "t.dss:4: line.l: property 'linecode': line code 'nope' not found");
    CHECK(error_of(kHead + "New RegControl.r transformer=none\n") ==
          "t.dss:4: regcontrol.r: property 'transformer': transformer 'none' not found");
    CHECK(error_of(kHead + "New Widget.w a=1\n") == "t.dss:4: New Widget.w: unknown class 'widget'");
    CHECK(error_of(kHead + "Frobnicate\n") == "t.dss:4: unknown command 'Frobnicate'");
    CHECK(error_of("New Line.l bus1=a bus2=b\n") == "t.dss:1: New Line.l: no circuit (New Circuit.NAME first)");
    CHECK(error_of(kHead + "New Load.l bus1=a kv=-1\n") == "t.dss:4: load.l: property 'kv': must be > 0");
    CHECK(error_of(kHead + "New Line.l bus1=a\n").find("line.l: property 'bus2': no bus given") != std::string::npos);
    CHECK(error_of(kHead + "Set controlmode=sometimes\n").find("t.dss:4: Set: option 'controlmode'") == 0);
    CHECK(error_of(kHead + "BatchEdit Load.[ kw=1\n").find("bad pattern") != std::string::npos);
    CHECK(error_of(kHead + "New Line.l bus1=a bus2=b length=(1 +ff)\n").find("line.l: property 'length': ") !=
          std::string::npos);
    // an error inside a redirected file names that file and its line
    const fs::path dir = fs::path(libgrid_test::scratch_dir()) / "dss_err";
    write_file(dir / "inner.dss", "New Line.ok bus1=a bus2=b\n\nNew Line.bad bus1=a bus2=b length=x\n");
    write_file(dir / "outer.dss", kHead + "Redirect inner.dss\n");
    try {
        (void)read_dss((dir / "outer.dss").string());
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(e.file() == (dir / "inner.dss").string());
        CHECK(e.line() == 3);
        CHECK(std::string(e.what()).find("line.bad: property 'length'") != std::string::npos);
    }
}

// ---- the writer -----------------------------------------------------------------------------------------------

TEST_CASE("dss: round trip on the four feeders, read(write(net)) == net") {
    const char* files[5] = {"ieee13/IEEE13Nodeckt.dss", "ieee34/Run_IEEE34Mod2.dss", "ieee123/Run_IEEE123Bus.DSS",
                            "eulv/Master.dss", "ieee123/IEEE123Master.dss"};
    for (const char* f : files) {
        CAPTURE(f);
        const UNetwork a = read(f, true).net;
        const std::string text = to_dss_string(a);
        const UNetwork b = read_dss_string(text, "written.dss").net;
        CHECK(b.buses == a.buses);
        CHECK(b.lines == a.lines);
        CHECK(b.transformers == a.transformers);
        CHECK(b.regcontrols == a.regcontrols);
        CHECK(b.loads == a.loads);
        CHECK(b.capacitors == a.capacitors);
        CHECK(b.vsources == a.vsources);
        CHECK(b.loadshapes == a.loadshapes);
        CHECK(b.settings == a.settings);
        CHECK(b == a);
        CHECK(to_dss_string(b) == text);
    }
    // through a file
    const UNetwork a = read("ieee13/IEEE13Nodeckt.dss").net;
    const std::string path = libgrid_test::scratch_path("ieee13_written.dss");
    write_dss(a, path);
    CHECK(read_dss(path).net == a);
}

TEST_CASE("dss: the Melaka grid as built round-trips, SetkVBase for every bus (the reader's look-ups are hashed)") {
    // write_dss gives one SetkVBase per bus: each resolved the buses again before (quadratic: the
    // district's script took 28 s to read, benches/bench_io BM_DssReadMelaka); now only after edits.
    // A script does not carry the generator's bus ids and voltage bands: the first read is the
    // fixed point, the second equals it.
    MelakaGridOptions go;
    const UNetwork a = melaka_unetwork(generate_melaka_grid(go)).net;
    const UNetwork b = read_dss_string(to_dss_string(a), "melaka.dss").net;
    REQUIRE(b.buses.size() == a.buses.size());
    for (const UBus& x : a.buses) {  // in the reader's order (as the elements name them), each once
        const int k = b.find_bus(x.name);
        REQUIRE(k >= 0);
        CHECK(b.buses[std::size_t(k)].kv_base_ll == x.kv_base_ll);
    }
    CHECK(b.lines.size() == a.lines.size());
    CHECK(b.loads.size() == a.loads.size());
    CHECK(b.transformers.size() == a.transformers.size());
    const std::string text = to_dss_string(b);
    const UNetwork c = read_dss_string(text, "melaka2.dss").net;
    CHECK(c == b);
    CHECK(to_dss_string(c) == text);
    // a bus named again after a SetkVBase (an edit in between) keeps its base and gets no twin
    const UNetwork d = read_dss_string("New Circuit.t bus1=src basekv=11\nNew Line.l1 bus1=src bus2=A phases=3\n"
                                       "SetkVBase bus=a kVLL=11\nNew Line.l2 bus1=a bus2=B phases=3\nSetkVBase bus=b kVLL=0.4\nSolve\n",
                                       "t.dss").net;
    REQUIRE(d.buses.size() == 3);
    CHECK(d.buses[std::size_t(d.find_bus("a"))].kv_base_ll == 11.0);
    CHECK(d.buses[std::size_t(d.find_bus("b"))].kv_base_ll == 0.4);
}

TEST_CASE("dss: the writer keeps what a hand-made network holds") {
    UNetwork n = run(
        "New Line.x bus1=a bus2=b.1.3 phases=2 r1=0.3 x1=0.4 length=2 units=mi normamps=100 enabled=no\n"
        "New Transformer.t phases=1 buses=[a.2 c.2.0] conns=[wye delta] kvs=[7.2 0.24] xhl=2 bank=b1\n"
        "New RegControl.g transformer=t winding=2 ptphase=max reversible=yes vlimit=125\n"
        "New Capacitor.c bus1=b.1 phases=1 kvar=[10 20 30] states=[1 0 1] conn=delta kv=0.24\n"
        "New Loadshape.h npts=3 hour=[0 6 12] mult=[0.1 0.2 0.3] qmult=[1 2 3]\n"
        "New Load.l bus1=b.1 phases=1 kv=7.2 model=2 daily=h yearly=h duty=h enabled=no\n"
        "SetkVBase bus=a kVLL=12.47\nSetBusXY bus=b X=1.5 Y=-2\nSet mode=daily number=24 stepsize=1h\n");
    CHECK(n.buses[static_cast<std::size_t>(n.find_bus("a"))].kv_base_ll == 12.47);
    CHECK(n.regcontrols[0].ptphase == -1);
    CHECK(n.capacitors[0].states == std::vector<int>{1, 0, 1});
    CHECK(n.loadshapes[0].interval_h == 0.0);
    const UNetwork back = read_dss_string(to_dss_string(n)).net;
    CHECK(back == n);
    n.vsources.clear();
    CHECK_THROWS_AS(to_dss_string(n), ValidationError);
}
