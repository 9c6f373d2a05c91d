// libgrid layer 8: scenario files (see scenario/scenario.hpp and docs/scenarios.md).
//
// Parsing: yaml-cpp gives every node a Mark (0-based line); each value is read through a MapReader that
// knows the dotted key of its map and the keys allowed there, so every error names file, line and key.
// Overrides edit the YAML tree of the original text and the whole tree is validated again.
//
// Building: customers of the Melaka generator (or one per load of a file network) get devices chosen by
// per-customer uniform numbers from the scenario seed (Rng streams keyed by device kind and customer
// id); defaults and assumptions are documented in docs/scenarios.md.
#include "libgrid/scenario/scenario.hpp"
#include "libgrid/scenario/cost_catalogue.hpp"
#include "scenario_text.hpp"

#include "libgrid/core/errors.hpp"
#include "libgrid/core/input_file.hpp"
#include "libgrid/io/network_io.hpp"
#include "libgrid/powerflow/ustepper.hpp"
#include "libgrid/profiles/rng.hpp"
#include "libgrid/profiles/solar.hpp"
#include "libgrid/profiles/time_series.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace libgrid {

namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// Shortest text that reads back to the same double.
std::string num(double x) {
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
    return s;
}

using scenario_text::did_you_mean;

/// What a node holds, for "got ..." in messages.
std::string got(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsMap()) return "a map";
    if (n.IsSequence()) return "a list";
    return "'" + n.Scalar() + "'";
}

bool parse_double(const std::string& text, double& out) {
    std::string s = text;
    if (!s.empty() && s[0] == '+') s.erase(0, 1);
    if (s.empty()) return false;
    const char* b = s.data();
    const char* e = b + s.size();
    auto r = std::from_chars(b, e, out);
    return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
}

bool parse_int64(const std::string& text, std::int64_t& out) {
    std::string s = text;
    if (!s.empty() && s[0] == '+') s.erase(0, 1);
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_uint64(const std::string& text, std::uint64_t& out) {
    std::string s = text;
    if (!s.empty() && s[0] == '+') s.erase(0, 1);
    if (s.empty() || s[0] == '-') return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

template <class E>
struct Word {
    const char* word;
    E value;
};

const std::vector<Word<GridSize>> kGridSizes{{"small", GridSize::Small}, {"district", GridSize::District}, {"city", GridSize::City}};
const std::vector<Word<CustomerType>> kCustomerTypes{
    {"terrace_house", CustomerType::TerraceHouse}, {"shophouse", CustomerType::Shophouse}, {"office", CustomerType::Office},
    {"mall", CustomerType::Mall},                  {"hotel", CustomerType::Hotel},         {"industry", CustomerType::Industry},
    {"charging_site", CustomerType::ChargingSite}};
const std::vector<Word<PvControl>> kPvControls{{"unity", PvControl::Unity},
                                               {"fixed_pf", PvControl::FixedPF},
                                               {"volt_var", PvControl::VoltVar},
                                               {"volt_watt", PvControl::VoltWatt},
                                               {"volt_var_volt_watt", PvControl::VoltVarVoltWatt}};
const std::vector<Word<BatteryStrategy>> kBatteryStrategies{{"idle", BatteryStrategy::Idle},
                                                            {"self_consumption", BatteryStrategy::SelfConsumption},
                                                            {"peak_shaving", BatteryStrategy::PeakShaving},
                                                            {"tou_arbitrage", BatteryStrategy::TouArbitrage},
                                                            {"pv_smoothing", BatteryStrategy::PvSmoothing}};
const std::vector<Word<EvStrategy>> kEvStrategies{{"uncontrolled", EvStrategy::Uncontrolled},
                                                  {"delayed_off_peak", EvStrategy::DelayedOffPeak},
                                                  {"pv_following", EvStrategy::PvFollowing},
                                                  {"edf", EvStrategy::PowerLimitedEDF},
                                                  {"llf", EvStrategy::PowerLimitedLLF},
                                                  {"round_robin", EvStrategy::PowerLimitedRoundRobin},
                                                  {"spread", EvStrategy::Spread},
                                                  {"grid_aware", EvStrategy::GridAware}};
const std::vector<Word<EvStrategy>> kEvGridOrders{{"edf", EvStrategy::PowerLimitedEDF}, {"llf", EvStrategy::PowerLimitedLLF}};
const std::vector<Word<ChargerKind>> kSiteChargerKinds{
    {"workplace", ChargerKind::Workplace}, {"public_ac", ChargerKind::PublicAC}, {"dc_fast", ChargerKind::DCFast}};
const std::vector<Word<BemsMode>> kBemsModes{{"fixed", BemsMode::Fixed},
                                             {"precool", BemsMode::PreCool},
                                             {"demand_response", BemsMode::DemandResponse},
                                             {"precool_demand_response", BemsMode::PreCoolAndDemandResponse}};
const std::vector<Word<SolarThermalUse>> kSolarThermal{
    {"none", SolarThermalUse::None}, {"cooling", SolarThermalUse::Cooling}, {"water_heating", SolarThermalUse::WaterHeating}};
const std::vector<Word<ExportScheme>> kExportSchemes{{"none", ExportScheme::None}, {"nem", ExportScheme::NEM}, {"atap", ExportScheme::SolarATAP}};
const std::vector<Word<PartialMonths>> kPartialMonths{{"flag", PartialMonths::Flag}, {"prorate", PartialMonths::Prorate}};
const std::vector<Word<SiteHolidays>> kSiteHolidays{{"melaka", SiteHolidays::Melaka}, {"none", SiteHolidays::None}};
const std::vector<Word<Method>> kMethods{{"auto", Method::Auto}, {"nr", Method::NewtonRaphson}, {"sweep", Method::Sweep}};
const std::vector<Word<LinearSolverKind>> kLinearSolvers{
    {"default", LinearSolverKind::Default}, {"klu", LinearSolverKind::KLU}, {"sparselu", LinearSolverKind::SparseLU}};

template <class E>
std::string word_of(const std::vector<Word<E>>& table, E v) {
    for (const auto& w : table)
        if (w.value == v) return w.word;
    return "?";
}
template <class E>
std::vector<std::string> words(const std::vector<Word<E>>& table) {
    std::vector<std::string> v;
    for (const auto& w : table) v.emplace_back(w.word);
    return v;
}

// ---------------------------------------------------------------------------------------------
// Error context and map reader
// ---------------------------------------------------------------------------------------------

struct Ctx {
    std::string file;                        ///< for messages
    std::filesystem::path base_dir;          ///< relative file names resolve here
    std::vector<std::string> override_keys;  ///< dotted keys set by override_key
    /// The site's clock (key site.utc_offset_h), set by read_site, the first reader: a time
    /// written with a zone (`...Z`, `+01:00`) becomes this local clock.
    mutable double utc_offset_h = kMelakaUtcOffsetH;

    /// Throws: a ValidationError naming the override when `key` lies on an override's path, else a
    /// ParseError with the node's line.
    [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& msg) const {
        for (auto it = override_keys.rbegin(); it != override_keys.rend(); ++it) {
            const std::string& o = *it;
            const bool related = key == o || key.rfind(o + ".", 0) == 0 || o.rfind(key + ".", 0) == 0;
            if (related)
                throw ValidationError("scenario " + file + ": override '" + o + "': key '" + key + "': " + msg);
        }
        long line = 0;
        if (node.IsDefined() && !node.Mark().is_null()) line = node.Mark().line + 1;
        throw ParseError(file, line, "key '" + key + "': " + msg);
    }

    std::string resolve(const std::string& name) const {
        std::filesystem::path p(name);
        if (p.is_relative()) p = base_dir / p;
        std::error_code ec;
        std::filesystem::path a = std::filesystem::absolute(p, ec);
        return (ec ? p : a).lexically_normal().string();
    }
};

struct Range {
    double lo = -kInf, hi = kInf;
    bool lo_open = false, hi_open = false;
    bool ok(double x) const { return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi); }
    std::string text(const char* what = "a number") const {
        std::string s = what;
        if (std::isinf(lo) && std::isinf(hi)) return s;
        if (std::isinf(hi)) return s + (lo_open ? " > " : " >= ") + num(lo);
        if (std::isinf(lo)) return s + (hi_open ? " < " : " <= ") + num(hi);
        return s + " in " + (lo_open ? "(" : "[") + num(lo) + ", " + num(hi) + (hi_open ? ")" : "]");
    }
};
Range closed(double lo, double hi) { return Range{lo, hi, false, false}; }
Range at_least(double lo) { return Range{lo, kInf, false, false}; }
Range left_open(double lo, double hi) { return Range{lo, hi, true, false}; }
Range right_open(double lo, double hi) { return Range{lo, hi, false, true}; }
const Range kShare = closed(0.0, 1.0);

class MapReader {
public:
    /// `node` may be undefined or null (all defaults); else it must be a map whose keys are in `allowed`.
    MapReader(const Ctx& ctx, const YAML::Node& node, std::string prefix, std::vector<std::string> allowed)
        : ctx_(ctx), node_(node), prefix_(std::move(prefix)), allowed_(std::move(allowed)) {
        if (!node.IsDefined() || node.IsNull()) return;
        if (!node.IsMap()) ctx_.fail(node, prefix_.empty() ? "<top level>" : prefix_, "expected a map of keys, got " + got(node));
        for (auto it = node.begin(); it != node.end(); ++it) {
            // A copy: `it->first` is a member of a temporary (yaml-cpp's iterator proxy); a reference
            // to it dangles at the end of this statement (ASan: stack-use-after-scope).
            const YAML::Node k = it->first;
            if (!k.IsScalar()) ctx_.fail(k, prefix_.empty() ? "<top level>" : prefix_, "keys must be plain words, got " + got(k));
            const std::string name = k.Scalar();
            if (std::find(allowed_.begin(), allowed_.end(), name) == allowed_.end())
                ctx_.fail(k, key(name), "unknown key" + did_you_mean(name, allowed_) + "; allowed here: " + join(allowed_));
            for (const auto& e : entries_)
                if (e.first == name) ctx_.fail(k, key(name), "duplicate key");
            entries_.emplace_back(name, it->second);
            key_nodes_.push_back(k);
        }
    }

    std::string key(const std::string& k) const { return prefix_.empty() ? k : prefix_ + "." + k; }
    const Ctx& ctx() const { return ctx_; }
    const YAML::Node& node() const { return node_; }

    bool has(const std::string& k) const {
        for (const auto& e : entries_)
            if (e.first == k) return true;
        return false;
    }
    YAML::Node get(const std::string& k) const {
        for (const auto& e : entries_)
            if (e.first == k) return e.second;
        return YAML::Node();
    }
    /// The key's own node (its line), or the map's when absent.
    YAML::Node where(const std::string& k) const {
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i].first == k) return key_nodes_[i];
        return node_;
    }
    [[noreturn]] void fail(const std::string& k, const std::string& msg) const {
        YAML::Node n = get(k);
        ctx_.fail(n.IsDefined() ? n : where(k), key(k), msg);
    }

    std::string scalar(const std::string& k, const std::string& expected) const {
        YAML::Node n = get(k);
        if (!n.IsScalar()) fail(k, "expected " + expected + ", got " + got(n));
        return n.Scalar();
    }

    void number(const std::string& k, double& out, const Range& r) const {
        if (!has(k)) return;
        const std::string s = scalar(k, r.text());
        double x = 0;
        if (!parse_double(s, x) || !r.ok(x)) fail(k, "expected " + r.text() + ", got '" + s + "'");
        out = x;
    }
    template <class I>
    void integer(const std::string& k, I& out, std::int64_t lo, std::int64_t hi) const {
        if (!has(k)) return;
        const std::string what = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        const std::string s = scalar(k, what);
        std::int64_t x = 0;
        if (!parse_int64(s, x) || x < lo || x > hi) fail(k, "expected " + what + ", got '" + s + "'");
        out = static_cast<I>(x);
    }
    void seed(const std::string& k, std::uint64_t& out, bool* given = nullptr) const {
        if (!has(k)) return;
        const char* what = "an integer in [0, 18446744073709551615]";
        const std::string s = scalar(k, what);
        std::uint64_t x = 0;
        if (!parse_uint64(s, x)) fail(k, std::string("expected ") + what + ", got '" + s + "'");
        out = x;
        if (given) *given = true;
    }
    void boolean(const std::string& k, bool& out) const {
        if (!has(k)) return;
        const std::string s = scalar(k, "true or false");
        if (s == "true") out = true;
        else if (s == "false") out = false;
        else fail(k, "expected true or false, got '" + s + "'");
    }
    void string(const std::string& k, std::string& out) const {
        if (!has(k)) return;
        out = scalar(k, "a string");
    }
    template <class E>
    void word(const std::string& k, E& out, const std::vector<Word<E>>& table) const {
        if (!has(k)) return;
        const auto allowed = words(table);
        const std::string s = scalar(k, "one of " + join(allowed));
        for (const auto& w : table)
            if (s == w.word) {
                out = w.value;
                return;
            }
        fail(k, "unknown value '" + s + "'" + did_you_mean(s, allowed) + "; allowed: " + join(allowed));
    }

private:
    const Ctx& ctx_;
    YAML::Node node_;
    std::string prefix_;
    std::vector<std::string> allowed_;
    std::vector<std::pair<std::string, YAML::Node>> entries_;
    std::vector<YAML::Node> key_nodes_;
};

/// "15min", "1h", "30s", "900" (seconds) -> seconds; false when not of that form.
bool parse_step(const std::string& text, std::int64_t& seconds) {
    std::size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0) return false;
    std::int64_t n = 0;
    if (!parse_int64(text.substr(0, i), n)) return false;
    std::string unit = text.substr(i);
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    std::int64_t mult = 0;
    if (unit.empty() || unit == "s") mult = 1;
    else if (unit == "min") mult = 60;
    else if (unit == "h") mult = 3600;
    else return false;
    if (n > std::numeric_limits<std::int64_t>::max() / mult) return false;
    seconds = n * mult;
    return true;
}

using scenario_text::step_text;

/// "1y", "2w", "7d", "48h", "90min" -> (n, unit).
bool parse_duration(const std::string& text, std::int64_t& n, std::string& unit) {
    std::size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0 || !parse_int64(text.substr(0, i), n) || n < 1) return false;
    unit = text.substr(i);
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    return unit == "y" || unit == "w" || unit == "d" || unit == "h" || unit == "min";
}

void customer_types(const MapReader& m, const std::string& k, std::vector<CustomerType>& out,
                    const std::vector<CustomerType>& not_allowed, const std::string& why) {
    if (!m.has(k)) return;
    YAML::Node n = m.get(k);
    const auto allowed = words(kCustomerTypes);
    if (!n.IsSequence()) m.fail(k, "expected a list of customer types (" + join(allowed) + "), got " + got(n));
    std::vector<CustomerType> v;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const YAML::Node e = n[i];
        const std::string ek = m.key(k) + "." + std::to_string(i);
        if (!e.IsScalar()) m.ctx().fail(e, ek, "expected a customer type, got " + got(e));
        bool found = false;
        for (const auto& w : kCustomerTypes)
            if (e.Scalar() == w.word) {
                found = true;
                if (std::find(not_allowed.begin(), not_allowed.end(), w.value) != not_allowed.end())
                    m.ctx().fail(e, ek, "'" + e.Scalar() + "' is not allowed here: " + why);
                if (std::find(v.begin(), v.end(), w.value) != v.end()) m.ctx().fail(e, ek, "'" + e.Scalar() + "' appears twice");
                v.push_back(w.value);
            }
        if (!found)
            m.ctx().fail(e, ek, "unknown customer type '" + e.Scalar() + "'" + did_you_mean(e.Scalar(), allowed) + "; allowed: " + join(allowed));
    }
    out = std::move(v);
}

/// A number, or a word standing for a special value (e.g. "generator" -> -1, "none" -> inf).
void number_or_word(const MapReader& m, const std::string& k, double& out, const Range& r, const char* word, double word_value) {
    if (!m.has(k)) return;
    const std::string what = r.text() + " or '" + word + "'";
    const std::string s = m.scalar(k, what);
    if (s == word) {
        out = word_value;
        return;
    }
    double x = 0;
    if (!parse_double(s, x) || !r.ok(x)) m.fail(k, "expected " + what + ", got '" + s + "'");
    out = x;
}

void time_value(const MapReader& m, const std::string& k, LocalTime& out) {
    if (!m.has(k)) return;
    const std::string s = m.scalar(k, "a date-time (ISO 8601, e.g. 2025-01-01 or 2025-03-03T14:00)");
    std::string why;
    LocalTime t = 0;
    if (!try_parse_iso8601(s, t, &why, m.ctx().utc_offset_h)) m.fail(k, "expected a date-time (ISO 8601, e.g. 2025-01-01 or 2025-03-03T14:00), got '" + s + "': " + why);
    out = t;
}

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

const std::vector<std::string> kNetworkGeneratorKeys{"generator", "size", "seed", "substations", "feeders_per_substation",
                                                     "transformers_per_feeder", "customers_per_transformer", "charging_sites",
                                                     "normally_open_ties", "lv_vmin_pu", "lv_vmax_pu", "mv_vmin_pu", "mv_vmax_pu",
                                                     "distribution_tap_pos", "phases"};
const std::vector<std::string> kNetworkFileKeys{"file", "customer_type", "load_factor", "roof_m2_per_kw"};
const std::vector<std::string> kNetworkCommonKeys{"ext_grid_sk_mva", "ext_grid_rx_ratio", "model"};
const std::vector<std::string> kWeatherModelKeys{"model", "mean_daily_ghi_kwh_m2", "temp_min_c", "temp_max_c", "seed"};
const std::vector<std::string> kWeatherFileKeys{"file"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// network.ext_grid_sk_mva (a number > 0, or inf) and ext_grid_rx_ratio: every ext grid's source impedance.
void read_ext_grid_keys(const MapReader& m, ScenarioNetwork& n) {
    if (m.has("ext_grid_sk_mva")) {
        const std::string s = m.scalar("ext_grid_sk_mva", "a number > 0 or inf");
        n.has_ext_grid_sk_mva = true;
        if (s == "inf" || s == ".inf") n.ext_grid_sk_mva = kInf;
        else m.number("ext_grid_sk_mva", n.ext_grid_sk_mva, Range{0.0, kInf, true, false});
    }
    n.has_ext_grid_rx_ratio = m.has("ext_grid_rx_ratio");
    m.number("ext_grid_rx_ratio", n.ext_grid_rx_ratio, closed(0.0, 100.0));
}

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Issue 15: keys that do not fit an OpenDSS network (its loads follow their own LoadShapes, its
/// source impedance is the script's Vsource).
void refuse_dss_keys(const MapReader& m) {
    if (m.has("load_factor"))
        m.fail("load_factor", "does not apply to a .dss network: its loads follow their own LoadShapes (daily=/yearly= in the script)");
    for (const char* k : {"ext_grid_sk_mva", "ext_grid_rx_ratio"})
        if (m.has(k))
            m.fail(k, "does not apply to a .dss network: its source impedance is the script's Vsource (MVAsc3/MVAsc1, Isc3/Isc1 or Z1/Z0)");
}

/// Issue 15: network.model: "balanced" or "unbalanced"; a file's kind fixes it (.dss unbalanced, .m/.json balanced).
void read_model(const MapReader& m, ScenarioNetwork& n) {
    const std::vector<std::string> allowed{"balanced", "unbalanced"};
    n.model = n.from_file ? (n.dss ? "unbalanced" : "balanced") : scenario_default_model();
    if (!m.has("model")) return;
    const std::string v = m.scalar("model", "balanced or unbalanced");
    if (v != "balanced" && v != "unbalanced")
        m.fail("model", "unknown value '" + v + "'" + did_you_mean(v, allowed) + "; allowed: balanced, unbalanced");
    if (n.from_file && v != n.model)
        m.fail("model", n.dss ? "an OpenDSS (.dss) network is unbalanced only; give 'unbalanced' or leave it out"
                              : "a MATPOWER (.m) or libgrid (.json) network is balanced only; give 'balanced' or leave it out");
    n.model = v;
}

/// Issue 15: network.phases (the unbalanced Melaka's MelakaPhaseOptions; docs/scenarios.md, "network").
void read_network_phases(const MapReader& net, ScenarioNetwork& n, const Ctx& ctx) {
    if (!net.has("phases")) return;
    if (!n.unbalanced())
        net.fail("phases", "applies to the unbalanced model (network.model: unbalanced); this network's model is '" + n.model + "'");
    MapReader m(ctx, net.get("phases"), "network.phases", {"seed", "imbalance", "rephase", "customer_earth_ohm", "substation_earth_ohm", "neutral"});
    MelakaPhaseOptions& p = n.phases;
    m.seed("seed", p.seed, &n.has_phases_seed);
    m.number("imbalance", p.imbalance, kShare);
    m.number("customer_earth_ohm", p.convert.customer_earth_ohm, closed(0.0, 1e6));
    m.number("substation_earth_ohm", p.convert.substation_earth_ohm, closed(0.0, 1e6));
    m.boolean("neutral", p.convert.model_neutral);
    if (!m.has("rephase")) return;
    const YAML::Node r = m.get("rephase");
    if (!r.IsMap()) m.fail("rephase", "expected a map of customer id -> phase (a, b or c), e.g. {12: b}, got " + got(r));
    p.rephase.clear();
    for (auto it = r.begin(); it != r.end(); ++it) {
        const YAML::Node k = it->first, v = it->second;
        std::int64_t id = 0;
        const std::string ks = k.IsScalar() ? k.Scalar() : "";
        if (!k.IsScalar() || !parse_int64(ks, id) || id < 0)
            ctx.fail(k, m.key("rephase"), "expected a customer id (an integer >= 0) as the key, got " + got(k));
        const std::string ek = m.key("rephase") + "." + ks;
        const std::string ph = v.IsScalar() ? lower(v.Scalar()) : "";
        if (ph != "a" && ph != "b" && ph != "c") ctx.fail(v, ek, "expected the phase a, b or c, got " + got(v));
        if (!p.rephase.emplace(Id(id), ph).second) ctx.fail(k, ek, "customer " + ks + " appears twice");
    }
}

void read_network(const MapReader& top, ScenarioNetwork& n, const Ctx& ctx) {
    MapReader m(ctx, top.get("network"), "network", concat(concat(kNetworkGeneratorKeys, kNetworkFileKeys), kNetworkCommonKeys));
    n.from_file = m.has("file");
    if (n.from_file) {
        for (const auto& k : kNetworkGeneratorKeys)
            if (m.has(k)) m.fail(k, "belongs to a generated network; this network comes from 'file' (give one or the other)");
        std::string f;
        m.string("file", f);
        if (f.empty()) m.fail("file", "expected a file name, got nothing");
        n.file_path = ctx.resolve(f);
        if (const std::string why = input_file_problem(n.file_path); !why.empty()) m.fail("file", why + ": " + n.file_path);
        const std::string ext = std::filesystem::path(n.file_path).extension().string();
        n.dss = lower(ext) == ".dss";
        if (ext != ".m" && ext != ".json" && !n.dss)
            m.fail("file", "expected a .m (MATPOWER), .json (libgrid) or .dss (OpenDSS) network, got '" + f + "'");
        if (n.dss) refuse_dss_keys(m);
        read_model(m, n);
        read_ext_grid_keys(m, n);
        m.word("customer_type", n.customer_type, kCustomerTypes);
        if (n.customer_type == CustomerType::ChargingSite) m.fail("customer_type", "charging_site is not a load type; use devices.ev.public_sites.buses");
        m.number("load_factor", n.load_factor, left_open(0.0, 1.0));
        m.number("roof_m2_per_kw", n.roof_m2_per_kw, closed(0.0, 1000.0));
        return;
    }
    read_ext_grid_keys(m, n);
    for (const auto& k : kNetworkFileKeys)
        if (m.has(k)) m.fail(k, "belongs to a network from a file; this network is generated (give 'file' or 'generator')");
    if (m.has("generator")) {
        const std::string g = m.scalar("generator", "melaka");
        if (g != "melaka") m.fail("generator", "unknown generator '" + g + "'; allowed: melaka");
    }
    m.word("size", n.size, kGridSizes);
    m.seed("seed", n.seed, &n.has_seed);
    m.integer("substations", n.substations, 1, 1000);
    m.integer("feeders_per_substation", n.feeders_per_substation, 1, 100);
    m.integer("transformers_per_feeder", n.transformers_per_feeder, 1, 200);
    m.integer("customers_per_transformer", n.customers_per_transformer, 1, 1000);
    m.integer("charging_sites", n.charging_sites, 0, 10000);
    m.boolean("normally_open_ties", n.normally_open_ties);
    m.number("lv_vmin_pu", n.lv_vmin_pu, closed(0.5, 1.0));
    m.number("lv_vmax_pu", n.lv_vmax_pu, closed(1.0, 1.5));
    m.number("mv_vmin_pu", n.mv_vmin_pu, closed(0.5, 1.0));
    m.number("mv_vmax_pu", n.mv_vmax_pu, closed(1.0, 1.5));
    m.integer("distribution_tap_pos", n.distribution_tap_pos, -2, 2);
    read_model(m, n);
    read_network_phases(m, n, ctx);
}

void read_horizon(const MapReader& top, ScenarioHorizon& h, const Ctx& ctx) {
    MapReader m(ctx, top.get("horizon"), "horizon", {"start", "step", "duration", "steps"});
    time_value(m, "start", h.start);
    if (m.has("step")) {
        const std::string s = m.scalar("step", "a time step (e.g. 15min, 1h, 900)");
        std::int64_t sec = 0;
        if (!parse_step(s, sec)) m.fail("step", "expected a time step (e.g. 15min, 30min, 1h or seconds), got '" + s + "'");
        if (sec < 60 || sec > 3600 || 3600 % sec != 0)
            m.fail("step", "expected a step of 60 s to 1 h that divides an hour (1min, 5min, 15min, 30min, 1h, ...), got '" + s + "'");
        h.step_s = sec;
    }
    if (m.has("duration") && m.has("steps")) m.fail("steps", "give either 'duration' or 'steps', not both");
    if (h.start % h.step_s != 0) m.fail(m.has("start") ? "start" : "step", "the start " + format_iso8601(h.start) + " is not a multiple of the step (" + step_text(h.step_s) + ")");
    if (m.has("steps")) {
        h.by_steps = true;
        m.integer("steps", h.n_steps, 1, 100000000);
        h.duration = "1d";
        return;
    }
    h.by_steps = false;
    if (m.has("duration")) h.duration = m.scalar("duration", "a duration (e.g. 1y, 7d, 24h)");
    std::int64_t n = 0;
    std::string unit;
    if (!parse_duration(h.duration, n, unit)) m.fail("duration", "expected a duration: a whole number and y, w, d, h or min (e.g. 1y, 7d, 24h), got '" + h.duration + "'");
    h.duration = std::to_string(n) + unit;
    std::int64_t seconds = 0;
    if (unit == "y") {
        if (n > 100) m.fail("duration", "expected at most 100 years, got '" + h.duration + "'");
        const CivilTime c = to_civil(h.start);
        if (c.month == 2 && c.day == 29) m.fail("duration", "a duration in years needs a start other than 29 February");
        seconds = from_civil(c.year + int(n), c.month, c.day, c.hour, c.minute, c.second) - h.start;
    } else {
        const std::int64_t mult = unit == "w" ? 7 * 86400 : unit == "d" ? 86400 : unit == "h" ? 3600 : 60;
        if (n > 100LL * 366 * 86400 / mult) m.fail("duration", "expected at most 100 years, got '" + h.duration + "'");
        seconds = n * mult;
    }
    if (seconds % h.step_s != 0) m.fail("duration", "'" + h.duration + "' is not a whole number of steps of " + step_text(h.step_s));
    h.n_steps = std::size_t(seconds / h.step_s);
}

/// Issue 19: the place (docs/scenarios.md "site"); read before any time, which is on its clock.
void read_site(const MapReader& top, ScenarioSite& site, const Ctx& ctx) {
    MapReader m(ctx, top.get("site"), "site", {"latitude_deg", "longitude_deg", "utc_offset_h", "altitude_m", "holidays"});
    m.number("latitude_deg", site.latitude_deg, closed(-90.0, 90.0));
    m.number("longitude_deg", site.longitude_deg, closed(-180.0, 180.0));
    m.number("utc_offset_h", site.utc_offset_h, closed(-14.0, 14.0));
    if (m.has("utc_offset_h") && std::fmod(site.utc_offset_h * 4.0, 1.0) != 0.0)
        m.fail("utc_offset_h", "expected whole quarter hours (e.g. 8, 5.5, -3.75), got " + num(site.utc_offset_h));
    m.number("altitude_m", site.altitude_m, closed(-500.0, 9000.0));
    m.word("holidays", site.holidays, kSiteHolidays);
    ctx.utc_offset_h = site.utc_offset_h;
}

void read_weather(const MapReader& top, ScenarioWeather& w, const Ctx& ctx) {
    MapReader m(ctx, top.get("weather"), "weather", concat(kWeatherModelKeys, kWeatherFileKeys));
    w.from_file = m.has("file");
    if (w.from_file) {
        for (const auto& k : kWeatherModelKeys)
            if (m.has(k)) m.fail(k, "belongs to the weather model; this weather comes from 'file' (give one or the other)");
        std::string f;
        m.string("file", f);
        if (f.empty()) m.fail("file", "expected a file name, got nothing");
        w.file_path = ctx.resolve(f);
        if (const std::string why = input_file_problem(w.file_path); !why.empty()) m.fail("file", why + ": " + w.file_path);
        return;
    }
    if (m.has("model")) {
        const std::string g = m.scalar("model", "melaka");
        if (g != "melaka") m.fail("model", "unknown weather model '" + g + "'; allowed: melaka");
    }
    m.number("mean_daily_ghi_kwh_m2", w.mean_daily_ghi_kwh_m2, closed(1.0, 8.0));
    m.number("temp_min_c", w.temp_min_c, closed(-20.0, 45.0));
    m.number("temp_max_c", w.temp_max_c, closed(-20.0, 55.0));
    if (!(w.temp_max_c > w.temp_min_c))
        m.fail(m.has("temp_max_c") ? "temp_max_c" : "temp_min_c", "the mean daily maximum (" + num(w.temp_max_c) + " degC) must exceed the minimum (" + num(w.temp_min_c) + " degC)");
    m.seed("seed", w.seed, &w.has_seed);
}

void read_profiles(const MapReader& top, ScenarioProfiles& p, const Ctx& ctx, bool dss) {
    MapReader m(ctx, top.get("profiles"), "profiles", {"residential_daily_kwh", "commercial_scale", "industrial_scale", "power_factor"});
    if (dss)
        for (const char* k : {"residential_daily_kwh", "commercial_scale", "industrial_scale", "power_factor"})
            if (m.has(k)) m.fail(k, "does not apply to a .dss network: its loads follow their own LoadShapes (daily=/yearly= in the script)");
    m.number("residential_daily_kwh", p.residential_daily_kwh, closed(0.0, 1000.0));
    m.number("commercial_scale", p.commercial_scale, closed(0.0, 100.0));
    m.number("industrial_scale", p.industrial_scale, closed(0.0, 100.0));
    m.number("power_factor", p.power_factor, left_open(0.0, 1.0));
}

/// Issue 15: a device kind's `phases` (unbalanced networks only), checked with parse_phases.
void read_phases(const MapReader& m, std::string& out, bool unbalanced) {
    if (!m.has("phases")) return;
    const std::string v = m.scalar("phases", "phases: a, b, c, ab, bc, ca or abc");
    if (!unbalanced)
        m.fail("phases", "applies to unbalanced networks (network.model: unbalanced, or a .dss network.file); this network is balanced");
    try {
        (void)parse_phases(v, m.key("phases"));
    } catch (const ValidationError&) {
        m.fail("phases", "expected a, b, c, ab, bc, ca or abc (each phase to neutral; empty = the customer's phases), got '" + v + "'");
    }
    out = lower(v);
}

/// Issue 15: a device kind's `customers` (load names of a .dss network) instead of its `share`.
void read_customers(const MapReader& m, std::vector<std::string>& out, bool dss) {
    if (!m.has("customers")) return;
    if (!dss) m.fail("customers", "names loads of a .dss network; on this network devices go to a 'share' of the customers");
    if (m.has("share")) m.fail("customers", "give either 'share' or 'customers', not both");
    const YAML::Node n = m.get("customers");
    if (!n.IsSequence()) m.fail("customers", "expected a list of load names (the script's Load.<name>), got " + got(n));
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string ek = m.key("customers") + "." + std::to_string(i);
        if (!n[i].IsScalar() || n[i].Scalar().empty()) m.ctx().fail(n[i], ek, "expected a load name, got " + got(n[i]));
        const std::string name = lower(n[i].Scalar());
        if (std::find(out.begin(), out.end(), name) != out.end()) m.ctx().fail(n[i], ek, "load '" + name + "' appears twice");
        out.push_back(name);
    }
}

void read_pv(const MapReader& dev, ScenarioPv& pv, const Ctx& ctx, bool dss, bool unb) {
    MapReader m(ctx, dev.get("pv"), dev.key("pv"),
                {"share", "types", "kwp_per_m2", "dc_ac_ratio", "cap", "tilt_deg", "azimuth_deg", "control", "pf", "phases", "customers"});
    read_phases(m, pv.phases, unb);
    read_customers(m, pv.customers, dss);
    m.number("share", pv.share, kShare);
    customer_types(m, "types", pv.types, {CustomerType::ChargingSite}, "charging sites get their canopy from devices.ev.public_sites.pv_kwp");
    m.number("kwp_per_m2", pv.kwp_per_m2, left_open(0.0, 0.25));
    m.number("dc_ac_ratio", pv.dc_ac_ratio, closed(0.8, 2.0));
    if (m.has("cap")) {
        const std::string s = m.scalar("cap", "atap or none");
        if (s == "atap") pv.cap_atap = true;
        else if (s == "none") pv.cap_atap = false;
        else m.fail("cap", "unknown value '" + s + "'" + did_you_mean(s, {"atap", "none"}) + "; allowed: atap, none");
    }
    m.number("tilt_deg", pv.tilt_deg, closed(0.0, 90.0));
    m.number("azimuth_deg", pv.azimuth_deg, right_open(0.0, 360.0));
    m.word("control", pv.control, kPvControls);
    if (m.has("pf")) {
        double pf = 0;
        m.number("pf", pf, closed(-1.0, 1.0));
        if (std::abs(pf) < 0.5) m.fail("pf", "expected a power factor with 0.5 <= |pf| <= 1 (negative absorbs reactive power), got '" + num(pf) + "'");
        pv.pf = pf;
    }
}

void read_battery(const MapReader& dev, ScenarioBattery& b, const Ctx& ctx, bool dss, bool unb) {
    MapReader m(ctx, dev.get("battery"), dev.key("battery"),
                {"share", "kwh_per_kwp", "kw_per_kwh", "strategy", "peak_limit_fraction", "phases", "customers", "grid_forming", "droop_percent",
                 "outage_reserve_soc"});
    read_phases(m, b.phases, unb);
    read_customers(m, b.customers, dss);
    m.number("share", b.share, kShare);
    m.number("kwh_per_kwp", b.kwh_per_kwp, left_open(0.0, 20.0));
    m.number("kw_per_kwh", b.kw_per_kwh, left_open(0.0, 4.0));
    m.word("strategy", b.strategy, kBatteryStrategies);
    m.number("peak_limit_fraction", b.peak_limit_fraction, left_open(0.0, 1.0));
    m.boolean("grid_forming", b.grid_forming);                      // issue 16
    m.number("droop_percent", b.droop_percent, left_open(0.0, 20.0));
    m.number("outage_reserve_soc", b.outage_reserve_soc, right_open(0.0, 1.0));
}

/// Issue 15: public_sites.buses of a .dss network: bus names (lower case).
void read_bus_names(const MapReader& m, std::vector<std::string>& out) {
    const YAML::Node n = m.get("buses");
    if (!n.IsSequence()) m.fail("buses", "expected a list of bus names (of the .dss script), got " + got(n));
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string ek = m.key("buses") + "." + std::to_string(i);
        if (!n[i].IsScalar() || n[i].Scalar().empty()) m.ctx().fail(n[i], ek, "expected a bus name, got " + got(n[i]));
        const std::string name = lower(n[i].Scalar());
        if (std::find(out.begin(), out.end(), name) != out.end()) m.ctx().fail(n[i], ek, "bus '" + name + "' appears twice");
        out.push_back(name);
    }
}

void read_public_sites(const MapReader& ev, ScenarioPublicSites& s, const Ctx& ctx, bool file_network, bool dss, bool unb) {
    MapReader m(ctx, ev.get("public_sites"), ev.key("public_sites"),
                {"sites", "buses", "chargers", "strategy", "pv_kwp", "battery_kwh", "battery_kw", "connection_limit_kw",
                 "battery_discharge_in_peak", "battery_grid_charge_offpeak", "phases", "battery_outage_reserve_soc"});
    m.number("battery_outage_reserve_soc", s.battery_outage_reserve_soc, closed(0.0, 1.0));  // issue 16
    read_phases(m, s.phases, unb);
    if (dss && m.has("buses")) read_bus_names(m, s.bus_names);
    if (m.has("sites")) {
        const std::string v = m.scalar("sites", "'all' or an integer >= 0");
        std::int64_t n = 0;
        if (v == "all") s.sites = -1;
        else if (parse_int64(v, n) && n >= 0 && n <= 100000) s.sites = int(n);
        else m.fail("sites", "expected 'all' or an integer in [0, 100000], got '" + v + "'");
        if (file_network && s.sites != 0 && !m.has("buses"))
            m.fail("sites", "a network from a file has no charging sites of its own: give their buses in 'buses'");
    }
    if (m.has("buses") && !dss) {
        YAML::Node n = m.get("buses");
        if (!n.IsSequence()) m.fail("buses", "expected a list of bus ids, got " + got(n));
        s.buses.clear();
        for (std::size_t i = 0; i < n.size(); ++i) {
            std::int64_t id = 0;
            if (!n[i].IsScalar() || !parse_int64(n[i].Scalar(), id))
                ctx.fail(n[i], m.key("buses") + "." + std::to_string(i), "expected a bus id (an integer), got " + got(n[i]));
            if (std::find(s.buses.begin(), s.buses.end(), id) != s.buses.end())
                ctx.fail(n[i], m.key("buses") + "." + std::to_string(i), "bus " + std::to_string(id) + " appears twice");
            s.buses.push_back(id);
        }
    }
    if (m.has("chargers")) {
        YAML::Node n = m.get("chargers");
        if (!n.IsSequence() || n.size() == 0) m.fail("chargers", "expected a list of charger groups ({kind, kw, n, sessions_per_day}), got " + got(n));
        if (n.size() > 9) m.fail("chargers", "at most 9 charger groups a site, got " + std::to_string(n.size()));
        s.chargers.clear();
        for (std::size_t i = 0; i < n.size(); ++i) {
            if (!n[i].IsMap()) ctx.fail(n[i], m.key("chargers") + "." + std::to_string(i), "expected a charger group ({kind, kw, n, sessions_per_day}), got " + got(n[i]));
            MapReader g(ctx, n[i], m.key("chargers") + "." + std::to_string(i), {"kind", "kw", "n", "sessions_per_day"});
            ScenarioChargerGroup c;
            if (!g.has("kind")) g.fail("kind", "missing: the charger kind (" + join(words(kSiteChargerKinds)) + ")");
            g.word("kind", c.kind, kSiteChargerKinds);
            c.kw = c.kind == ChargerKind::DCFast ? 50.0 : 22.0;
            c.sessions_per_day = c.kind == ChargerKind::DCFast ? 5.0 : 2.0;
            g.number("kw", c.kw, c.kind == ChargerKind::DCFast ? closed(20.0, 400.0) : left_open(0.0, 43.0));
            if (g.has("n") && g.get("n").IsScalar() && g.get("n").Scalar() == "generator") {
                if (c.kind == ChargerKind::Workplace) g.fail("n", "the generator's sites have public_ac and dc_fast bays only; give a number");
                c.n = -1;
            } else {
                if (g.has("n") && !g.get("n").IsScalar()) g.fail("n", "expected an integer in [1, 100] or 'generator', got " + got(g.get("n")));
                if (g.has("n")) {
                    std::int64_t x = 0;
                    const std::string v = g.get("n").Scalar();
                    if (!parse_int64(v, x) || x < 1 || x > 100) g.fail("n", "expected an integer in [1, 100] or 'generator', got '" + v + "'");
                    c.n = int(x);
                }
            }
            g.number("sessions_per_day", c.sessions_per_day, closed(0.0, 200.0));
            s.chargers.push_back(c);
        }
    }
    m.word("strategy", s.strategy, kEvStrategies);
    number_or_word(m, "pv_kwp", s.pv_kwp, closed(0.0, 10000.0), "generator", -1.0);
    number_or_word(m, "battery_kwh", s.battery_kwh, closed(0.0, 100000.0), "generator", -1.0);
    number_or_word(m, "battery_kw", s.battery_kw, closed(0.0, 100000.0), "generator", -1.0);
    if ((s.battery_kwh < 0) != (s.battery_kw < 0) && (m.has("battery_kwh") || m.has("battery_kw")))
        m.fail(m.has("battery_kw") ? "battery_kw" : "battery_kwh", "battery_kwh and battery_kw must both be 'generator' or both numbers");
    if (s.battery_kwh > 0 && s.battery_kw == 0) m.fail(m.has("battery_kw") ? "battery_kw" : "battery_kwh", "a battery of " + num(s.battery_kwh) + " kWh needs battery_kw > 0");
    number_or_word(m, "connection_limit_kw", s.connection_limit_kw, at_least(0.0), "none", kInf);
    m.boolean("battery_discharge_in_peak", s.battery_discharge_in_peak);
    m.boolean("battery_grid_charge_offpeak", s.battery_grid_charge_offpeak);
}

void read_ev(const MapReader& dev, ScenarioEv& ev, const Ctx& ctx, bool file_network, bool dss, bool unb) {
    MapReader m(ctx, dev.get("ev"), dev.key("ev"),
                {"share", "types", "charger_kw", "sessions_per_day", "strategy", "public_sites", "limit_kw", "start_delay_max_h",
                 "grid_limit", "grid_order", "phases", "customers"});
    read_phases(m, ev.phases, unb);
    read_customers(m, ev.customers, dss);
    m.number("share", ev.share, kShare);
    customer_types(m, "types", ev.types, {CustomerType::ChargingSite}, "public chargers are set in devices.ev.public_sites");
    m.number("charger_kw", ev.charger_kw, left_open(0.0, 22.0));
    m.number("sessions_per_day", ev.sessions_per_day, left_open(0.0, 4.0));
    m.word("strategy", ev.strategy, kEvStrategies);
    number_or_word(m, "limit_kw", ev.limit_kw, left_open(0.0, 22.0), "none", kInf);
    m.number("start_delay_max_h", ev.start_delay_max_h, closed(0.0, 24.0));
    m.number("grid_limit", ev.grid_limit, left_open(0.0, 2.0));
    m.word("grid_order", ev.grid_order, kEvGridOrders);
    if (shares_a_limit(ev.strategy))
        m.fail("strategy", "'" + word_of(kEvStrategies, ev.strategy) +
                               "' shares a connection limit among a site's chargers; a home charger has one car and no such limit "
                               "(it would equal uncontrolled): use grid_aware (EDF/LLF under the transformer's headroom, devices.ev.grid_order), "
                               "spread, delayed_off_peak or uncontrolled");
    read_public_sites(m, ev.public_sites, ctx, file_network, dss, unb);
}

void read_buildings(const MapReader& dev, ScenarioBuildings& b, const Ctx& ctx, bool dss, bool unb) {
    MapReader m(ctx, dev.get("buildings"), dev.key("buildings"),
                {"share", "types", "mode", "dr_events", "solar_thermal", "solar_thermal_roof_fraction", "phases", "customers", "critical_share"});
    m.number("critical_share", b.critical_share, closed(0.0, 1.0));  // issue 16
    read_phases(m, b.phases, unb);
    read_customers(m, b.customers, dss);
    m.number("share", b.share, kShare);
    customer_types(m, "types", b.types, {CustomerType::TerraceHouse, CustomerType::Industry, CustomerType::ChargingSite},
                   "BEMS presets exist for shophouse, office, mall and hotel (terrace houses: devices.homes)");
    m.word("mode", b.mode, kBemsModes);
    if (m.has("dr_events")) {
        YAML::Node n = m.get("dr_events");
        if (!n.IsSequence()) m.fail("dr_events", "expected a list of events ({start, end, setpoint_raise_k, ac_power_cap_fraction}), got " + got(n));
        b.dr_events.clear();
        for (std::size_t i = 0; i < n.size(); ++i) {
            const std::string ek = m.key("dr_events") + "." + std::to_string(i);
            if (!n[i].IsMap()) ctx.fail(n[i], ek, "expected an event ({start, end, setpoint_raise_k, ac_power_cap_fraction}), got " + got(n[i]));
            MapReader e(ctx, n[i], ek, {"start", "end", "setpoint_raise_k", "ac_power_cap_fraction"});
            ScenarioDrEvent d;
            d.setpoint_raise_k = 2.0;
            if (!e.has("start")) e.fail("start", "missing: the event's start time");
            if (!e.has("end")) e.fail("end", "missing: the event's end time");
            time_value(e, "start", d.start);
            time_value(e, "end", d.end);
            if (d.end <= d.start) e.fail("end", "the end " + format_iso8601(d.end) + " is not after the start " + format_iso8601(d.start));
            e.number("setpoint_raise_k", d.setpoint_raise_k, closed(0.0, 10.0));
            e.number("ac_power_cap_fraction", d.ac_power_cap_fraction, closed(0.0, 1.0));
            if (!b.dr_events.empty() && d.start < b.dr_events.back().end)
                e.fail("start", "events must be in time order and not overlap (the previous one ends " + format_iso8601(b.dr_events.back().end) + ")");
            b.dr_events.push_back(d);
        }
    }
    m.word("solar_thermal", b.solar_thermal, kSolarThermal);
    m.number("solar_thermal_roof_fraction", b.solar_thermal_roof_fraction, closed(0.0, 1.0));
}

void read_homes(const MapReader& dev, ScenarioHomes& h, const Ctx& ctx, bool dss, bool unb) {
    MapReader m(ctx, dev.get("homes"), dev.key("homes"),
                {"share", "precool", "ev_offpeak", "battery_from_pv", "battery_discharge_in_peak", "phases", "customers"});
    read_phases(m, h.phases, unb);
    read_customers(m, h.customers, dss);
    m.number("share", h.share, kShare);
    m.boolean("precool", h.rules.precool);
    m.boolean("ev_offpeak", h.rules.ev_offpeak);
    m.boolean("battery_from_pv", h.rules.battery_from_pv);
    m.boolean("battery_discharge_in_peak", h.rules.battery_discharge_in_peak);
}

// ---- issue 16 (H2): events and random outages (docs/resilience.md) ------------------------------

const std::vector<std::string> kEventActions{"open", "close", "out_of_service", "in_service"};
const std::vector<std::string> kEventElements{"switch", "line", "trafo", "ext_grid", "load", "feeder"};

/// "4h", "90min", "30s", "2d", "900" (seconds) -> seconds (> 0); false when not of that form.
bool parse_event_duration(const std::string& text, std::int64_t& seconds) {
    std::string t = text;
    std::int64_t mult = 1;
    if (!t.empty() && t.back() == 'd') {
        t.pop_back();
        mult = 86400;
    }
    std::int64_t x = 0;
    if (!parse_step(t, x) || x <= 0 || x > std::numeric_limits<std::int64_t>::max() / mult) return false;
    seconds = x * mult;
    return true;
}

/// seconds -> "2d", "4h", "90min", "45s" (parse_event_duration reads it back).
std::string event_duration_text(std::int64_t s) {
    if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
    return step_text(s);
}

void read_events(const MapReader& top, std::vector<ScenarioEvent>& out, const Ctx& ctx) {
    if (!top.has("events")) return;
    const YAML::Node n = top.get("events");
    const char* form = "{at, duration or until, action, element, id or name}";
    if (n.IsNull()) return;
    if (!n.IsSequence()) top.fail("events", std::string("expected a list of events ") + form + ", got " + got(n));
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string ek = "events." + std::to_string(i);
        if (!n[i].IsMap()) ctx.fail(n[i], ek, std::string("expected an event ") + form + ", got " + got(n[i]));
        MapReader e(ctx, n[i], ek, {"at", "duration", "until", "action", "element", "id", "name"});
        ScenarioEvent d;
        for (const char* k : {"at", "action", "element"})
            if (!e.has(k)) e.fail(k, std::string("missing: ") + (std::string(k) == "at" ? "the event's time" : std::string(k) == "action" ? "what happens (" + join(kEventActions) + ")" : "the kind of element (" + join(kEventElements) + ")"));
        time_value(e, "at", d.at);
        d.action = e.scalar("action", "one of " + join(kEventActions));
        if (std::find(kEventActions.begin(), kEventActions.end(), d.action) == kEventActions.end())
            e.fail("action", "unknown value '" + d.action + "'" + did_you_mean(d.action, kEventActions) + "; allowed: " + join(kEventActions));
        d.element = e.scalar("element", "one of " + join(kEventElements));
        if (std::find(kEventElements.begin(), kEventElements.end(), d.element) == kEventElements.end())
            e.fail("element", "unknown value '" + d.element + "'" + did_you_mean(d.element, kEventElements) + "; allowed: " + join(kEventElements));
        const bool switching = d.action == "open" || d.action == "close";
        if ((d.element == "switch" || d.element == "feeder") && !switching)
            e.fail("action", "a " + d.element + " opens or closes, got '" + d.action + "'");
        if (d.element != "switch" && d.element != "feeder" && switching)
            e.fail("action", "a " + d.element + " goes out_of_service or in_service (open and close are for switches and feeders), got '" + d.action + "'");
        if (e.has("duration") && e.has("until")) e.fail("until", "give either duration or until, not both");
        if (e.has("duration")) {
            const std::string v = e.scalar("duration", "a duration (e.g. 4h, 90min, 2d)");
            if (!parse_event_duration(v, d.duration_s)) e.fail("duration", "expected a duration > 0 (e.g. 4h, 90min, 2d), got '" + v + "'");
        }
        if (e.has("until")) {
            LocalTime u = 0;
            time_value(e, "until", u);
            if (u <= d.at) e.fail("until", "the end " + format_iso8601(u) + " is not after the event's time " + format_iso8601(d.at));
            d.duration_s = u - d.at;
        }
        if (e.has("id") == e.has("name")) e.fail(e.has("id") ? "name" : "id", "give the element's id or its name (one of them)");
        if (e.has("id")) {
            e.integer("id", d.id, std::numeric_limits<std::int64_t>::min() / 2, std::numeric_limits<std::int64_t>::max() / 2);
            d.has_id = true;
        } else {
            d.name = e.scalar("name", "the element's name");
            if (d.name.empty()) e.fail("name", "expected the element's name, got ''");
        }
        out.push_back(d);
    }
}

void read_outages(const MapReader& top, ScenarioOutages& o, const Ctx& ctx) {
    if (!top.has("outages") || top.get("outages").IsNull()) return;
    MapReader m(ctx, top.get("outages"), "outages",
                {"seed", "elements", "failure_rate_per_km_year", "failure_rate_per_feeder_year", "mean_repair_h", "repair", "repair_sigma"});
    o.enabled = true;
    m.seed("seed", o.seed, &o.has_seed);
    if (m.has("elements")) {
        o.elements = m.scalar("elements", "feeders or lines");
        if (o.elements != "feeders" && o.elements != "lines")
            m.fail("elements", "unknown value '" + o.elements + "'" + did_you_mean(o.elements, {"feeders", "lines"}) + "; allowed: feeders, lines");
    }
    m.number("failure_rate_per_km_year", o.failure_rate_per_km_year, closed(0.0, 1000.0));
    m.number("failure_rate_per_feeder_year", o.failure_rate_per_feeder_year, closed(0.0, 10000.0));
    if (m.has("failure_rate_per_km_year") == m.has("failure_rate_per_feeder_year"))
        m.fail(m.has("failure_rate_per_km_year") ? "failure_rate_per_feeder_year" : "failure_rate_per_km_year",
               "give one failure rate: failure_rate_per_km_year or failure_rate_per_feeder_year");
    if (o.elements == "lines" && m.has("failure_rate_per_feeder_year"))
        m.fail("failure_rate_per_feeder_year", "lines fail per km: give failure_rate_per_km_year");
    m.number("mean_repair_h", o.mean_repair_h, Range{0.0, 8760.0, true, false});
    if (m.has("repair")) {
        o.repair = m.scalar("repair", "exponential or lognormal");
        if (o.repair != "exponential" && o.repair != "lognormal")
            m.fail("repair", "unknown value '" + o.repair + "'" + did_you_mean(o.repair, {"exponential", "lognormal"}) + "; allowed: exponential, lognormal");
    }
    m.number("repair_sigma", o.repair_sigma, closed(0.0, 5.0));
}

const std::vector<Word<LoadPriority>> kPriorities = {
    {"critical", LoadPriority::Critical}, {"essential", LoadPriority::Essential}, {"deferrable", LoadPriority::Deferrable}};

/// Issue 16: `resilience: {priority: {<customer type>: critical|essential|deferrable}, default_priority}`.
void read_resilience(const MapReader& top, Scenario& s, const Ctx& ctx) {
    if (!top.has("resilience") || top.get("resilience").IsNull()) return;
    MapReader m(ctx, top.get("resilience"), "resilience", {"priority", "default_priority", "secondary_control"});
    m.word("default_priority", s.default_priority, kPriorities);
    m.boolean("secondary_control", s.island_secondary_control);
    if (!m.has("priority")) return;
    const YAML::Node n = m.get("priority");
    if (!n.IsMap()) m.fail("priority", "expected a map of customer type to priority (critical, essential, deferrable), got " + got(n));
    std::vector<std::string> types;
    for (const auto& kv : n) types.push_back(kv.first.Scalar());
    MapReader p(ctx, n, m.key("priority"), types);
    for (const std::string& t : types) {
        LoadPriority v = LoadPriority::Essential;
        p.word(t, v, kPriorities);
        s.load_priority[t] = v;
    }
}

/// Issue 17: `comms: {enabled, plc: {packet_loss, latency_median_s, latency_sigma, retries, retry_s,
/// hop_length_m, concentrator_rate_per_s}, deadline_s}` (docs/comms.md): the PLC channel of the meter readings; given = enabled.
void read_comms(const MapReader& top, Scenario& s, const Ctx& ctx) {
    if (!top.has("comms") || top.get("comms").IsNull()) return;
    MapReader m(ctx, top.get("comms"), "comms", {"enabled", "plc", "deadline_s", "price_send_hour"});
    CommsOptions& c = s.comms;
    c.enabled = true;
    m.boolean("enabled", c.enabled);
    number_or_word(m, "deadline_s", c.deadline_s, at_least(0.0), "none", kInf);
    m.number("price_send_hour", c.price_send_hour, closed(0.0, 24.0));  // issue 17 H3: day-ahead ToU broadcast
    MapReader p(ctx, m.get("plc"), "comms.plc",
                {"packet_loss", "latency_median_s", "latency_sigma", "retries", "retry_s", "hop_length_m", "concentrator_rate_per_s"});
    p.number("packet_loss", c.plc.packet_loss, kShare);
    p.number("latency_median_s", c.plc.latency_median_s, closed(0.0, 86400.0));
    p.number("latency_sigma", c.plc.latency_sigma, closed(0.0, 5.0));
    p.integer("retries", c.plc.retries, 0, 20);
    p.number("retry_s", c.plc.retry_s, closed(0.0, 86400.0));
    p.number("hop_length_m", c.plc.hop_length_m, closed(0.0, 100000.0));  // issue 17 (H1): 0 = one hop
    number_or_word(p, "concentrator_rate_per_s", c.plc.concentrator_rate_per_s, left_open(0.0, kInf), "none", kInf);
}

/// Issue 17 (H2): `demand_response: {events: [{start, end, reduction, notice, targets}]}` (docs/comms.md
/// "Demand response through the channel"). notice: a duration (1h, 30min, 0) before the start, default 1h;
/// targets: a list of buildings, homes, chargers (default [buildings]: buildings-only results unchanged; issue 17 H5).
void read_demand_response(const MapReader& top, Scenario& s, const Ctx& ctx) {
    if (!top.has("demand_response") || top.get("demand_response").IsNull()) return;
    MapReader m(ctx, top.get("demand_response"), "demand_response", {"events"});
    s.demand_response.clear();
    if (!m.has("events")) return;
    const YAML::Node n = m.get("events");
    const char* form = "{start, end, reduction, notice, targets}";
    if (n.IsNull()) return;
    if (!n.IsSequence()) m.fail("events", std::string("expected a list of events ") + form + ", got " + got(n));
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string ek = "demand_response.events." + std::to_string(i);
        if (!n[i].IsMap()) ctx.fail(n[i], ek, std::string("expected an event ") + form + ", got " + got(n[i]));
        MapReader e(ctx, n[i], ek, {"start", "end", "reduction", "notice", "targets"});
        DemandResponseEvent d;
        if (!e.has("start")) e.fail("start", "missing: the event's start time");
        if (!e.has("end")) e.fail("end", "missing: the event's end time");
        time_value(e, "start", d.start);
        time_value(e, "end", d.end);
        if (d.end <= d.start) e.fail("end", "the end " + format_iso8601(d.end) + " is not after the start " + format_iso8601(d.start));
        e.number("reduction", d.reduction, kShare);
        if (e.has("notice")) {
            const std::string v = e.scalar("notice", "a duration (e.g. 1h, 30min, 0)");
            std::int64_t sec = 0;
            if (v != "0" && !parse_event_duration(v, sec)) e.fail("notice", "expected a duration >= 0 (e.g. 1h, 30min, 0), got '" + v + "'");
            d.notice_s = double(sec);
        }
        if (e.has("targets")) {
            const YAML::Node t = e.get("targets");
            if (!t.IsSequence()) e.fail("targets", "expected a list of buildings, homes, chargers, got " + got(t));
            d.buildings = false;
            for (std::size_t j = 0; j < t.size(); ++j) {
                const std::string w = t[j].IsScalar() ? t[j].as<std::string>() : std::string();
                if (w == "buildings") d.buildings = true;
                else if (w == "chargers") d.chargers = true;  // issue 17 (H5): EV stations and charging sites
                else if (w == "homes") d.homes = true;  // issue 17 (H5): HEMS homes
                else e.fail("targets", "unknown target '" + w + "'; allowed: buildings, homes, chargers");
            }
        }
        if (!s.demand_response.empty() && d.start < s.demand_response.back().end)
            e.fail("start", "events must be in time order and not overlap (the previous one ends " + format_iso8601(s.demand_response.back().end) + ")");
        s.demand_response.push_back(d);
    }
}

/// Issue 18: `emissions: {file, average, marginal}` (docs/economics.md "Emissions"): the hourly
/// profiles are checked here (the file reads, each named profile has 24 weekday and 24 weekend values).
void read_emissions(const MapReader& top, Scenario& s, const Ctx& ctx) {
    if (!top.has("emissions") || top.get("emissions").IsNull()) return;
    MapReader m(ctx, top.get("emissions"), "emissions", {"file", "average", "marginal"});
    Scenario::Emissions& e = s.emissions;
    std::string f;
    m.string("file", f);
    m.string("average", e.average);
    m.string("marginal", e.marginal);
    if (f.empty()) m.fail("file", "expected the emission catalogue's file (e.g. ../data/emissions/peninsular_malaysia.yaml)");
    if (e.average.empty() && e.marginal.empty()) m.fail("average", "give 'average' (the profile of co2_t) and/or 'marginal'");
    e.file = ctx.resolve(f);
    if (const std::string why = input_file_problem(e.file); !why.empty()) m.fail("file", why + ": " + e.file);
    CostCatalogue c;
    try {
        c = load_cost_catalogue(e.file);
    } catch (const Error& x) {
        m.fail("file", std::string("the emission catalogue does not read: ") + x.what());
    }
    for (const char* k : {"average", "marginal"}) {
        const std::string& name = std::string(k) == "average" ? e.average : e.marginal;
        if (name.empty()) continue;
        for (const char* day : {"_weekday", "_weekend"}) {
            const auto it = c.series.find("hourly." + name + day);
            if (it == c.series.end() || it->second.size() != 24)
                m.fail(k, "the catalogue " + e.file + " has no 24-value profile 'hourly." + name + day + "'");
        }
    }
}

/// Issue 18: `economics: {catalogue, project_years, discount_rate: {customer, cpo, utility, city},
/// tariff_escalation, overrides: {dotted.path: value}}` (docs/economics.md "The business case").
void read_economics(const YAML::Node& node, ScenarioEconomics& e, const Ctx& ctx, bool check_catalogue) {
    if (!node.IsDefined() || node.IsNull()) return;
    MapReader m(ctx, node, "economics", {"catalogue", "project_years", "discount_rate", "tariff_escalation", "overrides"});
    std::string f;
    m.string("catalogue", f);
    if (!f.empty()) e.catalogue = ctx.resolve(f);
    if (m.has("project_years")) {
        int n = 0;
        m.integer("project_years", n, 1, 100);
        e.project_years = n;
    }
    const Range rate = closed(-0.5, 1.0);
    auto opt = [](const MapReader& r, const char* k, std::optional<double>& out, const Range& range) {
        if (!r.has(k)) return;
        double x = 0;
        r.number(k, x, range);
        out = x;
    };
    {
        MapReader d(ctx, m.get("discount_rate"), "economics.discount_rate", {"customer", "cpo", "utility", "city"});
        opt(d, "customer", e.discount_customer, rate);
        opt(d, "cpo", e.discount_cpo, rate);
        opt(d, "utility", e.discount_utility, rate);
        opt(d, "city", e.discount_city, rate);
    }
    opt(m, "tariff_escalation", e.tariff_escalation, rate);
    const YAML::Node ov = m.get("overrides");
    if (ov.IsDefined() && !ov.IsNull()) {
        if (!ov.IsMap()) m.fail("overrides", "expected a map of catalogue figures to numbers (e.g. assets.hems.capex_rm_per_home: 1200), got " + got(ov));
        for (auto it = ov.begin(); it != ov.end(); ++it) {
            const YAML::Node k = it->first, v = it->second;
            const std::string name = k.IsScalar() ? k.Scalar() : std::string();
            double x = 0;
            if (name.empty()) ctx.fail(k, "economics.overrides", "keys must be dotted figure names");
            if (!v.IsScalar() || !parse_double(v.Scalar(), x) || !std::isfinite(x))
                ctx.fail(v, "economics.overrides." + name, "expected a finite number, got " + got(v));
            e.overrides.emplace_back(name, x);
        }
    }
    if (!check_catalogue || e.catalogue.empty()) return;
    if (const std::string why = input_file_problem(e.catalogue); !why.empty()) m.fail("catalogue", why + ": " + e.catalogue);
    CostCatalogue c;
    try {
        c = load_cost_catalogue(e.catalogue);
    } catch (const Error& x) {
        m.fail("catalogue", std::string("the cost catalogue does not read: ") + x.what());
    }
    for (auto it = ov.begin(); ov.IsMap() && it != ov.end(); ++it)
        if (!c.has(it->first.Scalar()))
            ctx.fail(it->first, "economics.overrides." + it->first.Scalar(),
                     "the catalogue " + e.catalogue + " has no figure '" + it->first.Scalar() + "'");
}

/// Every setting from the YAML tree (throws on the first problem).
void read_settings(const YAML::Node& root, const Ctx& ctx, Scenario& s) {
    MapReader top(ctx, root, "",
                  {"name", "description", "seed", "network", "site", "horizon", "weather", "profiles", "devices", "tariff",
                   "emission_factor_t_per_mwh", "outputs", "solver", "threads", "limits", "events", "outages", "resilience", "comms", "demand_response", "emissions", "economics"});
    read_site(top, s.site, ctx);  // issue 19: first, every time below is on its clock
    read_resilience(top, s, ctx);
    read_emissions(top, s, ctx);  // issue 18
    read_economics(top.get("economics"), s.economics, ctx, true);  // issue 18
    read_comms(top, s, ctx);  // issue 17
    read_demand_response(top, s, ctx);  // issue 17 (H2)
    top.string("name", s.name);
    top.string("description", s.description);
    top.seed("seed", s.seed);
    read_network(top, s.network, ctx);
    read_horizon(top, s.horizon, ctx);
    read_weather(top, s.weather, ctx);
    read_profiles(top, s.profiles, ctx, s.network.dss);
    {
        MapReader dev(ctx, top.get("devices"), "devices", {"pv", "battery", "ev", "buildings", "homes"});
        const bool dss = s.network.dss, unb = s.network.unbalanced();
        read_pv(dev, s.devices.pv, ctx, dss, unb);
        read_battery(dev, s.devices.battery, ctx, dss, unb);
        read_ev(dev, s.devices.ev, ctx, s.network.from_file, dss, unb);
        read_buildings(dev, s.devices.buildings, ctx, dss, unb);
        read_homes(dev, s.devices.homes, ctx, dss, unb);
    }
    {
        MapReader m(ctx, top.get("tariff"), "tariff",
                    {"tou_adoption", "export", "fuel_adjustment_sen_per_kwh", "non_domestic_tou_adoption", "partial_months"});
        m.number("tou_adoption", s.tariff.tou_adoption, kShare);
        m.word("export", s.tariff.export_scheme, kExportSchemes);
        m.number("fuel_adjustment_sen_per_kwh", s.tariff.fuel_adjustment_sen_per_kwh, closed(-100.0, 100.0));
        m.number("non_domestic_tou_adoption", s.tariff.non_domestic_tou_adoption, kShare);
        m.word("partial_months", s.tariff.partial_months, kPartialMonths);
    }
    top.number("emission_factor_t_per_mwh", s.emission_factor_t_per_mwh, closed(0.0, 2.0));
    {
        MapReader m(ctx, top.get("outputs"), "outputs", {"meter_interval", "compression", "compression_threads", "float32", "bus_angles", "chunk_rows", "max_file_gb", "checkpoint_steps", "min_free_mb"});
        s.outputs.meter_interval_s = std::max<std::int64_t>(900, s.horizon.step_s);
        // issue 15: on a .dss network the meters read every step by default (its runs start where OpenDSS's
        // yearly mode solves first, 00:01, which lies on no 15-minute clock; bills need the clock)
        if (s.network.dss) s.outputs.meter_interval_s = s.horizon.step_s;
        if (m.has("meter_interval")) {
            const std::string v = m.scalar("meter_interval", "an interval (15min, 30min or 1h)");
            std::int64_t sec = 0;
            const bool step = s.network.dss && parse_step(v, sec) && sec == s.horizon.step_s;
            if (!step && (!parse_step(v, sec) || (sec != 900 && sec != 1800 && sec != 3600)))
                m.fail("meter_interval", std::string("expected 15min, 30min or 1h") + (s.network.dss ? " or the step" : "") + ", got '" + v + "'");
            s.outputs.meter_interval_s = sec;
        }
        if (s.outputs.meter_interval_s % s.horizon.step_s != 0)
            m.fail("meter_interval", "the meter interval (" + step_text(s.outputs.meter_interval_s) + ") must be a multiple of the step (" + step_text(s.horizon.step_s) + ")");
        if (s.horizon.start % s.outputs.meter_interval_s != 0) {
            MapReader h(ctx, top.get("horizon"), "horizon", {"start", "step", "duration", "steps"});
            h.fail("start", "the start " + format_iso8601(s.horizon.start) + " is not on a meter interval boundary (" + step_text(s.outputs.meter_interval_s) + ")");
        }
        m.integer("compression", s.outputs.compression, 0, 9);
        m.integer("compression_threads", s.outputs.compression_threads, 0, 2);
        m.boolean("float32", s.outputs.float32);
        m.boolean("bus_angles", s.outputs.bus_angles);
        m.integer("chunk_rows", s.outputs.chunk_rows, 1, 1000000);
        number_or_word(m, "max_file_gb", s.outputs.max_file_gb, Range{0.0, kInf, true, false}, "none", kInf);
        m.integer("checkpoint_steps", s.outputs.checkpoint_steps, 0, 1000000000);
        if (s.outputs.checkpoint_steps % kCheckpointQuantum != 0)
            m.fail("checkpoint_steps", "must be 0 (no checkpoints) or a multiple of " + std::to_string(kCheckpointQuantum) + ", got " +
                                           std::to_string(s.outputs.checkpoint_steps));
        m.number("min_free_mb", s.outputs.min_free_mb, closed(0.0, 1e9));
    }
    {
        MapReader m(ctx, top.get("limits"), "limits", {"loading_percent", "reverse_flow", "vuf_percent"});
        m.number("loading_percent", s.limits.loading_percent, left_open(0.0, 1000.0));
        m.boolean("reverse_flow", s.limits.reverse_flow);
        m.number("vuf_percent", s.limits.vuf_percent, left_open(0.0, 100.0));  // added (issue 15, H3)
    }
    {
        MapReader m(ctx, top.get("solver"), "solver", {"method", "linear_solver", "tolerance", "max_iterations", "max_control_iterations"});
        m.word("method", s.solver.method, kMethods);
        m.word("linear_solver", s.solver.linear_solver, kLinearSolvers);
        m.number("tolerance", s.solver.tolerance, left_open(0.0, 1e-2));
        m.integer("max_iterations", s.solver.max_iterations, 1, 1000);
        m.integer("max_control_iterations", s.solver.max_control_iterations, 1, 100);
    }
    top.integer("threads", s.threads, 1, 256);
    read_events(top, s.events, ctx);  // issue 16 (H2)
    read_outages(top, s.outages, ctx);
}

YAML::Node load_yaml(const std::string& text, const std::string& file) {
    try {
        return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw ParseError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "YAML syntax: " + e.msg);
    } catch (const YAML::Exception& e) {
        throw ParseError(file, e.mark.is_null() ? 0 : e.mark.line + 1, std::string("YAML: ") + e.what());
    }
}

std::vector<std::string> split_key(const std::string& key) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : key) {
        if (c == '.') {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    parts.push_back(cur);
    return parts;
}

/// Keys that exclude each other within one map: setting one removes the others.
std::vector<std::string> exclusive_partners(const std::string& parent, const std::string& key) {
    auto other = [&](const std::vector<std::string>& a, const std::vector<std::string>& b) -> std::vector<std::string> {
        if (std::find(a.begin(), a.end(), key) != a.end()) return b;
        if (std::find(b.begin(), b.end(), key) != b.end()) return a;
        return {};
    };
    if (parent == "horizon") return other({"duration"}, {"steps"});
    if (parent == "network") return other(kNetworkGeneratorKeys, kNetworkFileKeys);
    if (parent == "weather") return other(kWeatherModelKeys, kWeatherFileKeys);
    for (const char* kind : {"devices.pv", "devices.battery", "devices.ev", "devices.buildings", "devices.homes"})
        if (parent == kind) return other({"share"}, {"customers"});  // issue 15: a .dss network's named customers
    if (parent.rfind("events.", 0) == 0) {  // issue 16: an event's end and its element
        std::vector<std::string> o = other({"duration"}, {"until"});
        return o.empty() ? other({"id"}, {"name"}) : o;
    }
    if (parent == "outages") return other({"failure_rate_per_km_year"}, {"failure_rate_per_feeder_year"});
    return {};
}

/// Sets `key` in `root` to `value` (a YAML text). Throws ValidationError naming the key.
void apply_override(YAML::Node& root, const std::string& file, const std::string& key, const std::string& value) {
    auto fail = [&](const std::string& msg) { throw ValidationError("scenario " + file + ": override '" + key + "': " + msg); };
    const std::vector<std::string> parts = split_key(key);
    for (const auto& p : parts)
        if (p.empty()) fail("not a dotted key (empty part)");
    YAML::Node v;
    try {
        v = YAML::Load(value);
    } catch (const YAML::Exception& e) {
        fail("the value '" + value + "' is not valid YAML: " + e.msg);
    }
    YAML::Node cur;
    cur.reset(root);
    std::string path;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        const bool last = i + 1 == parts.size();
        if (cur.IsSequence()) {
            std::int64_t idx = -1;
            if (!parse_int64(p, idx) || idx < 0 || std::size_t(idx) >= cur.size())
                fail("'" + path + "' is a list of " + std::to_string(cur.size()) + "; '" + p + "' is not an index into it");
            if (last) {
                cur[std::size_t(idx)] = v;
                return;
            }
            YAML::Node next = cur[std::size_t(idx)];
            cur.reset(next);
        } else {
            if (!cur.IsMap()) {
                if (!cur.IsNull() && cur.IsDefined()) fail("'" + path + "' is not a map");
                cur = YAML::Node(YAML::NodeType::Map);
            }
            if (last) {
                for (const auto& o : exclusive_partners(path, p))
                    if (cur[o]) cur.remove(o);
                cur[p] = v;
                return;
            }
            if (!cur[p] || cur[p].IsNull()) {
                for (const auto& o : exclusive_partners(path, p))
                    if (cur[o]) cur.remove(o);
                cur[p] = YAML::Node(YAML::NodeType::Map);
            }
            YAML::Node next = cur[p];
            cur.reset(next);
        }
        path += (path.empty() ? "" : ".") + p;
    }
}

Scenario parse_with_overrides(const std::string& text, const std::string& filename,
                              const std::vector<std::pair<std::string, std::string>>& overrides) {
    Ctx ctx;
    ctx.file = filename;
    if (filename != "<string>") ctx.base_dir = std::filesystem::path(filename).parent_path();
    YAML::Node root = load_yaml(text, filename);
    if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw ParseError(filename, root.Mark().is_null() ? 1 : root.Mark().line + 1, "expected a map of keys at the top level, got " + got(root));
    for (const auto& [k, v] : overrides) {
        apply_override(root, filename, k, v);
        ctx.override_keys.push_back(k);
    }
    Scenario s;
    s.path = filename;
    s.text = text;
    s.overrides = overrides;
    s.name = filename == "<string>" ? "scenario" : std::filesystem::path(filename).stem().string();
    read_settings(root, ctx, s);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Emitting
// ---------------------------------------------------------------------------------------------

void kv(YAML::Emitter& e, const char* k, double x) { e << YAML::Key << k << YAML::Value << num(x); }
void kv(YAML::Emitter& e, const char* k, bool x) { e << YAML::Key << k << YAML::Value << (x ? "true" : "false"); }
void kv(YAML::Emitter& e, const char* k, std::int64_t x) { e << YAML::Key << k << YAML::Value << std::to_string(x); }
void kv(YAML::Emitter& e, const char* k, const std::string& x) { e << YAML::Key << k << YAML::Value << x; }
void kv_quoted(YAML::Emitter& e, const char* k, const std::string& x) { e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << x; }
void kv_types(YAML::Emitter& e, const char* k, const std::vector<CustomerType>& v) {
    e << YAML::Key << k << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (CustomerType t : v) e << word_of(kCustomerTypes, t);
    e << YAML::EndSeq;
}
std::string special(double x, const char* word) { return x < 0 ? std::string(word) : num(x); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public: parse, override, emit
// ---------------------------------------------------------------------------------------------

std::string scenario_default_model() { return "unbalanced"; }  // issue 15: the grid as built

bool Scenario::same_settings(const Scenario& o) const {
    return name == o.name && description == o.description && seed == o.seed && network == o.network && horizon == o.horizon &&
           site == o.site && weather == o.weather && profiles == o.profiles && devices == o.devices && tariff == o.tariff &&
           emission_factor_t_per_mwh == o.emission_factor_t_per_mwh && outputs == o.outputs && solver == o.solver && threads == o.threads &&
           limits == o.limits && events == o.events && outages == o.outages && load_priority == o.load_priority &&
           default_priority == o.default_priority && island_secondary_control == o.island_secondary_control && comms == o.comms &&
           demand_response == o.demand_response && emissions == o.emissions && economics == o.economics;
}

Scenario parse_scenario(const std::string& text, const std::string& filename) { return parse_with_overrides(text, filename, {}); }

ScenarioEconomics parse_scenario_economics(const std::string& text, const std::string& filename, bool check_catalogue) {
    Ctx ctx;
    ctx.file = filename;
    if (filename != "<string>") ctx.base_dir = std::filesystem::path(filename).parent_path();
    const YAML::Node root = load_yaml(text, filename);
    ScenarioEconomics e;
    if (root.IsMap()) read_economics(root["economics"], e, ctx, check_catalogue);
    return e;
}

Scenario load_scenario(const std::string& path) {
    // Regular files only, at most kMaxInputFileBytes (io/input_file.hpp).
    return parse_scenario(read_input_file(path), path);
}

void override_key(Scenario& scenario, const std::string& dotted_key, const std::string& yaml_value) {
    auto overrides = scenario.overrides;
    overrides.emplace_back(dotted_key, yaml_value);
    try {
        Scenario s = parse_with_overrides(scenario.text, scenario.path, overrides);
        scenario = std::move(s);
    } catch (const ParseError& e) {
        // The override made another key of the file invalid (e.g. a step that no longer divides the
        // meter interval): name both.
        throw ValidationError("scenario " + scenario.path + ": override '" + dotted_key + "' = '" + yaml_value + "': " + e.what());
    }
}

std::string scenario_name(PvControl c) { return word_of(kPvControls, c); }
std::string scenario_name(BatteryStrategy s) { return word_of(kBatteryStrategies, s); }
std::string scenario_name(BemsMode m) { return word_of(kBemsModes, m); }

namespace {

// ---- writing: one emitter per block of the file, in the order of docs/scenarios.md -------------

/// Issue 15: network.phases of the unbalanced Melaka, every key explicit (seed only when given).
void emit_network_phases(YAML::Emitter& e, const ScenarioNetwork& n) {
    const MelakaPhaseOptions& p = n.phases;
    e << YAML::Key << "phases" << YAML::Value << YAML::BeginMap;
    if (n.has_phases_seed) e << YAML::Key << "seed" << YAML::Value << std::to_string(p.seed);
    kv(e, "imbalance", p.imbalance);
    if (!p.rephase.empty()) {
        e << YAML::Key << "rephase" << YAML::Value << YAML::Flow << YAML::BeginMap;
        for (const auto& [id, ph] : p.rephase) e << YAML::Key << std::to_string(id) << YAML::Value << ph;
        e << YAML::EndMap;
    }
    kv(e, "customer_earth_ohm", p.convert.customer_earth_ohm);
    kv(e, "substation_earth_ohm", p.convert.substation_earth_ohm);
    kv(e, "neutral", p.convert.model_neutral);
    e << YAML::EndMap;
}

void emit_network(YAML::Emitter& e, const ScenarioNetwork& n) {
    e << YAML::Key << "network" << YAML::Value << YAML::BeginMap;
    if (n.from_file) {
        kv_quoted(e, "file", n.file_path);
        kv(e, "customer_type", word_of(kCustomerTypes, n.customer_type));
        if (!n.dss) kv(e, "load_factor", n.load_factor);  // a .dss network's loads follow their own shapes
        kv(e, "roof_m2_per_kw", n.roof_m2_per_kw);
    } else {
        kv(e, "generator", std::string("melaka"));
        kv(e, "size", word_of(kGridSizes, n.size));
        if (n.has_seed) e << YAML::Key << "seed" << YAML::Value << std::to_string(n.seed);
        if (n.substations >= 0) kv(e, "substations", std::int64_t(n.substations));
        if (n.feeders_per_substation >= 0) kv(e, "feeders_per_substation", std::int64_t(n.feeders_per_substation));
        if (n.transformers_per_feeder >= 0) kv(e, "transformers_per_feeder", std::int64_t(n.transformers_per_feeder));
        if (n.customers_per_transformer >= 0) kv(e, "customers_per_transformer", std::int64_t(n.customers_per_transformer));
        if (n.charging_sites >= 0) kv(e, "charging_sites", std::int64_t(n.charging_sites));
        kv(e, "normally_open_ties", n.normally_open_ties);
        // limits and taps only when not the defaults (older results' `scenario` text stays the same)
        const ScenarioNetwork dflt;
        if (n.lv_vmin_pu != dflt.lv_vmin_pu) kv(e, "lv_vmin_pu", n.lv_vmin_pu);
        if (n.lv_vmax_pu != dflt.lv_vmax_pu) kv(e, "lv_vmax_pu", n.lv_vmax_pu);
        if (n.mv_vmin_pu != dflt.mv_vmin_pu) kv(e, "mv_vmin_pu", n.mv_vmin_pu);
        if (n.mv_vmax_pu != dflt.mv_vmax_pu) kv(e, "mv_vmax_pu", n.mv_vmax_pu);
        if (n.distribution_tap_pos != dflt.distribution_tap_pos) kv(e, "distribution_tap_pos", std::int64_t(n.distribution_tap_pos));
        kv(e, "model", n.model);
        if (n.unbalanced()) emit_network_phases(e, n);
    }
    if (n.has_ext_grid_sk_mva) {
        if (std::isinf(n.ext_grid_sk_mva)) kv(e, "ext_grid_sk_mva", std::string("inf"));
        else kv(e, "ext_grid_sk_mva", n.ext_grid_sk_mva);
    }
    if (n.has_ext_grid_rx_ratio) kv(e, "ext_grid_rx_ratio", n.ext_grid_rx_ratio);
    e << YAML::EndMap;
}

void emit_horizon_weather_profiles(YAML::Emitter& e, const Scenario& s) {
    if (s.site != ScenarioSite{}) {  // issue 19: only when not Melaka's, so older runs' text stays as it was
        e << YAML::Key << "site" << YAML::Value << YAML::BeginMap;
        kv(e, "latitude_deg", s.site.latitude_deg);
        kv(e, "longitude_deg", s.site.longitude_deg);
        kv(e, "utc_offset_h", s.site.utc_offset_h);
        kv(e, "altitude_m", s.site.altitude_m);
        kv(e, "holidays", word_of(kSiteHolidays, s.site.holidays));
        e << YAML::EndMap;
    }
    e << YAML::Key << "horizon" << YAML::Value << YAML::BeginMap;
    kv_quoted(e, "start", format_iso8601(s.horizon.start));
    kv(e, "step", step_text(s.horizon.step_s));
    if (s.horizon.by_steps) kv(e, "steps", std::int64_t(s.horizon.n_steps));
    else kv(e, "duration", s.horizon.duration);
    e << YAML::EndMap;

    e << YAML::Key << "weather" << YAML::Value << YAML::BeginMap;
    if (s.weather.from_file) {
        kv_quoted(e, "file", s.weather.file_path);
    } else {
        kv(e, "model", std::string("melaka"));
        kv(e, "mean_daily_ghi_kwh_m2", s.weather.mean_daily_ghi_kwh_m2);
        kv(e, "temp_min_c", s.weather.temp_min_c);
        kv(e, "temp_max_c", s.weather.temp_max_c);
        if (s.weather.has_seed) e << YAML::Key << "seed" << YAML::Value << std::to_string(s.weather.seed);
    }
    e << YAML::EndMap;

    e << YAML::Key << "profiles" << YAML::Value << YAML::BeginMap;
    if (!s.network.dss) {  // a .dss network's loads follow their own shapes: no profile keys
        kv(e, "residential_daily_kwh", s.profiles.residential_daily_kwh);
        kv(e, "commercial_scale", s.profiles.commercial_scale);
        kv(e, "industrial_scale", s.profiles.industrial_scale);
        kv(e, "power_factor", s.profiles.power_factor);
    }
    e << YAML::EndMap;
}

/// Issue 15: a device kind's `phases` and `customers`, only when set (older files read back alike).
void emit_phases_customers(YAML::Emitter& e, const std::string& phases, const std::vector<std::string>* customers) {
    if (!phases.empty()) kv_quoted(e, "phases", phases);
    if (customers && !customers->empty()) {
        e << YAML::Key << "customers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const std::string& c : *customers) e << YAML::DoubleQuoted << c;
        e << YAML::EndSeq;
    }
}

void emit_pv_battery(YAML::Emitter& e, const ScenarioDevices& d) {
    e << YAML::Key << "pv" << YAML::Value << YAML::BeginMap;
    if (d.pv.customers.empty()) kv(e, "share", d.pv.share);
    kv_types(e, "types", d.pv.types);
    kv(e, "kwp_per_m2", d.pv.kwp_per_m2);
    kv(e, "dc_ac_ratio", d.pv.dc_ac_ratio);
    kv(e, "cap", std::string(d.pv.cap_atap ? "atap" : "none"));
    kv(e, "tilt_deg", d.pv.tilt_deg);
    kv(e, "azimuth_deg", d.pv.azimuth_deg);
    kv(e, "control", word_of(kPvControls, d.pv.control));
    kv(e, "pf", d.pv.pf);
    emit_phases_customers(e, d.pv.phases, &d.pv.customers);
    e << YAML::EndMap;
    e << YAML::Key << "battery" << YAML::Value << YAML::BeginMap;
    if (d.battery.customers.empty()) kv(e, "share", d.battery.share);
    kv(e, "kwh_per_kwp", d.battery.kwh_per_kwp);
    kv(e, "kw_per_kwh", d.battery.kw_per_kwh);
    kv(e, "strategy", word_of(kBatteryStrategies, d.battery.strategy));
    kv(e, "peak_limit_fraction", d.battery.peak_limit_fraction);
    if (d.battery.grid_forming) kv(e, "grid_forming", true);  // issue 16: only when given
    if (d.battery.droop_percent != ScenarioBattery{}.droop_percent) kv(e, "droop_percent", d.battery.droop_percent);
    if (d.battery.outage_reserve_soc != 0.0) kv(e, "outage_reserve_soc", d.battery.outage_reserve_soc);
    emit_phases_customers(e, d.battery.phases, &d.battery.customers);
    e << YAML::EndMap;
}

void emit_public_sites(YAML::Emitter& e, const ScenarioPublicSites& p) {
    e << YAML::Key << "public_sites" << YAML::Value << YAML::BeginMap;
    if (!p.bus_names.empty()) {
        e << YAML::Key << "buses" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const std::string& b : p.bus_names) e << YAML::DoubleQuoted << b;
        e << YAML::EndSeq;
    } else if (!p.buses.empty()) {
        e << YAML::Key << "buses" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (Id b : p.buses) e << std::to_string(b);
        e << YAML::EndSeq;
    } else {
        kv(e, "sites", p.sites < 0 ? std::string("all") : std::to_string(p.sites));
    }
    e << YAML::Key << "chargers" << YAML::Value << YAML::BeginSeq;
    for (const auto& c : p.chargers) {
        e << YAML::Flow << YAML::BeginMap;
        kv(e, "kind", word_of(kSiteChargerKinds, c.kind));
        kv(e, "kw", c.kw);
        kv(e, "n", c.n < 0 ? std::string("generator") : std::to_string(c.n));
        kv(e, "sessions_per_day", c.sessions_per_day);
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    kv(e, "strategy", word_of(kEvStrategies, p.strategy));
    kv(e, "pv_kwp", special(p.pv_kwp, "generator"));
    kv(e, "battery_kwh", special(p.battery_kwh, "generator"));
    kv(e, "battery_kw", special(p.battery_kw, "generator"));
    kv(e, "connection_limit_kw", std::isinf(p.connection_limit_kw) ? std::string("none") : num(p.connection_limit_kw));
    kv(e, "battery_discharge_in_peak", p.battery_discharge_in_peak);
    kv(e, "battery_grid_charge_offpeak", p.battery_grid_charge_offpeak);
    if (p.battery_outage_reserve_soc != 0.0) kv(e, "battery_outage_reserve_soc", p.battery_outage_reserve_soc);  // issue 16
    emit_phases_customers(e, p.phases, nullptr);
    e << YAML::EndMap;
}

void emit_ev(YAML::Emitter& e, const ScenarioEv& ev) {
    e << YAML::Key << "ev" << YAML::Value << YAML::BeginMap;
    if (ev.customers.empty()) kv(e, "share", ev.share);
    kv_types(e, "types", ev.types);
    kv(e, "charger_kw", ev.charger_kw);
    kv(e, "sessions_per_day", ev.sessions_per_day);
    kv(e, "strategy", word_of(kEvStrategies, ev.strategy));
    if (!std::isinf(ev.limit_kw)) kv(e, "limit_kw", ev.limit_kw);  // new keys only when set: older files read back alike
    if (ev.start_delay_max_h != 0.0) kv(e, "start_delay_max_h", ev.start_delay_max_h);
    if (ev.grid_limit != 0.9) kv(e, "grid_limit", ev.grid_limit);
    if (ev.grid_order != EvStrategy::PowerLimitedEDF) kv(e, "grid_order", word_of(kEvGridOrders, ev.grid_order));
    emit_phases_customers(e, ev.phases, &ev.customers);
    emit_public_sites(e, ev.public_sites);
    e << YAML::EndMap;
}

void emit_buildings_homes(YAML::Emitter& e, const ScenarioDevices& d) {
    e << YAML::Key << "buildings" << YAML::Value << YAML::BeginMap;
    if (d.buildings.customers.empty()) kv(e, "share", d.buildings.share);
    kv_types(e, "types", d.buildings.types);
    kv(e, "mode", word_of(kBemsModes, d.buildings.mode));
    e << YAML::Key << "dr_events" << YAML::Value << YAML::BeginSeq;
    for (const auto& ev : d.buildings.dr_events) {
        e << YAML::Flow << YAML::BeginMap;
        kv_quoted(e, "start", format_iso8601(ev.start));
        kv_quoted(e, "end", format_iso8601(ev.end));
        kv(e, "setpoint_raise_k", ev.setpoint_raise_k);
        if (ev.ac_power_cap_fraction >= 0) kv(e, "ac_power_cap_fraction", ev.ac_power_cap_fraction);
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    kv(e, "solar_thermal", word_of(kSolarThermal, d.buildings.solar_thermal));
    kv(e, "solar_thermal_roof_fraction", d.buildings.solar_thermal_roof_fraction);
    if (d.buildings.critical_share != 0.0) kv(e, "critical_share", d.buildings.critical_share);  // issue 16
    emit_phases_customers(e, d.buildings.phases, &d.buildings.customers);
    e << YAML::EndMap;
    e << YAML::Key << "homes" << YAML::Value << YAML::BeginMap;
    if (d.homes.customers.empty()) kv(e, "share", d.homes.share);
    kv(e, "precool", d.homes.rules.precool);
    kv(e, "ev_offpeak", d.homes.rules.ev_offpeak);
    kv(e, "battery_from_pv", d.homes.rules.battery_from_pv);
    kv(e, "battery_discharge_in_peak", d.homes.rules.battery_discharge_in_peak);
    emit_phases_customers(e, d.homes.phases, &d.homes.customers);
    e << YAML::EndMap;
}

void emit_devices(YAML::Emitter& e, const ScenarioDevices& d) {
    e << YAML::Key << "devices" << YAML::Value << YAML::BeginMap;
    emit_pv_battery(e, d);
    emit_ev(e, d.ev);
    emit_buildings_homes(e, d);
    e << YAML::EndMap;
}

void emit_economics(YAML::Emitter& e, const ScenarioEconomics& x) {
    if (!x.given()) return;
    e << YAML::Key << "economics" << YAML::Value << YAML::BeginMap;
    if (!x.catalogue.empty()) kv_quoted(e, "catalogue", x.catalogue);
    if (x.project_years) kv(e, "project_years", std::int64_t(*x.project_years));
    if (x.discount_customer || x.discount_cpo || x.discount_utility || x.discount_city) {
        e << YAML::Key << "discount_rate" << YAML::Value << YAML::BeginMap;
        if (x.discount_customer) kv(e, "customer", *x.discount_customer);
        if (x.discount_cpo) kv(e, "cpo", *x.discount_cpo);
        if (x.discount_utility) kv(e, "utility", *x.discount_utility);
        if (x.discount_city) kv(e, "city", *x.discount_city);
        e << YAML::EndMap;
    }
    if (x.tariff_escalation) kv(e, "tariff_escalation", *x.tariff_escalation);
    if (!x.overrides.empty()) {
        e << YAML::Key << "overrides" << YAML::Value << YAML::BeginMap;
        for (const auto& [k, v] : x.overrides) e << YAML::Key << YAML::DoubleQuoted << k << YAML::Value << num(v);
        e << YAML::EndMap;
    }
    e << YAML::EndMap;
}

void emit_tariff_outputs_solver(YAML::Emitter& e, const Scenario& s) {
    e << YAML::Key << "tariff" << YAML::Value << YAML::BeginMap;
    kv(e, "tou_adoption", s.tariff.tou_adoption);
    kv(e, "export", word_of(kExportSchemes, s.tariff.export_scheme));
    kv(e, "fuel_adjustment_sen_per_kwh", s.tariff.fuel_adjustment_sen_per_kwh);
    // written only when set, so that the scenario text of older runs stays as it was
    if (s.tariff.non_domestic_tou_adoption != 0.0) kv(e, "non_domestic_tou_adoption", s.tariff.non_domestic_tou_adoption);
    if (s.tariff.partial_months != PartialMonths::Flag) kv(e, "partial_months", word_of(kPartialMonths, s.tariff.partial_months));
    e << YAML::EndMap;
    kv(e, "emission_factor_t_per_mwh", s.emission_factor_t_per_mwh);
    if (!s.emissions.file.empty()) {  // issue 18: only when given
        e << YAML::Key << "emissions" << YAML::Value << YAML::BeginMap;
        kv_quoted(e, "file", s.emissions.file);
        if (!s.emissions.average.empty()) e << YAML::Key << "average" << YAML::Value << s.emissions.average;
        if (!s.emissions.marginal.empty()) e << YAML::Key << "marginal" << YAML::Value << s.emissions.marginal;
        e << YAML::EndMap;
    }

    emit_economics(e, s.economics);  // issue 18: only when given
    e << YAML::Key << "outputs" << YAML::Value << YAML::BeginMap;
    kv(e, "meter_interval", step_text(s.outputs.meter_interval_s));
    kv(e, "compression", std::int64_t(s.outputs.compression));
    kv(e, "compression_threads", std::int64_t(s.outputs.compression_threads));
    kv(e, "float32", s.outputs.float32);
    kv(e, "bus_angles", s.outputs.bus_angles);
    kv(e, "chunk_rows", std::int64_t(s.outputs.chunk_rows));
    kv(e, "max_file_gb", std::isinf(s.outputs.max_file_gb) ? std::string("none") : num(s.outputs.max_file_gb));
    kv(e, "checkpoint_steps", std::int64_t(s.outputs.checkpoint_steps));
    kv(e, "min_free_mb", s.outputs.min_free_mb);
    e << YAML::EndMap;

    e << YAML::Key << "solver" << YAML::Value << YAML::BeginMap;
    kv(e, "method", word_of(kMethods, s.solver.method));
    kv(e, "linear_solver", word_of(kLinearSolvers, s.solver.linear_solver));
    kv(e, "tolerance", s.solver.tolerance);
    kv(e, "max_iterations", std::int64_t(s.solver.max_iterations));
    kv(e, "max_control_iterations", std::int64_t(s.solver.max_control_iterations));
    e << YAML::EndMap;
}

}  // namespace

std::string scenario_to_yaml(const Scenario& s) {
    YAML::Emitter e;
    e.SetIndent(2);
    std::string head = "effective scenario (libgrid): " + s.path;
    for (const auto& [k, v] : s.overrides) head += "\noverride " + k + " = " + v;
    e << YAML::Comment(head);
    e << YAML::BeginMap;
    kv_quoted(e, "name", s.name);
    kv_quoted(e, "description", s.description);
    e << YAML::Key << "seed" << YAML::Value << std::to_string(s.seed);
    emit_network(e, s.network);
    emit_horizon_weather_profiles(e, s);
    emit_devices(e, s.devices);
    emit_tariff_outputs_solver(e, s);
    if (!(s.limits == ScenarioLimits{})) {  // only when not the defaults (older results' text stays the same)
        e << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
        kv(e, "loading_percent", s.limits.loading_percent);
        kv(e, "reverse_flow", s.limits.reverse_flow);
        if (s.limits.vuf_percent != ScenarioLimits{}.vuf_percent) kv(e, "vuf_percent", s.limits.vuf_percent);  // added (issue 15, H3)
        e << YAML::EndMap;
    }
    kv(e, "threads", std::int64_t(s.threads));
    // issue 16 (H2): only when given (older results' text stays the same)
    if (!s.events.empty()) {
        e << YAML::Key << "events" << YAML::Value << YAML::BeginSeq;
        for (const ScenarioEvent& ev : s.events) {
            e << YAML::Flow << YAML::BeginMap;
            kv_quoted(e, "at", format_iso8601(ev.at));
            if (ev.duration_s > 0) kv(e, "duration", event_duration_text(ev.duration_s));
            kv(e, "action", ev.action);
            kv(e, "element", ev.element);
            if (ev.has_id) kv(e, "id", std::int64_t(ev.id));
            else kv_quoted(e, "name", ev.name);
            e << YAML::EndMap;
        }
        e << YAML::EndSeq;
    }
    if (!s.load_priority.empty() || s.default_priority != LoadPriority::Essential || !s.island_secondary_control) {  // issue 16
        e << YAML::Key << "resilience" << YAML::Value << YAML::BeginMap;
        if (!s.island_secondary_control) kv(e, "secondary_control", false);
        if (s.default_priority != LoadPriority::Essential) kv(e, "default_priority", word_of(kPriorities, s.default_priority));
        if (!s.load_priority.empty()) {
            e << YAML::Key << "priority" << YAML::Value << YAML::BeginMap;
            for (const auto& [t, p] : s.load_priority) kv(e, t.c_str(), word_of(kPriorities, p));
            e << YAML::EndMap;
        }
        e << YAML::EndMap;
    }
    if (s.comms.enabled || !(s.comms == CommsOptions{})) {  // issue 17: only when given
        const CommsOptions& c = s.comms;
        e << YAML::Key << "comms" << YAML::Value << YAML::BeginMap;
        if (!c.enabled) kv(e, "enabled", false);
        kv(e, "deadline_s", std::isinf(c.deadline_s) ? std::string("none") : num(c.deadline_s));
        kv(e, "price_send_hour", c.price_send_hour);
        e << YAML::Key << "plc" << YAML::Value << YAML::BeginMap;
        kv(e, "packet_loss", c.plc.packet_loss);
        kv(e, "latency_median_s", c.plc.latency_median_s);
        kv(e, "latency_sigma", c.plc.latency_sigma);
        kv(e, "retries", std::int64_t(c.plc.retries));
        kv(e, "retry_s", c.plc.retry_s);
        if (c.plc.hop_length_m != 0.0) kv(e, "hop_length_m", c.plc.hop_length_m);  // issue 17 (H1)
        if (std::isfinite(c.plc.concentrator_rate_per_s)) kv(e, "concentrator_rate_per_s", c.plc.concentrator_rate_per_s);
        e << YAML::EndMap << YAML::EndMap;
    }
    if (!s.demand_response.empty()) {  // issue 17 (H2)
        e << YAML::Key << "demand_response" << YAML::Value << YAML::BeginMap << YAML::Key << "events" << YAML::Value << YAML::BeginSeq;
        for (const DemandResponseEvent& ev : s.demand_response) {
            e << YAML::Flow << YAML::BeginMap;
            kv_quoted(e, "start", format_iso8601(ev.start));
            kv_quoted(e, "end", format_iso8601(ev.end));
            kv(e, "reduction", ev.reduction);
            kv(e, "notice", ev.notice_s > 0 ? event_duration_text(std::int64_t(ev.notice_s)) : std::string("0"));
            e << YAML::Key << "targets" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            if (ev.buildings) e << "buildings";
            if (ev.homes) e << "homes";        // issue 17 (H5)
            if (ev.chargers) e << "chargers";  // issue 17 (H5)
            e << YAML::EndSeq << YAML::EndMap;
        }
        e << YAML::EndSeq << YAML::EndMap;
    }
    if (s.outages.enabled) {
        const ScenarioOutages& o = s.outages;
        e << YAML::Key << "outages" << YAML::Value << YAML::BeginMap;
        if (o.has_seed) e << YAML::Key << "seed" << YAML::Value << std::to_string(o.seed);
        kv(e, "elements", o.elements);
        if (o.failure_rate_per_km_year >= 0) kv(e, "failure_rate_per_km_year", o.failure_rate_per_km_year);
        if (o.failure_rate_per_feeder_year >= 0) kv(e, "failure_rate_per_feeder_year", o.failure_rate_per_feeder_year);
        kv(e, "mean_repair_h", o.mean_repair_h);
        kv(e, "repair", o.repair);
        kv(e, "repair_sigma", o.repair_sigma);
        e << YAML::EndMap;
    }
    e << YAML::EndMap;
    return std::string(e.c_str()) + "\n";
}

}  // namespace libgrid

// ---------------------------------------------------------------------------------------------
// Before a run: inputs are never outputs; runs that cannot finish are refused
// ---------------------------------------------------------------------------------------------

namespace libgrid {

using scenario_text::horizon_text;

std::vector<std::pair<std::string, std::string>> scenario_input_files(const Scenario& s) {
    std::vector<std::pair<std::string, std::string>> v;
    if (!s.path.empty() && s.path != "<string>") v.emplace_back("scenario file", s.path);
    if (s.network.from_file) v.emplace_back("network.file", s.network.file_path);
    if (s.weather.from_file) v.emplace_back("weather.file", s.weather.file_path);
    if (!s.emissions.file.empty()) v.emplace_back("emissions.file", s.emissions.file);  // issue 18
    return v;
}

void check_output_is_not_input(const Scenario& s, const std::string& output) {
    if (output.empty()) return;
    for (const auto& [key, path] : scenario_input_files(s)) {
        if (!same_file(output, path)) continue;
        const std::string what = key == "scenario file" ? "the scenario file itself"
                                                        : "the scenario's " + std::string(key == "network.file" ? "network" : "weather") +
                                                              " file (" + key + " = " + path + ")";
        throw ValidationError("scenario " + s.path + ": output '" + output + "' is " + what +
                              ": refusing to overwrite an input; choose another output file");
    }
}

namespace {

/// The per-step series the engine records (engine.cpp, "record_series"): widths, float or integer.
struct SeriesWidth {
    std::size_t cols;
    bool is_float;
};

/// Issue 15: the network series of an unbalanced run (docs/results_hdf5.md, "Unbalanced runs"); at
/// most 4 nodes a bus (three phases and a neutral).
template <class F>
void unbalanced_series(const BuiltScenario& b, F&& f) {
    const UNetwork& u = b.unet;
    f(4 * u.buses.size(), 3);                                // node v_volts, vm_pu, va_deg
    f(u.buses.size(), 2);                                    // bus vuf_percent, v_neutral_volts
    f(u.lines.size() + u.transformers.size(), 6);            // branch loading, p_loss, i_a..i_n
    f(u.transformers.size(), 12);                            // trafo p/q per phase, hv and lv
    f(u.vsources.size(), 8);                                 // ext_grid p, q, p_a..c, q_a..c
    f(u.loads.size(), b.options.record_reactive ? 2 : 1);
    f(4, 1);                                                 // solver energy balance by conductor
}

std::vector<SeriesWidth> recorded_series(const BuiltScenario& b) {
    const Network& net = b.net;
    const DeviceSet& d = b.devices;
    const SimulationOptions& o = b.options;
    std::vector<SeriesWidth> v;
    auto f = [&](std::size_t n, int times = 1) {
        if (n)
            for (int k = 0; k < times; ++k) v.push_back({n, true});
    };
    v.push_back({1, false});  // /time
    if (b.unbalanced) {
        unbalanced_series(b, f);
    } else {
        f(net.buses.size(), o.record_bus_angles ? 2 : 1);
        f(net.branches.size() + net.lines.size() + net.transformers.size(), o.record_branch_p_from ? 3 : 2);
        f(net.loads.size(), o.record_reactive ? 2 : 1);
    }
    const bool pv_q = o.record_reactive || std::any_of(d.pv.begin(), d.pv.end(), [](const PvUnit& u) {
                          return u.params.qmode != QControl::None || u.params.volt_watt;
                      });
    f(d.pv.size(), pv_q ? 4 : 3);
    f(d.batteries.size(), 3);
    f(net.ext_grids.size(), 2);
    f(d.ev_stations.size());
    f(d.charging_sites.size(), 4);
    f(d.buildings.size(), 3);
    f(d.homes.size(), 5);
    f(net.sgens.size());
    f(net.storage.size());
    f(net.gens.size());
    f(net.shunts.size(), 2);
    if (std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc; }))
        v.push_back({net.transformers.size(), false});
    v.push_back({1, false});  // /solver/converged, iterations, energy_balance_mw
    v.push_back({1, false});
    v.push_back({1, true});
    return v;
}

std::size_t ev_sessions(const DeviceSet& d) {
    std::size_t n = 0;
    for (const EvStationUnit& u : d.ev_stations) n += u.station.sessions.size();
    for (const ChargingSiteUnit& u : d.charging_sites) n += u.site.evs.sessions.size();
    for (const HomeUnit& u : d.homes) n += u.home.ev.sessions.size();
    return n;
}

std::string gb2(double bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, bytes < 1e9 ? "%.3g GB" : "%.4g GB", bytes / 1e9);
    return buf;
}

}  // namespace

std::string RunEstimate::text() const {
    std::string s = std::to_string(steps) + " steps x " + std::to_string(columns) + " values (" + std::to_string(bytes_per_value) + " B floats)";
    if (meter_rows) s += " + " + std::to_string(meter_rows) + " meter readings x " + std::to_string(meter_columns) + " values";
    s += " = " + gb2(output_bytes) + " of results";
    if (output_min_bytes < output_bytes) s += " (at least " + gb2(output_min_bytes) + " compressed)";
    s += "; memory about " + gb2(memory_bytes);
    return s;
}

RunEstimate estimate_run(const BuiltScenario& b) {
    const Network& net = b.net;
    const DeviceSet& d = b.devices;
    const SimulationOptions& o = b.options;
    RunEstimate e;
    e.steps = o.n_steps;
    e.bytes_per_value = o.h5.float32 ? 4 : 8;
    const double steps = double(o.n_steps);
    const std::vector<SeriesWidth> series = recorded_series(b);
    double row_bytes = 0.0, writer_bytes = 0.0;
    const double chunk_rows = double(std::max<std::size_t>(o.h5.chunk_rows, 1));
    const double max_buffer = double(std::max<std::size_t>(o.h5.max_buffer_bytes, 1));
    auto buffers = [&](std::size_t cols) {
        // a series' row buffer, the next one, and one chunk being compressed (hdf5_results.hpp)
        return 3.0 * std::max(8.0 * double(cols), std::min(chunk_rows * 8.0 * double(cols), max_buffer));
    };
    for (const SeriesWidth& sw : series) {
        e.columns += sw.cols;
        row_bytes += double(sw.cols) * (sw.is_float ? double(e.bytes_per_value) : 8.0);
        writer_bytes += buffers(sw.cols);
    }
    const std::size_t nl = b.unbalanced ? b.unet.loads.size() : net.loads.size();
    if (nl) {
        const std::int64_t span = std::int64_t(o.n_steps) * o.step_s;
        const std::int64_t mi = std::max<std::int64_t>(o.meter_interval_s, 1);
        e.meter_rows = std::size_t((span + mi - 1) / mi);
        e.meter_columns = 2 * nl;
        writer_bytes += 2.0 * buffers(nl) + buffers(1);
    }
    // the writer's own cap, never below one row of every series (ResultsWriter::plan)
    writer_bytes = std::min(writer_bytes, std::max(double(o.h5.max_total_buffer_bytes), 3.0 * 8.0 * double(e.columns + e.meter_columns)));
    const double sessions = double(ev_sessions(d));
    e.output_bytes = steps * row_bytes + double(e.meter_rows) * (double(e.meter_columns) * double(e.bytes_per_value) + 8.0) +
                     sessions * 6.0 * 8.0;
    e.output_min_bytes = o.h5.compression_level > 0 ? e.output_bytes / kMaxCompressionRatio : e.output_bytes;

    // memory: weather (the built series and the engine's copy), EV sessions and their records, load
    // profile blocks (engine.cpp fill_block), meter month buffers, writer buffers, network and devices
    const double weather = 2.0 * 9.0 * 8.0 * steps;
    const double ev = sessions * double(sizeof(EvSession) + sizeof(EvSessionRecord) + 6 * 8);
    const double block_steps = std::min({double(o.profile_block_steps), steps,
                                         std::max(8.0, double(std::size_t(1) << 23) / double(std::max<std::size_t>(nl, 1)))});
    const double profiles = 2.0 * 8.0 * block_steps * double(nl);
    const double interval = double(std::max<std::int64_t>(o.meter_interval_s, 1));
    const double month = 2.0 * 8.0 * double(nl) * std::min(31.0 * 86400.0 / interval + 1.0, double(e.meter_rows) + 1.0);
    const double elements = double(net.buses.size() + net.lines.size() + net.transformers.size() + net.branches.size() + nl +
                                   net.sgens.size() + net.storage.size() + net.shunts.size() + net.gens.size()) +
                            double(b.unet.buses.size() + b.unet.lines.size() + b.unet.transformers.size());
    const double devices = double(d.pv.size() + d.batteries.size() + d.ev_stations.size() + d.charging_sites.size() +
                                  d.buildings.size() + d.homes.size() + d.load_profiles.size());
    e.memory_bytes = weather + ev + profiles + month + writer_bytes + 4096.0 * elements + 2048.0 * devices + 64e6;
    return e;
}

double memory_limit_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    double limit = pages > 0 && page > 0 ? double(pages) * double(page) : kInf;
    if (const char* env = std::getenv("LIBGRID_MEMORY_LIMIT_GB"); env && *env) {
        double gb = 0.0;
        if (!parse_double(env, gb) || !(gb > 0))
            throw ValidationError(std::string("$LIBGRID_MEMORY_LIMIT_GB: expected a number of GB > 0, got '") + env + "'");
        limit = std::min(limit, gb * 1e9);
    }
    return limit;
}

RunEstimate check_run_resources(const Scenario& s, const BuiltScenario& b, const std::string& output, const RunLimits& limits) {
    const RunEstimate e = estimate_run(b);
    const std::string who = "scenario " + s.path + ": " + horizon_text(s.horizon) + ": ";
    if (!output.empty()) {
        const double cap = s.outputs.max_file_gb * 1e9;
        if (e.output_min_bytes > cap)
            throw ValidationError(who + "the results file would exceed outputs.max_file_gb = " + num(s.outputs.max_file_gb) + " GB (estimate: " +
                                  e.text() + "); shorten the horizon, record less, or raise outputs.max_file_gb");
        double free_bytes = limits.free_bytes;
        if (free_bytes < 0) {
            std::filesystem::path dir = std::filesystem::path(output).parent_path();
            if (dir.empty()) dir = ".";
            struct statvfs vfs {};
            if (::statvfs(dir.c_str(), &vfs) == 0) {
                free_bytes = double(vfs.f_bavail) * double(vfs.f_frsize);
                struct stat st {};
                if (::stat(output.c_str(), &st) == 0 && S_ISREG(st.st_mode)) free_bytes += double(st.st_size);  // truncated first
            } else {
                free_bytes = kInf;  // unknown (e.g. the directory does not exist: the writer reports that)
            }
        }
        if (e.output_min_bytes > free_bytes)
            throw ValidationError(who + "the results file '" + output + "' cannot fit: " + gb2(free_bytes) + " free on its file system (estimate: " +
                                  e.text() + "); free space, write elsewhere or shorten the horizon");
    }
    const double mem = limits.memory_bytes >= 0 ? limits.memory_bytes : memory_limit_bytes();
    if (e.memory_bytes > mem)
        throw ValidationError(who + "the run would need more memory than the limit of " + gb2(mem) +
                              " (physical memory, or $LIBGRID_MEMORY_LIMIT_GB) (estimate: " + e.text() + ")");
    return e;
}

}  // namespace libgrid
