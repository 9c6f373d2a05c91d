// libgrid io: reader and writer of the project's network JSON ("mg-case-json/1" + libgrid
// extensions). Field reference: docs/network_json.md. nlohmann::json is used only in this file.
#include "libgrid/io/case_json.hpp"
#include "libgrid/core/input_file.hpp"
#include "libgrid/core/schema.hpp"

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
void check_not_below(const Obj& o, const char* f, double v, const char* other, double other_v) {
    if (!(v >= other_v))
        o.fail(f, std::string("must be >= ") + other + " (" + fmt_num(other_v) + "), got " + fmt_num(v));
}

/// Ids of the elements read so far, for references and duplicate detection.
using IdIndex = std::unordered_map<Id, std::size_t>;

struct ReadState {
    const std::string& file;
    const Network* net = nullptr;
    IdIndex bus_pos;  ///< bus id -> index in net.buses
    std::unordered_set<Id> line_ids;
    std::unordered_set<Id> trafo_ids;
    bool slack = false;               ///< the gen being read has `slack: true`
    std::vector<Id> slack_gen_buses;  ///< buses of in-service slack gens
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
// Element readers, driven by the schemas (model/<component>.hpp): every field is read by its
// kind, defaulted from the struct and checked against its range; the hooks below add what a
// schema line cannot say (fields only the file has, defaults that depend on another field,
// rules that tie two fields together).
// ------------------------------------------------------------------------------------------

/// `"pq", "pv", "slack" or null`: the labels of an enum field, for messages.
template <class T>
std::string enum_choices(const Field<T>& f) {
    std::vector<std::string> items;
    for (const EnumLabel& l : f.labels)
        if (!l.label.empty()) {
            std::string quoted(1, '"');
            quoted.append(l.label);
            quoted.push_back('"');
            items.push_back(std::move(quoted));
        }
    if (!f.required) items.emplace_back("null");
    std::string s;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) s.append(i + 1 == items.size() ? " or " : ", ");
        s.append(items[i]);
    }
    return s;
}

void check_in(const Obj& o, const char* f, const Range& r, double v) {
    if (r.bounded() && !r.contains(v)) o.fail(f, "must be " + r.text() + ", got " + fmt_num(v));
}

template <class T>
void read_enum(const Obj& o, const char* k, const Field<T>& f, T& e) {
    const json* v = o.get(k);
    if (!v) {
        if (f.required) o.fail(k, "is required (" + enum_choices(f) + ")");
        return;
    }
    const EnumLabel* l = v->is_string() ? f.value_of(v->get<std::string>()) : nullptr;
    if (!l) o.fail(k, "must be " + enum_choices(f) + ", got " + describe(*v));
    f.set_int(e, l->value);
}

/// One stored field, by its kind.
template <class T>
void read_field(const Obj& o, const Field<T>& f, T& e, const ReadState& st) {
    const std::string key(f.key);
    const char* k = key.c_str();
    switch (f.kind) {
        case FieldKind::Double: {
            const double v = f.required ? o.num_req(k) : o.num(k, f.get_double(e));
            check_in(o, k, f.range, v);
            f.set_double(e, v);
            break;
        }
        case FieldKind::Int: {
            const int v = o.small_int(k, f.get_int(e));
            if (f.range.bounded() && !f.range.contains(v)) o.fail(k, "must be " + f.range.text() + ", got " + std::to_string(v));
            f.set_int(e, v);
            break;
        }
        case FieldKind::Bool: f.set_bool(e, o.boolean(k, f.get_bool(e))); break;
        case FieldKind::Id:
            if (f.required && f.ref == "bus") f.set_id(e, bus_ref(o, k, st));
            else f.set_id(e, f.required ? o.integer_req(k) : o.integer(k, f.get_id(e)));
            break;
        case FieldKind::String: f.set_string(e, f.key == "name" ? o.name(k) : o.str(k)); break;
        case FieldKind::Enum: read_enum(o, k, f, e); break;
    }
}

// Per-component hooks. read_special(o, key, e, st) reads a field the generic reader must not
// (returns true when it did); after_read(o, e, st) checks rules between fields.
template <class T>
bool read_special(const Obj&, std::string_view, T&, ReadState&) { return false; }
template <class T>
void after_read(const Obj&, T&, ReadState&) {}

template <>
bool read_special(const Obj& o, std::string_view key, Bus& b, ReadState&) {
    if (key != "zone") return false;
    if (const json* z = o.get("zone")) {
        // pandapower zones are free labels ("CIGRE_LV") or MATPOWER zone numbers (1.0).
        // Only integers fit Bus::zone; a text label is dropped (zone stays 1).
        if (z->is_number()) b.zone = o.small_int("zone", 1);
        else if (!z->is_string()) o.fail("zone", "must be an integer, a string or null, got " + describe(*z));
    }
    return true;
}
template <>
void after_read(const Obj& o, Bus& b, ReadState&) {
    if (!o.get("vmin_pu")) b.vmin_pu = case_json_default_vmin_pu(b.vn_kv);
    if (!o.get("vmax_pu")) b.vmax_pu = case_json_default_vmax_pu(b.vn_kv);
    check_not_below(o, "vmax_pu", b.vmax_pu, "vmin_pu", b.vmin_pu);
}

template <>
bool read_special(const Obj& o, std::string_view key, Transformer& t, ReadState& st) {
    if (key == "tap_pos") {
        // No tap position given: the transformer runs at its rated ratio.
        t.tap_pos = o.get("tap_pos") ? o.small_int("tap_pos", 0) : t.tap_neutral;
    } else if (key == "tap_changer_type") {
        if (const json* c = o.get("tap_changer_type")) {
            if (!c->is_string() || c->get<std::string>() != "Ratio")
                o.fail("tap_changer_type", "only \"Ratio\" or null is supported, got " + describe(*c));
        }
    } else if (key == "oltc_bus") {
        t.oltc_bus = o.integer("oltc_bus", t.oltc_bus);
        if (t.oltc_bus != -1 && !st.bus_pos.count(t.oltc_bus))
            throw IdError(o.prefix("oltc_bus") + "unknown bus id " + std::to_string(t.oltc_bus) + " (-1 = the LV bus)");
    } else {
        return false;
    }
    return true;
}
template <>
void after_read(const Obj& o, Transformer& t, ReadState&) {
    if (t.vkr_percent > t.vk_percent)
        o.fail("vkr_percent", "must be <= vk_percent (" + fmt_num(t.vk_percent) + "), got " + fmt_num(t.vkr_percent));
    if (t.tap_min > t.tap_max)
        o.fail("tap_max", "must be >= tap_min (" + std::to_string(t.tap_min) + "), got " + std::to_string(t.tap_max));
    if (t.oltc && t.tap_side == TapSide::None)
        o.fail("oltc", "an on-load tap changer needs tap_side \"hv\" or \"lv\", got null");
}

template <>
bool read_special(const Obj& o, std::string_view key, Switch& s, ReadState& st) {
    if (key == "element") {
        s.element = o.integer_req("element");
    } else if (key == "et") {
        read_enum(o, "et", *Switch::schema().find("et"), s);
        const bool known = s.et == SwitchElement::Bus ? st.bus_pos.count(s.element) > 0
                           : s.et == SwitchElement::Line ? st.line_ids.count(s.element) > 0
                                                          : st.trafo_ids.count(s.element) > 0;
        if (!known) {
            const char* what = s.et == SwitchElement::Bus ? "bus" : s.et == SwitchElement::Line ? "line" : "transformer";
            const char* letter = s.et == SwitchElement::Bus ? "b" : s.et == SwitchElement::Line ? "l" : "t";
            throw IdError(o.prefix("element") + "unknown " + what + " id " + std::to_string(s.element) + " (et = \"" +
                          letter + "\")");
        }
    } else if (key == "z_ohm") {
        const double z_ohm = o.num("z_ohm", 0.0);
        check_ge(o, "z_ohm", z_ohm, 0.0);
        // pandapower uses z_ohm only for bus-bus switches; the model has ideal switches only.
        if (s.et == SwitchElement::Bus && z_ohm != 0.0)
            o.fail("z_ohm", "switch impedance is not supported (libgrid switches are ideal), got " + fmt_num(z_ohm));
    } else {
        return false;
    }
    return true;
}

template <>
bool read_special(const Obj& o, std::string_view key, Shunt& s, ReadState& st) {
    if (key != "vn_kv") return false;
    const double bus_vn = st.net->buses[st.bus_pos.at(s.bus)].vn_kv;
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
    return true;
}
template <>
void after_read(const Obj& o, Shunt& s, ReadState&) {
    if (s.step > s.max_step)
        o.fail("step", "must be <= max_step (" + std::to_string(s.max_step) + "), got " + std::to_string(s.step));
    if (!(s.v_high_pu > s.v_low_pu))
        o.fail("v_high_pu", "must be > v_low_pu (" + fmt_num(s.v_low_pu) + "), got " + fmt_num(s.v_high_pu));
}

template <>
void after_read(const Obj& o, Load& l, ReadState&) {
    const auto sum = [&](const char* z, double zv, const char* i, double iv) {
        if (zv + iv > 100.0)
            o.fail(i, std::string("must be <= 100 - ") + z + " (" + fmt_num(100.0 - zv) + "), got " + fmt_num(iv));
    };
    sum("const_z_p_percent", l.const_z_p_percent, "const_i_p_percent", l.const_i_p_percent);
    sum("const_z_q_percent", l.const_z_q_percent, "const_i_q_percent", l.const_i_q_percent);
}

template <>
bool read_special(const Obj& o, std::string_view key, Gen& g, ReadState& st) {
    if (key == "scaling") {
        // Gen has no scaling field: the effective injection p_mw * scaling is stored.
        const double scaling = o.num("scaling", 1.0);
        check_ge(o, "scaling", scaling, 0.0);
        if (scaling != 1.0) g.p_mw *= scaling;
    } else if (key == "slack") {
        st.slack = o.boolean("slack", false);
    } else {
        return false;
    }
    return true;
}
template <>
void after_read(const Obj& o, Gen& g, ReadState& st) {
    check_not_below(o, "max_q_mvar", g.max_q_mvar, "min_q_mvar", g.min_q_mvar);
    check_not_below(o, "max_p_mw", g.max_p_mw, "min_p_mw", g.min_p_mw);
    if (st.slack && g.in_service) st.slack_gen_buses.push_back(g.bus);
}

template <>
void after_read(const Obj& o, Storage& s, ReadState&) {
    if (s.max_e_mwh > 0.0) check_not_below(o, "max_e_mwh", s.max_e_mwh, "min_e_mwh", s.min_e_mwh);
}

template <>
void after_read(const Obj& o, Branch& b, ReadState&) {
    check_not_below(o, "angmax_deg", b.angmax_deg, "angmin_deg", b.angmin_deg);
}

/// One element: every field of its schema, in schema order, then the rules between fields.
template <class T>
T read_element(const Obj& o, Id id, ReadState& st) {
    T e{};
    e.id = id;
    st.slack = false;
    for (const Field<T>& f : T::schema().fields) {
        if (f.key == "id" || read_special(o, f.key, e, st)) continue;
        if (f.stored()) read_field(o, f, e, st);
        else if (f.kind == FieldKind::String) (void)(f.key == "name" ? o.name("name") : o.str(std::string(f.key).c_str()));
        // other file-only fields (slack_weight, sk_mva, the load sn_mva...) are ignored
    }
    after_read(o, e, st);
    return e;
}

/// What later elements refer to: bus positions, line and transformer ids.
void remember(ReadState& st, const Bus& b, std::size_t pos) { st.bus_pos.emplace(b.id, pos); }
void remember(ReadState& st, const Line& l, std::size_t) { st.line_ids.insert(l.id); }
void remember(ReadState& st, const Transformer& t, std::size_t) { st.trafo_ids.insert(t.id); }
template <class T>
void remember(ReadState&, const T&, std::size_t) {}

template <class T>
void reserve_for(std::vector<T>& v, const json& root, const char* name) {
    auto it = root.find(name);
    if (it != root.end() && it->is_array()) v.reserve(it->size());
}

// ------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------
// ------------------------------------------------------------------------------------------

/// Writes numbers of one element; NaN and unexpected infinities are refused with a message
/// naming the element and field, because JSON has no NaN / Inf and null reads as the default.
class Out {
public:
    Out(std::string_view array, Id id) : array_(array), id_(id) {}
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
        throw ValidationError(std::string("to_case_json: ") + std::string(array_) + "[id=" + std::to_string(id_) +
                              "]: field '" + key + "': cannot write " + fmt_num(v) + " (JSON has no NaN/Inf)");
    }
    std::string_view array_;
    Id id_;
};

/// What the writer of one element may need from the rest of the network.
struct WriteCtx {
    std::unordered_map<Id, double> bus_vn;
    std::unordered_map<Id, BusType> bus_type;
};

// Values of the fields only the file has (the rest of them are written as null).
template <class T>
ojson write_special(std::string_view, const T&, const WriteCtx&) { return nullptr; }
template <>
ojson write_special(std::string_view key, const Bus&, const WriteCtx&) {
    return key == "type" ? ojson("b") : ojson(nullptr);
}
template <>
ojson write_special(std::string_view key, const Transformer& t, const WriteCtx&) {
    return key == "tap_changer_type" && t.tap_side != TapSide::None ? ojson("Ratio") : ojson(nullptr);
}
template <>
ojson write_special(std::string_view key, const Switch&, const WriteCtx&) {
    return key == "z_ohm" ? ojson(0.0) : ojson(nullptr);
}
template <>
ojson write_special(std::string_view key, const Gen& g, const WriteCtx& ctx) {
    if (key == "scaling") return 1.0;
    if (key != "slack") return nullptr;
    auto bt = ctx.bus_type.find(g.bus);
    return bt != ctx.bus_type.end() && bt->second == BusType::Slack;
}
template <>
ojson write_special(std::string_view key, const Shunt& s, const WriteCtx& ctx) {
    if (key != "vn_kv") return nullptr;
    auto vn = ctx.bus_vn.find(s.bus);
    return vn != ctx.bus_vn.end() ? ojson(vn->second) : ojson(nullptr);
}

/// One stored field, by its kind. A number whose struct default is infinite is written as null
/// when it holds that default.
template <class T>
void write_field(ojson& o, const Field<T>& f, const T& e, const Out& w) {
    const std::string key(f.key);
    switch (f.kind) {
        case FieldKind::Double: {
            const double def = f.get_double(T{});
            if (std::isinf(def)) w.num_or_null(o, key.c_str(), f.get_double(e), def);
            else w.num(o, key.c_str(), f.get_double(e));
            break;
        }
        case FieldKind::Int: o[key] = f.get_int(e); break;
        case FieldKind::Bool: o[key] = f.get_bool(e); break;
        case FieldKind::Id: o[key] = f.get_id(e); break;
        case FieldKind::String: o[key] = f.get_string(e); break;
        case FieldKind::Enum: {
            const EnumLabel* l = f.label_of(f.get_int(e));
            o[key] = l && !l->label.empty() ? ojson(std::string(l->label)) : ojson(nullptr);
            break;
        }
    }
}

template <class T>
ojson write_element(const T& e, const WriteCtx& ctx) {
    const Schema<T>& s = T::schema();
    const Out w(s.array, e.id);
    ojson o;
    for (const Field<T>& f : s.fields) {
        if (!f.written) continue;
        if (f.stored()) write_field(o, f, e, w);
        else o[std::string(f.key)] = write_special(f.key, e, ctx);
    }
    return o;
}

void read_top_level(const json& root, const std::string& file, Network& net) {
    {
        auto it = root.find("schema");
        if (it == root.end() || !it->is_string() || it->get<std::string>() != kCaseJsonSchema) {
            const std::string got = it == root.end() ? std::string("no \"schema\" field") : describe(*it);
            throw ParseError(file, 1, std::string("field 'schema': expected \"") + kCaseJsonSchema + "\", got " + got);
        }
    }
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
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

Network parse_case_json(const std::string& text, const std::string& filename) {
    const std::string& file = filename;
    const json root = parse_json_text(text, file);
    if (!root.is_object()) throw ParseError(file, 1, "top level must be a JSON object, got " + describe(root));

    Network net;
    read_top_level(root, file, net);
    ReadState st{file, &net, {}, {}, {}, false, {}};
    // Tables in file order (buses first, so that every later reference can be checked).
    net.for_each_table([&](auto& table) {
        using T = typename std::decay_t<decltype(table)>::value_type;
        const std::string array(T::schema().array);
        reserve_for(table, root, array.c_str());
        for_each_element(root, array.c_str(), file, [&](const Obj& o, Id id) {
            table.push_back(read_element<T>(o, id, st));
            remember(st, table.back(), table.size() - 1);
        });
    });

    // A gen with `slack: true` on a bus without an in-service ext_grid makes that bus the slack.
    if (!st.slack_gen_buses.empty()) {
        std::unordered_set<Id> ext_grid_buses;
        for (const ExtGrid& e : net.ext_grids)
            if (e.in_service) ext_grid_buses.insert(e.bus);
        for (Id bus : st.slack_gen_buses)
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

    WriteCtx ctx;
    ctx.bus_vn.reserve(net.buses.size());
    ctx.bus_type.reserve(net.buses.size());
    for (const Bus& b : net.buses) {
        ctx.bus_vn.emplace(b.id, b.vn_kv);
        ctx.bus_type.emplace(b.id, b.type);
    }
    net.for_each_table([&](const auto& table) {
        if (table.empty()) return;  // the writer leaves out empty arrays
        using T = typename std::decay_t<decltype(table)>::value_type;
        ojson arr = ojson::array();
        for (const T& e : table) arr.push_back(write_element(e, ctx));
        root[std::string(T::schema().array)] = std::move(arr);
    });

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
