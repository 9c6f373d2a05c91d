// libgrid io: reader and writer of the project's network JSON ("mg-case-json/1" + libgrid
// extensions). Field reference: docs/network_json.md. nlohmann::json is used only in this file.
#include "libgrid/io/case_json.hpp"
#include "libgrid/core/input_file.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "libgrid/core/errors.hpp"

namespace libgrid {

double case_json_default_vmin_pu(double vn_kv) { return vn_kv < 1.0 ? 0.94 : 0.90; }
double case_json_default_vmax_pu(double vn_kv) { return vn_kv < 1.0 ? 1.05 : 1.10; }

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// ------------------------------------------------------------------------------------------
// Message helpers
// ------------------------------------------------------------------------------------------

/// Shortest text that reads back as the same double ("-1", "0.035", "inf").
std::string fmt_num(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

/// "string \"abc\"", "number 1.5", "null", "object" ... for "got ..." in messages.
std::string describe(const json& j) {
    if (j.is_null()) return "null";
    if (j.is_object()) return "an object";
    if (j.is_array()) return "an array";
    std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return std::string(j.type_name()) + " " + text;
}

// ------------------------------------------------------------------------------------------
// JSON text -> DOM, with syntax errors located by line and duplicate keys detected
// ------------------------------------------------------------------------------------------

/// One step of a path into the document: an object key or an array index.
using PathStep = std::variant<std::string, std::size_t>;

/// SAX handler that builds the DOM like nlohmann's own parser, but also remembers the first
/// duplicate key (the default DOM silently keeps the last one) and the position of an error.
class DomBuilder final : public nlohmann::json_sax<json> {
public:
    explicit DomBuilder(json& root) : root_(root) {}

    bool null() override { put(json(nullptr)); return true; }
    bool boolean(bool v) override { put(json(v)); return true; }
    bool number_integer(number_integer_t v) override { put(json(v)); return true; }
    bool number_unsigned(number_unsigned_t v) override { put(json(v)); return true; }
    bool number_float(number_float_t v, const string_t&) override { put(json(v)); return true; }
    bool string(string_t& v) override { put(json(std::move(v))); return true; }
    bool binary(binary_t& v) override { put(json::binary(std::move(v))); return true; }

    bool start_object(std::size_t) override {
        stack_.push_back(put(json::object()));
        keys_.emplace_back();
        return true;
    }
    bool key(string_t& k) override {
        json& obj = *stack_.back();
        if (!has_duplicate_ && obj.contains(k)) {
            has_duplicate_ = true;
            duplicate_path_ = current_path();
            duplicate_key_ = k;
        }
        keys_.back() = k;
        slot_ = &obj[k];
        return true;
    }
    bool end_object() override { stack_.pop_back(); keys_.pop_back(); return true; }
    bool start_array(std::size_t) override {
        stack_.push_back(put(json::array()));
        keys_.emplace_back();
        return true;
    }
    bool end_array() override { stack_.pop_back(); keys_.pop_back(); return true; }

    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& ex) override {
        error_byte_ = position;
        error_message_ = ex.what();
        return false;
    }

    std::size_t error_byte() const { return error_byte_; }
    const std::string& error_message() const { return error_message_; }
    bool has_duplicate() const { return has_duplicate_; }
    const std::vector<PathStep>& duplicate_path() const { return duplicate_path_; }
    const std::string& duplicate_key() const { return duplicate_key_; }

private:
    json* put(json&& v) {
        if (stack_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        json& top = *stack_.back();
        if (top.is_array()) {
            top.push_back(std::move(v));
            return &top.back();
        }
        *slot_ = std::move(v);
        return slot_;
    }
    /// Path of the innermost open container (the object that got the duplicate key).
    std::vector<PathStep> current_path() const {
        std::vector<PathStep> path;
        for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
            if (stack_[i]->is_array())
                path.emplace_back(stack_[i]->size() - 1);
            else
                path.emplace_back(keys_[i]);
        }
        return path;
    }

    json& root_;
    std::vector<json*> stack_;
    std::vector<std::string> keys_;  ///< current key of each open object ("" for arrays)
    json* slot_ = nullptr;           ///< value slot of the last key
    std::size_t error_byte_ = 0;
    std::string error_message_;
    bool has_duplicate_ = false;
    std::vector<PathStep> duplicate_path_;
    std::string duplicate_key_;
};

/// nlohmann's message without "[json.exception.parse_error.101] parse error at line 2, column 5: ".
std::string strip_nlohmann_prefix(std::string msg) {
    if (msg.rfind("[json.exception.", 0) == 0) {
        auto close = msg.find("] ");
        if (close != std::string::npos) msg = msg.substr(close + 2);
    }
    if (msg.rfind("parse error", 0) == 0) {
        auto colon = msg.find(": ");
        if (colon != std::string::npos) msg = msg.substr(colon + 2);
    }
    return msg;
}

json parse_json_text(const std::string& text, const std::string& file) {
    json root;
    DomBuilder builder(root);
    const bool ok = json::sax_parse(text, &builder);
    if (!ok) {
        // nlohmann's `position` counts the characters read, so the offending character sits at
        // offset position - 1. At the end of the input, point at the last non-blank character.
        std::size_t offset = builder.error_byte() > 0 ? builder.error_byte() - 1 : 0;
        if (offset >= text.size()) {
            offset = text.size();
            while (offset > 0 && std::isspace(static_cast<unsigned char>(text[offset - 1]))) --offset;
            if (offset > 0) --offset;
        }
        const auto begin = text.begin();
        const long line = 1 + static_cast<long>(std::count(begin, begin + static_cast<std::ptrdiff_t>(offset), '\n'));
        const auto last_nl = text.rfind('\n', offset == 0 ? std::string::npos : offset - 1);
        const std::size_t column =
            (offset == 0) ? 1 : (last_nl == std::string::npos ? offset + 1 : offset - last_nl);
        throw ParseError(file, line,
                         "JSON syntax error at column " + std::to_string(column) + ": " +
                             strip_nlohmann_prefix(builder.error_message()));
    }
    if (builder.has_duplicate()) {
        // Name the element the way every other message does: "lines[id=3]".
        std::string where;
        const json* node = &root;
        for (const PathStep& step : builder.duplicate_path()) {
            if (const auto* key = std::get_if<std::string>(&step)) {
                where += where.empty() ? *key : "." + *key;
                node = (node && node->is_object() && node->contains(*key)) ? &node->at(*key) : nullptr;
            } else {
                const std::size_t index = std::get<std::size_t>(step);
                node = (node && node->is_array() && index < node->size()) ? &node->at(index) : nullptr;
                if (node && node->is_object() && node->contains("id") && node->at("id").is_number_integer())
                    where += "[id=" + std::to_string(node->at("id").get<long long>()) + "]";
                else
                    where += "[index " + std::to_string(index) + "]";
            }
        }
        throw ValidationError(file + ": " + (where.empty() ? std::string("top level") : where) +
                              ": duplicate key '" + builder.duplicate_key() + "'");
    }
    return root;
}

// ------------------------------------------------------------------------------------------
// Reading typed fields out of one JSON object, with messages naming file, element and field
// ------------------------------------------------------------------------------------------

/// One JSON object (an element, or the top level) and how to name it in a message.
class Obj {
public:
    Obj(const json& j, const std::string& file, std::string label)
        : j_(j), file_(file), label_(std::move(label)) {}

    const std::string& file() const { return file_; }
    const std::string& label() const { return label_; }
    void set_label(std::string label) { label_ = std::move(label); }

    std::string prefix(std::string_view field) const {
        std::string s = file_ + ": ";
        if (!label_.empty()) s += label_ + ": ";
        s += "field '";
        s += field;
        s += "': ";
        return s;
    }
    [[noreturn]] void fail(std::string_view field, const std::string& msg) const {
        throw ValidationError(prefix(field) + msg);
    }

    /// The value, or nullptr when the field is missing or null.
    const json* get(const char* field) const {
        auto it = j_.find(field);
        if (it == j_.end() || it->is_null()) return nullptr;
        return &*it;
    }

    double num(const char* field, double def) const {
        const json* v = get(field);
        return v ? to_double(field, *v) : def;
    }
    double num_req(const char* field) const {
        const json* v = get(field);
        if (!v) fail(field, "is required (a number)");
        return to_double(field, *v);
    }

    long long integer(const char* field, long long def) const {
        const json* v = get(field);
        return v ? to_integer(field, *v) : def;
    }
    long long integer_req(const char* field) const {
        const json* v = get(field);
        if (!v) fail(field, "is required (an integer)");
        return to_integer(field, *v);
    }
    int small_int(const char* field, int def) const {
        const long long v = integer(field, def);
        if (v < INT_MIN || v > INT_MAX) fail(field, "is out of range, got " + std::to_string(v));
        return static_cast<int>(v);
    }

    bool boolean(const char* field, bool def) const {
        const json* v = get(field);
        if (!v) return def;
        if (!v->is_boolean()) fail(field, "must be true or false, got " + describe(*v));
        return v->get<bool>();
    }

    std::string str(const char* field) const {
        const json* v = get(field);
        if (!v) return {};
        if (!v->is_string()) fail(field, "must be a string or null, got " + describe(*v));
        return v->get<std::string>();
    }
    /// Element names: a string, or a number written as text (MATPOWER cases carry bus numbers).
    std::string name(const char* field) const {
        const json* v = get(field);
        if (!v) return {};
        if (v->is_string()) return v->get<std::string>();
        if (v->is_number_integer()) return std::to_string(v->get<long long>());
        if (v->is_number_float()) return fmt_num(v->get<double>());
        fail(field, "must be a string, a number or null, got " + describe(*v));
    }

private:
    double to_double(const char* field, const json& v) const {
        if (!v.is_number()) fail(field, "must be a number, got " + describe(v));
        const double x = v.get<double>();
        if (!std::isfinite(x)) fail(field, "must be finite, got " + fmt_num(x));
        return x;
    }
    long long to_integer(const char* field, const json& v) const {
        if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<long long>();
        if (v.is_number_unsigned()) {
            const auto u = v.get<unsigned long long>();
            if (u > static_cast<unsigned long long>(LLONG_MAX))
                fail(field, "is out of range, got " + std::to_string(u));
            return static_cast<long long>(u);
        }
        if (v.is_number_float()) {
            // pandapower writes integer columns that may hold NaN as floats (tap_pos: -2.0).
            const double x = v.get<double>();
            if (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) < 9.0e15)
                return static_cast<long long>(x);
            fail(field, "must be an integer, got " + fmt_num(x));
        }
        fail(field, "must be an integer, got " + describe(v));
    }

    const json& j_;
    const std::string& file_;
    std::string label_;
};

// Domain checks. Each names the field and shows the offending value.
void check_gt(const Obj& o, const char* f, double v, double lo) {
    if (!(v > lo)) o.fail(f, "must be > " + fmt_num(lo) + ", got " + fmt_num(v));
}
void check_ge(const Obj& o, const char* f, double v, double lo) {
    if (!(v >= lo)) o.fail(f, "must be >= " + fmt_num(lo) + ", got " + fmt_num(v));
}
void check_range(const Obj& o, const char* f, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
        o.fail(f, "must be in [" + fmt_num(lo) + ", " + fmt_num(hi) + "], got " + fmt_num(v));
}
void check_not_below(const Obj& o, const char* f, double v, const char* other, double other_v) {
    if (!(v >= other_v))
        o.fail(f, std::string("must be >= ") + other + " (" + fmt_num(other_v) + "), got " + fmt_num(v));
}

void check_derating(const Obj& o, double df) {
    if (!(df > 0.0 && df <= 1.0)) o.fail("df", "must be in (0, 1], got " + fmt_num(df));
}

/// Ids of the elements read so far, for references and duplicate detection.
using IdIndex = std::unordered_map<Id, std::size_t>;

struct ReadState {
    const std::string& file;
    IdIndex bus_pos;  ///< bus id -> index in net.buses
    std::unordered_set<Id> line_ids;
    std::unordered_set<Id> trafo_ids;
};

/// A field that refers to a bus: required, and the bus must exist.
Id bus_ref(const Obj& o, const char* field, const ReadState& st) {
    const Id id = o.integer_req(field);
    if (!st.bus_pos.count(id))
        throw IdError(o.prefix(field) + "unknown bus id " + std::to_string(id));
    return id;
}

/// Calls read(obj, id) for every element of the array `name` (missing or null = no elements),
/// after checking that the element is an object with a unique integer id.
template <class ReadFn>
void for_each_element(const json& root, const char* name, const std::string& file, ReadFn&& read) {
    auto it = root.find(name);
    if (it == root.end() || it->is_null()) return;
    if (!it->is_array())
        throw ValidationError(file + ": field '" + name + "': must be an array, got " + describe(*it));
    IdIndex seen;
    seen.reserve(it->size());
    std::size_t index = 0;
    for (const json& e : *it) {
        const std::string at_index = std::string(name) + "[index " + std::to_string(index) + "]";
        if (!e.is_object())
            throw ValidationError(file + ": " + at_index + ": must be an object, got " + describe(e));
        Obj o(e, file, at_index);
        const Id id = o.integer_req("id");
        auto [pos, fresh] = seen.emplace(id, index);
        if (!fresh)
            throw IdError(file + ": " + name + ": duplicate id " + std::to_string(id) + " (elements at index " +
                          std::to_string(pos->second) + " and " + std::to_string(index) + ")");
        o.set_label(std::string(name) + "[id=" + std::to_string(id) + "]");
        read(o, id);
        ++index;
    }
}

// ------------------------------------------------------------------------------------------
// Element readers
// ------------------------------------------------------------------------------------------

Bus read_bus(const Obj& o, Id id) {
    Bus b;
    b.id = id;
    b.name = o.name("name");
    b.vn_kv = o.num_req("vn_kv");
    check_gt(o, "vn_kv", b.vn_kv, 0.0);
    (void)o.str("type");  // "b" / "n" / "m": informational, checked for type only
    if (const json* z = o.get("zone")) {
        // pandapower zones are free labels ("CIGRE_LV") or MATPOWER zone numbers (1.0).
        // Only integers fit Bus::zone; a text label is dropped (zone stays 1).
        if (z->is_number()) {
            b.zone = o.small_int("zone", 1);
        } else if (!z->is_string()) {
            o.fail("zone", "must be an integer, a string or null, got " + describe(*z));
        }
    }
    b.in_service = o.boolean("in_service", true);
    // libgrid extensions
    if (const json* t = o.get("bus_type")) {
        const std::string s = t->is_string() ? t->get<std::string>() : std::string();
        if (s == "pq") b.type = BusType::PQ;
        else if (s == "pv") b.type = BusType::PV;
        else if (s == "slack") b.type = BusType::Slack;
        else if (s == "isolated") b.type = BusType::Isolated;
        else o.fail("bus_type", "must be \"pq\", \"pv\", \"slack\", \"isolated\" or null, got " + describe(*t));
    }
    b.vm_pu = o.num("vm_pu", b.vm_pu);
    check_ge(o, "vm_pu", b.vm_pu, 0.0);
    b.va_deg = o.num("va_deg", b.va_deg);
    b.area = o.small_int("area", b.area);
    b.vmin_pu = o.num("vmin_pu", case_json_default_vmin_pu(b.vn_kv));
    b.vmax_pu = o.num("vmax_pu", case_json_default_vmax_pu(b.vn_kv));
    check_ge(o, "vmin_pu", b.vmin_pu, 0.0);
    check_not_below(o, "vmax_pu", b.vmax_pu, "vmin_pu", b.vmin_pu);
    return b;
}

Line read_line(const Obj& o, Id id, const ReadState& st) {
    Line l;
    l.id = id;
    l.name = o.name("name");
    l.from_bus = bus_ref(o, "from_bus", st);
    l.to_bus = bus_ref(o, "to_bus", st);
    l.length_km = o.num_req("length_km");
    check_gt(o, "length_km", l.length_km, 0.0);
    l.r_ohm_per_km = o.num_req("r_ohm_per_km");
    check_ge(o, "r_ohm_per_km", l.r_ohm_per_km, 0.0);
    l.x_ohm_per_km = o.num_req("x_ohm_per_km");  // any sign (series compensation)
    l.c_nf_per_km = o.num("c_nf_per_km", l.c_nf_per_km);
    check_ge(o, "c_nf_per_km", l.c_nf_per_km, 0.0);
    l.g_us_per_km = o.num("g_us_per_km", l.g_us_per_km);
    check_ge(o, "g_us_per_km", l.g_us_per_km, 0.0);
    l.max_i_ka = o.num("max_i_ka", l.max_i_ka);
    check_gt(o, "max_i_ka", l.max_i_ka, 0.0);
    l.parallel = o.small_int("parallel", l.parallel);
    if (l.parallel < 1) o.fail("parallel", "must be >= 1, got " + std::to_string(l.parallel));
    l.df = o.num("df", l.df);
    check_derating(o, l.df);
    l.type = o.str("type");
    l.in_service = o.boolean("in_service", true);
    return l;
}

Transformer read_transformer(const Obj& o, Id id, const ReadState& st) {
    Transformer t;
    t.id = id;
    t.name = o.name("name");
    t.hv_bus = bus_ref(o, "hv_bus", st);
    t.lv_bus = bus_ref(o, "lv_bus", st);
    t.sn_mva = o.num_req("sn_mva");
    check_gt(o, "sn_mva", t.sn_mva, 0.0);
    t.vn_hv_kv = o.num_req("vn_hv_kv");
    check_gt(o, "vn_hv_kv", t.vn_hv_kv, 0.0);
    t.vn_lv_kv = o.num_req("vn_lv_kv");
    check_gt(o, "vn_lv_kv", t.vn_lv_kv, 0.0);
    t.vk_percent = o.num_req("vk_percent");
    check_gt(o, "vk_percent", t.vk_percent, 0.0);
    t.vkr_percent = o.num("vkr_percent", t.vkr_percent);
    check_ge(o, "vkr_percent", t.vkr_percent, 0.0);
    if (t.vkr_percent > t.vk_percent)
        o.fail("vkr_percent", "must be <= vk_percent (" + fmt_num(t.vk_percent) + "), got " + fmt_num(t.vkr_percent));
    t.pfe_kw = o.num("pfe_kw", t.pfe_kw);
    check_ge(o, "pfe_kw", t.pfe_kw, 0.0);
    // i0_percent may be negative: MATPOWER branches with positive charging susceptance converted
    // by pandapower (case118 has some).
    t.i0_percent = o.num("i0_percent", t.i0_percent);
    t.shift_degree = o.num("shift_degree", t.shift_degree);
    if (const json* s = o.get("tap_side")) {
        const std::string side = s->is_string() ? s->get<std::string>() : std::string();
        if (side == "hv") t.tap_side = TapSide::HV;
        else if (side == "lv") t.tap_side = TapSide::LV;
        else o.fail("tap_side", "must be \"hv\", \"lv\" or null, got " + describe(*s));
    }
    t.tap_neutral = o.small_int("tap_neutral", t.tap_neutral);
    t.tap_min = o.small_int("tap_min", t.tap_min);
    t.tap_max = o.small_int("tap_max", t.tap_max);
    if (t.tap_min > t.tap_max)
        o.fail("tap_max", "must be >= tap_min (" + std::to_string(t.tap_min) + "), got " + std::to_string(t.tap_max));
    t.tap_step_percent = o.num("tap_step_percent", t.tap_step_percent);  // sign allowed (PGM)
    t.tap_step_degree = o.num("tap_step_degree", t.tap_step_degree);
    // No tap position given: the transformer runs at its rated ratio.
    t.tap_pos = o.get("tap_pos") ? o.small_int("tap_pos", 0) : t.tap_neutral;
    if (const json* c = o.get("tap_changer_type")) {
        if (!c->is_string() || c->get<std::string>() != "Ratio")
            o.fail("tap_changer_type", "only \"Ratio\" or null is supported, got " + describe(*c));
    }
    t.parallel = o.small_int("parallel", t.parallel);
    if (t.parallel < 1) o.fail("parallel", "must be >= 1, got " + std::to_string(t.parallel));
    t.df = o.num("df", t.df);
    check_derating(o, t.df);
    t.in_service = o.boolean("in_service", true);
    // libgrid extensions: on-load tap changer control
    t.oltc = o.boolean("oltc", t.oltc);
    t.oltc_bus = o.integer("oltc_bus", t.oltc_bus);
    if (t.oltc_bus != -1 && !st.bus_pos.count(t.oltc_bus))
        throw IdError(o.prefix("oltc_bus") + "unknown bus id " + std::to_string(t.oltc_bus) + " (-1 = the LV bus)");
    t.oltc_vm_pu = o.num("oltc_vm_pu", t.oltc_vm_pu);
    check_gt(o, "oltc_vm_pu", t.oltc_vm_pu, 0.0);
    t.oltc_band_pu = o.num("oltc_band_pu", t.oltc_band_pu);
    check_gt(o, "oltc_band_pu", t.oltc_band_pu, 0.0);
    if (t.oltc && t.tap_side == TapSide::None)
        o.fail("oltc", "an on-load tap changer needs tap_side \"hv\" or \"lv\", got null");
    return t;
}

Switch read_switch(const Obj& o, Id id, const ReadState& st) {
    Switch s;
    s.id = id;
    s.name = o.name("name");
    s.bus = bus_ref(o, "bus", st);
    s.element = o.integer_req("element");
    const json* et = o.get("et");
    const std::string et_s = (et && et->is_string()) ? et->get<std::string>() : std::string();
    if (et_s == "b") s.et = SwitchElement::Bus;
    else if (et_s == "l") s.et = SwitchElement::Line;
    else if (et_s == "t") s.et = SwitchElement::Transformer;
    else if (!et) o.fail("et", "is required (\"b\", \"l\" or \"t\")");
    else o.fail("et", "must be \"b\", \"l\" or \"t\", got " + describe(*et));
    const bool known = s.et == SwitchElement::Bus ? st.bus_pos.count(s.element) > 0
                       : s.et == SwitchElement::Line ? st.line_ids.count(s.element) > 0
                                                      : st.trafo_ids.count(s.element) > 0;
    if (!known) {
        const char* what = s.et == SwitchElement::Bus ? "bus" : s.et == SwitchElement::Line ? "line" : "transformer";
        throw IdError(o.prefix("element") + "unknown " + what + " id " + std::to_string(s.element) + " (et = \"" +
                      et_s + "\")");
    }
    s.closed = o.boolean("closed", s.closed);
    s.type = o.str("type");
    const double z_ohm = o.num("z_ohm", 0.0);
    check_ge(o, "z_ohm", z_ohm, 0.0);
    // pandapower uses z_ohm only for bus-bus switches; the model has ideal switches only.
    if (s.et == SwitchElement::Bus && z_ohm != 0.0)
        o.fail("z_ohm", "switch impedance is not supported (libgrid switches are ideal), got " + fmt_num(z_ohm));
    return s;
}

Shunt read_shunt(const Obj& o, Id id, const ReadState& st, const Network& net) {
    Shunt s;
    s.id = id;
    (void)o.name("name");  // no name in the model
    s.bus = bus_ref(o, "bus", st);
    s.p_mw = o.num("p_mw", s.p_mw);
    s.q_mvar = o.num("q_mvar", s.q_mvar);
    const double bus_vn = net.buses[st.bus_pos.at(s.bus)].vn_kv;
    if (o.get("vn_kv")) {
        const double vn = o.num("vn_kv", bus_vn);
        check_gt(o, "vn_kv", vn, 0.0);
        if (vn != bus_vn) {
            // The file's p, q are drawn at vn_kv; the model's at 1 p.u. of the bus voltage.
            const double k = (bus_vn / vn) * (bus_vn / vn);
            s.p_mw *= k;
            s.q_mvar *= k;
        }
    }
    s.step = o.small_int("step", s.step);
    if (s.step < 0) o.fail("step", "must be >= 0, got " + std::to_string(s.step));
    s.max_step = o.small_int("max_step", s.max_step);
    if (s.max_step < 1) o.fail("max_step", "must be >= 1, got " + std::to_string(s.max_step));
    if (s.step > s.max_step)
        o.fail("step", "must be <= max_step (" + std::to_string(s.max_step) + "), got " + std::to_string(s.step));
    s.in_service = o.boolean("in_service", true);
    // libgrid extensions: switched capacitor control
    s.switched = o.boolean("switched", s.switched);
    s.v_low_pu = o.num("v_low_pu", s.v_low_pu);
    check_gt(o, "v_low_pu", s.v_low_pu, 0.0);
    s.v_high_pu = o.num("v_high_pu", s.v_high_pu);
    if (!(s.v_high_pu > s.v_low_pu))
        o.fail("v_high_pu", "must be > v_low_pu (" + fmt_num(s.v_low_pu) + "), got " + fmt_num(s.v_high_pu));
    return s;
}

void check_zip(const Obj& o, const char* z, double zv, const char* i, double iv) {
    check_range(o, z, zv, 0.0, 100.0);
    check_range(o, i, iv, 0.0, 100.0);
    if (zv + iv > 100.0)
        o.fail(i, std::string("must be <= 100 - ") + z + " (" + fmt_num(100.0 - zv) + "), got " + fmt_num(iv));
}

Load read_load(const Obj& o, Id id, const ReadState& st) {
    Load l;
    l.id = id;
    l.name = o.name("name");
    l.bus = bus_ref(o, "bus", st);
    l.p_mw = o.num("p_mw", l.p_mw);
    l.q_mvar = o.num("q_mvar", l.q_mvar);
    l.const_z_p_percent = o.num("const_z_p_percent", 0.0);
    l.const_i_p_percent = o.num("const_i_p_percent", 0.0);
    l.const_z_q_percent = o.num("const_z_q_percent", 0.0);
    l.const_i_q_percent = o.num("const_i_q_percent", 0.0);
    check_zip(o, "const_z_p_percent", l.const_z_p_percent, "const_i_p_percent", l.const_i_p_percent);
    check_zip(o, "const_z_q_percent", l.const_z_q_percent, "const_i_q_percent", l.const_i_q_percent);
    l.scaling = o.num("scaling", l.scaling);
    check_ge(o, "scaling", l.scaling, 0.0);
    l.type = o.str("type");
    l.in_service = o.boolean("in_service", true);
    return l;
}

SGen read_sgen(const Obj& o, Id id, const ReadState& st) {
    SGen g;
    g.id = id;
    g.name = o.name("name");
    g.bus = bus_ref(o, "bus", st);
    g.p_mw = o.num("p_mw", g.p_mw);
    g.q_mvar = o.num("q_mvar", g.q_mvar);
    g.sn_mva = o.num("sn_mva", g.sn_mva);
    check_ge(o, "sn_mva", g.sn_mva, 0.0);
    g.scaling = o.num("scaling", g.scaling);
    check_ge(o, "scaling", g.scaling, 0.0);
    g.type = o.str("type");
    g.in_service = o.boolean("in_service", true);
    return g;
}

Storage read_storage(const Obj& o, Id id, const ReadState& st) {
    Storage s;
    s.id = id;
    s.name = o.name("name");
    s.bus = bus_ref(o, "bus", st);
    s.p_mw = o.num("p_mw", s.p_mw);
    s.q_mvar = o.num("q_mvar", s.q_mvar);
    s.sn_mva = o.num("sn_mva", s.sn_mva);
    check_ge(o, "sn_mva", s.sn_mva, 0.0);
    s.soc_percent = o.num("soc_percent", s.soc_percent);
    check_range(o, "soc_percent", s.soc_percent, 0.0, 100.0);
    s.min_e_mwh = o.num("min_e_mwh", s.min_e_mwh);
    check_ge(o, "min_e_mwh", s.min_e_mwh, 0.0);
    s.max_e_mwh = o.num("max_e_mwh", s.max_e_mwh);
    check_ge(o, "max_e_mwh", s.max_e_mwh, 0.0);
    if (s.max_e_mwh > 0.0) check_not_below(o, "max_e_mwh", s.max_e_mwh, "min_e_mwh", s.min_e_mwh);
    s.scaling = o.num("scaling", s.scaling);
    check_ge(o, "scaling", s.scaling, 0.0);
    s.type = o.str("type");
    s.in_service = o.boolean("in_service", true);
    return s;
}

/// Returns the gen and whether the file marks it as a slack (`slack: true`).
std::pair<Gen, bool> read_gen(const Obj& o, Id id, const ReadState& st) {
    Gen g;
    g.id = id;
    (void)o.name("name");  // no name in the model
    g.bus = bus_ref(o, "bus", st);
    g.p_mw = o.num("p_mw", g.p_mw);
    // Gen has no scaling field: the effective injection p_mw * scaling is stored.
    const double scaling = o.num("scaling", 1.0);
    check_ge(o, "scaling", scaling, 0.0);
    if (scaling != 1.0) g.p_mw *= scaling;
    g.vm_pu = o.num("vm_pu", g.vm_pu);
    check_gt(o, "vm_pu", g.vm_pu, 0.0);
    g.mbase_mva = o.num("sn_mva", g.mbase_mva);
    check_gt(o, "sn_mva", g.mbase_mva, 0.0);
    g.min_q_mvar = o.num("min_q_mvar", -kInf);
    g.max_q_mvar = o.num("max_q_mvar", kInf);
    check_not_below(o, "max_q_mvar", g.max_q_mvar, "min_q_mvar", g.min_q_mvar);
    const bool slack = o.boolean("slack", false);
    (void)o.str("type");
    g.in_service = o.boolean("in_service", true);
    // libgrid extensions
    g.q_mvar = o.num("q_mvar", g.q_mvar);
    g.min_p_mw = o.num("min_p_mw", g.min_p_mw);
    g.max_p_mw = o.num("max_p_mw", kInf);
    check_not_below(o, "max_p_mw", g.max_p_mw, "min_p_mw", g.min_p_mw);
    return {g, slack};
}

ExtGrid read_ext_grid(const Obj& o, Id id, const ReadState& st) {
    ExtGrid e;
    e.id = id;
    (void)o.name("name");  // no name in the model
    e.bus = bus_ref(o, "bus", st);
    e.vm_pu = o.num("vm_pu", e.vm_pu);
    check_gt(o, "vm_pu", e.vm_pu, 0.0);
    e.va_degree = o.num("va_degree", e.va_degree);
    e.in_service = o.boolean("in_service", true);
    // sk_mva / rx_ratio (source impedance) and slack_weight have no place in the model.
    return e;
}

Branch read_branch(const Obj& o, Id id, const ReadState& st) {
    Branch b;
    b.id = id;
    b.from_bus = bus_ref(o, "from_bus", st);
    b.to_bus = bus_ref(o, "to_bus", st);
    b.r_pu = o.num("r_pu", b.r_pu);  // any sign: network equivalents
    b.x_pu = o.num("x_pu", b.x_pu);
    b.b_pu = o.num("b_pu", b.b_pu);
    b.rate_a_mva = o.num("rate_a_mva", b.rate_a_mva);
    check_ge(o, "rate_a_mva", b.rate_a_mva, 0.0);
    b.rate_b_mva = o.num("rate_b_mva", b.rate_b_mva);
    check_ge(o, "rate_b_mva", b.rate_b_mva, 0.0);
    b.rate_c_mva = o.num("rate_c_mva", b.rate_c_mva);
    check_ge(o, "rate_c_mva", b.rate_c_mva, 0.0);
    b.ratio = o.num("ratio", b.ratio);
    check_ge(o, "ratio", b.ratio, 0.0);
    b.shift_deg = o.num("shift_deg", b.shift_deg);
    b.in_service = o.boolean("in_service", true);
    b.angmin_deg = o.num("angmin_deg", b.angmin_deg);
    b.angmax_deg = o.num("angmax_deg", b.angmax_deg);
    check_not_below(o, "angmax_deg", b.angmax_deg, "angmin_deg", b.angmin_deg);
    return b;
}

template <class T>
void reserve_for(std::vector<T>& v, const json& root, const char* name) {
    auto it = root.find(name);
    if (it != root.end() && it->is_array()) v.reserve(it->size());
}

// ------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------

/// Writes numbers of one element; NaN and unexpected infinities are refused with a message
/// naming the element and field, because JSON has no NaN / Inf and null reads as the default.
class Out {
public:
    Out(const char* array, Id id) : array_(array), id_(id) {}
    void num(ojson& o, const char* key, double v) const {
        if (!std::isfinite(v)) refuse(key, v);
        o[key] = v;
    }
    /// Writes `inf_default` (the struct default, +inf or -inf) as null.
    void num_or_null(ojson& o, const char* key, double v, double inf_default) const {
        if (v == inf_default) o[key] = nullptr;
        else num(o, key, v);
    }

private:
    [[noreturn]] void refuse(const char* key, double v) const {
        throw ValidationError(std::string("to_case_json: ") + array_ + "[id=" + std::to_string(id_) + "]: field '" +
                              key + "': cannot write " + fmt_num(v) + " (JSON has no NaN/Inf)");
    }
    const char* array_;
    Id id_;
};

const char* bus_type_name(BusType t) {
    switch (t) {
        case BusType::PQ: return "pq";
        case BusType::PV: return "pv";
        case BusType::Slack: return "slack";
        case BusType::Isolated: return "isolated";
    }
    return "pq";
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

Network parse_case_json(const std::string& text, const std::string& filename) {
    const std::string& file = filename;
    const json root = parse_json_text(text, file);
    if (!root.is_object()) throw ParseError(file, 1, "top level must be a JSON object, got " + describe(root));

    {
        auto it = root.find("schema");
        if (it == root.end() || !it->is_string() || it->get<std::string>() != kCaseJsonSchema) {
            const std::string got = it == root.end() ? std::string("no \"schema\" field") : describe(*it);
            throw ParseError(file, 1, std::string("field 'schema': expected \"") + kCaseJsonSchema + "\", got " + got);
        }
    }

    Network net;
    Obj top(root, file, "");
    if (const json* n = top.get("name")) {
        if (!n->is_string()) top.fail("name", "must be a string or null, got " + describe(*n));
        net.name = n->get<std::string>();
    }
    net.f_hz = top.num("f_hz", net.f_hz);
    check_gt(top, "f_hz", net.f_hz, 0.0);
    net.sn_mva = top.num("sn_mva", net.sn_mva);
    check_gt(top, "sn_mva", net.sn_mva, 0.0);
    if (const json* m = top.get("trafo_model")) {
        const std::string s = m->is_string() ? m->get<std::string>() : std::string();
        if (s == "t") net.trafo_model = TrafoModel::T;
        else if (s == "pi") net.trafo_model = TrafoModel::Pi;
        else top.fail("trafo_model", "must be \"t\", \"pi\" or null, got " + describe(*m));
    }

    ReadState st{file, {}, {}, {}};

    reserve_for(net.buses, root, "buses");
    for_each_element(root, "buses", file, [&](const Obj& o, Id id) {
        st.bus_pos.emplace(id, net.buses.size());
        net.buses.push_back(read_bus(o, id));
    });
    reserve_for(net.lines, root, "lines");
    for_each_element(root, "lines", file, [&](const Obj& o, Id id) {
        net.lines.push_back(read_line(o, id, st));
        st.line_ids.insert(id);
    });
    reserve_for(net.transformers, root, "transformers");
    for_each_element(root, "transformers", file, [&](const Obj& o, Id id) {
        net.transformers.push_back(read_transformer(o, id, st));
        st.trafo_ids.insert(id);
    });
    reserve_for(net.loads, root, "loads");
    for_each_element(root, "loads", file, [&](const Obj& o, Id id) { net.loads.push_back(read_load(o, id, st)); });
    reserve_for(net.sgens, root, "sgens");
    for_each_element(root, "sgens", file, [&](const Obj& o, Id id) { net.sgens.push_back(read_sgen(o, id, st)); });
    reserve_for(net.storage, root, "storage");
    for_each_element(root, "storage", file,
                     [&](const Obj& o, Id id) { net.storage.push_back(read_storage(o, id, st)); });
    std::vector<Id> slack_gen_buses;
    reserve_for(net.gens, root, "gens");
    for_each_element(root, "gens", file, [&](const Obj& o, Id id) {
        auto [g, slack] = read_gen(o, id, st);
        if (slack && g.in_service) slack_gen_buses.push_back(g.bus);
        net.gens.push_back(g);
    });
    reserve_for(net.shunts, root, "shunts");
    for_each_element(root, "shunts", file,
                     [&](const Obj& o, Id id) { net.shunts.push_back(read_shunt(o, id, st, net)); });
    reserve_for(net.ext_grids, root, "ext_grids");
    for_each_element(root, "ext_grids", file,
                     [&](const Obj& o, Id id) { net.ext_grids.push_back(read_ext_grid(o, id, st)); });
    reserve_for(net.switches, root, "switches");
    for_each_element(root, "switches", file,
                     [&](const Obj& o, Id id) { net.switches.push_back(read_switch(o, id, st)); });
    reserve_for(net.branches, root, "branches");
    for_each_element(root, "branches", file,
                     [&](const Obj& o, Id id) { net.branches.push_back(read_branch(o, id, st)); });

    // A gen with `slack: true` on a bus without an in-service ext_grid makes that bus the slack.
    if (!slack_gen_buses.empty()) {
        std::unordered_set<Id> ext_grid_buses;
        for (const ExtGrid& e : net.ext_grids)
            if (e.in_service) ext_grid_buses.insert(e.bus);
        for (Id bus : slack_gen_buses)
            if (!ext_grid_buses.count(bus)) net.buses[st.bus_pos.at(bus)].type = BusType::Slack;
    }
    return net;
}

Network read_case_json(const std::string& path) {
    // Regular files only, at most kMaxInputFileBytes (io/input_file.hpp).
    return parse_case_json(read_input_file(path), path);
}

std::string to_case_json(const Network& net) {
    ojson root = ojson::object();
    root["schema"] = kCaseJsonSchema;
    root["name"] = net.name;
    root["origin"] = "libgrid to_case_json";
    for (auto [key, v] : {std::pair<const char*, double>{"f_hz", net.f_hz}, {"sn_mva", net.sn_mva}}) {
        if (!std::isfinite(v))
            throw ValidationError(std::string("to_case_json: field '") + key + "': cannot write " + fmt_num(v));
        root[key] = v;
    }
    root["trafo_model"] = net.trafo_model == TrafoModel::Pi ? "pi" : "t";

    std::unordered_map<Id, double> bus_vn;
    bus_vn.reserve(net.buses.size());
    std::unordered_map<Id, BusType> bus_type;
    bus_type.reserve(net.buses.size());
    for (const Bus& b : net.buses) {
        bus_vn.emplace(b.id, b.vn_kv);
        bus_type.emplace(b.id, b.type);
    }

    auto add_array = [&](const char* name, ojson&& arr) {
        if (!arr.empty()) root[name] = std::move(arr);
    };

    {
        ojson arr = ojson::array();
        for (const Bus& b : net.buses) {
            Out w("buses", b.id);
            ojson o;
            o["id"] = b.id;
            o["name"] = b.name;
            w.num(o, "vn_kv", b.vn_kv);
            o["type"] = "b";
            o["zone"] = b.zone;
            o["in_service"] = b.in_service;
            o["bus_type"] = bus_type_name(b.type);
            w.num(o, "vm_pu", b.vm_pu);
            w.num(o, "va_deg", b.va_deg);
            o["area"] = b.area;
            w.num(o, "vmin_pu", b.vmin_pu);
            w.num(o, "vmax_pu", b.vmax_pu);
            arr.push_back(std::move(o));
        }
        add_array("buses", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Line& l : net.lines) {
            Out w("lines", l.id);
            ojson o;
            o["id"] = l.id;
            o["name"] = l.name;
            o["from_bus"] = l.from_bus;
            o["to_bus"] = l.to_bus;
            w.num(o, "length_km", l.length_km);
            w.num(o, "r_ohm_per_km", l.r_ohm_per_km);
            w.num(o, "x_ohm_per_km", l.x_ohm_per_km);
            w.num(o, "c_nf_per_km", l.c_nf_per_km);
            w.num(o, "g_us_per_km", l.g_us_per_km);
            w.num_or_null(o, "max_i_ka", l.max_i_ka, kInf);
            o["parallel"] = l.parallel;
            w.num(o, "df", l.df);
            o["type"] = l.type;
            o["in_service"] = l.in_service;
            arr.push_back(std::move(o));
        }
        add_array("lines", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Transformer& t : net.transformers) {
            Out w("transformers", t.id);
            ojson o;
            o["id"] = t.id;
            o["name"] = t.name;
            o["hv_bus"] = t.hv_bus;
            o["lv_bus"] = t.lv_bus;
            w.num(o, "sn_mva", t.sn_mva);
            w.num(o, "vn_hv_kv", t.vn_hv_kv);
            w.num(o, "vn_lv_kv", t.vn_lv_kv);
            w.num(o, "vk_percent", t.vk_percent);
            w.num(o, "vkr_percent", t.vkr_percent);
            w.num(o, "pfe_kw", t.pfe_kw);
            w.num(o, "i0_percent", t.i0_percent);
            w.num(o, "shift_degree", t.shift_degree);
            o["tap_side"] = t.tap_side == TapSide::HV ? ojson("hv") : t.tap_side == TapSide::LV ? ojson("lv") : ojson(nullptr);
            o["tap_neutral"] = t.tap_neutral;
            o["tap_min"] = t.tap_min;
            o["tap_max"] = t.tap_max;
            w.num(o, "tap_step_percent", t.tap_step_percent);
            w.num(o, "tap_step_degree", t.tap_step_degree);
            o["tap_pos"] = t.tap_pos;
            o["tap_changer_type"] = t.tap_side == TapSide::None ? ojson(nullptr) : ojson("Ratio");
            o["parallel"] = t.parallel;
            w.num(o, "df", t.df);
            o["in_service"] = t.in_service;
            o["oltc"] = t.oltc;
            o["oltc_bus"] = t.oltc_bus;
            w.num(o, "oltc_vm_pu", t.oltc_vm_pu);
            w.num(o, "oltc_band_pu", t.oltc_band_pu);
            arr.push_back(std::move(o));
        }
        add_array("transformers", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Load& l : net.loads) {
            Out w("loads", l.id);
            ojson o;
            o["id"] = l.id;
            o["name"] = l.name;
            o["bus"] = l.bus;
            w.num(o, "p_mw", l.p_mw);
            w.num(o, "q_mvar", l.q_mvar);
            w.num(o, "const_z_p_percent", l.const_z_p_percent);
            w.num(o, "const_z_q_percent", l.const_z_q_percent);
            w.num(o, "const_i_p_percent", l.const_i_p_percent);
            w.num(o, "const_i_q_percent", l.const_i_q_percent);
            o["sn_mva"] = nullptr;
            w.num(o, "scaling", l.scaling);
            o["type"] = l.type;
            o["in_service"] = l.in_service;
            arr.push_back(std::move(o));
        }
        add_array("loads", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const SGen& g : net.sgens) {
            Out w("sgens", g.id);
            ojson o;
            o["id"] = g.id;
            o["name"] = g.name;
            o["bus"] = g.bus;
            w.num(o, "p_mw", g.p_mw);
            w.num(o, "q_mvar", g.q_mvar);
            w.num(o, "sn_mva", g.sn_mva);
            w.num(o, "scaling", g.scaling);
            o["type"] = g.type;
            o["in_service"] = g.in_service;
            arr.push_back(std::move(o));
        }
        add_array("sgens", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Storage& s : net.storage) {
            Out w("storage", s.id);
            ojson o;
            o["id"] = s.id;
            o["name"] = s.name;
            o["bus"] = s.bus;
            w.num(o, "p_mw", s.p_mw);
            w.num(o, "q_mvar", s.q_mvar);
            w.num(o, "sn_mva", s.sn_mva);
            w.num(o, "soc_percent", s.soc_percent);
            w.num(o, "min_e_mwh", s.min_e_mwh);
            w.num(o, "max_e_mwh", s.max_e_mwh);
            w.num(o, "scaling", s.scaling);
            o["type"] = s.type;
            o["in_service"] = s.in_service;
            arr.push_back(std::move(o));
        }
        add_array("storage", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Gen& g : net.gens) {
            Out w("gens", g.id);
            ojson o;
            o["id"] = g.id;
            o["name"] = nullptr;
            o["bus"] = g.bus;
            w.num(o, "p_mw", g.p_mw);
            w.num(o, "vm_pu", g.vm_pu);
            w.num(o, "sn_mva", g.mbase_mva);
            w.num_or_null(o, "min_q_mvar", g.min_q_mvar, -kInf);
            w.num_or_null(o, "max_q_mvar", g.max_q_mvar, kInf);
            o["scaling"] = 1.0;
            auto bt = bus_type.find(g.bus);
            o["slack"] = bt != bus_type.end() && bt->second == BusType::Slack;
            o["slack_weight"] = nullptr;
            o["type"] = nullptr;
            o["in_service"] = g.in_service;
            w.num(o, "q_mvar", g.q_mvar);
            w.num(o, "min_p_mw", g.min_p_mw);
            w.num_or_null(o, "max_p_mw", g.max_p_mw, kInf);
            arr.push_back(std::move(o));
        }
        add_array("gens", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Shunt& s : net.shunts) {
            Out w("shunts", s.id);
            ojson o;
            o["id"] = s.id;
            o["name"] = nullptr;
            o["bus"] = s.bus;
            w.num(o, "p_mw", s.p_mw);
            w.num(o, "q_mvar", s.q_mvar);
            auto vn = bus_vn.find(s.bus);
            o["vn_kv"] = vn != bus_vn.end() ? ojson(vn->second) : ojson(nullptr);
            o["step"] = s.step;
            o["max_step"] = s.max_step;
            o["in_service"] = s.in_service;
            o["switched"] = s.switched;
            w.num(o, "v_low_pu", s.v_low_pu);
            w.num(o, "v_high_pu", s.v_high_pu);
            arr.push_back(std::move(o));
        }
        add_array("shunts", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const ExtGrid& e : net.ext_grids) {
            Out w("ext_grids", e.id);
            ojson o;
            o["id"] = e.id;
            o["name"] = nullptr;
            o["bus"] = e.bus;
            w.num(o, "vm_pu", e.vm_pu);
            w.num(o, "va_degree", e.va_degree);
            o["slack_weight"] = nullptr;
            o["in_service"] = e.in_service;
            arr.push_back(std::move(o));
        }
        add_array("ext_grids", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Switch& s : net.switches) {
            ojson o;
            o["id"] = s.id;
            o["name"] = s.name;
            o["bus"] = s.bus;
            o["element"] = s.element;
            o["et"] = s.et == SwitchElement::Bus ? "b" : s.et == SwitchElement::Line ? "l" : "t";
            o["type"] = s.type;
            o["closed"] = s.closed;
            o["z_ohm"] = 0.0;
            arr.push_back(std::move(o));
        }
        add_array("switches", std::move(arr));
    }
    {
        ojson arr = ojson::array();
        for (const Branch& b : net.branches) {
            Out w("branches", b.id);
            ojson o;
            o["id"] = b.id;
            o["from_bus"] = b.from_bus;
            o["to_bus"] = b.to_bus;
            w.num(o, "r_pu", b.r_pu);
            w.num(o, "x_pu", b.x_pu);
            w.num(o, "b_pu", b.b_pu);
            w.num(o, "rate_a_mva", b.rate_a_mva);
            w.num(o, "rate_b_mva", b.rate_b_mva);
            w.num(o, "rate_c_mva", b.rate_c_mva);
            w.num(o, "ratio", b.ratio);
            w.num(o, "shift_deg", b.shift_deg);
            o["in_service"] = b.in_service;
            w.num(o, "angmin_deg", b.angmin_deg);
            w.num(o, "angmax_deg", b.angmax_deg);
            arr.push_back(std::move(o));
        }
        add_array("branches", std::move(arr));
    }

    try {
        return root.dump(1, ' ', false, ojson::error_handler_t::strict) + "\n";
    } catch (const nlohmann::json::type_error& e) {
        throw ValidationError(std::string("to_case_json: a text field is not valid UTF-8: ") +
                              strip_nlohmann_prefix(e.what()));
    }
}

void write_case_json(const Network& net, const std::string& path) {
    const std::string text = to_case_json(net);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw Error(path + ": write failed");
}

}  // namespace libgrid
