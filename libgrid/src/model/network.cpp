// libgrid: Network validation, driven by the component schemas (model/<component>.hpp): each
// field's Check and reference, then the few rules that tie fields together, per component.
#include <libgrid/core/errors.hpp>
#include <libgrid/core/schema.hpp>
#include <libgrid/model/network.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace libgrid {
namespace {

std::string where(std::string_view kind, Id id, std::string_view field) {
    return std::string(kind) + " " + std::to_string(id) + ": field '" + std::string(field) + "': ";
}

[[noreturn]] void fail(std::string_view kind, Id id, std::string_view field, const std::string& msg) {
    throw ValidationError(where(kind, id, field) + msg);
}

/// The checks of Check (see core/schema.hpp), with the messages validate has always given.
void check_number(std::string_view kind, Id id, std::string_view field, Check c, double v) {
    const bool finite_needed = c == Check::Finite || c == Check::Positive || c == Check::NonNegative;
    if (finite_needed && !std::isfinite(v)) fail(kind, id, field, "must be a finite number, got " + std::to_string(v));
    if ((c == Check::NotNan || c == Check::PositiveOrInf) && std::isnan(v)) fail(kind, id, field, "must not be NaN");
    if ((c == Check::Positive || c == Check::PositiveOrInf) && !(v > 0))
        fail(kind, id, field, "must be > 0, got " + std::to_string(v));
    if (c == Check::NonNegative && v < 0) fail(kind, id, field, "must be >= 0, got " + std::to_string(v));
}

template <class T>
void check_enum(const Schema<T>& s, const Field<T>& f, const T& e) {
    const int v = f.get_int(e);
    if (f.label_of(v)) return;
    std::string allowed;
    for (const EnumLabel& l : f.labels)
        allowed += (allowed.empty() ? "" : ", ") + std::to_string(l.value) + " (" +
                   std::string(l.label.empty() ? "none" : l.label) + ")";
    fail(s.kind, e.id, f.name, "must be one of " + allowed + ", got " + std::to_string(v));
}

struct Context {
    const Network& net;
    std::unordered_map<Id, std::size_t> bus_at;
    std::unordered_map<Id, std::size_t> line_at;
    std::unordered_map<Id, std::size_t> trafo_at;

    std::size_t bus_ref(std::string_view kind, Id id, std::string_view field, Id bus) const {
        auto it = bus_at.find(bus);
        if (it == bus_at.end())
            throw IdError(std::string(kind) + " " + std::to_string(id) + ": field '" + std::string(field) +
                          "': unknown bus id " + std::to_string(bus));
        return it->second;
    }
    /// A physical component (line, transformer) needs a base voltage at its buses.
    void needs_kv(std::string_view kind, Id id, std::string_view field, Id bus) const {
        const std::size_t i = bus_ref(kind, id, field, bus);
        if (!(net.buses[i].vn_kv > 0))
            throw ValidationError(std::string(kind) + " " + std::to_string(id) + ": bus " + std::to_string(bus) +
                                  " has no base voltage (vn_kv = 0), which a physical component needs");
    }
};

/// Every field of one element against its schema: checks, references, enum values.
template <class T>
void check_fields(const Schema<T>& s, const T& e, const Context& ctx) {
    for (const Field<T>& f : s.fields) {
        if (!f.stored()) continue;
        if (f.kind == FieldKind::Enum) check_enum(s, f, e);
        switch (f.check) {
            case Check::None: break;
            case Check::Reference:
                if (f.ref == "bus") ctx.bus_ref(s.kind, e.id, f.name, f.get_id(e));
                break;
            case Check::AtLeastOne:
                if (f.get_int(e) < 1) fail(s.kind, e.id, f.name, "must be >= 1, got " + std::to_string(f.get_int(e)));
                break;
            default: check_number(s.kind, e.id, f.name, f.check, f.get_double(e)); break;
        }
    }
}

// ---- the rules that tie fields together, per component -------------------------------------

void check_rules(const Bus&, const Context&) {}
void check_rules(const Gen&, const Context&) {}
void check_rules(const SGen&, const Context&) {}
void check_rules(const Storage&, const Context&) {}
void check_rules(const ExtGrid&, const Context&) {}

void check_rules(const FormingSource& f, const Context&) {
    if (f.p_min_mw > f.p_max_mw) fail("forming", f.id, "p_max_mw", "must be >= p_min_mw");
    if (f.q_min_mvar > f.q_max_mvar) fail("forming", f.id, "q_max_mvar", "must be >= q_min_mvar");
}

void check_rules(const Branch& br, const Context&) {
    if (br.in_service && br.r_pu == 0 && br.x_pu == 0)
        fail("branch", br.id, "x_pu", "r and x are both zero: use a bus-bus switch for a zero-impedance connection");
}

void check_rules(const Line& l, const Context& ctx) {
    ctx.needs_kv("line", l.id, "from_bus", l.from_bus);
    ctx.needs_kv("line", l.id, "to_bus", l.to_bus);
    if (l.in_service && l.r_ohm_per_km == 0 && l.x_ohm_per_km == 0)
        fail("line", l.id, "x_ohm_per_km", "r and x are both zero: use a bus-bus switch");
}

void check_rules(const Transformer& t, const Context& ctx) {
    ctx.needs_kv("transformer", t.id, "hv_bus", t.hv_bus);
    ctx.needs_kv("transformer", t.id, "lv_bus", t.lv_bus);
    if (t.vkr_percent > t.vk_percent) fail("transformer", t.id, "vkr_percent", "must not exceed vk_percent");
    if (t.tap_side != TapSide::None && t.tap_min > t.tap_max) fail("transformer", t.id, "tap_min", "exceeds tap_max");
    if (!t.oltc) return;
    if (t.tap_side == TapSide::None) fail("transformer", t.id, "oltc", "an on-load tap changer needs a tap_side");
    if (t.oltc_bus >= 0) ctx.bus_ref("transformer", t.id, "oltc_bus", t.oltc_bus);
    check_number("transformer", t.id, "oltc_vm_pu", Check::Positive, t.oltc_vm_pu);
    check_number("transformer", t.id, "oltc_band_pu", Check::Positive, t.oltc_band_pu);
}

void check_rules(const Switch& s, const Context& ctx) {
    if (s.et == SwitchElement::Bus) {
        ctx.bus_ref("switch", s.id, "element", s.element);
        return;
    }
    const bool line = s.et == SwitchElement::Line;
    const char* what = line ? "line" : "transformer";
    const auto& at = line ? ctx.line_at : ctx.trafo_at;
    auto it = at.find(s.element);
    if (it == at.end())
        throw IdError("switch " + std::to_string(s.id) + ": field 'element': unknown " + what + " id " +
                      std::to_string(s.element));
    const Id a = line ? ctx.net.lines[it->second].from_bus : ctx.net.transformers[it->second].hv_bus;
    const Id b = line ? ctx.net.lines[it->second].to_bus : ctx.net.transformers[it->second].lv_bus;
    if (a != s.bus && b != s.bus)
        throw ValidationError("switch " + std::to_string(s.id) + ": field 'bus': bus " + std::to_string(s.bus) +
                              " is not an end of " + what + " " + std::to_string(s.element));
}

void check_rules(const Shunt& s, const Context&) {
    if (s.step < 0 || s.step > std::max(s.max_step, 1)) fail("shunt", s.id, "step", "must be in [0, max_step]");
}

void check_rules(const Load& l, const Context&) {
    if (l.const_z_p_percent + l.const_i_p_percent > 100.0 + 1e-9 || l.const_z_q_percent + l.const_i_q_percent > 100.0 + 1e-9)
        fail("load", l.id, "const_z_p_percent", "Z and I shares together exceed 100 %");
}

template <class T>
void unique_ids(const std::vector<T>& v) {
    std::unordered_set<Id> seen;
    seen.reserve(v.size() * 2);
    for (const auto& e : v)
        if (!seen.insert(e.id).second)
            throw IdError(std::string(T::schema().kind) + " id " + std::to_string(e.id) + " appears twice");
}

template <class T>
std::unordered_map<Id, std::size_t> positions(const std::vector<T>& v) {
    std::unordered_map<Id, std::size_t> at;
    at.reserve(v.size() * 2);
    for (std::size_t k = 0; k < v.size(); ++k) at[v[k].id] = k;
    return at;
}

}  // namespace

std::size_t Network::bus_index(Id id) const {
    // fast path: ids equal to positions (pandapower tables, generated grids)
    if (id >= 0 && std::size_t(id) < buses.size() && buses[std::size_t(id)].id == id) return std::size_t(id);
    for (std::size_t i = 0; i < buses.size(); ++i)
        if (buses[i].id == id) return i;
    throw IdError("unknown bus id " + std::to_string(id));
}

void Network::validate() const {
    if (!(sn_mva > 0) || !std::isfinite(sn_mva)) throw ValidationError("network: field 'sn_mva': base power must be > 0, got " + std::to_string(sn_mva));
    if (!(f_hz > 0) || !std::isfinite(f_hz)) throw ValidationError("network: field 'f_hz': must be > 0, got " + std::to_string(f_hz));
    if (buses.empty()) throw ValidationError("network: no buses");
    for_each_table([](const auto& table) { unique_ids(table); });

    const Context ctx{*this, positions(buses), positions(lines), positions(transformers)};
    for_each_table([&](const auto& table) {
        for (const auto& e : table) {
            check_fields(std::decay_t<decltype(e)>::schema(), e, ctx);
            check_rules(e, ctx);
        }
    });
    bool any_slack = false;
    for (const ExtGrid& e : ext_grids) any_slack = any_slack || e.in_service;
    for (const Bus& b : buses) any_slack = any_slack || (b.type == BusType::Slack && b.in_service);
    for (const FormingSource& f : forming) any_slack = any_slack || f.in_service;
    if (!any_slack)
        throw ValidationError("network: no slack: add an ext_grid, give one bus type 3 (slack) with a generator, or add a "
                              "grid-forming source (forming)");
}

}  // namespace libgrid
