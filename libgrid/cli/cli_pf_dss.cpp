// `libgrid pf FEEDER.dss`: one unbalanced power flow on an OpenDSS script (io/dss.hpp,
// powerflow/unbalanced.hpp), a readable summary or JSON (docs/unbalanced.md lists the fields).
#include "cli.hpp"

#include <libgrid/io/dss.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <cctype>
#include <map>
#include <sstream>

namespace libgrid::cli {
namespace {

using ojson = nlohmann::ordered_json;

constexpr double kRad2Deg = 57.29577951308232;

ojson number(double x) { return std::isfinite(x) ? ojson(x) : ojson(nullptr); }

ojson node_json(const UNetwork& net, const UNodeResults& n) {
    ojson bus = ojson::array(), v = ojson::array(), pu = ojson::array(),
                   deg = ojson::array();
    for (std::size_t k = 0; k < n.bus.size(); ++k) {
        bus.push_back(net.buses[std::size_t(n.bus[k])].name);
        v.push_back(number(n.vm_volts[k]));
        pu.push_back(number(n.vm_pu[k]));
        deg.push_back(number(n.va_deg[k]));
    }
    return {{"bus", bus}, {"phase", n.phase}, {"v_volts", v}, {"vm_pu", pu}, {"va_deg", deg}};
}

/// One terminal: totals over its conductors, then per conductor (node, p, q, |I|, angle of I).
ojson terminal_json(const UNetwork& net, const UTerminalResult& t) {
    double p = 0, q = 0;
    ojson pc = ojson::array(), qc = ojson::array(), ia = ojson::array(),
                   ideg = ojson::array();
    for (std::size_t c = 0; c < t.power_kva.size(); ++c) {
        p += t.power_kva[c].real();
        q += t.power_kva[c].imag();
        pc.push_back(number(t.power_kva[c].real()));
        qc.push_back(number(t.power_kva[c].imag()));
        const cplx i = c < t.current_a.size() ? t.current_a[c] : cplx(NAN, NAN);
        ia.push_back(number(std::abs(i)));
        ideg.push_back(number(std::arg(i) * kRad2Deg));
    }
    const std::string bus = t.bus >= 0 ? net.buses[std::size_t(t.bus)].name : std::string();
    return {{"bus", bus}, {"p_kw", number(p)}, {"q_kvar", number(q)}, {"nodes", t.nodes},
            {"p_kw_conductor", pc}, {"q_kvar_conductor", qc}, {"i_a", ia}, {"i_deg", ideg}};
}

ojson result_json(const UNetwork& net, const UPfResult& r, const std::vector<std::string>& notes) {
    ojson j;
    j["converged"] = r.converged;
    j["iterations"] = r.iterations;
    j["total_iterations"] = r.total_iterations;
    j["control_iterations"] = r.control_iterations;
    j["method"] = to_string(r.method_used);
    j["source_kw"] = number(r.source_kva.real());
    j["source_kvar"] = number(r.source_kva.imag());
    ojson pp = ojson::array(), qp = ojson::array();
    for (int ph = 0; ph < 3; ++ph) {
        double p = 0, q = 0;
        for (const auto& s : r.source_kva_phase) {
            p += s[std::size_t(ph)].real();
            q += s[std::size_t(ph)].imag();
        }
        pp.push_back(number(p));
        qp.push_back(number(q));
    }
    j["source_kw_phase"] = pp;
    j["source_kvar_phase"] = qp;
    j["losses_kw"] = number(r.losses_kva.real());
    j["losses_kvar"] = number(r.losses_kva.imag());
    j["node"] = node_json(net, r.node);
    ojson el = ojson::array();
    for (const UElementResult& e : r.element) {
        ojson terms = ojson::array();
        for (const UTerminalResult& t : e.terminals) terms.push_back(terminal_json(net, t));
        el.push_back({{"name", e.name}, {"terminals", terms}, {"losses_kw", number(e.losses_kva.real())},
                      {"losses_kvar", number(e.losses_kva.imag())}});
    }
    j["element"] = el;
    ojson taps = ojson::object();
    for (const UTapResult& t : r.taps) taps[t.regcontrol] = t.position;
    j["taps"] = taps;
    ojson tap_pu = ojson::object();
    for (const UTapResult& t : r.taps) tap_pu[t.regcontrol] = number(t.tap_pu);
    j["tap_pu"] = tap_pu;
    ojson caps = ojson::object();  // added (h8): controlled capacitors' states per step
    for (const UCapState& c : r.capacitors) caps[c.capacitor] = c.states;
    j["capacitors"] = caps;
    ojson unb = ojson::array();
    for (const UUnbalance& u : r.unbalance)
        unb.push_back({{"bus", net.buses[std::size_t(u.bus)].name}, {"vuf_pct", number(u.vuf_pct)}, {"v0_volts", number(u.v0_volts)},
                       {"v1_volts", number(u.v1_volts)}, {"v2_volts", number(u.v2_volts)},
                       {"v_neutral_volts", number(u.v_neutral_volts)}});
    j["unbalance"] = unb;
    j["notes"] = notes;
    if (!r.message.empty()) j["message"] = r.message;
    return j;
}

/// What a note is about, without its "FILE:LINE: " prefix: "Plot", "New energymeter",
/// "line.x: property 'foo'", "Set demand".
std::string note_key(const std::string& note) {
    std::string s = note;
    for (std::size_t i = 0; i + 1 < s.size(); ++i)  // the first ":<digits>: "
        if (s[i] == ':' && std::isdigit((unsigned char)s[i + 1])) {
            std::size_t j = i + 1;
            while (j < s.size() && std::isdigit((unsigned char)s[j])) ++j;
            if (s.compare(j, 2, ": ") == 0) {
                s = s.substr(j + 2);
                break;
            }
        }
    if (s.rfind("ignored: ", 0) == 0) {
        std::istringstream words(s.substr(9));
        std::string cmd, spec;
        words >> cmd >> spec;
        std::string low = cmd;
        std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (low == "new" || low == "edit" || low == "batchedit") return cmd + " " + spec.substr(0, spec.find('.'));
        return cmd;
    }
    const std::size_t prop = s.find(": property '");
    const std::size_t close = prop == std::string::npos ? prop : s.find('\'', prop + 12);
    return close == std::string::npos ? s : s.substr(0, close + 1);
}

/// "Plot x3, Show x2, New energymeter, ..." from the notes.
std::string notes_counted(const std::vector<std::string>& notes) {
    std::map<std::string, int> by_what;
    for (const std::string& n : notes) ++by_what[note_key(n)];
    std::string s;
    for (const auto& [what, count] : by_what) s += (s.empty() ? "" : "; ") + what + (count > 1 ? " x" + std::to_string(count) : "");
    return s;
}

void print_voltage_range(const UNetwork& net, const UNodeResults& n) {
    for (int ph = 1; ph <= 3; ++ph) {
        double lo = INFINITY, hi = -INFINITY;
        int at_lo = -1, at_hi = -1;
        for (std::size_t k = 0; k < n.phase.size(); ++k) {
            if (n.phase[k] != ph || !std::isfinite(n.vm_pu[k])) continue;
            if (n.vm_pu[k] < lo) { lo = n.vm_pu[k]; at_lo = n.bus[k]; }
            if (n.vm_pu[k] > hi) { hi = n.vm_pu[k]; at_hi = n.bus[k]; }
        }
        if (at_lo < 0) continue;
        std::printf("  voltage phase %d   min %.5f p.u. (%s), max %.5f p.u. (%s)\n", ph, lo, net.buses[std::size_t(at_lo)].name.c_str(),
                    hi, net.buses[std::size_t(at_hi)].name.c_str());
    }
}

void print_summary(const std::string& path, const UNetwork& net, const UPfResult& r, const std::vector<std::string>& notes) {
    std::printf("libgrid unbalanced power flow: %s (circuit %s)\n", path.c_str(), net.name.c_str());
    std::printf("  network           %zu buses, %zu nodes, %zu lines, %zu transformers, %zu loads, %zu capacitors\n", net.buses.size(),
                r.node.bus.size(), net.lines.size(), net.transformers.size(), net.loads.size(), net.capacitors.size());
    std::printf("  method            %s\n", to_string(r.method_used));
    std::printf("  converged         %s in %d iterations (%d over %d control iterations)\n", r.converged ? "yes" : "NO", r.iterations,
                r.total_iterations, r.control_iterations);
    std::printf("  source            %.3f kW, %.3f kvar\n", r.source_kva.real(), r.source_kva.imag());
    for (int ph = 0; ph < 3; ++ph) {
        cplx s{0.0, 0.0};
        for (const auto& sp : r.source_kva_phase) s += sp[std::size_t(ph)];
        std::printf("    phase %d         %.3f kW, %.3f kvar\n", ph + 1, s.real(), s.imag());
    }
    std::printf("  losses            %.3f kW, %.3f kvar\n", r.losses_kva.real(), r.losses_kva.imag());
    print_voltage_range(net, r.node);
    const auto worst = std::max_element(r.unbalance.begin(), r.unbalance.end(),
                                        [](const UUnbalance& a, const UUnbalance& b) { return a.vuf_pct < b.vuf_pct; });
    if (worst != r.unbalance.end())
        std::printf("  worst VUF         %.3f %% (%s)\n", worst->vuf_pct, net.buses[std::size_t(worst->bus)].name.c_str());
    for (const UTapResult& t : r.taps)
        std::printf("  tap %-13s %+d steps (%.5f p.u., transformer.%s winding %d)\n", t.regcontrol.c_str(), t.position, t.tap_pu,
                    t.transformer.c_str(), t.winding);
    for (const UCapState& c : r.capacitors) {  // added (h8)
        std::string st;
        for (int x : c.states) {
            if (!st.empty()) st += ' ';
            st += std::to_string(x);
        }
        std::printf("  capacitor %-7s steps [%s] (capcontrol.%s)\n", c.capacitor.c_str(), st.c_str(), c.capcontrol.c_str());
    }
    if (!notes.empty()) std::printf("  notes             %zu ignored: %s\n", notes.size(), notes_counted(notes).c_str());
    if (!r.message.empty()) std::printf("  message           %s\n", r.message.c_str());
}

/// "09:26" -> 9.4333 h; a ValidationError naming the option otherwise.
double parse_hhmm(const std::string& s) {
    int h = -1, m = -1;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
        throw ValidationError("--at: expected HH:MM (00:00 to 23:59), got '" + s + "'");
    return h + m / 60.0;
}

}  // namespace

bool is_dss_path(const std::string& path) {
    if (path.size() < 4) return false;
    std::string ext = path.substr(path.size() - 4);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return ext == ".dss";
}

namespace {

/// Solve `net` with the arguments' options and report (summary or JSON); throws when it did not converge.
void solve_and_report(UNetwork& net, const DssPfArgs& a, const std::vector<std::string>& notes) {
    UPfOptions opt;
    opt.method = parse_umethod(a.method.empty() ? "auto" : a.method);
    if (a.tolerance_pu > 0) opt.tolerance = a.tolerance_pu;
    if (a.max_iterations > 0) opt.max_iterations = a.max_iterations;
    const std::string controls = a.controls.empty() ? (net.settings.control_mode == "off" ? "off" : "static") : a.controls;
    if (controls != "static" && controls != "off") throw ValidationError("--controls: expected static or off, got '" + controls + "'");
    opt.controls = controls == "off" ? UControlMode::off : UControlMode::static_;
    if (!a.at.empty()) apply_loadshapes_at(net, parse_hhmm(a.at));
    const UPfResult r = run_unbalanced_pf(net, opt);
    if (a.json_out.empty()) {
        print_summary(a.path, net, r, notes);
    } else {
        const std::string text = result_json(net, r, notes).dump(1);
        if (a.json_out == "-") {
            std::cout << text << "\n";
        } else {
            std::ofstream f(a.json_out);
            if (!f) throw Error(a.json_out + ": cannot open for writing");
            f << text << "\n";
        }
    }
    if (!r.converged) throw Error(a.path + ": unbalanced power flow did not converge: " + r.message);
}

}  // namespace

void run_pf_dss(const DssPfArgs& a) {
    DssReadOptions ro;
    ro.missing_redirect_is_error = !a.skip_missing_redirect;
    DssReadResult in = read_dss(a.path, ro);
    solve_and_report(in.net, a, in.notes);
}

// Added (issue 15, h5): `libgrid pf NETWORK --unbalanced`: the balanced network through to_unetwork.
void run_pf_converted(const Network& balanced, const DssPfArgs& a, const ToUnbalancedOptions& conv) {
    UNetwork net = to_unetwork(balanced, conv);
    solve_and_report(net, a, {});
}

}  // namespace libgrid::cli
