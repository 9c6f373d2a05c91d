// libgrid scenario: the Melaka grid generator. Every figure below is listed with its source (or as
// an ASSUMPTION) in docs/melaka.md; keep the two in step.
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/melaka_grid.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <string>
#include <type_traits>

namespace libgrid {

// ---------------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------------
namespace {

#define LIBGRID_PP_MV(section)                                                                                  \
    "pandapower standard type NA2XS2Y 1x" section " RM/25 6/10 kV (pandapower std_types.py: Heuck 2013, Werth); " \
    "6/10 kV and 6.35/11 kV share the Um = 12 kV insulation class of IEC 60502-2"
constexpr const char* kTtCables =
    "TT Cables, data sheet SE-N1XE-AS (0.6/1 kV, Al, XLPE, HDPE): r = max. resistance at 20 C, max_i = rating in earth; "
    "x and c ASSUMPTION (pandapower NAYY 4-core values)";

enum LineIdx : int { L11_240 = 0, L11_185, L11_70, L11_OH95, L11_OH150, LV_240, LV_95, LV_50, LV_ABC95, SVC_4x16, SVC_2x16_EQ, kNumLineTypes };

constexpr MelakaLineType kLineTable[] = {
    {"11kV 240 Al", "11 kV 3x1C 240 mm2 Al XLPE cable", 11.0, 0.122, 0.105, 456.0, 0.416, "cs", LIBGRID_PP_MV("240")},
    {"11kV 185 Al", "11 kV 3x1C 185 mm2 Al XLPE cable", 11.0, 0.161, 0.110, 406.0, 0.358, "cs", LIBGRID_PP_MV("185")},
    {"11kV 70 Al", "11 kV 3x1C 70 mm2 Al XLPE cable (spurs)", 11.0, 0.443, 0.123, 280.0, 0.217, "cs", LIBGRID_PP_MV("70")},
    {"11kV ACSR 95", "11 kV overhead line, ACSR 95/15 (semi-rural feeders)", 11.0, 0.306, 0.330, 10.75, 0.350, "ol",
     "pandapower standard type 94-AL1/15-ST1A 10.0 (Heuck 2013)"},
    {"11kV ACSR 150", "11 kV overhead line, ACSR 150/24 (semi-rural trunks)", 11.0, 0.194, 0.315, 11.25, 0.470, "ol",
     "pandapower standard type 149-AL1/24-ST1A 10.0 (Heuck 2013)"},
    {"4x240 Al XLPE", "0.6/1 kV 4-core 240 mm2 Al XLPE cable (LV main)", 0.4, 0.125, 0.080, 261.0, 0.398, "cs", kTtCables},
    {"4x95 Al XLPE", "0.6/1 kV 4-core 95 mm2 Al XLPE cable (LV tail)", 0.4, 0.320, 0.080, 264.0, 0.234, "cs", kTtCables},
    {"4x50 Al XLPE", "0.6/1 kV 4-core 50 mm2 Al XLPE cable (shophouse service)", 0.4, 0.641, 0.083, 210.0, 0.158, "cs", kTtCables},
    {"ABC 3x95+70", "0.6/1 kV aerial bundled cable 3x95 mm2 Al + 70 mm2 neutral", 0.4, 0.320, 0.100, 0.0, 0.235, "ol",
     "r: IEC 60228 class 2 Al 95 mm2 (0.320 ohm/km, as in the TT Cables sheet); x, c, max_i ASSUMPTION"},
    {"SVC 4x16 Al", "3-phase service, 4x16 mm2 Al", 0.4, 1.910, 0.090, 0.0, 0.075, "cs",
     "r: IEC 60228 class 2 Al 16 mm2 (1.91 ohm/km); x, c, max_i ASSUMPTION"},
    {"SVC 2x16 1ph-eq", "1-phase service 2x16 mm2 Al, balanced equivalent (6 z, max_i / 3)", 0.4, 6 * 1.910, 6 * 0.090, 0.0, 0.075 / 3,
     "cs", "SVC 4x16 Al scaled so the balanced 3-phase model gives the 1-phase circuit's volt drop in percent and its loading"},
};
#undef LIBGRID_PP_MV
static_assert(std::size(kLineTable) == kNumLineTypes, "one catalogue row per LineIdx");
const std::vector<MelakaLineType> kLineTypes(std::begin(kLineTable), std::end(kLineTable));

enum TrafoIdx : int { PT_30 = 0, DT_315, DT_500, DT_630, DT_1000, kNumTrafoTypes };

// Dyn11: the LV side leads the HV side by 30 degrees, i.e. lags by 330 (pandapower's convention:
// shift_deg = 30 x clock number, Dyn5 -> 150).
constexpr MelakaTransformerType kTrafoTable[] = {
    {"PT 33/11 30MVA", 30.0, 33.0, 11.0, 10.0, 0.41, 14.0, 0.07, 330.0, -8, 8, 1.25,
     "ASSUMPTION: vk per IEC 60076-5 minimum for 25-40 MVA; vkr, pfe, i0 of pandapower's 25 MVA 110/10 kV type"},
    {"DT 315kVA", 0.315, 11.0, 0.433, 4.0, 1.25, 0.75, 0.24, 330.0, -2, 2, 2.5,
     "ASSUMPTION: interpolated between pandapower's 0.25 and 0.4 MVA 10/0.4 kV (Trafo Union) types"},
    {"DT 500kVA", 0.500, 11.0, 0.433, 4.0, 1.22, 1.05, 0.22, 330.0, -2, 2, 2.5,
     "ASSUMPTION: interpolated between pandapower's 0.4 and 0.63 MVA 10/0.4 kV (Trafo Union) types"},
    {"DT 630kVA", 0.630, 11.0, 0.433, 4.0, 1.0794, 1.18, 0.1873, 330.0, -2, 2, 2.5,
     "pandapower standard type 0.63 MVA 10/0.4 kV (Trafo Union), rated 11/0.433 kV"},
    {"DT 1000kVA", 1.000, 11.0, 0.433, 5.0, 1.00, 1.70, 0.17, 330.0, -2, 2, 2.5,
     "ASSUMPTION: vk per IEC 60076-5 minimum for 631-1250 kVA; losses extrapolated from the 630 kVA type"},
};
static_assert(std::size(kTrafoTable) == kNumTrafoTypes, "one catalogue row per TrafoIdx");
const std::vector<MelakaTransformerType> kTrafoTypes(std::begin(kTrafoTable), std::end(kTrafoTable));

}  // namespace

const std::vector<MelakaLineType>& melaka_line_types() { return kLineTypes; }
const std::vector<MelakaTransformerType>& melaka_transformer_types() { return kTrafoTypes; }

GridSize parse_grid_size(const std::string& s) {
    if (s == "small") return GridSize::Small;
    if (s == "district") return GridSize::District;
    if (s == "city") return GridSize::City;
    throw ValidationError("grid size: '" + s + "' is not one of \"small\", \"district\", \"city\"");
}

std::string to_string(GridSize s) {
    switch (s) {
        case GridSize::Small: return "small";
        case GridSize::District: return "district";
        case GridSize::City: return "city";
    }
    return "unknown";
}

std::string to_string(CustomerType t) {
    switch (t) {
        case CustomerType::TerraceHouse: return "terrace_house";
        case CustomerType::Shophouse: return "shophouse";
        case CustomerType::Office: return "office";
        case CustomerType::Mall: return "mall";
        case CustomerType::Hotel: return "hotel";
        case CustomerType::Industry: return "industry";
        case CustomerType::ChargingSite: return "charging_site";
    }
    return "unknown";
}

namespace {

// ---------------------------------------------------------------------------------------------
// Random numbers: splitmix64 (Steele, Lea & Flood 2014) seeds xoshiro256** (Blackman & Vigna 2021).
// Only integer arithmetic, +, - and * on doubles: the same bits on every IEEE-754 platform.
// ---------------------------------------------------------------------------------------------
std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// A stream key from (seed, level, indices...): a chain of splitmix64 steps.
std::uint64_t stream_key(std::initializer_list<std::uint64_t> parts) {
    std::uint64_t h = 0x4D656C616B61ULL;  // "Melaka"
    for (std::uint64_t p : parts) {
        std::uint64_t x = h ^ p;
        h = splitmix64(x);
    }
    return h;
}

struct Rng {
    std::uint64_t s[4];
    explicit Rng(std::uint64_t key) {
        std::uint64_t x = key;
        for (auto& w : s) w = splitmix64(x);
    }
    static std::uint64_t rotl(std::uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
        const std::uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }  ///< [0, 1)
    double uniform(double a, double b) { return a + (b - a) * uniform(); }
    int integer(int lo, int hi) { return lo + int(uniform() * double(hi - lo + 1)); }  ///< lo..hi inclusive
    bool chance(double p) { return uniform() < p; }
};

// ---------------------------------------------------------------------------------------------
// Design data (docs/melaka.md, "Design rules" and "Customers").
// ---------------------------------------------------------------------------------------------
// The voltage bands and the distribution transformers' tap are options (MelakaGridOptions; defaults
// and sources in docs/melaka.md): LV 0.94-1.05, MV 0.95-1.05 (ASSUMPTION), tap +2.
constexpr double kPlanningLoading = 0.8;        // ASSUMPTION: design current <= 80 % of the rating
constexpr double kMvDropBudget = 0.025;         // ASSUMPTION: 11 kV busbar -> any distribution transformer
constexpr double kLvDropBudget = 0.025;         // ASSUMPTION: LV board -> any customer's meter
constexpr int kMaxLvWays = 16;
constexpr double kSqrt3 = 1.7320508075688772;

struct TypeData {
    double coincidence;  ///< design (after-diversity) demand / own peak
    double pf;           ///< lagging power factor of the design demand
};
constexpr TypeData kTypeData[] = {
    {0.45, 0.95},  // TerraceHouse
    {0.60, 0.92},  // Shophouse
    {0.80, 0.90},  // Office
    {0.90, 0.90},  // Mall
    {0.85, 0.90},  // Hotel
    {0.75, 0.88},  // Industry
    {0.60, 0.99},  // ChargingSite
};

enum class Feeder : int { Residential, TownCentre, Industrial, SemiRural };
// ASSUMPTION: feeder archetypes cycle through this pattern (60 % residential, 20 % town centre,
// 10 % industrial, 10 % semi-rural), shifted by 3 per substation.
constexpr Feeder kFeederPattern[10] = {Feeder::Residential, Feeder::TownCentre, Feeder::Residential, Feeder::Industrial,
                                       Feeder::Residential, Feeder::SemiRural,  Feeder::Residential, Feeder::TownCentre,
                                       Feeder::Residential, Feeder::Residential};

enum class Area : int { Terrace, Mixed, ShopRow, Office, Hotel, Mall, IndustrialEstate };
// ASSUMPTION: town-centre feeders cycle through these distribution substations.
constexpr Area kTownPattern[15] = {Area::ShopRow, Area::Mall,   Area::Hotel,  Area::Office,  Area::ShopRow,
                                   Area::Mixed,   Area::Office, Area::ShopRow, Area::Hotel,  Area::Mixed,
                                   Area::ShopRow, Area::Office, Area::Mixed,   Area::ShopRow, Area::Office};

bool hosts_charging(Area a) { return a == Area::Mall || a == Area::Hotel || a == Area::Office || a == Area::ShopRow || a == Area::Mixed; }

struct PQ {
    double p = 0.0, q = 0.0;  // MW, MVAr
    PQ& operator+=(const PQ& o) {
        p += o.p;
        q += o.q;
        return *this;
    }
    double s() const { return std::sqrt(p * p + q * q); }  // MVA
};

/// Design demand of a customer: coincident share of its peak at its power factor.
PQ design_pq(CustomerType t, double peak_kw) {
    const TypeData& td = kTypeData[int(t)];
    const double p = td.coincidence * peak_kw / 1000.0;
    return {p, p * std::sqrt(1.0 / (td.pf * td.pf) - 1.0)};
}

/// Volt drop in p.u. of a section of `km` of cable `type` (x `parallel`) carrying s at v_kv:
/// the usual (P R + Q X) / V^2.
double section_drop(const PQ& s, int type, double km, int parallel, double v_kv) {
    const MelakaLineType& t = kLineTypes[type];
    return (s.p * t.r_ohm_per_km + s.q * t.x_ohm_per_km) * km / parallel / (v_kv * v_kv);
}
double current_ka(const PQ& s, double v_kv) { return s.s() / (kSqrt3 * v_kv); }

/// Parallel circuits of cable `type` for a design current `i_ka` at <= 80 % of rating.
int circuits(double i_ka, int type) { return std::max(1, int(std::ceil(i_ka / (kPlanningLoading * kLineTypes[type].max_i_ka)))); }

/// A customer before it is placed on the network.
struct Unit {
    CustomerType type;
    double peak_kw, daily_kwh, roof_m2;
    int phases;
    int svc_type;    ///< service cable type
    double svc_km;   ///< service cable length
    double span_km;  ///< LV main from the previous joint to this unit's joint
    PQ s;            ///< design demand
};

struct Sizes {
    int n_sub, n_feed, n_tx, n_cust, n_ev;
};

Sizes resolve(const MelakaGridOptions& o) {
    Sizes d{};
    switch (o.size) {
        case GridSize::Small: d = {1, 2, 4, 38, 2}; break;
        case GridSize::District: d = {1, 6, 8, 90, 6}; break;
        case GridSize::City: d = {50, 8, 15, 125, 40}; break;
        default: throw ValidationError("melaka grid options: field 'size': unknown grid size " + std::to_string(int(o.size)));
    }
    auto pick = [](int v, int dflt, const char* field, int min) {
        if (v == -1) return dflt;
        if (v < min)
            throw ValidationError(std::string("melaka grid options: field '") + field + "': must be -1 (by size) or >= " + std::to_string(min) +
                                  ", got " + std::to_string(v));
        return v;
    };
    Sizes s;
    s.n_sub = pick(o.n_substations, d.n_sub, "n_substations", 1);
    s.n_feed = pick(o.feeders_per_substation, d.n_feed, "feeders_per_substation", 1);
    s.n_tx = pick(o.transformers_per_feeder, d.n_tx, "transformers_per_feeder", 1);
    s.n_cust = pick(o.customers_per_transformer, d.n_cust, "customers_per_transformer", 1);
    s.n_ev = pick(o.n_charging_sites, d.n_ev, "n_charging_sites", 0);
    auto band = [](double lo, double hi, const char* f_lo, const char* f_hi) {
        if (!(lo >= 0.5 && lo <= 1.0)) throw ValidationError(std::string("melaka grid options: field '") + f_lo + "': must be in [0.5, 1], got " + std::to_string(lo));
        if (!(hi >= 1.0 && hi <= 1.5)) throw ValidationError(std::string("melaka grid options: field '") + f_hi + "': must be in [1, 1.5], got " + std::to_string(hi));
    };
    band(o.lv_vmin_pu, o.lv_vmax_pu, "lv_vmin_pu", "lv_vmax_pu");
    band(o.mv_vmin_pu, o.mv_vmax_pu, "mv_vmin_pu", "mv_vmax_pu");
    const MelakaTransformerType& dt = kTrafoTable[DT_315];
    if (o.distribution_tap_pos < dt.tap_min || o.distribution_tap_pos > dt.tap_max)
        throw ValidationError("melaka grid options: field 'distribution_tap_pos': must be in [" + std::to_string(dt.tap_min) + ", " +
                              std::to_string(dt.tap_max) + "], got " + std::to_string(o.distribution_tap_pos));
    const double est = double(s.n_sub) * s.n_feed * s.n_tx * (2.2 * s.n_cust + 12.0);
    if (est > 2.0e7)
        throw ValidationError("melaka grid options: field 'customers_per_transformer': the options ask for about " +
                              std::to_string(static_cast<long long>(est)) + " buses; the generator's limit is 20,000,000");
    return s;
}

// Names built by appending (GCC 12 warns falsely, -Wrestrict, on "literal" + std::string&&).
void put(std::string& s, const char* x) { s += x; }
void put(std::string& s, const std::string& x) { s += x; }
template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
void put(std::string& s, I x) {
    s += std::to_string(x);
}
template <class... T>
std::string join(const T&... parts) {
    std::string s;
    (put(s, parts), ...);
    return s;
}

/// Cable ladders: what a section is upgraded to when its current or the volt drop asks for more.
struct Step {
    int type, parallel;
};
const std::vector<Step> kUgTrunk = {{L11_185, 1}, {L11_240, 1}, {L11_240, 2}, {L11_240, 3}, {L11_240, 4}};
const std::vector<Step> kUgSpur = {{L11_70, 1}, {L11_185, 1}, {L11_240, 1}, {L11_240, 2}, {L11_240, 3}};
const std::vector<Step> kOverhead = {{L11_OH95, 1}, {L11_OH150, 1}, {L11_OH150, 2}, {L11_OH150, 3}};

// ---------------------------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------------------------
class Builder {
public:
    Builder(const MelakaGridOptions& opt, const Sizes& sz, MelakaGrid& g) : opt_(opt), sz_(sz), g_(g), net_(g.net) {}

    void run();

private:
    const MelakaGridOptions& opt_;
    Sizes sz_;
    MelakaGrid& g_;
    Network& net_;

    // Per distribution transformer (generation order).
    std::vector<std::size_t> tx_index_;  // position in net_.transformers
    std::vector<Area> tx_area_;
    std::vector<PQ> tx_load_;
    std::vector<Id> tx_lv_bus_;
    std::vector<Id> tx_feeder_;
    // Per feeder.
    std::vector<Id> feeder_end_;
    std::vector<char> feeder_overhead_;

    // --- tables ---
    Id add_bus(std::string name, double vn_kv, bool lv) {
        Bus b;
        b.id = Id(net_.buses.size());
        b.name = std::move(name);
        b.vn_kv = vn_kv;
        b.vmin_pu = lv ? opt_.lv_vmin_pu : opt_.mv_vmin_pu;
        b.vmax_pu = lv ? opt_.lv_vmax_pu : opt_.mv_vmax_pu;
        // Start angle: each Dyn11 transformer (shift 330 = -30 degrees) advances the angle by 30
        // degrees. With angles in the case the solvers skip their DC angle initialisation.
        b.va_deg = vn_kv > 20.0 ? 0.0 : (lv ? 60.0 : 30.0);
        net_.buses.push_back(std::move(b));
        return net_.buses.back().id;
    }
    Id add_line(Id from, Id to, double length_km, int type, int parallel = 1) {
        const MelakaLineType& t = kLineTypes[type];
        Line l;
        l.id = Id(net_.lines.size());
        l.name = t.name;
        l.from_bus = from;
        l.to_bus = to;
        l.length_km = length_km;
        l.r_ohm_per_km = t.r_ohm_per_km;
        l.x_ohm_per_km = t.x_ohm_per_km;
        l.c_nf_per_km = t.c_nf_per_km;
        l.max_i_ka = t.max_i_ka;
        l.parallel = parallel;
        l.type = t.kind;
        net_.lines.push_back(std::move(l));
        return net_.lines.back().id;
    }
    void add_switch(Id bus, Id element, SwitchElement et, bool closed, const char* type, std::string name) {
        Switch s;
        s.id = Id(net_.switches.size());
        s.name = std::move(name);
        s.bus = bus;
        s.element = element;
        s.et = et;
        s.closed = closed;
        s.type = type;
        net_.switches.push_back(std::move(s));
    }
    static void set_type(Transformer& tr, int type, int parallel) {
        const MelakaTransformerType& t = kTrafoTypes[type];
        tr.name = t.name;
        tr.sn_mva = t.sn_mva;
        tr.vn_hv_kv = t.vn_hv_kv;
        tr.vn_lv_kv = t.vn_lv_kv;
        tr.vk_percent = t.vk_percent;
        tr.vkr_percent = t.vkr_percent;
        tr.pfe_kw = t.pfe_kw;
        tr.i0_percent = t.i0_percent;
        tr.shift_deg = t.shift_deg;
        tr.tap_side = TapSide::HV;
        tr.tap_neutral = 0;
        tr.tap_min = t.tap_min;
        tr.tap_max = t.tap_max;
        tr.tap_step_percent = t.tap_step_percent;
        tr.parallel = parallel;
    }

    /// Cheapest distribution transformer carrying `s_mva` at <= 80 %; above 800 kVA, parallel 1000 kVA units.
    static void size_distribution(Transformer& tr, double s_mva) {
        for (int k = DT_315; k <= DT_1000; ++k)
            if (s_mva <= kPlanningLoading * kTrafoTypes[k].sn_mva) {
                set_type(tr, k, 1);
                return;
            }
        set_type(tr, DT_1000, int(std::ceil(s_mva / (kPlanningLoading * kTrafoTypes[DT_1000].sn_mva))));
    }

    /// Places a unit: its meter bus, the service cable from `at_bus` (x parallel), its Load and Customer.
    Id place(const Unit& u, Id at_bus, int svc_parallel, Id feeder, Id tx) {
        const Id cid = Id(g_.customers.size());
        const Id bus = add_bus(join("C", cid), 0.4, true);
        add_line(at_bus, bus, u.svc_km, u.svc_type, svc_parallel);
        Load l;
        l.id = Id(net_.loads.size());
        l.name = join("C", cid);
        l.bus = bus;
        l.p_mw = u.s.p;
        l.q_mvar = u.s.q;
        l.type = to_string(u.type);
        net_.loads.push_back(std::move(l));
        Customer c;
        c.id = cid;
        c.bus = bus;
        c.load_id = net_.loads.back().id;
        c.type = u.type;
        c.peak_kw = u.peak_kw;
        c.daily_kwh = u.daily_kwh;
        c.roof_area_m2 = u.roof_m2;
        c.phases = u.phases;
        c.feeder = feeder;
        c.transformer = tx;
        g_.customers.push_back(c);
        return bus;
    }

    // --- customers of each kind (docs/melaka.md, "Customers") ---
    static Unit house(Rng& r, bool overhead) {
        Unit u;
        u.type = CustomerType::TerraceHouse;
        u.peak_kw = r.uniform(3.5, 6.5);
        u.daily_kwh = 14.5 * r.uniform(0.6, 1.4);  // melaka.md: about 14.5 kWh/day
        u.roof_m2 = r.uniform(70.0, 110.0);
        u.phases = r.chance(0.6) ? 1 : 3;
        u.svc_type = u.phases == 1 ? SVC_2x16_EQ : SVC_4x16;
        u.svc_km = overhead ? r.uniform(0.010, 0.030) : r.uniform(0.008, 0.025);
        u.span_km = overhead ? r.uniform(0.015, 0.035) : r.uniform(0.003, 0.007);
        u.s = design_pq(u.type, u.peak_kw);
        return u;
    }
    /// Unit k of a shophouse row: one unit in eight is an office, one in eight a workshop (small industry).
    static Unit shop_unit(Rng& r, int k) {
        Unit u;
        u.svc_type = LV_50;
        u.svc_km = r.uniform(0.005, 0.015);
        u.span_km = r.uniform(0.006, 0.0075);
        u.roof_m2 = r.uniform(100.0, 160.0);
        u.phases = 3;
        if (k % 8 == 3) {
            u.type = CustomerType::Office;
            u.peak_kw = r.uniform(20.0, 60.0);
            u.daily_kwh = u.peak_kw * r.uniform(6.0, 9.0);
        } else if (k % 8 == 6) {
            u.type = CustomerType::Industry;
            u.peak_kw = r.uniform(15.0, 40.0);
            u.daily_kwh = u.peak_kw * r.uniform(5.0, 9.0);
        } else {
            u.type = CustomerType::Shophouse;
            u.peak_kw = r.uniform(10.0, 25.0);
            u.daily_kwh = r.uniform(30.0, 70.0);
        }
        u.s = design_pq(u.type, u.peak_kw);
        return u;
    }

    /// A building on its own supply from the LV board: parallel 4x240 cables for its peak current
    /// and for the LV volt-drop budget at its design demand.
    PQ building(CustomerType type, double peak, double hours, double roof, Id lv_bus, double km, Id feeder, Id tx) {
        Unit u;
        u.type = type;
        u.peak_kw = peak;
        u.daily_kwh = peak * hours;
        u.roof_m2 = roof;
        u.phases = 3;
        u.svc_type = LV_240;
        u.svc_km = km;
        u.span_km = 0.0;
        u.s = design_pq(type, peak);
        const double i_peak = peak / 1000.0 / kTypeData[int(type)].pf / (kSqrt3 * 0.4);
        const int by_drop = int(std::ceil(section_drop(u.s, LV_240, km, 1, 0.4) / kLvDropBudget));
        place(u, lv_bus, std::max(circuits(i_peak, LV_240), by_drop), feeder, tx);
        return u.s;
    }

    /// Sections of one LV way (pillar -> joint 0 -> ... -> joint n-1); returns the largest volt drop
    /// from the LV board to a meter. mode 0: 4x95 tail where the current allows; 1: 4x240 (or ABC)
    /// throughout; 2: as 1 with at least two circuits.
    static double plan_way(const Unit* u, int n, double first_km, bool overhead, int mode, std::vector<Step>& sec) {
        sec.resize(n);
        std::vector<PQ> down(n);
        PQ acc;
        for (int k = n - 1; k >= 0; --k) down[k] = (acc += u[k].s);
        double v = 0.0, worst = 0.0;
        for (int k = 0; k < n; ++k) {
            const double i_ka = current_ka(down[k], 0.4);
            int type = overhead ? LV_ABC95 : LV_240;
            if (!overhead && mode == 0 && 2 * k >= n && i_ka <= kPlanningLoading * kLineTypes[LV_95].max_i_ka) type = LV_95;  // tapered tail
            const int par = std::max(circuits(i_ka, type), mode == 2 ? 2 : 1);
            sec[k] = {type, par};
            v += section_drop(down[k], type, k == 0 ? first_km : u[k].span_km, par, 0.4);
            worst = std::max(worst, v + section_drop(u[k].s, u[k].svc_type, u[k].svc_km, 1, 0.4));
        }
        return worst;
    }

    /// Hangs `units` on ways out of the LV board: starts with `ways0` ways, adds ways (up to 16),
    /// then drops the taper, then doubles the circuits, until the volt-drop budget holds.
    PQ lv_group(Id lv_bus, Id tx, int& joint_no, const std::vector<Unit>& units, bool overhead, int ways0, Id feeder) {
        const int n = int(units.size());
        PQ total;
        if (n == 0) return total;
        auto first_km = [&](int w) {  // keyed by (transformer, way): independent of the split
            Rng r(stream_key({opt_.seed, 7, std::uint64_t(tx), std::uint64_t(w)}));
            return overhead ? r.uniform(0.03, 0.15) : r.uniform(0.02, 0.12);
        };
        auto begin = [&](int w, int ways) { return int(std::int64_t(n) * w / ways); };
        std::vector<Step> sec;
        int ways = std::clamp(ways0, 1, n), mode = 0;
        for (;;) {
            double worst = 0.0;
            for (int w = 0; w < ways; ++w)
                worst = std::max(worst, plan_way(units.data() + begin(w, ways), begin(w + 1, ways) - begin(w, ways), first_km(w), overhead, mode, sec));
            if (worst <= kLvDropBudget) break;
            if (ways < std::min(n, kMaxLvWays)) ++ways;
            else if (mode < 2) ++mode;
            else break;
        }
        std::vector<Id> joint;
        for (int w = 0; w < ways; ++w) {
            const int b = begin(w, ways), m = begin(w + 1, ways) - b;
            const double first = first_km(w);
            plan_way(units.data() + b, m, first, overhead, mode, sec);
            joint.resize(m);
            for (int k = 0; k < m; ++k) {
                joint[k] = add_bus(join("T", tx, "J", joint_no++), 0.4, true);
                place(units[b + k], joint[k], 1, feeder, tx);
                total += units[b + k].s;
            }
            for (int k = 0; k < m; ++k)
                add_line(k == 0 ? lv_bus : joint[k - 1], joint[k], k == 0 ? first : units[b + k].span_km, sec[k].type, sec[k].parallel);
        }
        return total;
    }

    Area area_for(Feeder kind, int t, Rng& r) const {
        const double u = r.uniform();
        switch (kind) {
            case Feeder::Residential: return u < 0.75 ? Area::Terrace : (u < 0.90 ? Area::Mixed : Area::ShopRow);
            case Feeder::TownCentre: return kTownPattern[t % 15];
            case Feeder::Industrial: return u < 0.75 ? Area::IndustrialEstate : (u < 0.85 ? Area::Office : Area::Terrace);
            case Feeder::SemiRural: return u < 0.85 ? Area::Terrace : Area::ShopRow;
        }
        return Area::Terrace;
    }

    /// One 11/0.433 kV substation at `hv_bus`; returns its design load.
    PQ distribution_substation(Id hv_bus, Feeder kind, int s, int f, int t, Id feeder) {
        Rng r(stream_key({opt_.seed, 3, std::uint64_t(s), std::uint64_t(f), std::uint64_t(t)}));
        const Area area = area_for(kind, t, r);
        const bool overhead = kind == Feeder::SemiRural;
        const Id tx = Id(net_.transformers.size());  // the record is added below, after its LV network
        const Id lv = add_bus(join("T", tx, " LV"), 0.4, true);
        const int c = sz_.n_cust;
        int joint_no = 0;
        PQ load;
        std::vector<Unit> units;
        auto houses = [&](int n) {
            units.clear();
            for (int k = 0; k < n; ++k) units.push_back(house(r, overhead));
            load += lv_group(lv, tx, joint_no, units, overhead, (n + 23) / 24, feeder);  // ASSUMPTION: ~24 houses a way
        };
        auto shops = [&](int n) {
            units.clear();
            for (int k = 0; k < n; ++k) units.push_back(shop_unit(r, k));
            load += lv_group(lv, tx, joint_no, units, false, (n + 9) / 10, feeder);  // ASSUMPTION: ~10 units a way
        };
        switch (area) {
            case Area::Terrace: houses(overhead ? std::max(1, c / 2) : c); break;  // ASSUMPTION: semi-rural: half as many
            case Area::Mixed:
                houses(std::max(1, c * 6 / 10));
                shops(std::max(2, c / 10));
                break;
            case Area::ShopRow: shops(std::max(1, c / 4)); break;
            case Area::Office:
                load += building(CustomerType::Office, r.uniform(150.0, 600.0), r.uniform(6.0, 9.0), r.uniform(600.0, 2000.0), lv, r.uniform(0.02, 0.08),
                                 feeder, tx);
                break;
            case Area::Hotel:
                load += building(CustomerType::Hotel, r.uniform(250.0, 700.0), r.uniform(12.0, 16.0), r.uniform(800.0, 2500.0), lv, r.uniform(0.02, 0.08),
                                 feeder, tx);
                break;
            case Area::Mall:
                load += building(CustomerType::Mall, r.uniform(900.0, 1500.0), r.uniform(10.0, 13.0), r.uniform(8000.0, 20000.0), lv,
                                 r.uniform(0.02, 0.08), feeder, tx);
                break;
            case Area::IndustrialEstate: {
                const int n_fact = r.integer(2, 4);
                for (int k = 0; k < n_fact; ++k)
                    load += building(CustomerType::Industry, r.uniform(80.0, 300.0), r.uniform(8.0, 14.0), r.uniform(1000.0, 4000.0), lv,
                                     r.uniform(0.05, 0.20), feeder, tx);
                break;
            }
        }
        Transformer tr;
        tr.id = tx;
        tr.hv_bus = hv_bus;
        tr.lv_bus = lv;
        size_distribution(tr, load.s());
        // ASSUMPTION (default): off-circuit tap at +2 x 2.5 % (HV 11.55 kV): the 433 V no-load
        // secondary (1.0825 p.u. of 400 V) sits at 1.031 p.u., inside the 0.94-1.05 band.
        tr.tap_pos = opt_.distribution_tap_pos;
        net_.transformers.push_back(std::move(tr));
        tx_index_.push_back(net_.transformers.size() - 1);
        tx_area_.push_back(area);
        tx_load_.push_back(load);
        tx_lv_bus_.push_back(lv);
        tx_feeder_.push_back(feeder);
        g_.lv_transformers.push_back(tx);
        return load;
    }

    struct MvSection {
        Id from, to;
        double km;
        PQ down;                        // design flow through the section
        const std::vector<Step>* ladder;
        int step;
        int parent;                     // section feeding `from`, -1 at the head
    };
    static double mv_drop(const MvSection& m) {
        const Step& st = (*m.ladder)[m.step];
        return section_drop(m.down, st.type, m.km, st.parallel, 11.0);
    }

    PQ feeder(Id busbar, int s, int f) {
        Rng r(stream_key({opt_.seed, 2, std::uint64_t(s), std::uint64_t(f)}));
        const Feeder kind = kFeederPattern[(f + 3 * s) % 10];
        const bool overhead = kind == Feeder::SemiRural;
        const Id fid = Id(g_.feeder_ids.size());
        const std::string tag = join("P", s, "F", f);
        const Id head = add_bus(tag, 11.0, false);
        add_switch(busbar, head, SwitchElement::Bus, true, "CB", join("CB ", tag));
        g_.feeder_ids.push_back(fid);
        g_.feeder_head_bus.push_back(head);
        g_.feeder_substation.push_back(s);

        const int n = sz_.n_tx;
        std::vector<Id> rmu(n), spur_bus(n, -1);
        std::vector<double> len(n), spur_len(n, 0.0);
        for (int t = 0; t < n; ++t) {
            rmu[t] = add_bus(join(tag, "R", t), 11.0, false);
            // ASSUMPTION: 0.8-2.0 km of cable from the primary to the first ring main unit, then RMUs
            // every 0.3-0.5 km (issue); semi-rural: 1.0-2.5 km of cable, then 0.4-1.0 km of overhead line.
            len[t] = t == 0 ? (overhead ? r.uniform(1.0, 2.5) : r.uniform(0.8, 2.0)) : (overhead ? r.uniform(0.4, 1.0) : r.uniform(0.3, 0.5));
            if (r.chance(0.2)) {  // ASSUMPTION: one substation in five sits on a spur from its RMU
                spur_bus[t] = add_bus(join(tag, "S", t), 11.0, false);
                spur_len[t] = overhead ? r.uniform(0.2, 1.0) : r.uniform(0.1, 0.4);
            }
        }
        std::vector<PQ> load(n);
        for (int t = 0; t < n; ++t) load[t] = distribution_substation(spur_bus[t] >= 0 ? spur_bus[t] : rmu[t], kind, s, f, t, fid);

        // Sections: trunk t (rmu[t-1] -> rmu[t]) is section t; the spur at t, if any, follows.
        std::vector<MvSection> sec;
        sec.reserve(2 * n);
        std::vector<int> trunk(n), leaf;  // leaf: sections whose far end hosts a transformer
        PQ down;
        std::vector<PQ> downstream(n);
        for (int t = n - 1; t >= 0; --t) downstream[t] = (down += load[t]);
        for (int t = 0; t < n; ++t) {
            // The cable out of the primary is underground even on an overhead feeder.
            const std::vector<Step>* ladder = (overhead && t > 0) ? &kOverhead : &kUgTrunk;
            trunk[t] = int(sec.size());
            sec.push_back({t == 0 ? head : rmu[t - 1], rmu[t], len[t], downstream[t], ladder, 0, t == 0 ? -1 : trunk[t - 1]});
            if (spur_bus[t] >= 0) {
                leaf.push_back(int(sec.size()));
                sec.push_back({rmu[t], spur_bus[t], spur_len[t], load[t], overhead ? &kOverhead : &kUgSpur, 0, trunk[t]});
            } else {
                leaf.push_back(trunk[t]);
            }
        }
        // Size for current, then upgrade the section with the largest drop on the path to the worst
        // transformer until the 11 kV volt-drop budget holds (or the ladders end).
        for (MvSection& m : sec)
            while (m.step + 1 < int(m.ladder->size()) &&
                   current_ka(m.down, 11.0) > kPlanningLoading * kLineTypes[(*m.ladder)[m.step].type].max_i_ka * (*m.ladder)[m.step].parallel)
                ++m.step;
        for (;;) {
            double worst = 0.0;
            int worst_leaf = -1;
            for (int l : leaf) {
                double v = 0.0;
                for (int k = l; k >= 0; k = sec[k].parent) v += mv_drop(sec[k]);
                if (v > worst) worst = v, worst_leaf = l;
            }
            if (worst <= kMvDropBudget) break;
            int best = -1;
            double best_drop = 0.0;
            for (int k = worst_leaf; k >= 0; k = sec[k].parent)
                if (sec[k].step + 1 < int(sec[k].ladder->size()) && mv_drop(sec[k]) > best_drop) best = k, best_drop = mv_drop(sec[k]);
            if (best < 0) break;
            ++sec[best].step;
        }
        for (std::size_t k = 0; k < sec.size(); ++k) {
            const Step& st = (*sec[k].ladder)[sec[k].step];
            const Id l = add_line(sec[k].from, sec[k].to, sec[k].km, st.type, st.parallel);
            if (k == 0) g_.feeder_head_line.push_back(l);
        }
        feeder_end_.push_back(rmu[n - 1]);
        feeder_overhead_.push_back(overhead);
        return down;
    }

    void primary_substation(Id grid, int s) {
        const std::string tag = join("P", s);
        const Id b33 = add_bus(join(tag, " 33kV"), 33.0, false);
        add_switch(grid, b33, SwitchElement::Bus, true, "CB", join("CB ", tag, " 33kV"));
        const Id b11 = add_bus(join(tag, " 11kV"), 11.0, false);
        Transformer tr;
        tr.id = Id(net_.transformers.size());
        tr.hv_bus = b33;
        tr.lv_bus = b11;
        set_type(tr, PT_30, 2);  // ASSUMPTION: 2 x 30 MVA per primary substation
        tr.oltc = true;
        tr.oltc_vm_pu = 1.0;
        tr.oltc_band_pu = 0.02;
        net_.transformers.push_back(std::move(tr));
        const std::size_t k = net_.transformers.size() - 1;
        g_.primary_transformers.push_back(net_.transformers[k].id);
        g_.primary_busbars.push_back(b11);
        PQ total;
        for (int f = 0; f < sz_.n_feed; ++f) total += feeder(b11, s, f);
        // Pre-set the tap where the OLTC settles at the design load, so that the design-case power
        // flow needs no control rounds: volt drop ~ (P r + Q x) / S_rated, 1.25 % a step.
        Transformer& t = net_.transformers[k];
        const double r_pu = t.vkr_percent / 100.0, x_pu = std::sqrt(t.vk_percent * t.vk_percent - t.vkr_percent * t.vkr_percent) / 100.0;
        const double drop = (total.p * r_pu + total.q * x_pu) / (t.sn_mva * t.parallel);
        t.tap_pos = std::clamp(-int(std::lround(drop * 100.0 / t.tap_step_percent)), t.tap_min, t.tap_max);
    }

    void ties() {
        // ASSUMPTION: feeders 2k and 2k+1 of a substation meet at a normally-open point; with an odd
        // number of feeders the last one meets feeder 0 of the next substation (if any).
        const int S = sz_.n_sub, F = sz_.n_feed;
        int k = 0;
        auto tie = [&](int a, int b) {
            Rng r(stream_key({opt_.seed, 5, std::uint64_t(a), std::uint64_t(b)}));
            const bool oh = feeder_overhead_[a] || feeder_overhead_[b];
            const Id l = add_line(feeder_end_[a], feeder_end_[b], oh ? r.uniform(0.5, 1.5) : r.uniform(0.3, 1.0), oh ? L11_OH150 : L11_240);
            add_switch(feeder_end_[b], l, SwitchElement::Line, false, "LBS", join("NOP ", k++));
        };
        for (int s = 0; s < S; ++s) {
            for (int f = 0; f + 1 < F; f += 2) tie(s * F + f, s * F + f + 1);
            if (F % 2 == 1 && s + 1 < S) tie(s * F + F - 1, (s + 1) * F);
        }
    }

    void charging_sites() {
        std::vector<std::size_t> cand;
        for (std::size_t i = 0; i < tx_area_.size(); ++i)
            if (hosts_charging(tx_area_[i])) cand.push_back(i);
        const int n = std::min<int>(sz_.n_ev, int(cand.size()));
        if (n == 0) return;
        Rng rc(stream_key({opt_.seed, 4}));
        const double phase = rc.uniform();
        for (int k = 0; k < n; ++k) {
            // Evenly spread over the candidate substations (in generation order), random phase.
            const std::size_t i = cand[std::size_t((double(k) + phase) * double(cand.size()) / double(n))];
            Rng r(stream_key({opt_.seed, 6, std::uint64_t(k)}));
            // melaka.md: 118 bays at 40 sites (about 3 a site); AC 22 kW and DC 50 kW in use.
            const int bays = r.integer(2, 4);
            Unit u;
            u.type = CustomerType::ChargingSite;
            u.peak_kw = 50.0 + 22.0 * (bays - 1);  // ASSUMPTION: one DC 50 kW bay, the rest AC 22 kW
            u.daily_kwh = u.peak_kw * r.uniform(0.8, 2.0);
            u.roof_m2 = 15.0 * bays;  // ASSUMPTION: 15 m2 of canopy a bay
            u.phases = 3;
            u.svc_type = LV_240;
            u.svc_km = r.uniform(0.02, 0.10);
            u.span_km = 0.0;
            u.s = design_pq(u.type, u.peak_kw);
            const Id tx = g_.lv_transformers[i];
            const double i_peak = u.peak_kw / 1000.0 / kTypeData[int(u.type)].pf / (kSqrt3 * 0.4);
            const Id bus = place(u, tx_lv_bus_[i], circuits(i_peak, LV_240), tx_feeder_[i], tx);
            g_.charging_sites.push_back(g_.customers.back().id);
            SGen pv;
            pv.id = Id(net_.sgens.size());
            pv.name = join("EV PV ", k);
            pv.bus = bus;
            pv.sn_mva = u.roof_m2 * 0.2 / 1000.0;  // ASSUMPTION: 200 Wp/m2 of canopy
            pv.type = "pv";
            net_.sgens.push_back(std::move(pv));
            g_.charging_site_pv.push_back(net_.sgens.back().id);
            Storage bat;
            bat.id = Id(net_.storage.size());
            bat.name = join("EV BAT ", k);
            bat.bus = bus;
            bat.sn_mva = 0.05;    // ASSUMPTION: 50 kW (the DC charger's rating)
            bat.max_e_mwh = 0.1;  // ASSUMPTION: 2 hours
            bat.soc_percent = 50.0;
            bat.type = "battery";
            net_.storage.push_back(std::move(bat));
            g_.charging_site_battery.push_back(net_.storage.back().id);
            // The host transformer now carries the site too: resize it if it left the planning margin.
            tx_load_[i] += u.s;
            Transformer& tr = net_.transformers[tx_index_[i]];
            if (tx_load_[i].s() > kPlanningLoading * tr.sn_mva * tr.parallel) {
                const int tap = tr.tap_pos;
                size_distribution(tr, tx_load_[i].s());
                tr.tap_pos = tap;
            }
        }
    }
};

void Builder::run() {
    const std::size_t n_tx = std::size_t(sz_.n_sub) * sz_.n_feed * sz_.n_tx;
    const std::size_t est_cust = n_tx * std::size_t(sz_.n_cust) + sz_.n_ev;
    const std::size_t est_bus = 2 * est_cust + n_tx * 12 + 8;
    net_.buses.reserve(est_bus);
    net_.lines.reserve(est_bus);
    net_.loads.reserve(est_cust);
    net_.transformers.reserve(n_tx + sz_.n_sub);
    g_.customers.reserve(est_cust);
    g_.lv_transformers.reserve(n_tx);
    tx_index_.reserve(n_tx);
    tx_area_.reserve(n_tx);
    tx_load_.reserve(n_tx);
    tx_lv_bus_.reserve(n_tx);
    tx_feeder_.reserve(n_tx);

    net_.name = join("melaka-", to_string(opt_.size), "-seed", opt_.seed);
    net_.f_hz = 50.0;   // melaka.md: 50 Hz
    net_.sn_mva = 1.0;  // per-unit base (pandapower's default)
    const Id grid = add_bus("GRID 33kV", 33.0, false);
    ExtGrid eg;
    eg.id = 0;
    eg.bus = grid;
    eg.vm_pu = 1.0;  // ASSUMPTION: the 132/33 kV intake holds 33 kV at nominal
    net_.ext_grids.push_back(eg);
    for (int s = 0; s < sz_.n_sub; ++s) primary_substation(grid, s);
    if (opt_.normally_open_ties) ties();
    charging_sites();
}

}  // namespace

MelakaGrid generate_melaka_grid(const MelakaGridOptions& opt) {
    const Sizes sz = resolve(opt);
    MelakaGrid g;
    Builder(opt, sz, g).run();
    return g;
}

}  // namespace libgrid
