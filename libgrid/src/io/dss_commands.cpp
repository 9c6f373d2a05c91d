// libgrid io: the OpenDSS reader's commands (Executive/ExecCommands.pas, ExecHelper.pas,
// ExecOptions.pas): New, Edit, ~/More, property edits, Clear, Compile/Redirect, Set, BatchEdit,
// CalcVoltageBases, Solve, Buscoords, SetBusXY, SetkVBase; the rest is noted and ignored.
#include "dss_pattern.hpp"
#include "dss_state.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/core/input_file.hpp>
#include <libgrid/io/dss.hpp>

#include <cmath>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace libgrid {
namespace dss {
namespace {
namespace fs = std::filesystem;

/// OpenDSS's command list (ExecCommands.pas), in its order: an abbreviation means the first that
/// starts with it.
const std::vector<std::string> kCommands = {
    "new", "edit", "more", "m", "~", "select", "save", "show", "solve", "enable", "disable", "plot", "reset",
    "compile", "set", "dump", "open", "close", "//", "redirect", "help", "quit", "?", "next", "panel", "sample",
    "clear", "about", "calcvoltagebases", "setkvbase", "buildy", "get", "init", "export", "fileedit", "voltages",
    "currents", "powers", "seqvoltages", "seqcurrents", "seqpowers", "losses", "phaselosses", "cktlosses",
    "allocateloads", "formedit", "totals", "capacity", "classes", "userclasses", "zsc", "zsc10", "zscrefresh",
    "ysc", "puvoltages", "varvalues", "varnames", "buscoords", "makebuslist", "makeposseq", "reduce",
    "interpolate", "alignfile", "top", "rotate", "vdiffs", "summary", "distribute", "di_plot", "comparecases",
    "yearlycurves", "cd", "visualize", "closedi", "doscmd", "estimate", "reconductor", "_initsnap",
    "_solvenocontrol", "_samplecontrols", "_docontrolactions", "_showcontrolqueue", "_solvedirect",
    "_solvepflow", "addbusmarker", "uuids", "setloadandgenkv", "cvrtloadshapes", "nodediff", "rephase",
    "setbusxy", "updatestorage", "obfuscate", "latlongcoords", "batchedit", "pstcalc", "variable",
    "reprocessbuses", "clearbusmarkers", "relcalc", "var", "cleanup", "finishtimestep", "nodelist",
    "connect", "disconnect", "remove"};

/// Classes that OpenDSS knows and this reader ignores (New/Edit of them: one note).
const std::vector<std::string> kIgnoredClasses = {
    "energymeter", "monitor", "generator", "pvsystem", "storage", "spectrum", "growthshape", "tcc_curve",
    "xycurve", "linegeometry", "wiredata", "linespacing", "cndata", "tsdata", "fuse", "recloser",
    "relay", "swtcontrol", "fault", "isource", "reactor", "xfmrcode", "pricesheet", "tshape", "invcontrol",
    "expcontrol", "storagecontroller", "gencontrol", "upfc", "indmach012", "vccs", "sensor", "gicline",
    "gictransformer", "autotrans", "priceshape", "dynamicexp", "esppvcontrol", "gicsource", "upfccontrol",
    "vsconverter", "windgen"};

std::string match_command(const std::string& word) {
    for (const std::string& c : kCommands)
        if (c == word) return c;
    for (const std::string& c : kCommands)
        if (!word.empty() && c.compare(0, word.size(), word) == 0) return c;
    return "";
}

bool ignored_class(const std::string& c) {
    for (const std::string& x : kIgnoredClasses)
        if (x == c) return true;
    return false;
}

void run_text(State& st, std::string_view text);

// ---- files --------------------------------------------------------------------------------------------

/// `name` relative to the current directory; when absent, a file of the same name in other case.
fs::path find_file(const State& st, const std::string& name) {
    fs::path p = fs::path(name);
    if (p.is_relative()) p = fs::path(st.where.dir) / p;
    std::error_code ec;
    if (fs::exists(p, ec)) return p;
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    const std::string want = to_lower(p.filename().string());
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (to_lower(it->path().filename().string()) == want) return it->path();
    return {};
}

void run_file(State& st, const std::string& name, const char* command) {
    if (!st.options.allow_files) st.fail(std::string(command) + " " + name + ": reading files is disabled");
    if (st.depth > 32) st.fail(std::string(command) + " " + name + ": nested more than 32 deep");
    const fs::path p = find_file(st, name);
    if (p.empty()) {
        if (st.options.missing_redirect_is_error) st.fail(std::string(command) + ": file '" + name + "' not found");
        st.note(std::string(command) + ": file '" + name + "' not found: ignored");
        return;
    }
    std::string text;
    try {
        text = read_input_file(p.string());
    } catch (const ParseError& e) { st.fail(std::string(command) + " " + name + ": " + e.what()); }
    const Where saved = st.where;
    st.where = Where{p.string(), 0, p.parent_path().string()};
    ++st.depth;
    run_text(st, text);
    --st.depth;
    st.where = saved;
}

void buscoords(State& st, const std::string& name) {
    if (!st.options.allow_files) st.fail("Buscoords " + name + ": reading files is disabled");
    const fs::path p = find_file(st, name);
    if (p.empty()) st.fail("Buscoords: file '" + name + "' not found");
    std::string text;
    try {
        text = read_input_file(p.string());
    } catch (const ParseError& e) { st.fail("Buscoords " + name + ": " + e.what()); }
    resolve_buses(st);
    std::size_t start = 0;
    long line = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::vector<Param> f = split_params(std::string_view(text).substr(start, end - start));
        start = end + 1;
        ++line;
        if (f.size() < 3) continue;
        const int b = st.find_bus(to_lower(f[0].value));
        if (b < 0) continue;  // OpenDSS skips coordinates of buses it does not have
        UBus& bus = st.net().buses[static_cast<std::size_t>(b)];
        try {
            bus.x = parse_double(f[1].value, f[1].quoted);
            bus.y = parse_double(f[2].value, f[2].quoted);
        } catch (const ValueError& e) { throw ParseError(p.string(), line, "bus '" + f[0].value + "': " + e.message); }
        bus.has_coords = true;
    }
}

// ---- Set -----------------------------------------------------------------------------------------------------

double stepsize_seconds(State& st, const Param& p) {
    std::string v = to_lower(p.value);
    double mul = 1.0;
    if (!v.empty() && (v.back() == 's' || v.back() == 'm' || v.back() == 'h')) {
        mul = v.back() == 'h' ? 3600.0 : v.back() == 'm' ? 60.0 : 1.0;
        v.pop_back();
    }
    try {
        return parse_double(v, p.quoted) * mul;
    } catch (const ValueError& e) { st.fail("Set: option 'stepsize': " + e.message); }
}

void set_option(State& st, const std::string& name, const Param& p) {
    USettings& s = st.net().settings;
    auto num = [&]() {
        try {
            return parse_double(p.value, p.quoted);
        } catch (const ValueError& e) { st.fail("Set: option '" + name + "': " + e.message); }
    };
    auto count = [&]() {
        const double v = num();
        if (v < 0.0 || v > 1e9) st.fail("Set: option '" + name + "': out of range");
        return static_cast<int>(std::lround(v));
    };
    if (name == "defaultbasefrequency" || name == "defaultbasefreq") {
        const double f = num();
        if (!(f > 0.0)) st.fail("Set: option '" + name + "': must be > 0");
        st.default_base_freq = f;
    } else if (name == "voltagebases" || name == "voltagebase") {
        try {
            s.voltage_bases_kv = parse_vector(p.value);
        } catch (const ValueError& e) { st.fail("Set: option '" + name + "': " + e.message); }
    } else if (name == "controlmode") {
        const std::string v = to_lower(p.value);
        if (v != "static" && v != "off" && v != "event" && v != "time" && v != "multirate")
            st.fail("Set: option 'controlmode': '" + p.value + "' is not static, off, event or time");
        s.control_mode = v;
    } else if (name == "tolerance") {
        s.tolerance = num();
    } else if (name == "maxiterations" || name == "maxiter") {
        s.max_iterations = count();
    } else if (name == "maxcontroliter") {
        s.max_control_iterations = count();
    } else if (name == "mode") {
        s.mode = to_lower(p.value);
    } else if (name == "number") {
        s.number = count();
    } else if (name == "stepsize" || name == "h") {
        s.stepsize_s = stepsize_seconds(st, p);
    } else {
        st.note("Set " + name + ": ignored");
    }
}

void cmd_set(State& st, const std::vector<Param>& ps) {
    for (std::size_t k = 1; k < ps.size(); ++k) {
        const std::string name = to_lower(ps[k].name.empty() ? ps[k].value : ps[k].name);
        if (ps[k].name.empty()) {
            st.note("Set " + name + ": ignored");
            continue;
        }
        if (!st.have_circuit && name != "defaultbasefrequency" && name != "defaultbasefreq") {
            st.note("Set " + name + ": no circuit yet: ignored");
            continue;
        }
        set_option(st, name, ps[k]);
    }
}

// ---- New / Edit / BatchEdit -----------------------------------------------------------------------------------

void split_object(const std::string& spec, std::string& cls, std::string& name) {
    const std::size_t dot = spec.find('.');
    if (dot == std::string::npos) {
        cls = "";
        name = to_lower(spec);
        return;
    }
    cls = to_lower(spec.substr(0, dot));
    name = to_lower(spec.substr(dot + 1));
}

void new_circuit(State& st, const std::string& name, const std::vector<Param>& ps, std::size_t first) {
    st.clear();
    st.have_circuit = true;
    st.net().name = name;
    st.net().settings.base_frequency_hz = st.default_base_freq;
    const int v = new_element(st, Cls::Vsource, "source");
    st.active = Cls::Vsource;
    st.active_index = v;
    edit_element(st, Cls::Vsource, v, ps, first);
}

void cmd_new(State& st, const std::vector<Param>& ps) {
    if (ps.size() < 2) st.fail("New: no object given");
    std::size_t first = 1;
    std::string spec = ps[1].value;
    if (!ps[1].name.empty() && to_lower(ps[1].name) != "object") st.fail("New: expected Class.Name, not '" + ps[1].name + "='");
    ++first;
    std::string cls, name;
    split_object(spec, cls, name);
    if (cls == "circuit") return new_circuit(st, name, ps, first);
    if (name.empty()) st.fail("New " + spec + ": no name given");
    const Cls c = class_of(cls);
    if (c == Cls::None) {
        if (!ignored_class(cls)) st.fail("New " + spec + ": unknown class '" + cls + "'");
        st.note("ignored: New " + spec);
        st.active = Cls::None;
        return;
    }
    if (!st.have_circuit) st.fail("New " + spec + ": no circuit (New Circuit.NAME first)");
    const int i = new_element(st, c, name);
    st.active = c;
    st.active_index = i;
    edit_element(st, c, i, ps, first);
}

void edit_object(State& st, const std::string& spec, const std::vector<Param>& ps, std::size_t first,
                 const char* cmd) {
    std::string cls, name;
    split_object(spec, cls, name);
    if (cls == "circuit") cls = "vsource", name = "source";
    const Cls c = class_of(cls);
    if (c == Cls::None) {
        if (!ignored_class(cls)) st.fail(std::string(cmd) + " " + spec + ": unknown class '" + cls + "'");
        st.note(std::string("ignored: ") + cmd + " " + spec);
        st.active = Cls::None;
        return;
    }
    const int i = find_element(st, c, name);
    if (i < 0) st.fail(std::string(cmd) + ": " + cls + "." + name + " not found");
    st.active = c;
    st.active_index = i;
    edit_element(st, c, i, ps, first);
}

void cmd_more(State& st, const std::vector<Param>& ps) {
    if (st.active == Cls::None) {
        if (st.active_index == -2) return;  // continuing an ignored object
        st.fail("~: no active object to continue");
    }
    edit_element(st, st.active, st.active_index, ps, 1);
}

/// `Transformer.Reg1.wdg=2 Tap=1.0625`: the first parameter's name is Class.Name.Property.
void property_edit(State& st, const std::vector<Param>& ps) {
    const std::string full = ps[0].name;
    const std::size_t last = full.rfind('.');
    const std::size_t first_dot = full.find('.');
    if (last == std::string::npos || last == first_dot) st.fail("unknown command '" + full + "'");
    std::vector<Param> rest = ps;
    rest[0].name = full.substr(last + 1);
    std::vector<Param> with_head;
    with_head.push_back(Param{});
    with_head.insert(with_head.end(), rest.begin(), rest.end());
    edit_object(st, full.substr(0, last), with_head, 1, "Edit");
}

void cmd_batchedit(State& st, const std::vector<Param>& ps) {
    if (ps.size() < 2) st.fail("BatchEdit: no Class.pattern given");
    const std::string spec = ps[1].value;
    const std::size_t dot = spec.find('.');
    if (dot == std::string::npos) st.fail("BatchEdit " + spec + ": expected Class.pattern");
    const std::string cls = to_lower(spec.substr(0, dot));
    const std::string pattern = spec.substr(dot + 1);
    const Cls c = class_of(cls);
    if (c == Cls::None) {
        if (!ignored_class(cls)) st.fail("BatchEdit " + spec + ": unknown class '" + cls + "'");
        st.note("ignored: BatchEdit " + spec);
        return;
    }
    if (pattern.size() > 200) st.fail("BatchEdit " + spec + ": pattern too long");
    std::optional<Pattern> re;
    try {
        re.emplace(pattern);
    } catch (const std::invalid_argument& e) { st.fail("BatchEdit " + spec + ": bad pattern '" + pattern + "': " + e.what()); }
    std::vector<std::string> names;
    UNetwork& n = st.net();
    auto collect = [&](const auto& vec) {
        for (const auto& e : vec) names.push_back(e.name);
    };
    switch (c) {
        case Cls::Line: collect(n.lines); break;
        case Cls::LineCode: collect(st.linecodes); break;
        case Cls::Load: collect(n.loads); break;
        case Cls::Transformer: collect(n.transformers); break;
        case Cls::RegControl: collect(n.regcontrols); break;
        case Cls::Capacitor: collect(n.capacitors); break;
        case Cls::Vsource: collect(n.vsources); break;
        case Cls::CapControl: collect(n.capcontrols); break;
        default: collect(n.loadshapes); break;
    }
    for (std::size_t i = 0; i < names.size(); ++i)
        if (re->search(names[i])) edit_element(st, c, static_cast<int>(i), ps, 2);
}

void cmd_setbusxy_kvbase(State& st, const std::vector<Param>& ps, bool xy) {
    resolve_buses(st);
    int bus = -1;
    for (std::size_t k = 1; k < ps.size(); ++k) {
        const std::string n = to_lower(ps[k].name);
        if (n == "bus" || (n.empty() && k == 1)) {
            bus = st.find_bus(to_lower(ps[k].value));
            if (bus < 0) st.fail(std::string(xy ? "SetBusXY" : "SetkVBase") + ": bus '" + ps[k].value + "' not found");
            continue;
        }
        if (bus < 0) st.fail(std::string(xy ? "SetBusXY" : "SetkVBase") + ": bus= must come first");
        double v = 0.0;
        try {
            v = parse_double(ps[k].value, ps[k].quoted);
        } catch (const ValueError& e) { st.fail(std::string(xy ? "SetBusXY" : "SetkVBase") + ": " + e.message); }
        UBus& b = st.net().buses[static_cast<std::size_t>(bus)];
        if (xy && n == "x") b.x = v, b.has_coords = true;
        else if (xy && n == "y") b.y = v, b.has_coords = true;
        else if (!xy && n == "kvll") b.kv_base_ll = v;
        else if (!xy && n == "kvln") b.kv_base_ll = v * std::sqrt(3.0);
        else st.fail(std::string(xy ? "SetBusXY" : "SetkVBase") + ": unknown parameter '" + ps[k].name + "'");
    }
}

void file_command(State& st, const std::vector<Param>& ps, const std::string& cmd) {
    if (ps.size() < 2 || ps[1].value.empty()) st.fail(cmd + ": no file name");
    const char* label = cmd == "compile" ? "Compile" : cmd == "redirect" ? "Redirect" : "Buscoords";
    if (cmd == "buscoords") return buscoords(st, ps[1].value);
    run_file(st, ps[1].value, label);
}

void run_command(State& st, const std::vector<Param>& ps) {
    const Param& head = ps[0];
    if (!head.name.empty()) return property_edit(st, ps);
    const std::string word = to_lower(head.value);
    const std::string cmd = match_command(word);
    if (cmd.empty()) st.fail("unknown command '" + head.value + "'");
    if (cmd == "new") return cmd_new(st, ps);
    if (cmd == "edit") {
        if (ps.size() < 2) st.fail("Edit: no object given");
        return edit_object(st, ps[1].value, ps, 2, "Edit");
    }
    if (cmd == "more" || cmd == "m" || cmd == "~") return cmd_more(st, ps);
    if (cmd == "clear") return st.clear();
    if (cmd == "compile" || cmd == "redirect" || cmd == "buscoords") return file_command(st, ps, cmd);
    if (cmd == "set") return cmd_set(st, ps);
    if (cmd == "batchedit") return cmd_batchedit(st, ps);
    if (cmd == "calcvoltagebases") {
        st.net().settings.calc_voltage_bases = true;
        return resolve_buses(st);
    }
    if (cmd == "solve") {
        ++st.net().settings.solve_count;
        return resolve_buses(st);
    }
    if (cmd == "setbusxy" || cmd == "setkvbase") return cmd_setbusxy_kvbase(st, ps, cmd == "setbusxy");
    if (cmd == "//") return;
    st.note("ignored: " + head.value);
}

void run_line(State& st, std::string_view line) {
    const std::vector<Param> ps = split_params(line);
    if (ps.empty()) return;
    run_command(st, ps);
    if (st.active == Cls::None && !ps.empty() && ps[0].name.empty()) {
        const std::string w = to_lower(ps[0].value);
        if (w == "new" || w == "edit") st.active_index = -2;  // an ignored class: its ~ lines too
    }
}

void run_text(State& st, std::string_view text) {
    bool in_block = false;
    std::size_t start = 0;
    st.where.line = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++st.where.line;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::size_t b = 0;
        while (b < line.size() && (line[b] == ' ' || line[b] == '\t')) ++b;
        line.remove_prefix(b);
        if (line.empty()) continue;
        if (!in_block && line.size() > 1 && line[0] == '/' && line[1] == '*') in_block = true;
        if (!in_block) run_line(st, line);
        if (in_block && line.find("*/") != std::string_view::npos) in_block = false;
    }
}

DssReadResult finish(State& st) {
    resolve_buses(st);
    resolve_regcontrols(st);
    resolve_capcontrols(st);
    if (!st.have_circuit) st.fail("no circuit defined (New Circuit.NAME)");
    try {
        st.net().validate();
    } catch (const ValidationError& e) { st.fail(e.what()); }
    return std::move(st.out);
}

}  // namespace
}  // namespace dss

DssReadResult read_dss_string(std::string_view text, const std::string& name, const std::string& base_dir,
                              const DssReadOptions& options) {
    dss::State st;
    st.options = options;
    st.where = dss::Where{name, 0, base_dir};
    dss::run_text(st, text);
    return dss::finish(st);
}

DssReadResult read_dss_string(std::string_view text, const std::string& name, const std::string& base_dir) {
    return read_dss_string(text, name, base_dir, DssReadOptions{});
}

DssReadResult read_dss(const std::string& path, const DssReadOptions& options) {
    const std::string text = read_input_file(path);
    const std::filesystem::path p(path);
    const std::string dir = p.parent_path().empty() ? std::string(".") : p.parent_path().string();
    return read_dss_string(text, path, dir, options);
}

DssReadResult read_dss(const std::string& path) { return read_dss(path, DssReadOptions{}); }

}  // namespace libgrid
