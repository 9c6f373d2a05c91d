// libgrid core: one schema per component. A schema is the list of a plain struct's fields, each
// with its name, unit, kind, default, the values a file may give it, the check the model makes,
// what it refers to and a one-line doc, plus a member pointer to read and write it. Validation,
// the network JSON reader and writer, the Python tables, libgrid.schema() and the docs tables
// are all driven by these lists (docs/network_json.md, "One schema per component").
//
// Simpler than power-grid-model's meta_data (which describes raw buffers by offset and ctype for
// a C API): here a field carries a typed member pointer, so reading and writing stay type safe.
//
//   static const Schema<Line>& schema() {
//       static const Schema<Line> s{"line", "lines", {
//           field("length_km", &Line::length_km, "km").req().in(gt(0)).model(Check::Positive)
//               .about("length of the line"), ...}};
//       return s;
//   }
#pragma once

#include <cmath>
#include <charconv>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "libgrid/core/ids.hpp"

namespace libgrid {

enum class FieldKind { Double, Int, Bool, Id, Enum, String };

inline std::string_view kind_name(FieldKind k) {
    switch (k) {
        case FieldKind::Double: return "double";
        case FieldKind::Int: return "int";
        case FieldKind::Bool: return "bool";
        case FieldKind::Id: return "id";
        case FieldKind::Enum: return "enum";
        case FieldKind::String: return "string";
    }
    return "?";
}

/// Shortest text that reads back as the same double ("-1", "0.035", "inf").
inline std::string number_text(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

/// The values a file may give a number: lo..hi with open or closed ends. NaN never passes; an
/// infinity passes only where `allow_inf` (fields whose default is infinite, written as null).
struct Range {
    double lo = -kInf;
    double hi = kInf;
    bool lo_open = false;
    bool hi_open = false;
    bool allow_inf = false;

    bool contains(double v) const {
        if (std::isnan(v)) return false;
        if (std::isinf(v)) return allow_inf;
        return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    }
    bool bounded() const { return lo != -kInf || hi != kInf; }
    /// "> 0", ">= 0", "in (0, 1]", "" when any finite value passes; the text of messages and docs.
    std::string text() const {
        if (lo != -kInf && hi != kInf)
            return std::string("in ") + (lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) +
                   (hi_open ? ")" : "]");
        if (lo != -kInf) return (lo_open ? "> " : ">= ") + number_text(lo);
        if (hi != kInf) return (hi_open ? "< " : "<= ") + number_text(hi);
        return {};
    }
};
inline Range gt(double lo) { return Range{lo, kInf, true, false, false}; }
inline Range ge(double lo) { return Range{lo, kInf, false, false, false}; }
inline Range in(double lo, double hi, bool lo_open = false, bool hi_open = false) {
    return Range{lo, hi, lo_open, hi_open, false};
}

/// What Network::validate requires of a field: the model accepts more than a file (a MATPOWER
/// bus without base voltage, a derating factor above 1 set from Python), so this is its own list.
enum class Check {
    None,
    NotNan,         ///< any value but NaN (infinities allowed)
    Finite,         ///< a finite number
    Positive,       ///< finite and > 0
    PositiveOrInf,  ///< > 0, +inf allowed (a rating that may be unlimited)
    NonNegative,    ///< finite and >= 0
    AtLeastOne,     ///< integer >= 1
    Reference,      ///< an Id that must name an existing component of kind `ref`
};

inline std::string_view check_text(Check c) {
    switch (c) {
        case Check::None: return "";
        case Check::NotNan: return "not NaN";
        case Check::Finite: return "finite";
        case Check::Positive: return "> 0";
        case Check::PositiveOrInf: return "> 0 (inf allowed)";
        case Check::NonNegative: return ">= 0";
        case Check::AtLeastOne: return ">= 1";
        case Check::Reference: return "exists";
    }
    return "";
}

/// One value of an enum field and its text in files ("" = written as null).
struct EnumLabel {
    int value;
    std::string_view label;
};

/// Accessors of an enum member, as its integer value.
template <class T>
struct EnumAccess {
    std::function<int(const T&)> get;
    std::function<void(T&, int)> set;
};

/// How to reach the member: a member pointer, an enum accessor, or nothing for a field that only
/// the file has (read and dropped, or written as a constant; see io/case_json.cpp).
template <class T>
using Access = std::variant<std::monostate, double T::*, int T::*, bool T::*, Id T::*, std::string T::*, EnumAccess<T>>;

template <class T>
struct Field {
    std::string_view name;          ///< model name: the struct member and the Python column
    std::string_view key;           ///< key in the network JSON (= name unless the file says otherwise)
    std::string_view unit;          ///< "kV", "MW", "p.u.", "%", "" for none
    FieldKind kind = FieldKind::Double;
    Access<T> access;
    bool required = false;          ///< the file must give it (no default)
    bool extension = false;         ///< a libgrid extension of mg-case-json/1
    bool written = true;            ///< file-only fields: false = read (or ignored) but never written
    std::string_view default_text;  ///< the default when it is not the struct's ("tap_neutral")
    Range range;                    ///< values a file may give (JSON reader, docs)
    Check check = Check::None;      ///< what Network::validate requires
    std::string_view ref;           ///< Id fields: the kind of component referred to ("bus")
    std::vector<EnumLabel> labels;  ///< Enum fields: value <-> file text
    std::string_view doc;           ///< one line

    bool stored() const { return access.index() != 0; }

    // Builders, so that a schema reads as one line per field.
    Field&& req() && { required = true; return std::move(*this); }
    Field&& ext() && { extension = true; return std::move(*this); }
    Field&& not_written() && { written = false; return std::move(*this); }
    Field&& json(std::string_view k) && { key = k; return std::move(*this); }
    Field&& in(Range r) && { range = r; return std::move(*this); }
    Field&& model(Check c) && { check = c; return std::move(*this); }
    Field&& refers(std::string_view kind) && { ref = kind; check = Check::Reference; return std::move(*this); }
    Field&& shown_default(std::string_view t) && { default_text = t; return std::move(*this); }
    Field&& about(std::string_view d) && { doc = d; return std::move(*this); }

    // Typed access (the kind says which one applies).
    double get_double(const T& e) const { return e.*std::get<double T::*>(access); }
    int get_int(const T& e) const {
        if (kind == FieldKind::Enum) return std::get<EnumAccess<T>>(access).get(e);
        return e.*std::get<int T::*>(access);
    }
    bool get_bool(const T& e) const { return e.*std::get<bool T::*>(access); }
    Id get_id(const T& e) const { return e.*std::get<Id T::*>(access); }
    const std::string& get_string(const T& e) const { return e.*std::get<std::string T::*>(access); }
    void set_double(T& e, double v) const { e.*std::get<double T::*>(access) = v; }
    void set_int(T& e, int v) const {
        if (kind == FieldKind::Enum) std::get<EnumAccess<T>>(access).set(e, v);
        else e.*std::get<int T::*>(access) = v;
    }
    void set_bool(T& e, bool v) const { e.*std::get<bool T::*>(access) = v; }
    void set_id(T& e, Id v) const { e.*std::get<Id T::*>(access) = v; }
    void set_string(T& e, std::string v) const { e.*std::get<std::string T::*>(access) = std::move(v); }

    /// The label of an enum value, and the entry of a (non-empty) label; nullptr when there is none.
    const EnumLabel* label_of(int v) const {
        for (const EnumLabel& l : labels)
            if (l.value == v) return &l;
        return nullptr;
    }
    const EnumLabel* value_of(std::string_view text) const {
        for (const EnumLabel& l : labels)
            if (l.label == text && !text.empty()) return &l;
        return nullptr;
    }
};

/// A field of a struct member. The kind comes from the member's type.
template <class T, class M>
Field<T> field(std::string_view name, M T::*member, std::string_view unit = "") {
    Field<T> f;
    f.name = name;
    f.key = name;
    f.unit = unit;
    if constexpr (std::is_same_v<M, double>) {
        f.kind = FieldKind::Double;
        f.access = member;
    } else if constexpr (std::is_same_v<M, int>) {
        f.kind = FieldKind::Int;
        f.access = member;
    } else if constexpr (std::is_same_v<M, bool>) {
        f.kind = FieldKind::Bool;
        f.access = member;
    } else if constexpr (std::is_same_v<M, Id>) {
        f.kind = FieldKind::Id;
        f.access = member;
    } else if constexpr (std::is_same_v<M, std::string>) {
        f.kind = FieldKind::String;
        f.access = member;
    } else {
        static_assert(std::is_enum_v<M>, "a schema field is a double, int, bool, Id, string or enum");
        f.kind = FieldKind::Enum;
        f.access = EnumAccess<T>{[member](const T& e) { return static_cast<int>(e.*member); },
                                 [member](T& e, int v) { e.*member = static_cast<M>(v); }};
    }
    return f;
}

/// An enum field with its file labels.
template <class T, class M>
Field<T> field(std::string_view name, M T::*member, std::initializer_list<EnumLabel> labels) {
    Field<T> f = field(name, member);
    f.labels = labels;
    return f;
}

/// A field only the file has: read (type checked) and dropped, or written as a constant.
template <class T>
Field<T> file_field(std::string_view key, FieldKind kind, std::string_view unit = "") {
    Field<T> f;
    f.name = key;
    f.key = key;
    f.unit = unit;
    f.kind = kind;
    return f;
}

/// The schema of one component kind.
template <class T>
struct Schema {
    std::string_view kind;   ///< singular, as in messages: "transformer"
    std::string_view array;  ///< the JSON array: "transformers"
    std::vector<Field<T>> fields;

    /// The stored field of this model name, or nullptr.
    const Field<T>* find(std::string_view name) const {
        for (const Field<T>& f : fields)
            if (f.stored() && f.name == name) return &f;
        return nullptr;
    }
};

/// The default value of a numeric field, from a default-constructed struct (the one source of
/// defaults), as text for docs and Python ("inf", "1", "true", "pq").
template <class T>
std::string default_text(const Field<T>& f) {
    if (!f.default_text.empty()) return std::string(f.default_text);
    if (f.required) return "required";
    if (!f.stored()) return "";
    static const T e{};
    switch (f.kind) {
        case FieldKind::Double: return number_text(f.get_double(e));
        case FieldKind::Int: return std::to_string(f.get_int(e));
        case FieldKind::Bool: return f.get_bool(e) ? "true" : "false";
        case FieldKind::Id: return std::to_string(f.get_id(e));
        case FieldKind::String: return "\"" + f.get_string(e) + "\"";
        case FieldKind::Enum: {
            const EnumLabel* l = f.label_of(f.get_int(e));
            return l && !l->label.empty() ? std::string(l->label) : "null";
        }
    }
    return "";
}

}  // namespace libgrid
