// libgrid model: the unbalanced network's helpers (model/unetwork.hpp): bus look-up, validation,
// sequence-to-phase conversion, Kron reduction, length units and load shapes at an hour.
#include <libgrid/model/unetwork.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

namespace libgrid {
namespace {

std::string lower(const std::string& s) {
    std::string out = s;
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

[[noreturn]] void invalid(const std::string& element, const std::string& field, const std::string& message) {
    throw ValidationError(element + ": field '" + field + "': " + message);
}

void check_finite(const std::string& element, const std::string& field, double v) {
    if (!std::isfinite(v)) invalid(element, field, "not a finite number");
}

void check_positive(const std::string& element, const std::string& field, double v) {
    check_finite(element, field, v);
    if (v <= 0.0) invalid(element, field, "must be > 0, is " + std::to_string(v));
}

void check_terminal(const UNetwork& net, const std::string& element, const std::string& field,
                    const UTerminal& t, std::size_t nconds) {
    if (t.bus < 0 || t.bus >= static_cast<int>(net.buses.size()))
        invalid(element, field, "bus index " + std::to_string(t.bus) + " out of range");
    if (t.nodes.size() != nconds)
        invalid(element, field,
                std::to_string(t.nodes.size()) + " nodes for " + std::to_string(nconds) + " conductors");
    for (int n : t.nodes)
        if (n < 0) invalid(element, field, "negative node number " + std::to_string(n));
}

void check_matrix(const std::string& element, const std::string& field, const std::vector<double>& m, int n) {
    if (m.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(n))
        invalid(element, field, std::to_string(m.size()) + " values for a " + std::to_string(n) + "x" +
                                    std::to_string(n) + " matrix");
    for (double v : m) check_finite(element, field, v);
}

void validate_lines(const UNetwork& net) {
    for (const ULine& l : net.lines) {
        const std::string e = "line." + l.name;
        if (l.nphases < 1) invalid(e, "nphases", "must be >= 1");
        check_terminal(net, e, "bus1", l.bus1, static_cast<std::size_t>(l.nphases));
        check_terminal(net, e, "bus2", l.bus2, static_cast<std::size_t>(l.nphases));
        check_matrix(e, "r_ohm_per_km", l.r_ohm_per_km, l.nphases);
        check_matrix(e, "x_ohm_per_km", l.x_ohm_per_km, l.nphases);
        check_matrix(e, "c_nf_per_km", l.c_nf_per_km, l.nphases);
        check_finite(e, "length_km", l.length_km);
        if (l.length_km < 0.0) invalid(e, "length_km", "must be >= 0");
    }
}

void validate_transformers(const UNetwork& net) {
    for (const UTransformer& t : net.transformers) {
        const std::string e = "transformer." + t.name;
        if (t.nphases < 1) invalid(e, "nphases", "must be >= 1");
        if (t.windings.size() < 2) invalid(e, "windings", "at least 2 windings needed");
        for (std::size_t w = 0; w < t.windings.size(); ++w) {
            const UWinding& wd = t.windings[w];
            const std::string f = "windings[" + std::to_string(w) + "].";
            const std::size_t nc = wd.delta ? static_cast<std::size_t>(t.nphases == 1 ? 2 : t.nphases)
                                            : static_cast<std::size_t>(t.nphases + 1);
            check_terminal(net, e, f + "bus", wd.bus, nc);
            check_positive(e, f + "kv", wd.kv);
            check_positive(e, f + "kva", wd.kva);
            check_finite(e, f + "r_pct", wd.r_pct);
            check_positive(e, f + "tap", wd.tap);
        }
        check_finite(e, "xhl_pct", t.xhl_pct);
        check_finite(e, "noload_loss_pct", t.noload_loss_pct);
        check_finite(e, "imag_pct", t.imag_pct);
    }
    for (const URegControl& r : net.regcontrols) {
        const std::string e = "regcontrol." + r.name;
        if (r.transformer < 0 || r.transformer >= static_cast<int>(net.transformers.size()))
            invalid(e, "transformer", "index out of range");
        const UTransformer& t = net.transformers[static_cast<std::size_t>(r.transformer)];
        if (r.winding < 1 || r.winding > static_cast<int>(t.windings.size()))
            invalid(e, "winding", "no winding " + std::to_string(r.winding));
        if (r.tap_winding < 0 || r.tap_winding > static_cast<int>(t.windings.size()))
            invalid(e, "tap_winding", "no winding " + std::to_string(r.tap_winding));
        check_positive(e, "vreg", r.vreg);
        check_positive(e, "ptratio", r.ptratio);
        check_positive(e, "ctprim", r.ctprim);
        check_finite(e, "band", r.band);
    }
}

void validate_shunts(const UNetwork& net) {
    for (const ULoad& l : net.loads) {
        const std::string e = "load." + l.name;
        if (l.nphases < 1) invalid(e, "nphases", "must be >= 1");
        const std::size_t nc = l.delta ? static_cast<std::size_t>(l.nphases == 1 ? 2 : l.nphases)
                                       : static_cast<std::size_t>(l.nphases + 1);
        check_terminal(net, e, "bus1", l.bus1, nc);
        check_positive(e, "kv", l.kv);
        check_finite(e, "kw", l.kw);
        check_finite(e, "kvar", l.kvar);
        if (l.model < 1 || l.model > 8) invalid(e, "model", "must be 1..8");
        if (l.model == 8 && l.zipv.size() != 7) invalid(e, "zipv", "7 values needed for model 8");
    }
    for (const UCapacitor& c : net.capacitors) {
        const std::string e = "capacitor." + c.name;
        const std::size_t nc = static_cast<std::size_t>(c.delta && c.nphases == 1 ? 2 : c.nphases);
        check_terminal(net, e, "bus1", c.bus1, nc);
        if (c.bus2.bus >= 0) check_terminal(net, e, "bus2", c.bus2, nc);
        check_positive(e, "kv", c.kv);
        if (c.kvar.empty() || c.kvar.size() != c.states.size()) invalid(e, "kvar", "one value and state per step");
        for (double k : c.kvar) check_finite(e, "kvar", k);
    }
    for (const UVsource& v : net.vsources) {
        const std::string e = "vsource." + v.name;
        check_terminal(net, e, "bus1", v.bus1, static_cast<std::size_t>(v.nphases));
        check_positive(e, "basekv", v.basekv);
        check_finite(e, "pu", v.pu);
        check_finite(e, "angle_deg", v.angle_deg);
        if (!std::isfinite(v.z1_ohm.real()) || !std::isfinite(v.z1_ohm.imag()) || std::abs(v.z1_ohm) == 0.0)
            invalid(e, "z1_ohm", "must be finite and not zero");
        if (!std::isfinite(v.z0_ohm.real()) || !std::isfinite(v.z0_ohm.imag())) invalid(e, "z0_ohm", "not finite");
    }
}

/// Added (h8): a CapControl's capacitor, monitored element ("line.x", "transformer.x",
/// "capacitor.x") and terminal, ratios and phases.
void validate_capcontrols(const UNetwork& net) {
    for (const UCapControl& c : net.capcontrols) {
        const std::string e = "capcontrol." + c.name;
        if (c.capacitor < 0 || c.capacitor >= static_cast<int>(net.capacitors.size()))
            invalid(e, "capacitor", "index out of range");
        const std::size_t dot = c.element.find('.');
        const std::string cls = dot == std::string::npos ? "" : c.element.substr(0, dot);
        const std::string nm = dot == std::string::npos ? "" : c.element.substr(dot + 1);
        int terminals = 0;
        auto has = [&nm](const auto& v) {
            return std::any_of(v.begin(), v.end(), [&nm](const auto& x) { return x.name == nm; });
        };
        if (cls == "line" && has(net.lines)) terminals = 2;
        else if (cls == "capacitor" && has(net.capacitors)) terminals = 1;
        else if (cls == "transformer") {
            for (const UTransformer& t : net.transformers)
                if (t.name == nm) terminals = static_cast<int>(t.windings.size());
        }
        if (terminals == 0 && c.type != UCapControlType::time)
            invalid(e, "element", "'" + c.element + "' is not a line, transformer or capacitor of the network");
        if (c.type != UCapControlType::time && (c.terminal < 1 || c.terminal > terminals))
            invalid(e, "terminal", "no terminal " + std::to_string(c.terminal));
        check_positive(e, "ptratio", c.ptratio);
        check_positive(e, "ctratio", c.ctratio);
        if (c.ptphase == 0 || c.ptphase < UCapControl::kMin) invalid(e, "ptphase", "must be 1.. or AVG, MAX, MIN");
        if (c.ctphase == 0 || c.ctphase < UCapControl::kMin) invalid(e, "ctphase", "must be 1.. or AVG, MAX, MIN");
        for (double x : {c.onsetting, c.offsetting, c.delay_s, c.delayoff_s, c.deadtime_s, c.vmax, c.vmin})
            check_finite(e, "settings", x);
    }
}

}  // namespace

bool UBus::operator==(const UBus& o) const {
    const bool same_base = (std::isnan(kv_base_ll) && std::isnan(o.kv_base_ll)) || kv_base_ll == o.kv_base_ll;
    return name == o.name && same_base && x == o.x && y == o.y && has_coords == o.has_coords && id == o.id && vmin_pu == o.vmin_pu &&
           vmax_pu == o.vmax_pu;
}

int UNetwork::find_bus(const std::string& name) const {
    const std::string key = lower(name);
    for (std::size_t i = 0; i < buses.size(); ++i)
        if (buses[i].name == key) return static_cast<int>(i);
    return -1;
}

int UNetwork::add_bus(const std::string& name) {
    const int found = find_bus(name);
    if (found >= 0) return found;
    UBus b;
    b.name = lower(name);
    buses.push_back(b);
    return static_cast<int>(buses.size()) - 1;
}

void UNetwork::validate() const {
    if (vsources.empty()) throw ValidationError("circuit " + name + ": field 'vsources': no source");
    validate_lines(*this);
    validate_transformers(*this);
    validate_shunts(*this);
    validate_capcontrols(*this);
    if (!(settings.base_frequency_hz > 0.0))
        throw ValidationError("settings: field 'base_frequency_hz': must be > 0");
}

std::vector<double> sequence_to_phase(double v1, double v0, int n) {
    if (n < 1) throw ValidationError("sequence_to_phase: field 'n': must be >= 1");
    const double s = (v0 + 2.0 * v1) / 3.0;
    const double m = (v0 - v1) / 3.0;
    const std::size_t un = static_cast<std::size_t>(n);
    std::vector<double> out(un * un, m);
    for (std::size_t i = 0; i < un; ++i) out[i * un + i] = s;
    return out;
}

std::vector<std::complex<double>> kron_reduce(const std::vector<std::complex<double>>& z, int n,
                                              const std::vector<int>& eliminate) {
    using C = std::complex<double>;
    const std::size_t un = static_cast<std::size_t>(n);
    if (n < 1 || z.size() != un * un) throw ValidationError("kron_reduce: field 'z': not an n x n matrix");
    std::vector<bool> gone(un, false);
    for (int e : eliminate) {
        if (e < 0 || e >= n) throw ValidationError("kron_reduce: field 'eliminate': index out of range");
        gone[static_cast<std::size_t>(e)] = true;
    }
    // Eliminate one conductor at a time: Z_ij -= Z_ik Z_kj / Z_kk (the same as the block formula).
    std::vector<C> m = z;
    for (std::size_t k = 0; k < un; ++k) {
        if (!gone[k]) continue;
        const C pivot = m[k * un + k];
        if (std::abs(pivot) == 0.0) throw ValidationError("kron_reduce: field 'z': zero pivot on an eliminated conductor");
        for (std::size_t i = 0; i < un; ++i) {
            if (i == k) continue;
            const C f = m[i * un + k] / pivot;
            for (std::size_t j = 0; j < un; ++j)
                if (j != k) m[i * un + j] -= f * m[k * un + j];
        }
    }
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < un; ++i)
        if (!gone[i]) keep.push_back(i);
    std::vector<C> out;
    out.reserve(keep.size() * keep.size());
    for (std::size_t i : keep)
        for (std::size_t j : keep) out.push_back(m[i * un + j]);
    return out;
}

double length_unit_to_km(const std::string& unit) {
    const std::string u = lower(unit);
    if (u == "none" || u.empty()) return 1.0;
    if (u == "mi") return 1.609344;
    if (u == "kft") return 0.3048;
    if (u == "km") return 1.0;
    if (u == "m") return 0.001;
    if (u == "ft") return 0.0003048;
    if (u == "in") return 0.0000254;
    if (u == "cm") return 0.00001;
    if (u == "mm") return 0.000001;
    throw ValidationError("length unit: field 'units': unknown unit '" + unit + "'");
}

namespace {

/// OpenDSS LoadShape.GetMult for a fixed interval (or the hour vector when interval is 0).
void shape_at(const ULoadShape& s, double hour, double& p, double& q, bool& has_q) {
    has_q = !s.qmult.empty();
    if (s.npts <= 0 || s.mult.empty()) throw IdError("loadshape." + s.name + ": no points");
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(s.npts), s.mult.size());
    std::size_t idx = 0;  // 0-based
    if (s.interval_h > 0.0) {
        const double nn = static_cast<double>(n);
        double k = std::fmod(std::round(hour / s.interval_h), nn);  // wraps past npts
        if (!std::isfinite(k)) throw ValidationError("loadshape." + s.name + ": field 'interval_h': no point at this hour");
        if (k < 0.0) k += nn;
        const std::size_t i = static_cast<std::size_t>(k);
        idx = i == 0 ? n - 1 : i - 1;
    } else {
        // hour vector: the last point at or before `hour` within the shape's period
        const double period = s.hour.empty() ? 24.0 : s.hour[std::min(n, s.hour.size()) - 1];
        double t = period > 0.0 ? std::fmod(hour, period) : hour;
        if (t < 0.0) t += period;
        for (std::size_t k = 0; k < std::min(n, s.hour.size()); ++k)
            if (s.hour[k] <= t + 1e-9) idx = k;
    }
    p = s.mult[idx];
    q = has_q && idx < s.qmult.size() ? s.qmult[idx] : p;
}

/// OpenDSS's built-in loadshape.default (Executive.pas: made with every circuit; 24 hourly points).
const ULoadShape& builtin_default_shape() {
    static const ULoadShape s{"default", 24, 1.0,
                              {.677, .6256, .6087, .5833, .58028, .6025, .657, .7477, .832, .88, .94, .989, .985, .98,
                               .9898, .999, 1, .958, .936, .913, .876, .876, .828, .756},
                              {}, {}, false};
    return s;
}

}  // namespace

void loadshape_at(const ULoadShape& shape, double hour, double& p, double& q, bool& has_q) { shape_at(shape, hour, p, q, has_q); }

const ULoadShape* load_shape_of(const UNetwork& net, const ULoad& l) {
    const std::string& name = !l.yearly.empty() ? l.yearly : l.daily;
    if (name.empty()) return nullptr;
    const std::string key = lower(name);
    for (const ULoadShape& s : net.loadshapes)
        if (s.name == key) return &s;
    if (key == "default") return &builtin_default_shape();
    throw IdError("load." + l.name + ": unknown loadshape '" + name + "'");
}

void apply_loadshapes_at(UNetwork& net, double hour) {
    for (ULoad& l : net.loads) {
        const ULoadShape* shape = load_shape_of(net, l);
        if (shape == nullptr) continue;
        double p = 1.0, q = 1.0;
        bool has_q = false;
        shape_at(*shape, hour, p, q, has_q);
        if (!shape->useactual) {
            l.kw = l.base_kw * p;
            l.kvar = l.base_kvar * q;
        } else {
            l.kw = p;
            l.kvar = has_q ? q : (l.base_kw != 0.0 ? p * l.base_kvar / l.base_kw : 0.0);
        }
    }
}

}  // namespace libgrid
