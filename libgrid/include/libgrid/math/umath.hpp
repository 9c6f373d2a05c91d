// libgrid math: the nodal model of an unbalanced network, as OpenDSS builds it.
//
// Every element contributes a primitive admittance matrix `yprim` over its terminal conductors
// (terminal-major: all conductors of terminal 1, then terminal 2, ...), in siemens, volts and
// amperes (no per unit inside the unbalanced core: node voltages differ by phase and connection;
// `node_vbase_v` gives each node's line-to-neutral base for reporting and tolerances). The system
// admittance matrix Y is the sum of the yprims over all non-ground nodes. A Vsource is a Norton
// equivalent (its impedance in Y, its current in `i_source`), as in OpenDSS, so every node is an
// unknown and Y is non-singular. A load enters Y with its admittance at nominal voltage (`yprim`),
// and its non-linear part as a compensation current: I_comp(V) = yprim V - I_load(V)
// (`add_load_compensation`). So the power flow is  Y V = i_source + I_comp(V).
#pragma once

#include <libgrid/model/unetwork.hpp>

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <complex>
#include <vector>

namespace libgrid {

using cplx = std::complex<double>;

enum class UElementKind : std::uint8_t { line, transformer, load, capacitor, vsource };

/// One element of the nodal model.
struct UMathElement {
    UElementKind kind = UElementKind::line;
    int index = -1;           ///< into the UNetwork table of its kind
    int n_terminals = 2;
    int n_cond = 3;           ///< conductors per terminal
    std::vector<int> node;    ///< n_terminals * n_cond system node indices, -1 = ground
    Eigen::MatrixXcd yprim;   ///< (n_terminals * n_cond)^2, siemens
    /// added (h2): a Vsource's Norton current into each conductor (yprim * [E; 0]); empty for
    /// the other kinds. element_currents subtracts it.
    Eigen::VectorXcd i_norton;
};

/// A load's non-linear behaviour, per phase element ("phase" = one branch of the wye or delta).
/// For phase k the element voltage is V[a_k] - V[b_k] (b_k = -1: ground, V = 0), nominal
/// vbase_v; current I_k flows from a_k through the element to b_k. Power per phase at nominal
/// voltage: S0 = p_w + j q_var (= total / nphases). Exactly as OpenDSS's Load.pas
/// (SetNominalLoad, DoConstantPQLoad, DoConstantZLoad, DoMotorTypeLoad, DoConstantILoad,
/// DoFixedQ, DoFixedQZ, DoZIPVModel), with |V| the element voltage's magnitude in volts,
/// Vlow = vlowpu vbase_v, V95 = vminpu vbase_v, V105 = vmaxpu vbase_v,
/// Yeq = y_nom = conj(S0)/vbase_v^2, Yeq95 = Yeq/vminpu^2, Yeq105 = Yeq/vmaxpu^2,
/// Yeq105I = Yeq/vmaxpu:
///   2 constant Z:   I = Yeq V, always.
///   every other model: |V| <= Vlow -> I = Yeq V.
///   1 constant PQ:  Vlow < |V| <= V95 -> I = (ILow + M95 (|V| - Vlow)) / |V| * V (a current
///                   magnitude linear in |V| between ILow = Yeq Vlow and I95 = Yeq95 V95);
///                   |V| > V105 -> I = Yeq105 V; else I = conj(S0 / V).
///   3 constant P, quadratic Q: as 1 but I = conj(p_w / V) + j Im(Yeq) V in the band.
///   4 CVR:          as 1 but in the band P = p_w (|V|/vbase)^cvrwatt (cvrwatt 1: linear),
///                   Q = q_var (|V|/vbase)^cvrvar (cvrvar 2: j Im(Yeq) V).
///   5 constant |I|: below V95 the same interpolation towards IBase = Yeq vbase_v; above V105
///                   I = Yeq105I V; else I = conj(S0 / (V / |V| * vbase_v)).
///   6, 7 constant P with fixed Q / fixed Z for Q (q_fixed_var): see DoFixedQ / DoFixedQZ.
///   8 ZIP:          the zipv mix of Z, I and P (P part fractions zipv[0..2], Q part zipv[3..5])
///                   with the same bands, times the drop-out factor of zipv[6].
/// (The first draft of this comment said "constant Z that is continuous at vminpu" below
/// vminpu: OpenDSS interpolates between Vlowpu and vminpu instead.)
struct UMathLoad {
    int element = -1;            ///< index into UMathModel::elements (its yprim is y_nom's)
    int load = -1;               ///< index into UNetwork::loads
    int nphases = 1;
    int a[3] = {-1, -1, -1};     ///< system node of the phase element's first side
    int b[3] = {-1, -1, -1};     ///< second side (neutral or the next phase of a delta), -1 ground
    double p_w = 0.0, q_var = 0.0;  ///< per phase at nominal voltage
    double vbase_v = 0.0;        ///< nominal voltage across one phase element
    int model = 1;
    double zipv[7] = {0, 0, 0, 0, 0, 0, 0};
    double vminpu = 0.95, vmaxpu = 1.05;
    cplx y_nom{0.0, 0.0};        ///< conj(S0)/vbase_v^2, per phase element
    double vlowpu = 0.50;        ///< added (h2): OpenDSS Vlowpu, below it I = y_nom V
    double q_fixed_var = 0.0;    ///< added (h2): models 6/7, the base kvar per phase (var)
    bool delta = false;          ///< added (h2): b_k is conductor (k+1) mod n_cond, else the last (neutral)
    double cvrwatt = 1.0, cvrvar = 2.0;  ///< added (h2): model 4's exponents (OpenDSS defaults; ULoad has none)
};

/// A two-terminal series element seen by the radial sweep: terminal 1 toward the source.
struct UMathBranch {
    int element = -1;     ///< into UMathModel::elements
    int from_bus = -1, to_bus = -1;  ///< UNetwork bus indices (from = toward the source)
    bool reversed = false;  ///< the element's terminal 2 is toward the source
};

struct UMathModel {
    int n_nodes = 0;
    std::vector<int> node_bus;       ///< UNetwork bus index of each node
    std::vector<int> node_phase;     ///< OpenDSS node number (1..3, 4 neutral, ...)
    std::vector<double> node_vbase_v;  ///< line-to-neutral base (NaN when the bus has none)
    std::vector<UMathElement> elements;
    std::vector<UMathLoad> loads;
    Eigen::SparseMatrix<cplx> Y;     ///< n_nodes x n_nodes, column-major, sum of the yprims
    std::vector<cplx> i_source;      ///< Norton currents of the sources into the nodes (A)
    std::vector<cplx> v_start;       ///< a start: the source voltages spread through transformer ratios
    std::vector<UMathBranch> branches;  ///< lines and transformers (enabled), for the sweep
    std::vector<int> source_buses;   ///< buses of the Vsources
    bool radial = false;             ///< one path from the source to every bus (sweep applies)
    int bus_node(int bus, int phase) const;  ///< -1 when the bus has no such node
};

/// Build the nodal model. Throws ValidationError naming the element and field when something
/// cannot be modelled (a load model that is not 1, 2, 5 or 8, a transformer with 3 windings
/// where not supported, ...).
UMathModel build_umath_model(const UNetwork& net);

/// Recompute one transformer's yprim (after a tap move) and update Y's values in place
/// (the sparsity pattern does not change).
void update_transformer_yprim(UMathModel& m, const UNetwork& net, int transformer);

/// Added (h8): recompute one capacitor's yprim (after a capacitor control switched a step) and
/// update Y's values in place (a capacitor with every step out keeps its zero entries: the
/// pattern does not change). Throws ValidationError when the capacitor is not in the model.
void update_capacitor_yprim(UMathModel& m, const UNetwork& net, int capacitor);

/// Added (issue 15, H5): recompute one load's yprim (its nominal admittance, OpenDSS's Yeq, at the
/// load's present kw / kvar) and update Y's values in place (the pattern does not change). Only
/// Y changes: the load's law (UMathLoad) is set by whoever sets its kw. Throws ValidationError when
/// the load is not in the model.
void update_load_yprim(UMathModel& m, const UNetwork& net, int load);
/// The same for every model load with index < n_loads (all when n_loads < 0), in model order.
void update_loads_yprim(UMathModel& m, const UNetwork& net, int n_loads = -1);

/// Primitive admittance matrices, one per element kind (also used by the unit tests).
Eigen::MatrixXcd line_yprim(const ULine& line, double frequency_hz);
Eigen::MatrixXcd transformer_yprim(const UTransformer& t);
Eigen::MatrixXcd capacitor_yprim(const UCapacitor& c, double frequency_hz);
Eigen::MatrixXcd vsource_yprim(const UVsource& s);

/// Current drawn by one load phase element at element voltage v (amperes, the model's rules).
cplx load_phase_current(const UMathLoad& ld, cplx v);

/// Added (h2): the current of one load phase element and its derivatives with respect to Re(v)
/// and Im(v) (a constant-PQ current depends on conj(v): not holomorphic), by exactly the law of
/// load_phase_current (the same current, to rounding), for a Newton-Raphson Jacobian.
struct UMathLoadCurrentD {
    cplx i{0.0, 0.0};       ///< current through the element from a to b (A)
    cplx di_dvr{0.0, 0.0};  ///< dI / d Re(v) (S)
    cplx di_dvi{0.0, 0.0};  ///< dI / d Im(v) (S)
};
UMathLoadCurrentD load_phase_current_d(const UMathLoad& ld, cplx v);

/// out[n] += I_comp of every load at node voltages v (size n_nodes): y_nom*V - I_load(V) on the
/// a side, the negative on the b side.
void add_load_compensation(const UMathModel& m, const std::vector<cplx>& v, std::vector<cplx>& out);

/// Terminal currents of one element (amperes, into the element at each conductor).
Eigen::VectorXcd element_currents(const UMathModel& m, int element, const std::vector<cplx>& v);

}  // namespace libgrid
