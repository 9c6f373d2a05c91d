// libgrid: Network validation.
#include <libgrid/core/errors.hpp>
#include <libgrid/model/network.hpp>

#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace libgrid {
namespace {

std::string where(const char* kind, Id id, const char* field) {
    return std::string(kind) + " " + std::to_string(id) + ": field '" + field + "': ";
}

void finite(const char* kind, Id id, const char* field, double v) {
    if (!std::isfinite(v)) throw ValidationError(where(kind, id, field) + "must be a finite number, got " + std::to_string(v));
}
void not_nan(const char* kind, Id id, const char* field, double v) {
    if (std::isnan(v)) throw ValidationError(where(kind, id, field) + "must not be NaN");
}
void positive(const char* kind, Id id, const char* field, double v) {
    finite(kind, id, field, v);
    if (!(v > 0)) throw ValidationError(where(kind, id, field) + "must be > 0, got " + std::to_string(v));
}
void non_negative(const char* kind, Id id, const char* field, double v) {
    finite(kind, id, field, v);
    if (v < 0) throw ValidationError(where(kind, id, field) + "must be >= 0, got " + std::to_string(v));
}

template <class T>
void unique_ids(const std::vector<T>& v, const char* kind) {
    std::unordered_set<Id> seen;
    seen.reserve(v.size() * 2);
    for (const auto& e : v)
        if (!seen.insert(e.id).second) throw IdError(std::string(kind) + " id " + std::to_string(e.id) + " appears twice");
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
    unique_ids(buses, "bus");
    unique_ids(branches, "branch");
    unique_ids(lines, "line");
    unique_ids(transformers, "transformer");
    unique_ids(switches, "switch");
    unique_ids(shunts, "shunt");
    unique_ids(loads, "load");
    unique_ids(gens, "gen");
    unique_ids(sgens, "sgen");
    unique_ids(storage, "storage");
    unique_ids(ext_grids, "ext_grid");

    std::unordered_map<Id, std::size_t> bus_at;
    bus_at.reserve(buses.size() * 2);
    for (std::size_t i = 0; i < buses.size(); ++i) {
        const Bus& b = buses[i];
        bus_at[b.id] = i;
        finite("bus", b.id, "vn_kv", b.vn_kv);
        if (b.vn_kv < 0) throw ValidationError(where("bus", b.id, "vn_kv") + "base voltage must not be negative, got " + std::to_string(b.vn_kv));
        finite("bus", b.id, "vm_pu", b.vm_pu);
        finite("bus", b.id, "va_deg", b.va_deg);
        not_nan("bus", b.id, "vmin_pu", b.vmin_pu);
        not_nan("bus", b.id, "vmax_pu", b.vmax_pu);
        int t = static_cast<int>(b.type);
        if (t < 1 || t > 4) throw ValidationError(where("bus", b.id, "type") + "must be 1 (PQ), 2 (PV), 3 (slack) or 4 (isolated)");
    }
    auto bus_ref = [&](const char* kind, Id id, const char* field, Id bus) -> std::size_t {
        auto it = bus_at.find(bus);
        if (it == bus_at.end()) throw IdError(std::string(kind) + " " + std::to_string(id) + ": field '" + field + "': unknown bus id " + std::to_string(bus));
        return it->second;
    };
    auto needs_kv = [&](const char* kind, Id id, const char* field, Id bus) {
        std::size_t i = bus_ref(kind, id, field, bus);
        if (!(buses[i].vn_kv > 0)) throw ValidationError(std::string(kind) + " " + std::to_string(id) + ": bus " + std::to_string(bus) + " has no base voltage (vn_kv = 0), which a physical component needs");
    };
    for (const Branch& br : branches) {
        bus_ref("branch", br.id, "from_bus", br.from_bus);
        bus_ref("branch", br.id, "to_bus", br.to_bus);
        finite("branch", br.id, "r_pu", br.r_pu);
        finite("branch", br.id, "x_pu", br.x_pu);
        finite("branch", br.id, "b_pu", br.b_pu);
        finite("branch", br.id, "ratio", br.ratio);
        finite("branch", br.id, "shift_deg", br.shift_deg);
        if (br.ratio < 0) throw ValidationError(where("branch", br.id, "ratio") + "must be >= 0 (0 means 1), got " + std::to_string(br.ratio));
        if (br.in_service && br.r_pu == 0 && br.x_pu == 0) throw ValidationError(where("branch", br.id, "x_pu") + "r and x are both zero: use a bus-bus switch for a zero-impedance connection");
    }
    for (const Line& l : lines) {
        needs_kv("line", l.id, "from_bus", l.from_bus);
        needs_kv("line", l.id, "to_bus", l.to_bus);
        positive("line", l.id, "length_km", l.length_km);
        non_negative("line", l.id, "r_ohm_per_km", l.r_ohm_per_km);
        finite("line", l.id, "x_ohm_per_km", l.x_ohm_per_km);
        non_negative("line", l.id, "c_nf_per_km", l.c_nf_per_km);
        non_negative("line", l.id, "g_us_per_km", l.g_us_per_km);
        not_nan("line", l.id, "max_i_ka", l.max_i_ka);
        if (!(l.max_i_ka > 0)) throw ValidationError(where("line", l.id, "max_i_ka") + "must be > 0");
        if (l.parallel < 1) throw ValidationError(where("line", l.id, "parallel") + "must be >= 1, got " + std::to_string(l.parallel));
        positive("line", l.id, "df", l.df);
        if (l.in_service && l.r_ohm_per_km == 0 && l.x_ohm_per_km == 0) throw ValidationError(where("line", l.id, "x_ohm_per_km") + "r and x are both zero: use a bus-bus switch");
    }
    for (const Transformer& t : transformers) {
        needs_kv("transformer", t.id, "hv_bus", t.hv_bus);
        needs_kv("transformer", t.id, "lv_bus", t.lv_bus);
        positive("transformer", t.id, "sn_mva", t.sn_mva);
        positive("transformer", t.id, "vn_hv_kv", t.vn_hv_kv);
        positive("transformer", t.id, "vn_lv_kv", t.vn_lv_kv);
        positive("transformer", t.id, "vk_percent", t.vk_percent);
        non_negative("transformer", t.id, "vkr_percent", t.vkr_percent);
        if (t.vkr_percent > t.vk_percent) throw ValidationError(where("transformer", t.id, "vkr_percent") + "must not exceed vk_percent");
        non_negative("transformer", t.id, "pfe_kw", t.pfe_kw);
        finite("transformer", t.id, "i0_percent", t.i0_percent);  // negative in pandapower's case118 conversion
        finite("transformer", t.id, "shift_degree", t.shift_degree);
        finite("transformer", t.id, "tap_step_percent", t.tap_step_percent);
        finite("transformer", t.id, "tap_step_degree", t.tap_step_degree);
        if (t.parallel < 1) throw ValidationError(where("transformer", t.id, "parallel") + "must be >= 1");
        positive("transformer", t.id, "df", t.df);
        if (t.tap_side != TapSide::None && t.tap_min > t.tap_max) throw ValidationError(where("transformer", t.id, "tap_min") + "exceeds tap_max");
        if (t.oltc) {
            if (t.tap_side == TapSide::None) throw ValidationError(where("transformer", t.id, "oltc") + "an on-load tap changer needs a tap_side");
            if (t.oltc_bus >= 0) bus_ref("transformer", t.id, "oltc_bus", t.oltc_bus);
            positive("transformer", t.id, "oltc_vm_pu", t.oltc_vm_pu);
            positive("transformer", t.id, "oltc_band_pu", t.oltc_band_pu);
        }
    }
    std::unordered_map<Id, std::size_t> line_ids, trafo_ids;
    for (std::size_t k = 0; k < lines.size(); ++k) line_ids[lines[k].id] = k;
    for (std::size_t k = 0; k < transformers.size(); ++k) trafo_ids[transformers[k].id] = k;
    for (const Switch& s : switches) {
        bus_ref("switch", s.id, "bus", s.bus);
        if (s.et == SwitchElement::Bus) bus_ref("switch", s.id, "element", s.element);
        else if (s.et == SwitchElement::Line) {
            if (!line_ids.count(s.element)) throw IdError("switch " + std::to_string(s.id) + ": field 'element': unknown line id " + std::to_string(s.element));
            const Line& l = lines[line_ids.at(s.element)];
            const bool ok = l.from_bus == s.bus || l.to_bus == s.bus;
            if (!ok) throw ValidationError("switch " + std::to_string(s.id) + ": field 'bus': bus " + std::to_string(s.bus) + " is not an end of line " + std::to_string(s.element));
        } else {
            if (!trafo_ids.count(s.element)) throw IdError("switch " + std::to_string(s.id) + ": field 'element': unknown transformer id " + std::to_string(s.element));
            const Transformer& t = transformers[trafo_ids.at(s.element)];
            const bool ok = t.hv_bus == s.bus || t.lv_bus == s.bus;
            if (!ok) throw ValidationError("switch " + std::to_string(s.id) + ": field 'bus': bus " + std::to_string(s.bus) + " is not an end of transformer " + std::to_string(s.element));
        }
    }
    for (const Shunt& s : shunts) {
        bus_ref("shunt", s.id, "bus", s.bus);
        finite("shunt", s.id, "p_mw", s.p_mw);
        finite("shunt", s.id, "q_mvar", s.q_mvar);
        if (s.step < 0 || s.step > std::max(s.max_step, 1)) throw ValidationError(where("shunt", s.id, "step") + "must be in [0, max_step]");
    }
    for (const Load& l : loads) {
        bus_ref("load", l.id, "bus", l.bus);
        finite("load", l.id, "p_mw", l.p_mw);
        finite("load", l.id, "q_mvar", l.q_mvar);
        non_negative("load", l.id, "scaling", l.scaling);
        for (double v : {l.const_z_p_percent, l.const_i_p_percent, l.const_z_q_percent, l.const_i_q_percent}) finite("load", l.id, "const_*_percent", v);
        if (l.const_z_p_percent + l.const_i_p_percent > 100.0 + 1e-9 || l.const_z_q_percent + l.const_i_q_percent > 100.0 + 1e-9)
            throw ValidationError(where("load", l.id, "const_z_p_percent") + "Z and I shares together exceed 100 %");
    }
    for (const Gen& g : gens) {
        bus_ref("gen", g.id, "bus", g.bus);
        finite("gen", g.id, "p_mw", g.p_mw);
        finite("gen", g.id, "q_mvar", g.q_mvar);
        positive("gen", g.id, "vm_pu", g.vm_pu);
        not_nan("gen", g.id, "min_q_mvar", g.min_q_mvar);
        not_nan("gen", g.id, "max_q_mvar", g.max_q_mvar);
    }
    for (const SGen& g : sgens) {
        bus_ref("sgen", g.id, "bus", g.bus);
        finite("sgen", g.id, "p_mw", g.p_mw);
        finite("sgen", g.id, "q_mvar", g.q_mvar);
        non_negative("sgen", g.id, "scaling", g.scaling);
    }
    for (const Storage& s : storage) {
        bus_ref("storage", s.id, "bus", s.bus);
        finite("storage", s.id, "p_mw", s.p_mw);
        finite("storage", s.id, "q_mvar", s.q_mvar);
        non_negative("storage", s.id, "scaling", s.scaling);
    }
    bool any_slack = false;
    for (const ExtGrid& e : ext_grids) {
        bus_ref("ext_grid", e.id, "bus", e.bus);
        positive("ext_grid", e.id, "vm_pu", e.vm_pu);
        finite("ext_grid", e.id, "va_degree", e.va_degree);
        any_slack = any_slack || e.in_service;
    }
    for (const Bus& b : buses) any_slack = any_slack || (b.type == BusType::Slack && b.in_service);
    if (!any_slack) throw ValidationError("network: no slack: add an ext_grid, or give one bus type 3 (slack) with a generator");
}

}  // namespace libgrid
