// write_dss and switches (issue 15): OpenDSS's `switch=yes` sets r1 = x1 = r0 = x0 = 1 and marks the
// sequence data changed, so a y-primitive is rebuilt from r1 ... c0 even when rmatrix / xmatrix /
// cmatrix follow (Line.pas, PropertySideEffects and CalcYPrim). A switch is therefore written with
// its impedance as r1 ... c0 after `switch=yes`, never with matrices after it.
#include <doctest/doctest.h>

#include "libgrid/io/dss.hpp"
#include "libgrid/scenario/melaka_grid.hpp"

#include <sstream>
#include <string>

using namespace libgrid;

namespace {

/// The written line of element `name` ("New Line.<name> ...").
std::string written_line(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    const std::string head = "New Line." + name + " ";
    while (std::getline(in, line))
        if (line.rfind(head, 0) == 0) return line;
    return "";
}

}  // namespace

TEST_CASE("dss switch: the writer gives OpenDSS a switch's own impedance (r1 ... c0 after switch=yes)") {
    MelakaGridOptions go;
    go.size = GridSize::Small;
    go.seed = 1;
    const MelakaUGrid ug = melaka_unetwork(generate_melaka_grid(go));
    const std::string text = to_dss_string(ug.net);
    int switches = 0;
    for (const ULine& l : ug.net.lines) {
        if (!l.is_switch) continue;
        ++switches;
        CAPTURE(l.name);
        const std::string w = written_line(text, l.name);
        REQUIRE(!w.empty());
        const auto at = w.find(" switch=yes ");
        REQUIRE(at != std::string::npos);
        CHECK(w.find("matrix", at) == std::string::npos);  // no matrix after switch=yes
        CHECK(w.find(" r1=", at) != std::string::npos);
        CHECK(w.find(" c0=", at) != std::string::npos);
    }
    REQUIRE(switches > 0);
    // read back: the same lines, bit for bit, switches still switches
    const UNetwork back = read_dss_string(text, "melaka.dss").net;
    REQUIRE(back.lines.size() == ug.net.lines.size());
    for (std::size_t i = 0; i < back.lines.size(); ++i) {
        CAPTURE(ug.net.lines[i].name);
        CHECK(back.lines[i].is_switch == ug.net.lines[i].is_switch);
        CHECK(back.lines[i].r_ohm_per_km == ug.net.lines[i].r_ohm_per_km);
        CHECK(back.lines[i].x_ohm_per_km == ug.net.lines[i].x_ohm_per_km);
        CHECK(back.lines[i].c_nf_per_km == ug.net.lines[i].c_nf_per_km);
    }
}

TEST_CASE("dss switch: IEEE 13's switch and a switch without a sequence form") {
    const UNetwork a = read_dss(std::string(LIBGRID_TEST_DATA) + "/opendss/ieee13/IEEE13Nodeckt.dss").net;
    const std::string text = to_dss_string(a);
    const std::string w = written_line(text, "671692");
    CHECK(w.find(" switch=yes r1=") != std::string::npos);
    CHECK(w.find("matrix") == std::string::npos);
    CHECK(read_dss_string(text).net.lines == a.lines);
    // unequal diagonal: no r1 / r0 gives it, so it is written as the plain line it is (no switch=yes,
    // which would replace its impedance in OpenDSS)
    UNetwork n = a;
    for (ULine& l : n.lines)
        if (l.is_switch) l.r_ohm_per_km[0] *= 2.0;
    const std::string w2 = written_line(to_dss_string(n), "671692");
    CHECK(w2.find("switch=yes") == std::string::npos);
    CHECK(w2.find(" rmatrix=") != std::string::npos);
}
