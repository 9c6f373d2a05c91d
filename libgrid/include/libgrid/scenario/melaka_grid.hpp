// libgrid scenario: a deterministic generator of a representative Melaka distribution network.
//
// No public model of Melaka's network exists. This builds one from the facts in
// ../docs/sources/melaka_facts.md and the data sheets listed in docs/melaka.md (every figure there has a
// source or is marked ASSUMPTION):
//
//   33 kV supply (one ExtGrid) -> 33/11 kV primary substations (2 x 30 MVA, OLTC)
//     -> 11 kV radial feeders of XLPE cable (overhead ACSR in semi-rural areas), ring main units
//        every 0.3-0.5 km, normally-open ties between feeder ends (open line switches)
//     -> 11/0.433 kV distribution transformers of 315, 500, 630 or 1000 kVA (Dyn11, fixed taps)
//     -> 400/230 V feeders (4-core Al XLPE cable or ABC) with one service cable per customer
//     -> terrace houses, shophouses, offices, malls, hotels, small industry, and public EV
//        charging sites with a PV canopy (SGen) and a battery (Storage).
//
// Deterministic: the same options give the same Network bit for bit, on any platform. The random
// numbers come from the generator's own xoshiro256** seeded through splitmix64, keyed by
// (seed, substation, feeder, transformer), so substation k is the same whether 1 or 25 substations
// are generated (the tables of a smaller grid are a prefix of a larger one's, charging sites aside).
//
// Units: kV, MW, MVAr, kW, kWh, m2 as named. Loads carry the design (coincident, after-diversity)
// demand of each customer, so a power flow of the generated network is the design-peak case; the
// generator plans cable sizes, LV ways and taps so that this case meets every bus's voltage band
// and every rating. Every id equals the element's position in its table (buses[i].id == i, ...).
// Buses carry start angles 0 / 30 / 60 degrees at 33 kV / 11 kV / 0.4 kV (the Dyn11 shifts).
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/model/unetwork.hpp>

#include <map>

#include <cstdint>
#include <string>
#include <vector>

namespace libgrid {

/// Preset sizes: Small (about 300 buses, tests and README), District (about 5,000 buses),
/// City (about 960,000 buses, the scale benchmark).
enum class GridSize : int { Small = 0, District = 1, City = 2 };

/// "small", "district" or "city" (exactly); anything else throws ValidationError.
GridSize parse_grid_size(const std::string& s);
std::string to_string(GridSize s);

enum class CustomerType : int { TerraceHouse = 0, Shophouse = 1, Office = 2, Mall = 3, Hotel = 4, Industry = 5, ChargingSite = 6 };
std::string to_string(CustomerType t);  ///< "terrace_house", "shophouse", "office", "mall", "hotel", "industry", "charging_site"

/// One customer = one Load (its own bus, at the end of its service cable or building supply).
struct Customer {
    Id id = 0;              ///< 0..customers.size()-1, the index in MelakaGrid::customers
    Id bus = 0;             ///< bus id of the customer's connection point (its meter)
    Id load_id = 0;         ///< id of its Load in Network::loads
    CustomerType type = CustomerType::TerraceHouse;
    double peak_kw = 0.0;   ///< the customer's own (non-coincident) maximum demand, kW
    double daily_kwh = 0.0; ///< average daily energy, kWh/day
    double roof_area_m2 = 0.0;  ///< roof (or, for a charging site, canopy) area, m2
    int phases = 3;         ///< 1 or 3 (supply arrangement; the power flow is balanced 3-phase)
    Id feeder = 0;          ///< the 11 kV feeder it hangs from: an index into MelakaGrid::feeder_ids
    Id transformer = 0;     ///< id of its 11/0.433 kV transformer in Network::transformers
    bool operator==(const Customer&) const = default;
};

struct MelakaGrid {
    Network net;
    std::vector<Customer> customers;

    // 11 kV feeders, index i = feeder id i.
    std::vector<Id> feeder_ids;         ///< 0..F-1
    std::vector<Id> feeder_head_bus;    ///< bus after the feeder circuit breaker (bus-bus switch to the 11 kV busbar)
    std::vector<Id> feeder_head_line;   ///< the feeder's first 11 kV cable: its current is the feeder current
    std::vector<Id> feeder_substation;  ///< index of the primary substation (into primary_*)

    // 33/11 kV primary substations, index s.
    std::vector<Id> primary_transformers;  ///< 33/11 kV transformer id (one record, parallel = 2)
    std::vector<Id> primary_busbars;       ///< 11 kV busbar bus id

    std::vector<Id> lv_transformers;       ///< all 11/0.433 kV transformer ids, in generation order

    // Public EV charging sites, index k (parallel vectors).
    std::vector<Id> charging_sites;        ///< Customer::id of each ChargingSite customer
    std::vector<Id> charging_site_pv;      ///< SGen id of its PV canopy (p_mw = 0 in the design case)
    std::vector<Id> charging_site_battery; ///< Storage id of its battery (p_mw = 0 in the design case)

    bool operator==(const MelakaGrid&) const = default;
};

struct MelakaGridOptions {
    GridSize size = GridSize::Small;
    std::uint64_t seed = 1;
    int n_substations = -1;              ///< 33/11 kV primary substations; -1: by size (small 1, district 1, city 50)
    int feeders_per_substation = -1;     ///< 11 kV feeders each; -1: by size (2, 6, 8)
    int transformers_per_feeder = -1;    ///< 11/0.433 kV substations per feeder; -1: by size (4, 8, 15)
    int customers_per_transformer = -1;  ///< houses on a residential transformer (other kinds scale from it); -1: by size (38, 90, 125)
    int n_charging_sites = -1;           ///< public EV charging sites (>= 0); -1: by size (2, 6, 40)
    bool normally_open_ties = true;      ///< tie cables with an open line switch between feeder ends
    // Limits and taps (docs/melaka.md, "Design rules"): every bus's band, and the off-circuit tap of
    // every 11/0.433 kV transformer (-2..+2 steps of 2.5 % on the HV side).
    double lv_vmin_pu = 0.94, lv_vmax_pu = 1.05;  ///< 400/230 V buses
    double mv_vmin_pu = 0.95, mv_vmax_pu = 1.05;  ///< 11 and 33 kV buses
    int distribution_tap_pos = 2;                 ///< tap of the distribution transformers
};

/// Builds the grid. Throws ValidationError naming the option when a count is out of range.
MelakaGrid generate_melaka_grid(const MelakaGridOptions& opt = {});

/// Catalogue entries the generator uses (docs/melaka.md lists them with their sources).
/// Line::name of every generated line is the `name` of its entry.
struct MelakaLineType {
    const char* name;         ///< short code, also Line::name
    const char* description;
    double vn_kv;
    double r_ohm_per_km, x_ohm_per_km, c_nf_per_km, max_i_ka;
    const char* kind;         ///< "cs" cable, "ol" overhead (Line::type)
    const char* source;
};
struct MelakaTransformerType {
    const char* name;         ///< also Transformer::name prefix
    double sn_mva, vn_hv_kv, vn_lv_kv, vk_percent, vkr_percent, pfe_kw, i0_percent, shift_deg;
    int tap_min, tap_max;
    double tap_step_percent;  ///< on the HV side
    const char* source;
};
const std::vector<MelakaLineType>& melaka_line_types();
const std::vector<MelakaTransformerType>& melaka_transformer_types();


// ---- Issue 15: the Melaka grid as built (three-phase four-wire LV, customers on their phases) ----

/// How customers are put on phases (docs/melaka.md, "As built: phases"). Along each distribution
/// transformer's customers in connection order (Customer id order), single-phase customers take
/// a, b, c, a, ...; with probability `imbalance` a customer takes the previous single-phase
/// customer's phase instead (the cycle then resumes where it was). Three-phase customers
/// (Customer::phases == 3) take abc. Seeded: the same seed gives the same phases.
struct MelakaPhaseOptions {
    std::uint64_t seed = 1;
    double imbalance = 0.0;              ///< in [0, 1]
    /// Re-phasing what-if: customer id -> its new phase ("a", "b" or "c"); single-phase customers only.
    std::map<Id, std::string> rephase;
    double load_scale = 1.0;             ///< multiplies every load (1: the design, evening-peak demand)
    /// The conversion (neutral, earthing resistances, ...); load_phases and line_phases are set
    /// by the rule (entries given here for other ids are kept).
    ToUnbalancedOptions convert;
    bool operator==(const MelakaPhaseOptions&) const = default;  ///< issue 15 (H1): scenarios compare settings
};

struct MelakaUGrid {
    UNetwork net;                             ///< ids kept: net.loads[i].id == the Load id, ...
    std::vector<std::string> customer_phases; ///< per Customer id: "a", "b", "c" or "abc"
};

/// The phase of every customer by the rule above (the re-phasing applied). Throws
/// ValidationError naming the option: imbalance outside [0, 1], an unknown customer id, a
/// three-phase customer re-phased, a phase that is not a, b or c.
std::vector<std::string> melaka_customer_phases(const MelakaGrid& g, const MelakaPhaseOptions& opt = {});

/// The grid as built: to_unetwork of g.net with the customers on their phases and each
/// single-phase customer's "balanced equivalent" service (`SVC 2x16 1ph-eq`) replaced by the real
/// two-wire service, phase and neutral of 16 mm2 Al (`SVC 4x16 Al`'s r and x per conductor).
MelakaUGrid melaka_unetwork(const MelakaGrid& g, const MelakaPhaseOptions& opt = {});

}  // namespace libgrid
