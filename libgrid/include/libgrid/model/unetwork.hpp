// libgrid model: the unbalanced (multi-phase) network, as OpenDSS describes a circuit.
//
// A separate model beside the balanced `Network` (model/network.hpp): the balanced fast path is
// untouched. Components are plain structs in physical units (kV, kW, kvar, kVA, ohm, nF, km),
// with OpenDSS's names and defaults, so that a `.dss` script maps onto them one to one and back
// (io/dss.hpp). Conductors of a bus are numbered as OpenDSS numbers nodes: 1, 2, 3 the phases
// a, b, c, 4 the neutral (any further number is allowed, as in OpenDSS), 0 the ground (reference,
// not an unknown). Names are stored lower case (OpenDSS names are case-insensitive).
// Thread safety (docs/threads.md): a UNetwork is a plain value: read from several threads at once,
// changed by one with nobody reading. run_unbalanced_pf(UNetwork&) writes its results into it:
// give each thread its own copy.
#pragma once

#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace libgrid {

/// Where one terminal of an element connects: a bus and one node number per conductor of the
/// terminal (0 = ground). The conductor count is the element's (see each element).
struct UTerminal {
    int bus = -1;            ///< index into UNetwork::buses
    std::vector<int> nodes;  ///< node number per conductor (1..3 phases, 4 neutral, 0 ground)
    bool operator==(const UTerminal&) const = default;
};

struct UBus {
    std::string name;  ///< lower case
    /// Line-to-line voltage base in kV, from `Set voltagebases` + `CalcVoltageBases` (the base
    /// nearest to the bus's no-load voltage), or set by hand. NaN: not known yet.
    double kv_base_ll = std::numeric_limits<double>::quiet_NaN();  ///< kV
    double x = 0.0, y = 0.0;  ///< Buscoords (informational)
    bool has_coords = false;
    /// Field by field, with two NaN bases equal (an unknown base compares equal to an unknown base).
    /// Issue 15: the id of the balanced element this came from (to_unetwork) or given by the user;
    /// -1 = none (the time series then numbers the element index + 1). Not an OpenDSS property.
    std::int64_t id = -1;
    bool operator==(const UBus&) const;
    /// Added (issue 15, H4): the band the time series counts phase-to-neutral voltages outside of
    /// as violations (Bus::vmin_pu / vmax_pu; to_unetwork copies the balanced bus's). Not an
    /// OpenDSS property.
    double vmin_pu = 0.94, vmax_pu = 1.05;
};

/// Series impedance and shunt capacitance matrices of a line, per km, full (n x n, row-major,
/// symmetric), at the network's base frequency. Built from a LineCode's matrices or from its
/// sequence data (`sequence_to_phase`), with a grounded neutral Kron-reduced where the data ask
/// for it (`kron_reduce`).
struct ULine {
    std::string name;
    UTerminal bus1, bus2;  ///< nphases conductors each
    int nphases = 3;
    std::vector<double> r_ohm_per_km, x_ohm_per_km, c_nf_per_km;  ///< nphases^2 each
    double length_km = 1.0;
    double norm_amps = 400.0;   ///< ampacity per conductor (OpenDSS normamps)
    double emerg_amps = 600.0;  ///< A, emergency ampacity per conductor (OpenDSS emergamps)
    std::string linecode;       ///< informational (the writer re-uses it when set)
    bool is_switch = false;     ///< `Switch=y`
    bool enabled = true;        ///< false: open (removed from the circuit, as OpenDSS `enabled=no` / open switch)
    /// Issue 15: the id of the balanced element this came from (to_unetwork) or given by the user;
    /// -1 = none (the time series then numbers the element index + 1). Not an OpenDSS property.
    std::int64_t id = -1;
    bool operator==(const ULine&) const = default;
};

/// One winding of a transformer: nphases + 1 conductors when wye (the last one is the neutral,
/// default node 0: grounded), nphases when delta (for a 1-phase delta winding: 2 conductors).
struct UWinding {
    UTerminal bus;
    bool delta = false;
    double kv = 12.47;        ///< line-to-line for 2- and 3-phase units, the winding's own voltage for 1-phase
    double kva = 1000.0;      ///< kVA, the winding's rating
    double r_pct = 0.2;       ///< %r on the winding's kVA
    double tap = 1.0;         ///< per unit of kv
    double min_tap = 0.9, max_tap = 1.1;  ///< per unit of kv
    int num_taps = 32;        ///< steps between min_tap and max_tap (0.00625 p.u. by default)
    double rneut_ohm = -1.0;  ///< wye neutral to ground resistance; < 0: neutral connected as the node says
    double xneut_ohm = 0.0;
    bool operator==(const UWinding&) const = default;
};

struct UTransformer {
    std::string name;
    int nphases = 3;
    std::vector<UWinding> windings;  ///< 2 (or 3) windings
    double xhl_pct = 7.0, xht_pct = 35.0, xlt_pct = 30.0;  ///< on winding 1's kVA
    double noload_loss_pct = 0.0;  ///< %noloadloss (core loss, shunt conductance on winding 1)
    double imag_pct = 0.0;         ///< %imag (magnetising current)
    double ppm_antifloat = 1.0;    ///< OpenDSS `ppm`: shunt to ground on each conductor, ppm of the winding's own admittance
    std::string bank;              ///< informational
    bool sub = false;
    bool enabled = true;
    /// Issue 15: the id of the balanced element this came from (to_unetwork) or given by the user;
    /// -1 = none (the time series then numbers the element index + 1). Not an OpenDSS property.
    std::int64_t id = -1;
    bool operator==(const UTransformer&) const = default;
};

/// Step-voltage regulator control (OpenDSS RegControl) on one winding of a transformer.
struct URegControl {
    std::string name;
    int transformer = -1;  ///< index into UNetwork::transformers
    int winding = 1;       ///< 1-based, as in OpenDSS
    /// OpenDSS TapWinding: the 1-based winding whose tap moves when it is not `winding` (0 = `winding`);
    /// a tap on the other winding moves the other way (RegControl.pas Sample). Added (issue 15: the
    /// Melaka primaries' OLTC taps the 33 kV side and holds the 11 kV side).
    int tap_winding = 0;
    double vreg = 120.0;   ///< volts on the PT secondary
    double band = 3.0;     ///< volts, whole band (vreg +- band/2)
    double ptratio = 60.0; ///< PT ratio, dimensionless
    double ctprim = 300.0;  ///< amps, CT primary rating
    double r = 0.0, x = 0.0;  ///< line-drop compensator, volts at ctprim
    int ptphase = 1;        ///< conductor of the winding that is measured (1-based)
    int maxtapchange = 16;  ///< per control iteration; 0 = tap fixed
    double delay_s = 15.0, tapdelay_s = 2.0;  ///< read and written; the static mode ignores them
    bool reversible = false;
    double vlimit = 0.0;    ///< 0: off
    bool enabled = true;
    bool operator==(const URegControl&) const = default;
};

/// A load: wye (nphases + 1 conductors, the last the neutral, default 0) or delta (nphases
/// conductors; a 1-phase delta load has 2). Power is split equally among its phases.
struct ULoad {
    std::string name;
    UTerminal bus1;
    int nphases = 3;
    bool delta = false;
    double kv = 12.47;    ///< line-to-line for 2- and 3-phase loads, the element's own voltage for 1-phase
    double kw = 10.0, kvar = 5.0;  ///< total at kv
    /// OpenDSS load model: 1 constant PQ, 2 constant Z, 3 constant P & quadratic Q, 4 linear P &
    /// quadratic Q, 5 constant current magnitude, 6 constant P & fixed Q, 7 constant P & fixed Z for Q,
    /// 8 ZIP (zipv). Outside [vminpu, vmaxpu] every model but 2 becomes a constant impedance.
    int model = 1;
    std::vector<double> zipv;  ///< 7 values for model 8 (Z, I, P fractions of P then of Q, cutoff)
    double vminpu = 0.95, vmaxpu = 1.05;  ///< p.u.: outside, the load law turns constant impedance
    double vlowpu = 0.50;      ///< OpenDSS Vlowpu (below it: constant Z at its own Yeq)
    std::string daily, yearly, duty;  ///< LoadShape names (used by the time series, next issue)
    double base_kw = 10.0, base_kvar = 5.0;  ///< kw, kvar as the script gave them (shapes multiply these)
    bool enabled = true;
    /// Issue 15: the id of the balanced element this came from (to_unetwork) or given by the user;
    /// -1 = none (the time series then numbers the element index + 1). Not an OpenDSS property.
    std::int64_t id = -1;
    bool operator==(const ULoad&) const = default;
};

/// Shunt capacitor bank: wye (grounded by default: bus2 = bus1 with nodes 0) or delta.
struct UCapacitor {
    std::string name;
    UTerminal bus1;
    UTerminal bus2;            ///< wye: the other side of each capacitor; empty bus (-1) = ground
    int nphases = 3;
    bool delta = false;
    double kv = 12.47;         ///< as for loads
    std::vector<double> kvar = {1200.0};  ///< per step, total over the phases
    std::vector<int> states = {1};        ///< per step, 1 in
    bool enabled = true;
    bool operator==(const UCapacitor&) const = default;
};

/// Voltage source (OpenDSS Vsource / Circuit): a Thevenin source behind its sequence impedances,
/// resolved to ohms by the reader from whichever of MVAsc3/MVAsc1, Isc3/Isc1 or R1/X1/R0/X0 was
/// given last (OpenDSS's rule).
struct UVsource {
    std::string name = "source";
    UTerminal bus1;     ///< nphases conductors; bus2 (the other side) is ground
    int nphases = 3;
    double basekv = 115.0;  ///< line-to-line
    double pu = 1.0;        ///< p.u. of basekv
    double angle_deg = 0.0;  ///< of phase a
    std::complex<double> z1_ohm{0.0, 0.0}, z0_ohm{0.0, 0.0};
    bool enabled = true;
    /// Issue 15: the id of the balanced element this came from (to_unetwork) or given by the user;
    /// -1 = none (the time series then numbers the element index + 1). Not an OpenDSS property.
    std::int64_t id = -1;
    bool operator==(const UVsource&) const = default;
};

/// Load shape (read now; used by the time-series engine in the next issue).
struct ULoadShape {
    std::string name;
    int npts = 0;
    double interval_h = 1.0;     ///< 0: the hour vector gives the times
    std::vector<double> mult, qmult, hour;
    bool useactual = false;
    bool operator==(const ULoadShape&) const = default;
};

/// Options of the circuit (`Set ...`) and what the script asked for.
struct USettings {
    double base_frequency_hz = 60.0;     ///< DefaultBaseFrequency at the time the circuit was made
    std::vector<double> voltage_bases_kv;  ///< line-to-line
    std::string control_mode = "static";  ///< static | off | event | time
    double tolerance = 1e-4;              ///< OpenDSS's own (per unit voltage change)
    int max_iterations = 15;
    int max_control_iterations = 10;
    std::string mode = "snapshot";       ///< snapshot | daily | yearly | ...
    int number = 1;
    double stepsize_s = 3600.0;
    int solve_count = 0;  ///< `Solve` commands met (informational)
    bool calc_voltage_bases = false;  ///< added: `CalcVoltageBases` met (the power flow computes the bases)
    bool operator==(const USettings&) const = default;
};

/// Added (h8): what a CapControl measures (OpenDSS's `type`; Follow and user models are not read).
enum class UCapControlType : std::uint8_t { current, voltage, kvar, time, pf };

/// Added (h8): capacitor control (OpenDSS CapControl): switches the steps of one capacitor by a
/// quantity measured at one terminal of a line or transformer (`element`, `terminal`). Defaults
/// are OpenDSS's. `ptphase`/`ctphase`: 1.. the conductor, or kAvg, kMax, kMin.
struct UCapControl {
    static constexpr int kAvg = -1, kMax = -2, kMin = -3;  ///< OpenDSS's codes (AVG, MAX, MIN)
    std::string name;
    std::string element;        ///< monitored element, "line.650632" (lower case)
    int terminal = 1;           ///< of the monitored element, 1-based
    int capacitor = -1;         ///< index into UNetwork::capacitors
    UCapControlType type = UCapControlType::current;
    double ctratio = 60.0, ptratio = 60.0;  ///< CT and PT ratios, dimensionless
    int ctphase = 1, ptphase = 1;
    double onsetting = 300.0, offsetting = 200.0;  ///< amps / volts (PT secondary) / kvar / hours
    double pf_on = 0.95, pf_off = 1.05;  ///< type pf: OpenDSS's 0..2 scale (leading = 2 - pf)
    double delay_s = 15.0, delayoff_s = 15.0, deadtime_s = 300.0;
    bool voltoverride = false;
    double vmax = 126.0, vmin = 115.0;  ///< volts on the PT secondary
    double pct_minkvar = 50.0;  ///< percent of the capacitor's kvar (OpenDSS PCTMinkvar)
    bool enabled = true;
    bool operator==(const UCapControl&) const = default;
};

/// The unbalanced network. Element names are unique within their class (OpenDSS's rule).
struct UNetwork {
    std::string name;  ///< the circuit's name
    std::vector<UBus> buses;
    std::vector<ULine> lines;
    std::vector<UTransformer> transformers;
    std::vector<URegControl> regcontrols;
    std::vector<ULoad> loads;
    std::vector<UCapacitor> capacitors;
    std::vector<UVsource> vsources;  ///< the first one is the circuit's source
    std::vector<ULoadShape> loadshapes;
    USettings settings;
    std::vector<UCapControl> capcontrols;  ///< added (h8)

    /// Bus index by name (case-insensitive); -1 when absent.
    int find_bus(const std::string& name) const;
    /// Bus index by name, created (with no coordinates and no base) when absent.
    int add_bus(const std::string& name);
    /// Throws ValidationError naming the element ("line.650632") and the field for anything that
    /// cannot be solved: bad sizes, NaN, non-positive kv or kva, dangling bus index, etc.
    void validate() const;
    bool operator==(const UNetwork&) const = default;
};

// ---- helpers for line data (implemented in src/model/unetwork.cpp) ----

/// Phase matrix (n x n, row-major) from sequence data: Zs = (Z0 + 2 Z1)/3 on the diagonal,
/// Zm = (Z0 - Z1)/3 off it. n = 1 gives Zs. The same rule for the capacitances (c1, c0).
std::vector<double> sequence_to_phase(double v1, double v0, int n);

/// Kron reduction of a full n x n complex matrix (row-major), eliminating the conductors in
/// `eliminate` (0-based, e.g. {3} for the neutral of a 4-wire line): Z_pp - Z_pn Z_nn^-1 Z_np.
/// Returns the (n - k) x (n - k) matrix of the kept conductors in their order.
std::vector<std::complex<double>> kron_reduce(const std::vector<std::complex<double>>& z, int n,
                                              const std::vector<int>& eliminate);

/// Set every load's kw/kvar for time `hour` after midnight from its yearly shape (else daily),
/// as OpenDSS's yearly/daily mode evaluates a fixed-interval shape: point i (1-based) lies at
/// i x interval, the value used at t is point round(t / interval) (0 -> npts, wrapping past
/// npts); useactual=no multiplies the load's base kw/kvar (`base_kw`/`base_kvar`), useactual=yes
/// sets kw (and kvar from qmult or the base power factor). `daily=default` without a shape of that
/// name is OpenDSS's built-in 24-hour loadshape.default. Throws IdError on an unknown shape name.
void apply_loadshapes_at(UNetwork& net, double hour);

/// Issue 15: one shape's multipliers at `hour` (OpenDSS LoadShape.GetMult, the rule of
/// apply_loadshapes_at): p, and q (= p when the shape has no qmult; has_q says which).
void loadshape_at(const ULoadShape& shape, double hour, double& p, double& q, bool& has_q);
/// The shape a load follows (yearly, else daily; the built-in `default`), nullptr for none. Throws
/// IdError on an unknown name.
const ULoadShape* load_shape_of(const UNetwork& net, const ULoad& load);

/// Length unit factor to km: "none" (1), "mi", "kft", "km", "m", "ft", "in", "cm", "mm".
/// Throws ValidationError on an unknown unit.
double length_unit_to_km(const std::string& unit);

}  // namespace libgrid
