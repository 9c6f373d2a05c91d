// libgrid layer 1: the network model. Plain tables of plain structs in physical units
// (kV, MW, MVAr, ohm, km, kVA, percent) with stable user-chosen integer ids and no pointers
// between components: components refer to buses by bus id. A Network is a value: copyable,
// comparable and serialisable (MATPOWER .m and the project's JSON, see io/).
//
// Two kinds of branch coexist:
//  * `Branch`: a MATPOWER branch, already in per unit on the system base (r, x, b, ratio, shift);
//  * `Line` and `Transformer`: distribution components as a data sheet gives them.
// Per-unit conversion happens once, in powerflow/math_model (never here).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace libgrid {

using Id = std::int64_t;
inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// MATPOWER's bus types.
enum class BusType : int { PQ = 1, PV = 2, Slack = 3, Isolated = 4 };

struct Bus {
    Id id = 0;
    std::string name;
    double vn_kv = 1.0;          ///< nominal (base) voltage, kV line-to-line; > 0
    BusType type = BusType::PQ;  ///< declared type (MATPOWER); devices may promote PQ -> PV/slack
    double vm_pu = 1.0;          ///< initial / case voltage magnitude
    double va_deg = 0.0;         ///< initial / case voltage angle
    double vmin_pu = 0.94;       ///< voltage band used for violation reports
    double vmax_pu = 1.05;
    int area = 1;
    int zone = 1;
    bool in_service = true;
    bool operator==(const Bus&) const = default;
};

/// MATPOWER branch in per unit on the system base (line or transformer).
struct Branch {
    Id id = 0;
    Id from_bus = 0;
    Id to_bus = 0;
    double r_pu = 0.0;
    double x_pu = 0.0;
    double b_pu = 0.0;       ///< total line charging susceptance
    double rate_a_mva = 0.0; ///< 0 = unlimited (MATPOWER)
    double rate_b_mva = 0.0;
    double rate_c_mva = 0.0;
    double ratio = 0.0;      ///< off-nominal tap ratio at the from end; 0 means 1 (MATPOWER)
    double shift_deg = 0.0;  ///< phase shift, applies even when ratio == 0
    bool in_service = true;
    double angmin_deg = -360.0;
    double angmax_deg = 360.0;
    bool operator==(const Branch&) const = default;
};

/// Overhead line or cable, pi model, as a data sheet gives it.
struct Line {
    Id id = 0;
    std::string name;
    Id from_bus = 0;
    Id to_bus = 0;
    double length_km = 1.0;
    double r_ohm_per_km = 0.0;
    double x_ohm_per_km = 0.0;
    double c_nf_per_km = 0.0;
    double g_us_per_km = 0.0;
    double max_i_ka = kInf;  ///< thermal rating per circuit
    int parallel = 1;
    double df = 1.0;         ///< derating factor
    std::string type;        ///< "cs" cable, "ol" overhead (informational)
    bool in_service = true;
    bool operator==(const Line&) const = default;
};

enum class TapSide : int { None = 0, HV = 1, LV = 2 };

/// Two-winding transformer, as a nameplate gives it.
struct Transformer {
    Id id = 0;
    std::string name;
    Id hv_bus = 0;
    Id lv_bus = 0;
    double sn_mva = 1.0;
    double vn_hv_kv = 1.0;
    double vn_lv_kv = 1.0;
    double vk_percent = 1.0;
    double vkr_percent = 0.0;
    double pfe_kw = 0.0;
    double i0_percent = 0.0;
    double shift_degree = 0.0;  ///< LV angle lags HV by this much
    TapSide tap_side = TapSide::None;
    int tap_neutral = 0;
    int tap_min = 0;
    int tap_max = 0;
    double tap_step_percent = 0.0;
    double tap_step_degree = 0.0;
    int tap_pos = 0;
    int parallel = 1;
    double df = 1.0;
    bool in_service = true;
    // On-load tap changer control (libgrid extension): hold |V| at ctrl_bus within
    // [vm_set_pu - band/2, vm_set_pu + band/2] by moving tap_pos one step at a time.
    bool oltc = false;
    Id oltc_bus = -1;          ///< controlled bus; -1 = the LV bus
    double oltc_vm_pu = 1.0;
    double oltc_band_pu = 0.02;
    bool operator==(const Transformer&) const = default;
};

enum class SwitchElement : int { Bus = 0, Line = 1, Transformer = 2 };

/// Bus-bus switch (fuses two buses when closed) or a switch at one end of a line/transformer.
struct Switch {
    Id id = 0;
    std::string name;
    Id bus = 0;
    Id element = 0;  ///< other bus (et = Bus) or the line / transformer id
    SwitchElement et = SwitchElement::Bus;
    bool closed = true;
    std::string type;
    bool operator==(const Switch&) const = default;
};

/// Constant-impedance shunt. p_mw / q_mvar drawn at V = 1 p.u. per step (load convention;
/// negative q_mvar = capacitor). Power drawn = step * (p + jq) * |V|^2.
struct Shunt {
    Id id = 0;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    int step = 1;
    int max_step = 1;
    bool in_service = true;
    // Switched capacitor control (libgrid extension): add a step when |V| < v_low_pu,
    // remove one when |V| > v_high_pu.
    bool switched = false;
    double v_low_pu = 0.95;
    double v_high_pu = 1.05;
    bool operator==(const Shunt&) const = default;
};

/// Load, consumption positive. ZIP shares in percent of p_mw / q_mvar (rest is constant power).
struct Load {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double const_z_p_percent = 0.0;
    double const_i_p_percent = 0.0;
    double const_z_q_percent = 0.0;
    double const_i_q_percent = 0.0;
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const Load&) const = default;
};

/// Voltage-controlled generator (PV bus), generator convention (positive = injection).
struct Gen {
    Id id = 0;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;   ///< used as the Q output where the bus is not voltage controlled
    double vm_pu = 1.0;    ///< voltage setpoint
    double min_q_mvar = -kInf;
    double max_q_mvar = kInf;
    double min_p_mw = 0.0;
    double max_p_mw = kInf;
    double mbase_mva = 100.0;
    bool in_service = true;
    bool operator==(const Gen&) const = default;
};

/// Static generator (PV, wind, CHP...): PQ injection, generator convention.
struct SGen {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double sn_mva = 0.0;  ///< rating; 0 = not given
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const SGen&) const = default;
};

/// Storage as a PQ element, LOAD convention (positive = charging), as pandapower.
struct Storage {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double sn_mva = 0.0;  ///< rating; 0 = not given
    double soc_percent = 50.0;
    double min_e_mwh = 0.0;
    double max_e_mwh = 0.0;
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const Storage&) const = default;
};

/// External grid: the slack.
struct ExtGrid {
    Id id = 0;
    Id bus = 0;
    double vm_pu = 1.0;
    double va_degree = 0.0;
    bool in_service = true;
    bool operator==(const ExtGrid&) const = default;
};

enum class TrafoModel : int { T = 0, Pi = 1 };

/// The whole network: a value.
struct Network {
    std::string name;
    double f_hz = 50.0;
    double sn_mva = 100.0;  ///< system base power (MATPOWER baseMVA)
    TrafoModel trafo_model = TrafoModel::T;

    std::vector<Bus> buses;
    std::vector<Branch> branches;
    std::vector<Line> lines;
    std::vector<Transformer> transformers;
    std::vector<Switch> switches;
    std::vector<Shunt> shunts;
    std::vector<Load> loads;
    std::vector<Gen> gens;
    std::vector<SGen> sgens;
    std::vector<Storage> storage;
    std::vector<ExtGrid> ext_grids;

    bool operator==(const Network&) const = default;

    /// Throws ValidationError / IdError naming the component, id and field on the first problem:
    /// duplicate ids, unknown bus ids, NaN or negative where impossible, no slack at all.
    void validate() const;

    /// Index of the bus with this id in `buses`; throws IdError if unknown.
    std::size_t bus_index(Id id) const;
};

}  // namespace libgrid
