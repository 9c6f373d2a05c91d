// libgrid io: the OpenDSS script reader (io/dss.hpp, docs/opendss.md). Runs the script's commands
// in order as OpenDSS's Executive does (Executive/ExecHelper.pas) for the subset the IEEE 13, 34,
// 123 and European LV feeders use; the classes' properties are in dss_classes.cpp.
#include "dss_state.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/core/input_file.hpp>
#include <libgrid/io/dss.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace libgrid {
namespace dss {

// ---- state --------------------------------------------------------------------------------------------

void State::clear() {
    const DssReadOptions keep = options;
    std::vector<std::string> notes = std::move(out.notes);
    const Where w = where;
    const int d = depth;
    const double f = default_base_freq;
    *this = State{};
    options = keep;
    out.notes = std::move(notes);
    where = w;
    depth = d;
    default_base_freq = f;
}

void State::fail(const std::string& message) const { throw ParseError(where.file, where.line, message); }

void State::note(const std::string& message) {
    out.notes.push_back(where.file + ":" + std::to_string(where.line) + ": " + message);
}

Cls class_of(const std::string& c) {
    if (c == "line") return Cls::Line;
    if (c == "linecode") return Cls::LineCode;
    if (c == "load") return Cls::Load;
    if (c == "transformer") return Cls::Transformer;
    if (c == "regcontrol") return Cls::RegControl;
    if (c == "capacitor") return Cls::Capacitor;
    if (c == "vsource") return Cls::Vsource;
    if (c == "loadshape") return Cls::LoadShape;
    if (c == "capcontrol") return Cls::CapControl;
    return Cls::None;
}

const char* class_name(Cls c) {
    switch (c) {
        case Cls::Line: return "line";
        case Cls::LineCode: return "linecode";
        case Cls::Load: return "load";
        case Cls::Transformer: return "transformer";
        case Cls::RegControl: return "regcontrol";
        case Cls::Capacitor: return "capacitor";
        case Cls::Vsource: return "vsource";
        case Cls::LoadShape: return "loadshape";
        case Cls::CapControl: return "capcontrol";
        default: return "?";
    }
}

namespace {
template <class V>
int index_by_name(const V& v, const std::string& name) {
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i].name == name) return static_cast<int>(i);
    return -1;
}
}  // namespace

int find_element(State& st, Cls c, const std::string& name) {
    if (c == Cls::None) return -1;
    const auto& index = st.element_index[static_cast<int>(c)];
    const auto it = index.find(name);
    return it == index.end() ? -1 : it->second;
}

int new_element(State& st, Cls c, const std::string& name) {
    ++st.edits;
    const int found = find_element(st, c, name);
    if (found >= 0) return found;  // OpenDSS: New on an existing name edits it (with a warning)
    UNetwork& n = st.net();
    const double f = st.net().settings.base_frequency_hz;
    auto add = [&](auto& vec) {
        vec.emplace_back();
        vec.back().name = name;
        const int i = static_cast<int>(vec.size()) - 1;
        st.element_index[static_cast<int>(c == Cls::None ? Cls::LoadShape : c)].emplace(name, i);
        return i;
    };
    switch (c) {
        case Cls::Line: {
            st.line_defs.emplace_back();
            st.line_defs.back().zd.basefreq = f;
            st.line_defs.back().zd.recalc_from_sequence();
            return add(n.lines);
        }
        case Cls::LineCode: {
            const int i = add(st.linecodes);
            st.linecodes.back().zd.basefreq = st.default_base_freq;
            st.linecodes.back().zd.recalc_from_sequence();
            return i;
        }
        case Cls::Load: st.load_defs.emplace_back(); return add(n.loads);
        case Cls::Transformer: {
            st.xf_defs.emplace_back();
            const int i = add(n.transformers);
            n.transformers.back().windings.resize(2);
            st.xf_defs.back().buses.resize(2);
            return i;
        }
        case Cls::RegControl: st.reg_defs.emplace_back(); return add(n.regcontrols);
        case Cls::Capacitor: st.cap_defs.emplace_back(); return add(n.capacitors);
        case Cls::Vsource: st.vsrc_defs.emplace_back(); return add(n.vsources);
        case Cls::CapControl: st.capctl_defs.emplace_back(); return add(n.capcontrols);
        default: return add(n.loadshapes);
    }
}

// ---- derived data ----------------------------------------------------------------------------------------

namespace {

void finish_line(State& st, int i) {
    LineDef& d = st.line_defs[static_cast<std::size_t>(i)];
    ULine& l = st.net().lines[static_cast<std::size_t>(i)];
    ZData z = d.zd;
    if (z.sym) {
        if (!d.cap_specified && d.length_units != "none") {  // default C given per kft (Line.pas)
            const double f = length_unit_to_km("kft") / length_unit_to_km(d.length_units);
            z.c1 /= f;
            z.c0 /= f;
        }
        z.recalc_from_sequence();
    }
    const double km = length_unit_to_km(d.length_units);
    const double per_km = 1.0 / (d.units_convert * km);
    const double fmul = st.net().settings.base_frequency_hz / z.basefreq;
    const std::size_t nn = z.z.size();
    l.nphases = z.nphases;
    l.r_ohm_per_km.assign(nn, 0.0);
    l.x_ohm_per_km.assign(nn, 0.0);
    l.c_nf_per_km.assign(nn, 0.0);
    for (std::size_t k = 0; k < nn; ++k) {
        l.r_ohm_per_km[k] = z.z[k].real() * per_km;
        l.x_ohm_per_km[k] = z.z[k].imag() * per_km * fmul;
        l.c_nf_per_km[k] = (k < z.c.size() ? z.c[k] : 0.0) * per_km;
    }
    l.length_km = d.len * km;
}

void finish_load(State& st, int i) {
    LoadDef& d = st.load_defs[static_cast<std::size_t>(i)];
    ULoad& l = st.net().loads[static_cast<std::size_t>(i)];
    const double q_of_p = std::sqrt(1.0 / (d.pf * d.pf) - 1.0);
    if (d.spec == 0) {
        l.kvar = l.kw * q_of_p * (d.pf < 0.0 ? -1.0 : 1.0);
    } else if (d.spec == 2) {
        l.kw = d.kva * std::fabs(d.pf);
        l.kvar = l.kw * q_of_p * (d.pf < 0.0 ? -1.0 : 1.0);
    } else {
        const double kva = std::hypot(l.kw, l.kvar);
        if (kva > 0.0) d.pf = (l.kw / kva) * ((l.kvar != 0.0 && l.kw * l.kvar < 0.0) ? -1.0 : 1.0);
        if (d.pf == 0.0) d.pf = 1.0;
    }
    l.base_kw = l.kw;
    l.base_kvar = l.kvar;
}

/// VSource.pas RecalcElementData: the impedances from the input given last.
void finish_vsource(State& st, int i) {
    VsrcDef& d = st.vsrc_defs[static_cast<std::size_t>(i)];
    UVsource& v = st.net().vsources[static_cast<std::size_t>(i)];
    const double kv = v.basekv;
    const double factor = v.nphases == 1 ? 1.0 : std::sqrt(3.0);
    double r1 = d.r1, x1 = d.x1, r0 = d.r0, x0 = d.x0;
    if (d.zspec == 1 || d.zspec == 2) {
        double mva3 = d.mvasc3, mva1 = d.mvasc1;
        if (d.zspec == 2) {
            mva3 = std::sqrt(3.0) * kv * d.isc3 / 1000.0;
            mva1 = factor * kv * d.isc1 / 1000.0;
        }
        const double isc1 = mva1 * 1000.0 / (factor * kv);
        x1 = kv * kv / mva3 / std::sqrt(1.0 + 1.0 / (d.x1r1 * d.x1r1));
        r1 = x1 / d.x1r1;
        const double a = 1.0 + d.x0r0 * d.x0r0;
        const double b = 4.0 * (r1 + x1 * d.x0r0);
        const double vv = 3.0 * kv * 1000.0 / factor / isc1;
        const double c = 4.0 * (r1 * r1 + x1 * x1) - vv * vv;
        const double disc = b * b - 4.0 * a * c;
        if (disc < 0.0) st.fail("vsource." + v.name + ": cannot calculate a real-valued R0; check the source's short-circuit data");
        r0 = std::max((-b + std::sqrt(disc)) / (2.0 * a), (-b - std::sqrt(disc)) / (2.0 * a));
        x0 = r0 * d.x0r0;
    } else if (v.nphases == 1) {
        r0 = r1;
        x0 = x1;
    }
    v.z1_ohm = {r1, x1};
    v.z0_ohm = {r0, x0};
}

}  // namespace

void finish_element(State& st, Cls c, int index) {
    if (c == Cls::Line) finish_line(st, index);
    else if (c == Cls::Load) finish_load(st, index);
    else if (c == Cls::Vsource) finish_vsource(st, index);
}

// ---- buses --------------------------------------------------------------------------------------------------

namespace {

/// OpenDSS ProcessBusDefs: nodes 1..nphases by default, the rest 0; the spec overrides from the start.
UTerminal terminal(State& st, const std::string& spec, int nphases, int nconds) {
    std::string name;
    std::vector<int> given;
    try {
        parse_bus_spec(spec, name, given);
    } catch (const ValueError& e) { st.fail(e.message); }
    UTerminal t;
    {
        UNetwork& n = st.net();
        const auto [it, added] = st.bus_index.try_emplace(to_lower(name), static_cast<int>(n.buses.size()));
        if (added) {  // as UNetwork::add_bus, with a hash look-up
            UBus b;
            b.name = it->first;
            n.buses.push_back(std::move(b));
        }
        t.bus = it->second;
    }
    t.nodes.assign(static_cast<std::size_t>(nconds), 0);
    for (int k = 0; k < nconds; ++k) t.nodes[static_cast<std::size_t>(k)] = k < nphases ? k + 1 : 0;
    for (std::size_t k = 0; k < given.size() && k < t.nodes.size(); ++k) t.nodes[k] = given[k];
    return t;
}

void need_bus(State& st, const std::string& element, const std::string& spec, const char* prop) {
    if (spec.empty()) st.fail(element + ": property '" + prop + "': no bus given");
}

}  // namespace

void resolve_buses(State& st) {
    if (st.resolved_edits == st.edits) return;  // nothing changed since the last time
    st.resolved_edits = st.edits;
    UNetwork& n = st.net();
    const std::vector<UBus> old = std::move(n.buses);
    n.buses.clear();
    st.bus_index.clear();
    for (std::size_t i = 0; i < n.vsources.size(); ++i) {
        UVsource& v = n.vsources[i];
        v.bus1 = terminal(st, st.vsrc_defs[i].bus1, v.nphases, v.nphases);
    }
    for (std::size_t i = 0; i < n.transformers.size(); ++i) {
        UTransformer& t = n.transformers[i];
        for (std::size_t w = 0; w < t.windings.size(); ++w) {
            const std::string& spec = st.xf_defs[i].buses[w];
            need_bus(st, "transformer." + t.name, spec, "bus");
            const int nc = t.windings[w].delta ? (t.nphases == 1 ? 2 : t.nphases) : t.nphases + 1;
            t.windings[w].bus = terminal(st, spec, t.nphases, nc);
        }
    }
    for (std::size_t i = 0; i < n.lines.size(); ++i) {
        ULine& l = n.lines[i];
        need_bus(st, "line." + l.name, st.line_defs[i].bus1, "bus1");
        need_bus(st, "line." + l.name, st.line_defs[i].bus2, "bus2");
        l.bus1 = terminal(st, st.line_defs[i].bus1, l.nphases, l.nphases);
        l.bus2 = terminal(st, st.line_defs[i].bus2, l.nphases, l.nphases);
    }
    for (std::size_t i = 0; i < n.loads.size(); ++i) {
        ULoad& l = n.loads[i];
        need_bus(st, "load." + l.name, st.load_defs[i].bus1, "bus1");
        const int nc = l.delta ? (l.nphases == 1 ? 2 : l.nphases) : l.nphases + 1;
        l.bus1 = terminal(st, st.load_defs[i].bus1, l.nphases, nc);
    }
    for (std::size_t i = 0; i < n.capacitors.size(); ++i) {
        UCapacitor& c = n.capacitors[i];
        need_bus(st, "capacitor." + c.name, st.cap_defs[i].bus1, "bus1");
        const int nc = c.delta && c.nphases == 1 ? 2 : c.nphases;
        c.bus1 = terminal(st, st.cap_defs[i].bus1, c.nphases, nc);
        c.bus2 = st.cap_defs[i].bus2.empty() ? UTerminal{} : terminal(st, st.cap_defs[i].bus2, c.nphases, nc);
    }
    for (const UBus& b : old) {
        const int k = st.find_bus(b.name);
        if (k < 0) continue;
        UBus& nb = n.buses[static_cast<std::size_t>(k)];
        nb.kv_base_ll = b.kv_base_ll;
        nb.x = b.x;
        nb.y = b.y;
        nb.has_coords = b.has_coords;
    }
}

void resolve_regcontrols(State& st) {
    UNetwork& n = st.net();
    for (std::size_t i = 0; i < n.regcontrols.size(); ++i) {
        const RegDef& d = st.reg_defs[i];
        const int t = index_by_name(n.transformers, d.transformer);
        if (t < 0) {
            const std::string msg = "regcontrol." + n.regcontrols[i].name + ": property 'transformer': " +
                                    (d.transformer.empty() ? std::string("no transformer given")
                                                           : "transformer '" + d.transformer + "' not found");
            throw ParseError(d.line > 0 ? d.file : st.where.file, d.line > 0 ? d.line : st.where.line, msg);
        }
        n.regcontrols[i].transformer = t;
    }
}

void resolve_capcontrols(State& st) {
    UNetwork& n = st.net();
    for (std::size_t i = 0; i < n.capcontrols.size(); ++i) {
        const CapCtlDef& d = st.capctl_defs[i];
        UCapControl& cc = n.capcontrols[i];
        const std::string who = "capcontrol." + cc.name;
        const std::string file = d.line > 0 ? d.file : st.where.file;
        const long line = d.line > 0 ? d.line : st.where.line;
        cc.capacitor = index_by_name(n.capacitors, d.capacitor);
        if (cc.capacitor < 0)
            throw ParseError(file, line, who + ": property 'capacitor': " +
                                             (d.capacitor.empty() ? std::string("no capacitor given")
                                                                  : "capacitor '" + d.capacitor + "' not found"));
        if (cc.type == UCapControlType::time) continue;
        const std::size_t dot = cc.element.find('.');
        const std::string cls = dot == std::string::npos ? "" : cc.element.substr(0, dot);
        const std::string name = dot == std::string::npos ? "" : cc.element.substr(dot + 1);
        const bool found = (cls == "line" && index_by_name(n.lines, name) >= 0) ||
                           (cls == "transformer" && index_by_name(n.transformers, name) >= 0) ||
                           (cls == "capacitor" && index_by_name(n.capacitors, name) >= 0);
        if (!found)
            throw ParseError(file, line, who + ": property 'element': " +
                                             (cc.element.empty() ? std::string("no element given")
                                                                 : "'" + cc.element + "' is not a line, transformer or capacitor"));
    }
}

}  // namespace dss
}  // namespace libgrid
