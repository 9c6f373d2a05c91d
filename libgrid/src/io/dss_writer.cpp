// libgrid io: the OpenDSS script writer (io/dss.hpp, docs/opendss.md). Writes what a UNetwork holds
// as one script that the reader reads back to an equal network: impedances per km (`units=km`),
// line codes re-made from the lines that name them, every terminal's nodes spelled out, doubles
// with 17 significant digits, bus bases and coordinates as SetkVBase / SetBusXY.
#include <libgrid/io/dss.hpp>

#include <libgrid/core/errors.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace libgrid {
namespace {

std::string num(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string vec(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) s.push_back(' ');
        s.append(num(v[i]));
    }
    return s + "]";
}

/// Lower triangle, rows separated by '|' (the reader mirrors it).
std::string sym(const std::vector<double>& m, int n) {
    std::string s = "[";
    const std::size_t un = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < un; ++i) {
        if (i) s += " |";
        for (std::size_t j = 0; j <= i; ++j) {
            s.push_back(' ');
            s.append(num(i * un + j < m.size() ? m[i * un + j] : 0.0));
        }
    }
    return s + "]";
}

std::string bus(const UNetwork& net, const UTerminal& t) {
    if (t.bus < 0 || t.bus >= static_cast<int>(net.buses.size()))
        throw ValidationError("write_dss: a terminal's bus index " + std::to_string(t.bus) + " is out of range");
    std::string s = net.buses[static_cast<std::size_t>(t.bus)].name;
    for (int n : t.nodes) {
        s.push_back('.');
        s.append(std::to_string(n));
    }
    return s;
}

std::string yn(bool b) { return b ? "yes" : "no"; }

void write_head(std::ostream& o, const UNetwork& net) {
    o << "! written by libgrid (io/dss.hpp): impedances per km, every node spelled out\n";
    o << "Clear\n";
    o << "Set DefaultBaseFrequency=" << num(net.settings.base_frequency_hz) << "\n";
    for (std::size_t i = 0; i < net.vsources.size(); ++i) {
        const UVsource& v = net.vsources[i];
        o << (i == 0 ? "New Circuit." + net.name : "New Vsource." + v.name) << " phases=" << v.nphases
          << " bus1=" << bus(net, v.bus1) << " basekv=" << num(v.basekv) << " pu=" << num(v.pu)
          << " angle=" << num(v.angle_deg) << " r1=" << num(v.z1_ohm.real()) << " x1=" << num(v.z1_ohm.imag())
          << " r0=" << num(v.z0_ohm.real()) << " x0=" << num(v.z0_ohm.imag());
        if (!v.enabled) o << " enabled=no";
        o << "\n";
    }
}

void write_transformers(std::ostream& o, const UNetwork& net) {
    for (const UTransformer& t : net.transformers) {
        o << "New Transformer." << t.name << " phases=" << t.nphases << " windings=" << t.windings.size()
          << " xhl=" << num(t.xhl_pct) << " xht=" << num(t.xht_pct) << " xlt=" << num(t.xlt_pct)
          << " %noloadloss=" << num(t.noload_loss_pct) << " %imag=" << num(t.imag_pct)
          << " ppm_antifloat=" << num(t.ppm_antifloat) << " sub=" << yn(t.sub);
        if (!t.bank.empty()) o << " bank=" << t.bank;
        if (!t.enabled) o << " enabled=no";
        o << "\n";
        for (std::size_t w = 0; w < t.windings.size(); ++w) {
            const UWinding& wd = t.windings[w];
            o << "~ wdg=" << w + 1 << " bus=" << bus(net, wd.bus) << " conn=" << (wd.delta ? "delta" : "wye")
              << " kv=" << num(wd.kv) << " kva=" << num(wd.kva) << " %r=" << num(wd.r_pct) << " tap=" << num(wd.tap)
              << " maxtap=" << num(wd.max_tap) << " mintap=" << num(wd.min_tap) << " numtaps=" << wd.num_taps
              << " rneut=" << num(wd.rneut_ohm) << " xneut=" << num(wd.xneut_ohm) << "\n";
        }
    }
    for (const URegControl& r : net.regcontrols) {
        if (r.transformer < 0 || r.transformer >= static_cast<int>(net.transformers.size()))
            throw ValidationError("write_dss: regcontrol." + r.name + ": field 'transformer': index out of range");
        o << "New RegControl." << r.name << " transformer=" << net.transformers[static_cast<std::size_t>(r.transformer)].name
          << " winding=" << r.winding << " vreg=" << num(r.vreg) << " band=" << num(r.band)
          << " ptratio=" << num(r.ptratio) << " ctprim=" << num(r.ctprim) << " r=" << num(r.r) << " x=" << num(r.x)
          << " delay=" << num(r.delay_s) << " tapdelay=" << num(r.tapdelay_s) << " maxtapchange=" << r.maxtapchange
          << " ptphase=" << (r.ptphase == -1 ? std::string("max") : r.ptphase == -2 ? std::string("min") : std::to_string(r.ptphase))
          << " reversible=" << yn(r.reversible) << " vlimit=" << num(r.vlimit);
        if (r.tap_winding > 0) o << " tapwinding=" << r.tap_winding;
        if (!r.enabled) o << " enabled=no";
        o << "\n";
    }
}

/// (v1, v0) with sequence_to_phase(v1, v0, n) == m bit for bit (m: n x n, row-major), searched a few
/// units in the last place around v1 = s - mu, v0 = s + 2 mu (s the diagonal, mu the off-diagonal);
/// for one phase v0 = v1 (OpenDSS's RecalcElementData sets R0 := R1 there). False when m has not
/// that form or no such pair is found.
bool sequence_pair(const std::vector<double>& m, int n, double& v1, double& v0) {
    const std::size_t un = static_cast<std::size_t>(n);
    if (n < 1 || m.size() != un * un) return false;
    const double s = m[0], mu = n > 1 ? m[1] : 0.0;
    for (std::size_t i = 0; i < un; ++i)
        for (std::size_t j = 0; j < un; ++j)
            if (m[i * un + j] != (i == j ? s : mu)) return false;
    constexpr int kOffsets[] = {0, -1, 1, -2, 2, -3, 3, -4, 4};  // the exact candidates first
    auto ulps = [](double x, int k) {
        for (; k < 0; ++k) x = std::nextafter(x, -HUGE_VAL);
        for (; k > 0; --k) x = std::nextafter(x, HUGE_VAL);
        return x;
    };
    for (int i : kOffsets)
        for (int j : kOffsets) {
            if (n == 1 && j != 0) continue;
            const double a = ulps(s - mu, i), b = n == 1 ? a : ulps(s + 2.0 * mu, j);
            if (sequence_to_phase(a, b, n) == m) {
                v1 = a;
                v0 = b;
                return true;
            }
        }
    return false;
}

/// A switch as OpenDSS reads it back: `switch=yes` makes Line.pas set r1 = x1 = r0 = x0 = 1 and mark
/// the sequence data changed, so that its y-primitive is rebuilt from r1 ... c0 even when rmatrix /
/// xmatrix / cmatrix follow (written that way, a switch of 1e-6 ohm became about 1.4 ohm). So the
/// switch's own impedance is written as r1, x1, r0, x0, c1, c0 after it, which OpenDSS and the reader
/// both turn into the same matrices. False (nothing written) when the matrices are not of the
/// sequence form (equal diagonal, equal off-diagonal): the caller writes a plain line.
bool write_switch_sequence(std::ostream& o, const ULine& l) {
    double r1 = 0, r0 = 0, x1 = 0, x0 = 0, c1 = 0, c0 = 0;
    if (!sequence_pair(l.r_ohm_per_km, l.nphases, r1, r0) || !sequence_pair(l.x_ohm_per_km, l.nphases, x1, x0) ||
        !sequence_pair(l.c_nf_per_km, l.nphases, c1, c0))
        return false;
    o << " switch=yes r1=" << num(r1) << " x1=" << num(x1) << " r0=" << num(r0) << " x0=" << num(x0) << " c1=" << num(c1)
      << " c0=" << num(c0);
    return true;
}

bool same_data(const ULine& a, const ULine& b) {
    return a.nphases == b.nphases && a.r_ohm_per_km == b.r_ohm_per_km && a.x_ohm_per_km == b.x_ohm_per_km &&
           a.c_nf_per_km == b.c_nf_per_km;
}

void write_lines(std::ostream& o, const UNetwork& net) {
    std::map<std::string, const ULine*> codes;  // a line code per name, from the first line naming it
    for (const ULine& l : net.lines) {
        if (l.linecode.empty() || l.is_switch || codes.count(l.linecode)) continue;
        codes[l.linecode] = &l;
        o << "New LineCode." << l.linecode << " nphases=" << l.nphases << " units=km rmatrix=" << sym(l.r_ohm_per_km, l.nphases)
          << " xmatrix=" << sym(l.x_ohm_per_km, l.nphases) << " cmatrix=" << sym(l.c_nf_per_km, l.nphases)
          << " normamps=" << num(l.norm_amps) << " emergamps=" << num(l.emerg_amps) << "\n";
    }
    for (const ULine& l : net.lines) {
        o << "New Line." << l.name << " phases=" << l.nphases << " bus1=" << bus(net, l.bus1) << " bus2=" << bus(net, l.bus2);
        const auto code = l.linecode.empty() || l.is_switch ? codes.end() : codes.find(l.linecode);
        if (code != codes.end() && same_data(*code->second, l)) {
            o << " linecode=" << l.linecode;
        } else if (!l.is_switch || !write_switch_sequence(o, l)) {
            // a switch whose matrices have no sequence form is written as the plain line it is (see
            // write_switch_sequence: `switch=yes` would replace its impedance in OpenDSS)
            o << " rmatrix=" << sym(l.r_ohm_per_km, l.nphases) << " xmatrix=" << sym(l.x_ohm_per_km, l.nphases)
              << " cmatrix=" << sym(l.c_nf_per_km, l.nphases);
        }
        o << " length=" << num(l.length_km) << " units=km normamps=" << num(l.norm_amps)
          << " emergamps=" << num(l.emerg_amps);
        if (!l.enabled) o << " enabled=no";
        o << "\n";
    }
}

void write_shunts(std::ostream& o, const UNetwork& net) {
    for (const ULoadShape& s : net.loadshapes) {
        o << "New LoadShape." << s.name << " npts=" << s.npts;
        if (!s.hour.empty() || s.interval_h == 0.0) o << " hour=" << vec(s.hour);
        if (s.interval_h != 0.0) o << " interval=" << num(s.interval_h);
        o << " mult=" << vec(s.mult);
        if (!s.qmult.empty()) o << " qmult=" << vec(s.qmult);
        o << " useactual=" << yn(s.useactual) << "\n";
    }
    for (const ULoad& l : net.loads) {
        o << "New Load." << l.name << " phases=" << l.nphases << " bus1=" << bus(net, l.bus1)
          << " conn=" << (l.delta ? "delta" : "wye") << " kv=" << num(l.kv) << " kw=" << num(l.base_kw)
          << " kvar=" << num(l.base_kvar) << " model=" << l.model << " vminpu=" << num(l.vminpu)
          << " vmaxpu=" << num(l.vmaxpu) << " vlowpu=" << num(l.vlowpu);
        if (!l.zipv.empty()) o << " zipv=" << vec(l.zipv);
        if (!l.daily.empty()) o << " daily=" << l.daily;
        if (!l.yearly.empty()) o << " yearly=" << l.yearly;
        if (!l.duty.empty()) o << " duty=" << l.duty;
        if (!l.enabled) o << " enabled=no";
        o << "\n";
        if (l.kw != l.base_kw || l.kvar != l.base_kvar)
            o << "! load." << l.name << " is at kw=" << num(l.kw) << " kvar=" << num(l.kvar) << " (its shape applied)\n";
    }
    for (const UCapacitor& c : net.capacitors) {
        std::vector<double> states(c.states.begin(), c.states.end());
        o << "New Capacitor." << c.name << " phases=" << c.nphases << " bus1=" << bus(net, c.bus1);
        if (c.bus2.bus >= 0) o << " bus2=" << bus(net, c.bus2);
        o << " conn=" << (c.delta ? "delta" : "wye") << " kv=" << num(c.kv) << " kvar=" << vec(c.kvar)
          << " states=" << vec(states);
        if (!c.enabled) o << " enabled=no";
        o << "\n";
    }
}

void write_settings(std::ostream& o, const UNetwork& net) {
    const USettings& s = net.settings;
    o << "Set voltagebases=" << vec(s.voltage_bases_kv) << "\n";
    o << "Set controlmode=" << s.control_mode << " tolerance=" << num(s.tolerance) << " maxiterations="
      << s.max_iterations << " maxcontroliter=" << s.max_control_iterations << "\n";
    o << "Set mode=" << s.mode << " number=" << s.number << " stepsize=" << num(s.stepsize_s) << "s\n";
    if (s.calc_voltage_bases) o << "CalcVoltageBases\n";
    for (const UBus& b : net.buses) {
        if (!std::isnan(b.kv_base_ll)) o << "SetkVBase bus=" << b.name << " kVLL=" << num(b.kv_base_ll) << "\n";
        if (b.has_coords) o << "SetBusXY bus=" << b.name << " X=" << num(b.x) << " Y=" << num(b.y) << "\n";
    }
    for (int i = 0; i < s.solve_count; ++i) o << "Solve\n";
}

/// Added (h8): OpenDSS's names of a CapControl's type and monitored phase.
const char* capcontrol_type_name(UCapControlType t) {
    switch (t) {
        case UCapControlType::current: return "current";
        case UCapControlType::voltage: return "voltage";
        case UCapControlType::kvar: return "kvar";
        case UCapControlType::time: return "time";
        case UCapControlType::pf: return "pf";
    }
    return "current";
}

std::string monitored_phase(int p) {
    if (p == UCapControl::kAvg) return "avg";
    if (p == UCapControl::kMax) return "max";
    if (p == UCapControl::kMin) return "min";
    return std::to_string(p);
}

/// Added (h8): a pf setting back from OpenDSS's 0..2 scale to [-1, 1].
double pf_back(double v) { return v > 1.0 ? v - 2.0 : v; }

void write_capcontrols(std::ostream& o, const UNetwork& net) {
    for (const UCapControl& c : net.capcontrols) {
        if (c.capacitor < 0 || c.capacitor >= static_cast<int>(net.capacitors.size()))
            throw ValidationError("write_dss: capcontrol." + c.name + ": field 'capacitor': index out of range");
        o << "New CapControl." << c.name;
        if (!c.element.empty()) o << " element=" << c.element;
        o << " terminal=" << c.terminal << " capacitor=" << net.capacitors[static_cast<std::size_t>(c.capacitor)].name;
        if (c.type == UCapControlType::pf) {  // pf settings after the type (OpenDSS's side effect)
            o << " onsetting=" << num(c.onsetting) << " offsetting=" << num(c.offsetting) << " type=pf";
            if (c.pf_on != 0.95 || c.pf_off != 1.05)
                o << " onsetting=" << num(pf_back(c.pf_on)) << " offsetting=" << num(pf_back(c.pf_off));
        } else {
            o << " type=" << capcontrol_type_name(c.type) << " onsetting=" << num(c.onsetting)
              << " offsetting=" << num(c.offsetting);
        }
        o << " ptratio=" << num(c.ptratio) << " ctratio=" << num(c.ctratio) << " ptphase=" << monitored_phase(c.ptphase)
          << " ctphase=" << monitored_phase(c.ctphase) << " delay=" << num(c.delay_s) << " delayoff=" << num(c.delayoff_s)
          << " deadtime=" << num(c.deadtime_s) << " voltoverride=" << yn(c.voltoverride) << " vmax=" << num(c.vmax)
          << " vmin=" << num(c.vmin) << " pctminkvar=" << num(c.pct_minkvar);
        if (!c.enabled) o << " enabled=no";
        o << "\n";
    }
}

}  // namespace

std::string to_dss_string(const UNetwork& net) {
    if (net.vsources.empty()) throw ValidationError("write_dss: circuit " + net.name + ": field 'vsources': no source");
    std::ostringstream o;
    write_head(o, net);
    write_transformers(o, net);
    write_lines(o, net);
    write_shunts(o, net);
    write_capcontrols(o, net);
    write_settings(o, net);
    return o.str();
}

void write_dss(const UNetwork& net, const std::string& path) {
    const std::string text = to_dss_string(net);
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error("write_dss: cannot open '" + path + "' for writing");
    f << text;
    if (!f) throw Error("write_dss: cannot write '" + path + "'");
}

}  // namespace libgrid
