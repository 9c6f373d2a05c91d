// libgrid io (internal): OpenDSS's classes as the reader knows them - property names in OpenDSS's
// order (positional parameters and abbreviations follow it), defaults and side effects
// (General/LineCode.pas, PDElements/Line.pas, Transformer.pas, Capacitor.pas, PCElements/Load.pas,
// VSource.pas, Controls/RegControl.pas, General/LoadShape.pas).
#include "dss_state.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/core/input_file.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace libgrid::dss {
namespace {

using Props = std::vector<std::string>;

const Props kLineProps = {"bus1", "bus2", "linecode", "length", "phases", "r1", "x1", "r0", "x0", "c1", "c0",
                          "rmatrix", "xmatrix", "cmatrix", "switch", "rg", "xg", "rho", "geometry", "units",
                          "spacing", "wires", "earthmodel", "cncables", "tscables", "b1", "b0", "seasons",
                          "ratings", "linetype", "normamps", "emergamps", "faultrate", "pctperm", "repair",
                          "basefreq", "enabled", "like"};
const Props kLineCodeProps = {"nphases", "r1", "x1", "r0", "x0", "c1", "c0", "units", "rmatrix", "xmatrix",
                              "cmatrix", "basefreq", "normamps", "emergamps", "faultrate", "pctperm", "repair",
                              "kron", "rg", "xg", "rho", "neutral", "b1", "b0", "seasons", "ratings", "linetype",
                              "like"};
const Props kLoadProps = {"phases", "bus1", "kv", "kw", "pf", "model", "yearly", "daily", "duty", "growth",
                          "conn", "kvar", "rneut", "xneut", "status", "class", "vminpu", "vmaxpu", "vminnorm",
                          "vminemerg", "xfkva", "allocationfactor", "kva", "%mean", "%stddev", "cvrwatts",
                          "cvrvars", "kwh", "kwhdays", "cfactor", "cvrcurve", "numcust", "zipv", "%seriesrl",
                          "relweight", "vlowpu", "puxharm", "xrharm", "spectrum", "basefreq", "enabled", "like"};
const Props kXfProps = {"phases", "windings", "wdg", "bus", "conn", "kv", "kva", "tap", "%r", "rneut", "xneut",
                        "buses", "conns", "kvs", "kvas", "taps", "xhl", "xht", "xlt", "xscarray", "thermal", "n",
                        "m", "flrise", "hsrise", "%loadloss", "%noloadloss", "normhkva", "emerghkva", "sub",
                        "maxtap", "mintap", "numtaps", "subname", "%imag", "ppm_antifloat", "%rs", "bank",
                        "xfmrcode", "xrconst", "x12", "x13", "x23", "leadlag", "wdgcurrents", "core", "rdcohms",
                        "seasons", "ratings", "normamps", "emergamps", "faultrate", "pctperm", "repair",
                        "basefreq", "enabled", "like"};
const Props kRegProps = {"transformer", "winding", "vreg", "band", "ptratio", "ctprim", "r", "x", "bus", "delay",
                         "reversible", "revvreg", "revband", "revr", "revx", "tapdelay", "debugtrace",
                         "maxtapchange", "inversetime", "tapwinding", "vlimit", "ptphase", "revthreshold",
                         "revdelay", "revneutral", "eventlog", "remoteptratio", "tapnum", "reset", "ldc_z",
                         "rev_z", "cogen", "basefreq", "enabled", "like"};
const Props kCapProps = {"bus1", "bus2", "phases", "kvar", "kv", "conn", "cmatrix", "cuf", "r", "xl", "harm",
                         "numsteps", "states", "normamps", "emergamps", "faultrate", "pctperm", "repair",
                         "basefreq", "enabled", "like"};
const Props kCapCtlProps = {"element", "terminal", "capacitor", "type", "ptratio", "ctratio", "onsetting",
                            "offsetting", "delay", "voltoverride", "vmax", "vmin", "delayoff", "deadtime",
                            "ctphase", "ptphase", "vbus", "eventlog", "usermodel", "userdata", "pctminkvar",
                            "reset", "controlsignal", "basefreq", "enabled", "like"};
const Props kVsrcProps = {"bus1", "basekv", "pu", "angle", "frequency", "phases", "mvasc3", "mvasc1", "x1r1",
                          "x0r0", "isc3", "isc1", "r1", "x1", "r0", "x0", "scantype", "sequence", "bus2", "z1",
                          "z0", "z2", "puz1", "puz0", "puz2", "basemva", "yearly", "daily", "duty", "model",
                          "puzideal", "spectrum", "basefreq", "enabled", "like"};
const Props kShapeProps = {"npts", "interval", "mult", "hour", "mean", "stddev", "csvfile", "sngfile", "dblfile",
                           "action", "qmult", "useactual", "pmax", "qmax", "sinterval", "minterval", "pbase",
                           "qbase", "pmult", "pqcsvfile", "memorymapping", "like"};

const Props& props_of(Cls c) {
    switch (c) {
        case Cls::Line: return kLineProps;
        case Cls::LineCode: return kLineCodeProps;
        case Cls::Load: return kLoadProps;
        case Cls::Transformer: return kXfProps;
        case Cls::RegControl: return kRegProps;
        case Cls::Capacitor: return kCapProps;
        case Cls::Vsource: return kVsrcProps;
        case Cls::CapControl: return kCapCtlProps;
        default: return kShapeProps;
    }
}

/// Exact name first, else the first property the text abbreviates (OpenDSS's rule); -1 if none.
int find_prop(const Props& props, const std::string& name) {
    for (std::size_t i = 0; i < props.size(); ++i)
        if (props[i] == name) return static_cast<int>(i);
    for (std::size_t i = 0; i < props.size(); ++i)
        if (props[i].compare(0, name.size(), name) == 0) return static_cast<int>(i);
    return -1;
}

/// What one property assignment needs: the value and where to report errors.
struct Ctx {
    State& st;
    std::string element;  ///< "line.650632"
    std::string prop;
    const Param& p;
    [[noreturn]] void fail(const std::string& msg) const {
        st.fail(element + ": property '" + prop + "': " + msg);
    }
    double num() const {
        try {
            return parse_double(p.value, p.quoted);
        } catch (const ValueError& e) { fail(e.message); }
    }
    double positive() const {
        const double v = num();
        if (!(v > 0.0)) fail("must be > 0");
        return v;
    }
    int integer() const {
        try {
            return parse_int(p.value, p.quoted);
        } catch (const ValueError& e) { fail(e.message); }
    }
    int count(int lo, int hi) const {
        const int v = integer();
        if (v < lo || v > hi) fail("must be " + std::to_string(lo) + ".." + std::to_string(hi));
        return v;
    }
    bool yes() const {
        try {
            return parse_bool(p.value);
        } catch (const ValueError& e) { fail(e.message); }
    }
    std::vector<double> vec() const {
        try {
            return parse_vector(p.value);
        } catch (const ValueError& e) { fail(e.message); }
    }
    std::vector<double> sym(int n) const {
        try {
            return parse_sym_matrix(p.value, n);
        } catch (const ValueError& e) { fail(e.message); }
    }
    std::vector<std::string> strings() const { return parse_string_array(p.value); }
    std::string lower() const { return to_lower(p.value); }
    bool delta() const {
        const std::string v = lower();
        if (v.rfind("d", 0) == 0) return true;
        if (v.rfind("w", 0) == 0 || v.rfind("y", 0) == 0 || v.rfind("ln", 0) == 0) return false;
        if (v.rfind("ll", 0) == 0) return true;
        fail("'" + p.value + "' is not wye or delta");
    }
    std::string units() const {
        static const std::string kMeter = "m", kMile = "mi";
        std::string u = lower();
        if (u == "meter" || u == "meters") u = kMeter;
        if (u == "miles" || u == "mile") u = kMile;
        try {
            (void)length_unit_to_km(u);
        } catch (const ValidationError&) { fail("unknown length unit '" + p.value + "'"); }
        return u.empty() ? "none" : u;
    }
};

void check_bus_spec(const Ctx& c, const std::string& spec) {
    std::string name;
    std::vector<int> nodes;
    try {
        parse_bus_spec(spec, name, nodes);
    } catch (const ValueError& e) { c.fail(e.message); }
    if (name.empty()) c.fail("empty bus name");
}

double units_factor(const std::string& from, const std::string& to) {
    if (from == "none" || to == "none") return 1.0;
    return length_unit_to_km(from) / length_unit_to_km(to);
}

std::vector<std::complex<double>> with_real(std::vector<std::complex<double>> z, const std::vector<double>& r,
                                            bool imag) {
    for (std::size_t i = 0; i < z.size() && i < r.size(); ++i)
        z[i] = imag ? std::complex<double>(z[i].real(), r[i]) : std::complex<double>(r[i], z[i].imag());
    return z;
}

// ---- LineCode -----------------------------------------------------------------------------------

void kron_linecode(const Ctx& c, LineCodeDef& lc) {
    const int n = lc.zd.nphases;
    if (n <= 1) c.fail("cannot Kron-reduce a 1-phase line code");
    if (lc.neutral < 1 || lc.neutral > n) c.fail("neutral conductor out of range");
    const std::vector<int> elim = {lc.neutral - 1};
    try {
        lc.zd.z = kron_reduce(lc.zd.z, n, elim);
        std::vector<std::complex<double>> cc(lc.zd.c.begin(), lc.zd.c.end());
        cc = kron_reduce(cc, n, elim);
        lc.zd.c.assign(cc.size(), 0.0);
        for (std::size_t i = 0; i < cc.size(); ++i) lc.zd.c[i] = cc[i].real();
    } catch (const ValidationError& e) { c.fail(e.what()); }
    lc.zd.nphases = n - 1;
    lc.zd.sym = false;
    lc.neutral = 0;
}

void set_linecode(const Ctx& c, LineCodeDef& lc, const std::string& prop) {
    ZData& z = lc.zd;
    const double kMicro = 1000.0 / (2.0 * 3.14159265358979323846);
    if (prop == "nphases") {
        z.nphases = c.count(1, 100);
        lc.neutral = z.nphases;
        z.recalc_from_sequence();
    } else if (prop == "r1" || prop == "x1" || prop == "r0" || prop == "x0" || prop == "c1" || prop == "c0" ||
               prop == "b1" || prop == "b0") {
        const double v = c.num();
        if (prop == "r1") z.r1 = v;
        if (prop == "x1") z.x1 = v;
        if (prop == "r0") z.r0 = v;
        if (prop == "x0") z.x0 = v;
        if (prop == "c1") z.c1 = v;
        if (prop == "c0") z.c0 = v;
        if (prop == "b1") z.c1 = v * kMicro / z.basefreq;
        if (prop == "b0") z.c0 = v * kMicro / z.basefreq;
        z.sym = true;
        z.recalc_from_sequence();
    } else if (prop == "units") {
        lc.units = c.units();
    } else if (prop == "rmatrix" || prop == "xmatrix") {
        z.z = with_real(z.z, c.sym(z.nphases), prop == "xmatrix");
        z.sym = false;
    } else if (prop == "cmatrix") {
        z.c = c.sym(z.nphases);
        z.sym = false;
    } else if (prop == "basefreq") {
        z.basefreq = c.positive();
    } else if (prop == "normamps") {
        lc.normamps = c.num();
    } else if (prop == "emergamps") {
        lc.emergamps = c.num();
    } else if (prop == "kron") {
        if (c.yes()) kron_linecode(c, lc);
    } else if (prop == "neutral") {
        lc.neutral = c.integer();
    } else {
        c.st.note(c.element + ": property '" + prop + "' ignored");
    }
}

// ---- Line ---------------------------------------------------------------------------------------

void line_sequence_input(LineDef& d, ULine& l) {
    d.has_code = false;
    l.linecode.clear();
    d.units_convert = 1.0;  // ResetLengthUnits
    d.length_units = "none";
    d.zd.sym = true;
}

void fetch_linecode(const Ctx& c, LineDef& d, ULine& l) {
    const std::string name = c.lower();
    const LineCodeDef* lc = nullptr;
    for (const LineCodeDef& x : c.st.linecodes)
        if (x.name == name) lc = &x;
    if (lc == nullptr) c.fail("line code '" + c.p.value + "' not found");
    d.zd = lc->zd;
    if (d.zd.sym) d.zd.recalc_from_sequence();
    d.code_units = lc->units;
    d.has_code = true;
    d.units_convert = units_factor(d.code_units, d.length_units);
    l.norm_amps = lc->normamps;
    l.emerg_amps = lc->emergamps;
    l.nphases = d.zd.nphases;
    l.linecode = name;
}

void set_line_switch(LineDef& d, ULine& l) {
    l.is_switch = true;
    d.has_code = false;
    l.linecode.clear();
    d.zd.r1 = d.zd.x1 = d.zd.r0 = d.zd.x0 = 1.0;
    d.zd.c1 = 1.1;
    d.zd.c0 = 1.0;
    d.zd.sym = true;
    d.cap_specified = true;
    d.len = 0.001;
    d.units_convert = 1.0;
    d.length_units = "none";
    d.zd.recalc_from_sequence();
}

void set_line(const Ctx& c, LineDef& d, ULine& l, const std::string& prop) {
    ZData& z = d.zd;
    const double kMicro = 1000.0 / (2.0 * 3.14159265358979323846);
    if (prop == "bus1" || prop == "bus2") {
        check_bus_spec(c, c.p.value);
        (prop == "bus1" ? d.bus1 : d.bus2) = c.p.value;
    } else if (prop == "linecode") {
        fetch_linecode(c, d, l);
    } else if (prop == "length") {
        d.len = c.num();
        if (d.len < 0.0) c.fail("must be >= 0");
    } else if (prop == "phases") {
        const int n = c.count(1, 100);
        if (n != z.nphases) {
            z.nphases = n;
            l.nphases = n;
            z.recalc_from_sequence();
        }
    } else if (prop == "r1" || prop == "x1" || prop == "r0" || prop == "x0" || prop == "c1" || prop == "c0" ||
               prop == "b1" || prop == "b0") {
        const double v = c.num();
        if (prop == "r1") z.r1 = v;
        if (prop == "x1") z.x1 = v;
        if (prop == "r0") z.r0 = v;
        if (prop == "x0") z.x0 = v;
        if (prop == "c1" || prop == "b1") z.c1 = prop == "c1" ? v : v * kMicro / z.basefreq;
        if (prop == "c0" || prop == "b0") z.c0 = prop == "c0" ? v : v * kMicro / z.basefreq;
        if (prop[0] == 'c' || prop[0] == 'b') d.cap_specified = true;
        line_sequence_input(d, l);
        z.recalc_from_sequence();
    } else if (prop == "rmatrix" || prop == "xmatrix" || prop == "cmatrix") {
        if (prop == "cmatrix") {
            z.c = c.sym(z.nphases);
            d.cap_specified = true;
        } else {
            z.z = with_real(z.z, c.sym(z.nphases), prop == "xmatrix");
        }
        line_sequence_input(d, l);
        z.sym = false;
    } else if (prop == "switch") {
        if (c.yes()) set_line_switch(d, l);
        else l.is_switch = false;
    } else if (prop == "units") {
        const std::string prev = d.length_units;
        d.length_units = c.units();
        d.units_convert = d.has_code ? units_factor(d.code_units, d.length_units)
                                     : d.units_convert * units_factor(prev, d.length_units);
    } else if (prop == "normamps") {
        l.norm_amps = c.num();
    } else if (prop == "emergamps") {
        l.emerg_amps = c.num();
    } else if (prop == "basefreq") {
        z.basefreq = c.positive();
    } else if (prop == "enabled") {
        l.enabled = c.yes();
    } else {
        c.st.note(c.element + ": property '" + prop + "' ignored");
    }
}

// ---- Transformer ----------------------------------------------------------------------------------

void resize_windings(UTransformer& t, XfDef& d, int n) {
    const UWinding proto;
    t.windings.resize(static_cast<std::size_t>(n), proto);
    d.buses.resize(static_cast<std::size_t>(n));
    if (d.active >= n) d.active = 0;
}

template <class T, class F>
void per_winding(UTransformer& t, const std::vector<T>& vals, F set) {
    for (std::size_t i = 0; i < vals.size() && i < t.windings.size(); ++i) set(t.windings[i], vals[i]);
}

bool set_winding_prop(const Ctx& c, UTransformer& t, XfDef& d, const std::string& prop) {
    UWinding& w = t.windings[static_cast<std::size_t>(d.active)];
    if (prop == "bus") {
        check_bus_spec(c, c.p.value);
        d.buses[static_cast<std::size_t>(d.active)] = c.p.value;
    } else if (prop == "conn") {
        w.delta = c.delta();
    } else if (prop == "kv") {
        w.kv = c.positive();
    } else if (prop == "kva") {
        w.kva = c.positive();
    } else if (prop == "tap") {
        w.tap = c.positive();
    } else if (prop == "%r") {
        w.r_pct = c.num();
    } else if (prop == "rneut") {
        w.rneut_ohm = c.num();
    } else if (prop == "xneut") {
        w.xneut_ohm = c.num();
    } else if (prop == "maxtap") {
        w.max_tap = c.num();
    } else if (prop == "mintap") {
        w.min_tap = c.num();
    } else if (prop == "numtaps") {
        w.num_taps = c.count(0, 1000000);
    } else {
        return false;
    }
    return true;
}

bool set_winding_arrays(const Ctx& c, UTransformer& t, XfDef& d, const std::string& prop) {
    if (prop == "buses") {
        const std::vector<std::string> b = c.strings();
        for (const std::string& s : b) check_bus_spec(c, s);
        for (std::size_t i = 0; i < b.size() && i < d.buses.size(); ++i) d.buses[i] = b[i];
    } else if (prop == "conns") {
        const std::vector<std::string> v = c.strings();
        for (std::size_t i = 0; i < t.windings.size() && i < v.size(); ++i) {
            const Param one{"", v[i], false};
            const Ctx ci{c.st, c.element, c.prop, one};
            t.windings[i].delta = ci.delta();
        }
    } else if (prop == "kvs" || prop == "kvas" || prop == "taps" || prop == "%rs") {
        const std::vector<double> v = c.vec();
        for (double x : v)
            if (!std::isfinite(x) || (prop != "%rs" && x <= 0.0)) c.fail("values must be > 0");
        per_winding(t, v, [&](UWinding& w, double x) {
            if (prop == "kvs") w.kv = x;
            if (prop == "kvas") w.kva = x;
            if (prop == "taps") w.tap = x;
            if (prop == "%rs") w.r_pct = x;
        });
    } else {
        return false;
    }
    return true;
}

void set_transformer(const Ctx& c, UTransformer& t, XfDef& d, const std::string& prop) {
    if (set_winding_prop(c, t, d, prop) || set_winding_arrays(c, t, d, prop)) return;
    if (prop == "phases") {
        t.nphases = c.count(1, 100);
    } else if (prop == "windings") {
        resize_windings(t, d, c.count(2, 3));
    } else if (prop == "wdg") {
        d.active = c.count(1, static_cast<int>(t.windings.size())) - 1;
    } else if (prop == "xhl" || prop == "x12") {
        t.xhl_pct = c.num();
    } else if (prop == "xht" || prop == "x13") {
        t.xht_pct = c.num();
    } else if (prop == "xlt" || prop == "x23") {
        t.xlt_pct = c.num();
    } else if (prop == "%loadloss") {
        const double v = c.num();
        t.windings[0].r_pct = v / 2.0;
        t.windings[1].r_pct = v / 2.0;
    } else if (prop == "%noloadloss") {
        t.noload_loss_pct = c.num();
    } else if (prop == "%imag") {
        t.imag_pct = c.num();
    } else if (prop == "ppm_antifloat") {
        t.ppm_antifloat = c.num();
    } else if (prop == "bank") {
        t.bank = c.lower();
    } else if (prop == "sub") {
        t.sub = c.yes();
    } else if (prop == "enabled") {
        t.enabled = c.yes();
    } else if (prop == "xscarray") {
        const std::vector<double> v = c.vec();
        if (!v.empty()) t.xhl_pct = v[0];
        if (v.size() > 1) t.xht_pct = v[1];
        if (v.size() > 2) t.xlt_pct = v[2];
    } else {
        c.st.note(c.element + ": property '" + prop + "' ignored");
    }
}

// ---- RegControl, Load, Capacitor ----------------------------------------------------------------------

void set_regcontrol(const Ctx& c, URegControl& r, RegDef& d, const std::string& prop) {
    if (prop == "transformer") {
        d.transformer = c.lower();
        d.file = c.st.where.file;
        d.line = c.st.where.line;
    } else if (prop == "winding") r.winding = c.count(1, 3);
    else if (prop == "tapwinding") r.tap_winding = c.count(1, 3);
    else if (prop == "vreg") r.vreg = c.positive();
    else if (prop == "band") r.band = c.num();
    else if (prop == "ptratio") r.ptratio = c.positive();
    else if (prop == "ctprim") r.ctprim = c.positive();
    else if (prop == "r") r.r = c.num();
    else if (prop == "x") r.x = c.num();
    else if (prop == "delay") r.delay_s = c.num();
    else if (prop == "tapdelay") r.tapdelay_s = c.num();
    else if (prop == "maxtapchange") r.maxtapchange = c.count(0, 1000000);
    else if (prop == "ptphase") {
        const std::string v = c.lower();
        if (v == "max") r.ptphase = -1;
        else if (v == "min") r.ptphase = -2;
        else r.ptphase = c.count(1, 100);
    } else if (prop == "reversible") r.reversible = c.yes();
    else if (prop == "vlimit") r.vlimit = c.num();
    else if (prop == "enabled") r.enabled = c.yes();
    else c.st.note(c.element + ": property '" + prop + "' ignored");
}

/// Added (h8): CapControl's `ptphase` / `ctphase`: 1.. or AVG, MAX, MIN (OpenDSS MonPhaseEnum).
int monitored_phase(const Ctx& c) {
    const std::string v = c.lower();
    if (v == "avg") return UCapControl::kAvg;
    if (v == "max") return UCapControl::kMax;
    if (v == "min") return UCapControl::kMin;
    return c.count(1, 100);
}

/// Added (h8): `type` by OpenDSS's names (any prefix): Current, Voltage, kvar, Time, PowerFactor.
UCapControlType capcontrol_type(const Ctx& c) {
    const std::string v = c.lower();
    const std::pair<const char*, UCapControlType> names[] = {
        {"current", UCapControlType::current}, {"voltage", UCapControlType::voltage},
        {"kvar", UCapControlType::kvar},       {"time", UCapControlType::time},
        {"powerfactor", UCapControlType::pf},  {"pf", UCapControlType::pf}};
    for (const auto& [name, t] : names)
        if (!v.empty() && std::string(name).compare(0, v.size(), v) == 0) return t;
    c.fail("'" + c.p.value + "' is not Current, Voltage, kvar, Time or PowerFactor (Follow and user models are not read)");
}

/// Added (h8): a PF setting in [-1, 1] on OpenDSS's 0..2 scale (PropertySideEffects).
double pf_setting(const Ctx& c, double v) {
    if (v < -1.0 || v > 1.0) c.fail("a power factor setting must be in [-1, 1]");
    return v < 0.0 ? 2.0 + v : v;
}

/// Added (h8): CapControl properties, with OpenDSS's side effects for type pf.
void set_capcontrol(const Ctx& c, UCapControl& k, CapCtlDef& d, const std::string& prop) {
    if (prop == "element") k.element = c.lower();
    else if (prop == "terminal") k.terminal = c.count(1, 3);
    else if (prop == "capacitor") {
        d.capacitor = c.lower();
        d.file = c.st.where.file;
        d.line = c.st.where.line;
    } else if (prop == "type") {
        k.type = capcontrol_type(c);
        if (k.type == UCapControlType::pf) { k.pf_on = 0.95; k.pf_off = 1.05; }
        if (k.type == UCapControlType::time) c.st.note(c.element + ": type time is read; the static control loop does not switch it");
    } else if (prop == "ptratio") k.ptratio = c.positive();
    else if (prop == "ctratio") k.ctratio = c.positive();
    else if (prop == "onsetting") {
        k.onsetting = c.num();
        if (k.type == UCapControlType::pf) k.pf_on = pf_setting(c, k.onsetting);
    } else if (prop == "offsetting") {
        k.offsetting = c.num();
        if (k.type == UCapControlType::pf) k.pf_off = pf_setting(c, k.offsetting);
    } else if (prop == "delay") k.delay_s = c.num();
    else if (prop == "delayoff") k.delayoff_s = c.num();
    else if (prop == "deadtime") k.deadtime_s = c.num();
    else if (prop == "voltoverride") k.voltoverride = c.yes();
    else if (prop == "vmax") k.vmax = c.num();
    else if (prop == "vmin") k.vmin = c.num();
    else if (prop == "ctphase") k.ctphase = monitored_phase(c);
    else if (prop == "ptphase") k.ptphase = monitored_phase(c);
    else if (prop == "pctminkvar") k.pct_minkvar = c.num();
    else if (prop == "enabled") k.enabled = c.yes();
    else c.st.note(c.element + ": property '" + prop + "' ignored");
}

void set_load(const Ctx& c, ULoad& l, LoadDef& d, const std::string& prop) {
    if (prop == "phases") l.nphases = c.count(1, 100);
    else if (prop == "bus1") {
        check_bus_spec(c, c.p.value);
        d.bus1 = c.p.value;
    } else if (prop == "kv") l.kv = c.positive();
    else if (prop == "kw") {
        l.kw = c.num();
        d.spec = 0;
    } else if (prop == "pf") {
        d.pf = c.num();
        if (d.pf == 0.0 || std::fabs(d.pf) > 1.0) c.fail("must be in [-1, 1] and not 0");
    } else if (prop == "kvar") {
        l.kvar = c.num();
        d.spec = 1;
    } else if (prop == "kva") {
        d.kva = c.num();
        d.spec = 2;
    } else if (prop == "model") l.model = c.count(1, 8);
    else if (prop == "conn") l.delta = c.delta();
    else if (prop == "vminpu") l.vminpu = c.num();
    else if (prop == "vmaxpu") l.vmaxpu = c.num();
    else if (prop == "vlowpu") l.vlowpu = c.num();
    else if (prop == "zipv") {
        l.zipv = c.vec();
        if (l.zipv.size() != 7) c.fail("7 values needed");
    } else if (prop == "daily") l.daily = c.lower();
    else if (prop == "yearly") l.yearly = c.lower();
    else if (prop == "duty") l.duty = c.lower();
    else if (prop == "enabled") l.enabled = c.yes();
    else if (prop == "status") {
        const std::string v = c.lower();
        if (v.rfind("v", 0) != 0 && v.rfind("f", 0) != 0 && v.rfind("e", 0) != 0)
            c.fail("'" + c.p.value + "' is not variable, fixed or exempt");
    } else c.st.note(c.element + ": property '" + prop + "' ignored");
}

void set_capacitor(const Ctx& c, UCapacitor& cap, CapDef& d, const std::string& prop) {
    if (prop == "bus1" || prop == "bus2") {
        check_bus_spec(c, c.p.value);
        (prop == "bus1" ? d.bus1 : d.bus2) = c.p.value;
    } else if (prop == "phases") cap.nphases = c.count(1, 100);
    else if (prop == "kvar") {
        cap.kvar = c.vec();
        if (cap.kvar.empty()) c.fail("no value");
        cap.states.resize(cap.kvar.size(), 1);
    } else if (prop == "kv") cap.kv = c.positive();
    else if (prop == "conn") cap.delta = c.delta();
    else if (prop == "numsteps") {
        const int n = c.count(1, 1000);
        cap.kvar.resize(static_cast<std::size_t>(n), cap.kvar.empty() ? 0.0 : cap.kvar.back());
        cap.states.resize(static_cast<std::size_t>(n), 1);
    } else if (prop == "states") {
        const std::vector<double> v = c.vec();
        for (std::size_t i = 0; i < v.size() && i < cap.states.size(); ++i) cap.states[i] = v[i] != 0.0 ? 1 : 0;
    } else if (prop == "enabled") cap.enabled = c.yes();
    else c.st.note(c.element + ": property '" + prop + "' ignored");
}

// ---- Vsource, LoadShape ----------------------------------------------------------------------------------

void set_vsource(const Ctx& c, UVsource& v, VsrcDef& d, const std::string& prop) {
    if (prop == "bus1") {
        check_bus_spec(c, c.p.value);
        d.bus1 = c.p.value;
    } else if (prop == "basekv") v.basekv = c.positive();
    else if (prop == "pu") v.pu = c.num();
    else if (prop == "angle") v.angle_deg = c.num();
    else if (prop == "phases") v.nphases = c.count(1, 100);
    else if (prop == "mvasc3" || prop == "mvasc1") {
        (prop == "mvasc3" ? d.mvasc3 : d.mvasc1) = c.positive();
        d.zspec = 1;
    } else if (prop == "isc3" || prop == "isc1") {
        (prop == "isc3" ? d.isc3 : d.isc1) = c.positive();
        d.zspec = 2;
    } else if (prop == "x1r1") d.x1r1 = c.positive();
    else if (prop == "x0r0") d.x0r0 = c.positive();
    else if (prop == "r1" || prop == "x1" || prop == "r0" || prop == "x0") {
        const double x = c.num();
        if (prop == "r1") d.r1 = x;
        if (prop == "x1") d.x1 = x;
        if (prop == "r0") d.r0 = x;
        if (prop == "x0") d.x0 = x;
        d.zspec = 3;
    } else if (prop == "z1" || prop == "z0") {
        const std::vector<double> z = c.vec();
        if (z.size() != 2) c.fail("2 values (R, X) needed");
        if (prop == "z1") {
            d.r1 = z[0];
            d.x1 = z[1];
            if (!d.z0_given) {
                d.r0 = z[0];
                d.x0 = z[1];
            }
        } else {
            d.r0 = z[0];
            d.x0 = z[1];
            d.z0_given = true;
        }
        d.zspec = 3;
    } else if (prop == "enabled") v.enabled = c.yes();
    else c.st.note(c.element + ": property '" + prop + "' ignored");
}

std::vector<double> read_mult_file(const Ctx& c, const std::string& spec) {
    std::string rest = spec.substr(spec.find('=') + 1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.erase(0, 1);
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.pop_back();
    if (!c.st.options.allow_files) c.fail("reading files is disabled");
    namespace fs = std::filesystem;
    fs::path path = fs::path(c.st.where.dir) / rest;
    std::string text;
    try {
        text = read_input_file(path.string());
    } catch (const ParseError& e) { c.fail(std::string("file '") + rest + "': " + e.what()); }
    std::vector<double> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string ln = text.substr(start, end - start);
        start = end + 1;
        const std::vector<Param> f = split_params(ln);
        if (f.empty()) continue;
        try {
            out.push_back(parse_double(f[0].value, f[0].quoted));
        } catch (const ValueError& e) { c.fail("file '" + rest + "': " + e.message); }
    }
    return out;
}

void set_loadshape(const Ctx& c, ULoadShape& s, const std::string& prop) {
    if (prop == "npts") {
        s.npts = c.count(0, 100000000);
    } else if (prop == "interval") {
        s.interval_h = c.num();
    } else if (prop == "minterval") {
        s.interval_h = c.num() / 60.0;
    } else if (prop == "sinterval") {
        s.interval_h = c.num() / 3600.0;
    } else if (prop == "mult" || prop == "pmult" || prop == "qmult" || prop == "hour") {
        const std::string v = c.lower();
        std::vector<double> vals;
        if (v.rfind("file", 0) == 0 && v.find('=') != std::string::npos) vals = read_mult_file(c, c.p.value);
        else if (v.rfind("sngfile", 0) == 0 || v.rfind("dblfile", 0) == 0) c.fail("binary files are not supported");
        else vals = c.vec();
        if (s.npts > 0 && vals.size() > static_cast<std::size_t>(s.npts)) vals.resize(static_cast<std::size_t>(s.npts));
        if (prop == "qmult") s.qmult = vals;
        else if (prop == "hour") {
            s.hour = vals;
            s.interval_h = 0.0;
        } else s.mult = vals;
        if (s.npts == 0) s.npts = static_cast<int>(vals.size());
    } else if (prop == "useactual") {
        s.useactual = c.yes();
    } else {
        c.st.note(c.element + ": property '" + prop + "' ignored");
    }
}

}  // namespace

void ZData::recalc_from_sequence() {
    if (!sym) {
        // a change of nphases on matrix data: OpenDSS reallocates from the sequence values
        sym = true;
    }
    const std::vector<double> r = sequence_to_phase(r1, r0, nphases);
    const std::vector<double> x = sequence_to_phase(x1, x0, nphases);
    c = sequence_to_phase(c1, c0, nphases);
    z.assign(r.size(), {});
    for (std::size_t i = 0; i < r.size(); ++i) z[i] = {r[i], x[i]};
}

// ---- dispatch ------------------------------------------------------------------------------------------------

namespace {

template <class V>
void copy_like(State& st, V& vec, int index, const std::string& other_name, const Ctx& c) {
    int other = -1;
    for (std::size_t i = 0; i < vec.size(); ++i)
        if (vec[i].name == other_name) other = static_cast<int>(i);
    if (other < 0) c.fail("no element named '" + other_name + "' to copy");
    const std::string keep = vec[static_cast<std::size_t>(index)].name;
    vec[static_cast<std::size_t>(index)] = vec[static_cast<std::size_t>(other)];
    vec[static_cast<std::size_t>(index)].name = keep;
    (void)st;
}

void do_like(State& st, Cls cls, int i, const Ctx& c) {
    const std::string o = c.lower();
    UNetwork& net = st.net();
    const std::size_t u = static_cast<std::size_t>(i);
    auto idx_of = [&](auto& vec) {
        for (std::size_t k = 0; k < vec.size(); ++k) if (vec[k].name == o) return k;
        c.fail("no element named '" + o + "' to copy");
    };
    switch (cls) {
        case Cls::Line: { const std::size_t k = idx_of(net.lines); copy_like(st, net.lines, i, o, c); st.line_defs[u] = st.line_defs[k]; break; }
        case Cls::Transformer: { const std::size_t k = idx_of(net.transformers); copy_like(st, net.transformers, i, o, c); st.xf_defs[u] = st.xf_defs[k]; break; }
        case Cls::RegControl: { const std::size_t k = idx_of(net.regcontrols); copy_like(st, net.regcontrols, i, o, c); st.reg_defs[u] = st.reg_defs[k]; break; }
        case Cls::Load: { const std::size_t k = idx_of(net.loads); copy_like(st, net.loads, i, o, c); st.load_defs[u] = st.load_defs[k]; break; }
        case Cls::Capacitor: { const std::size_t k = idx_of(net.capacitors); copy_like(st, net.capacitors, i, o, c); st.cap_defs[u] = st.cap_defs[k]; break; }
        case Cls::Vsource: { const std::size_t k = idx_of(net.vsources); copy_like(st, net.vsources, i, o, c); st.vsrc_defs[u] = st.vsrc_defs[k]; break; }
        case Cls::LineCode: { const std::size_t k = idx_of(st.linecodes); const std::string keep = st.linecodes[u].name; st.linecodes[u] = st.linecodes[k]; st.linecodes[u].name = keep; break; }
        case Cls::LoadShape: copy_like(st, net.loadshapes, i, o, c); break;
        case Cls::CapControl: { const std::size_t k = idx_of(net.capcontrols); copy_like(st, net.capcontrols, i, o, c); st.capctl_defs[u] = st.capctl_defs[k]; break; }
        default: break;
    }
}

std::string element_name(State& st, Cls c, int i) {
    const std::size_t u = static_cast<std::size_t>(i);
    UNetwork& n = st.net();
    switch (c) {
        case Cls::Line: return n.lines[u].name;
        case Cls::LineCode: return st.linecodes[u].name;
        case Cls::Load: return n.loads[u].name;
        case Cls::Transformer: return n.transformers[u].name;
        case Cls::RegControl: return n.regcontrols[u].name;
        case Cls::Capacitor: return n.capacitors[u].name;
        case Cls::Vsource: return n.vsources[u].name;
        case Cls::CapControl: return n.capcontrols[u].name;
        default: return n.loadshapes[u].name;
    }
}

void set_one(State& st, Cls cls, int i, const Ctx& c, const std::string& prop) {
    const std::size_t u = static_cast<std::size_t>(i);
    UNetwork& n = st.net();
    if (prop == "like") return do_like(st, cls, i, c);
    switch (cls) {
        case Cls::Line: return set_line(c, st.line_defs[u], n.lines[u], prop);
        case Cls::LineCode: return set_linecode(c, st.linecodes[u], prop);
        case Cls::Load: return set_load(c, n.loads[u], st.load_defs[u], prop);
        case Cls::Transformer: return set_transformer(c, n.transformers[u], st.xf_defs[u], prop);
        case Cls::RegControl: return set_regcontrol(c, n.regcontrols[u], st.reg_defs[u], prop);
        case Cls::Capacitor: return set_capacitor(c, n.capacitors[u], st.cap_defs[u], prop);
        case Cls::Vsource: return set_vsource(c, n.vsources[u], st.vsrc_defs[u], prop);
        case Cls::CapControl: return set_capcontrol(c, n.capcontrols[u], st.capctl_defs[u], prop);
        default: return set_loadshape(c, n.loadshapes[u], prop);
    }
}

}  // namespace

void edit_element(State& st, Cls cls, int index, const std::vector<Param>& params, std::size_t first) {
    ++st.edits;  // resolve_buses runs again
    const Props& props = props_of(cls);
    const std::string element = std::string(class_name(cls)) + "." + element_name(st, cls, index);
    int last = -1;
    for (std::size_t k = first; k < params.size(); ++k) {
        const Param& p = params[k];
        int idx = -1;
        if (p.name.empty()) {
            idx = last + 1;
            if (idx >= static_cast<int>(props.size())) st.fail(element + ": too many positional values ('" + p.value + "')");
        } else {
            idx = find_prop(props, to_lower(p.name));
            if (idx < 0) st.fail(element + ": property '" + p.name + "': unknown property of " + class_name(cls));
        }
        last = idx;
        const std::string& prop = props[static_cast<std::size_t>(idx)];
        const Ctx c{st, element, prop, p};
        set_one(st, cls, index, c, prop);
    }
    finish_element(st, cls, index);
}

}  // namespace libgrid::dss
