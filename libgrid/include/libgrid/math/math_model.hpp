// libgrid layer 3: the per-unit math model.
//
// build_math_model() turns a Network (physical units, user ids) into plain indices over the
// topology layer's analysis (topology/topology.hpp): every group of buses fused by closed bus-bus
// switches in an energised island is one node, buses of islands without a source get none, and
// every in-service branch becomes a 2x2 admittance block in per unit on the system base. Ybus is assembled once per topology. A time step only
// changes the injection vectors s_p, s_i, s_z (see update_injections).
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/math/ybus.hpp>
#include <libgrid/topology/topology.hpp>

#include <Eigen/SparseCore>

#include <complex>
#include <cstdint>
#include <vector>

namespace libgrid {

/// Source: the impedance of an ext grid with a finite sk_mva, from its hidden source node (f) to
/// its bus's node (t); index = the ext grid's index.
enum class BranchKind : std::uint8_t { Branch = 0, Line = 1, Transformer = 2, Source = 3 };

/// One branch as a 2x2 admittance block between nodes f and t (per unit, system base).
/// t == -1: open at the far end (Kron-reduced into a shunt yff at f); f == -1 likewise at the near end.
/// The admittances (yff, yft, ytf, ytt, ys, tap) are BranchAdmittance<symmetric_t> (math/ybus.hpp).
struct BranchY : BranchAdmittance<symmetric_t> {
    int f = -1, t = -1;
    BranchKind kind = BranchKind::Branch;
    int index = 0;  ///< index in the network's table of that kind
};

struct MathModel {
    int n = 0;                          ///< number of energised nodes
    /// Nodes 0..n_bus_nodes-1 are bus groups; n_bus_nodes..n-1 are hidden source nodes: the ideal
    /// voltage of an ext grid with a finite sk_mva (a slack), behind its impedance (a Source
    /// branch) to the bus's node, which is then PQ. No bus maps to a hidden node.
    int n_bus_nodes = 0;
    std::vector<int> hidden_ext_grid;   ///< per hidden node (i - n_bus_nodes): its ext grid's index
    std::vector<int> bus_node;          ///< network bus index -> node, -1 if de-energised
    std::vector<int> node_bus;          ///< node -> a representative network bus index
    std::vector<int> node_island;       ///< node -> island number (0..n_islands-1)
    int n_islands = 0;
    std::vector<char> island_radial;    ///< per island: a tree (no loops, no parallel branches)
    std::vector<int> island_slack;      ///< per island: one slack node (sweep root)
    std::vector<BusType> node_type;     ///< Slack, PV or PQ (after MATPOWER's rules)
    std::vector<cplx> v_set;            ///< slack: complex set point; PV: |V| set point (real)
    std::vector<double> node_base_kv;
    std::vector<BranchY> branches;      ///< in-service, energised branches
    std::vector<int> branch_slot, line_slot, trafo_slot;  ///< network index -> branches[] or -1
    Eigen::SparseMatrix<cplx> Ybus;     ///< column-major, sorted indices
    std::vector<int> gen_node;          ///< per network gen: node or -1 (out of service / de-energised)
    std::vector<int> ext_grid_node;     ///< per ext grid: its node (the hidden source node if any) or -1
    std::vector<int> source_slot;       ///< per ext grid: branches[] index of its Source branch or -1
    std::vector<int> load_node, sgen_node, storage_node, shunt_node;  ///< per element: node or -1
    // Specified injections (generator convention, p.u.): S(|V|) = s_p + s_i |V| + s_z |V|^2.
    std::vector<cplx> s_p, s_i, s_z;
    std::vector<char> q_fixed_pv;       ///< PV nodes switched to PQ by Q-limit enforcement

    // Grid-forming droop sources (Network::forming, docs/microgrid.md). In a droop island (no ext
    // grid, slack or generator) every node is PQ, island_slack is the angle reference (the source
    // with the largest kp) and the island's frequency deviation is an unknown of Newton-Raphson.
    // In a grid-connected island a forming source is a constant injection in s_p instead.
    double f_nom_hz = 50.0;
    std::vector<char> island_droop;     ///< per island: held by forming sources alone
    std::vector<int> forming_node;      ///< per forming source: node, -1 if out of service / de-energised
    /// Per forming source, per unit on the system base (update_injections): P = p0 - kp df,
    /// Q = q0 - kq (|V| - v_set), clipped to [p_min, p_max], [q_min, q_max]. kp in p.u. per Hz.
    struct FormingPu {
        double p0 = 0, q0 = 0, kp = 0, kq = 0, v_set = 1;
        double p_min = 0, p_max = 0, q_min = 0, q_max = 0;
    };
    std::vector<FormingPu> forming_pu;
    /// Frequency-watt of sgens (SGen::fw_enabled) in droop islands: per sgen its node, else -1, and
    /// P(df) = clamp(p_avail - slope (df - db), 0, p_avail) in p.u. (slope in p.u. per Hz); s_p
    /// holds p_avail, the solver adds P(df) - p_avail.
    std::vector<int> sgen_fw_node;
    struct FwPu {
        double p_avail = 0, slope = 0, db = 0;
    };
    std::vector<FwPu> sgen_fw;
    /// Per island: frequency deviation f - f_nom_hz (Hz) of the last solve (0 in grid-connected
    /// islands); the solver's warm start when it analyses the model.
    std::vector<double> island_df_hz;
    bool has_droop() const {
        for (char d : island_droop)
            if (d) return true;
        return false;
    }
};

/// Topology + per-unit conversion + Ybus. Validates the network first.
MathModel build_math_model(const Network& net);
/// The same from the network's (validated) topology, analyze_topology(net).
MathModel build_math_model(const Network& net, const Topology& topo);

/// Per-unit 2x2 admittance of one line / transformer (exposed for tests and the sweep).
BranchY line_admittance(const Network& net, const Line& l, double vn_from_kv);
BranchY transformer_admittance(const Network& net, const Transformer& t, double vn_hv_kv, double vn_lv_kv);

/// Fill m.s_p, s_i, s_z from the network's loads, sgens, storage, shunts and gens (no allocation),
/// and the forming sources: m.forming_pu, and their (p_set, q_set) in s_p where grid-connected.
/// include_loads = false: the static part only (gens, sgens, storage, shunts), what a time-series
/// step adds its loads and devices to.
void update_injections(const Network& net, MathModel& m, bool include_loads = true);

/// Specified injection at |V|: s_p + s_i |V| + s_z |V|^2.
inline cplx specified_injection(const MathModel& m, int i, double vm) {
    return m.s_p[i] + m.s_i[i] * vm + m.s_z[i] * (vm * vm);
}

/// Ybus values only (pattern unchanged), after a tap or branch parameter change:
/// assemble_ybus<symmetric_t>(m).
void rebuild_ybus_values(MathModel& m);

}  // namespace libgrid
