// libgrid: backward/forward sweep for radial islands (current injection form).
//
// Every branch b joins a parent node p (nearer the slack) and a child c with its 2x2 block
//   [I_p]   [Ypp Ypc] [V_p]
//   [I_c] = [Ycp Ycc] [V_c]      (currents INTO the branch at each end)
// Let D_c be the current node c draws: its loads' -conj(S/V), its shunts, and what it feeds into
// its children's branches. KCL at c gives I_c = -D_c, hence
//   forward:  V_c = -(D_c + Ycp V_p) / Ycc
//   backward: I_p = (Ypp - Ypc Ycp / Ycc) V_p - (Ypc / Ycc) D_c   (added to D_p)
// which for a plain series impedance reduces to the textbook V_c = V_p - Z I. Transformers (taps,
// phase shift, magnetising branch) and line charging enter through the same four numbers.
#include <libgrid/errors.hpp>
#include <libgrid/powerflow/solvers.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>

#include <cmath>

namespace libgrid {

struct SweepSolver::Impl {
    int n = 0;
    std::vector<int> order;       // BFS order, roots (slacks) first
    std::vector<int> parent;      // node -> parent node, -1 at roots
    std::vector<cplx> Ycp, Ycc;   // per child node: its parent branch's blocks
    std::vector<cplx> A, B;       // backward coefficients
    std::vector<cplx> y_shunt;    // per node: open-ended branches' shunt admittance
    std::vector<cplx> D;
    std::vector<char> is_root;
};

SweepSolver::SweepSolver() : impl_(std::make_unique<Impl>()) {}
SweepSolver::~SweepSolver() = default;

void SweepSolver::analyze(const MathModel& m) {
    Impl& s = *impl_;
    s.n = m.n;
    for (int is = 0; is < m.n_islands; ++is)
        if (!m.island_radial[is]) throw SolverError("sweep: island " + std::to_string(is) + " is meshed; use Newton-Raphson (method 'nr' or 'auto')");
    std::vector<int> slacks_per_island(m.n_islands, 0);
    s.is_root.assign(m.n, 0);
    for (int i = 0; i < m.n; ++i) {
        if (m.node_type[i] == BusType::PV)
            throw SolverError("sweep: node of bus index " + std::to_string(m.node_bus[i]) + " is voltage controlled (PV); use Newton-Raphson");
        if (m.node_type[i] == BusType::Slack) {
            s.is_root[i] = 1;
            if (++slacks_per_island[m.node_island[i]] > 1)
                throw SolverError("sweep: an island has more than one slack; use Newton-Raphson");
        }
    }
    // Graph over nodes; edge property = branch index.
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                        boost::property<boost::edge_index_t, int>>;
    Graph g(m.n);
    s.y_shunt.assign(m.n, cplx(0.0, 0.0));
    for (int k = 0; k < int(m.branches.size()); ++k) {
        const BranchY& b = m.branches[k];
        if (b.f >= 0 && b.t >= 0) boost::add_edge(b.f, b.t, k, g);
        else if (b.f >= 0) s.y_shunt[b.f] += b.yff;
        else s.y_shunt[b.t] += b.ytt;
    }
    s.parent.assign(m.n, -1);
    s.Ycp.assign(m.n, 0.0);
    s.Ycc.assign(m.n, 0.0);
    s.A.assign(m.n, 0.0);
    s.B.assign(m.n, 0.0);
    s.order.clear();
    s.order.reserve(m.n);
    std::vector<boost::default_color_type> color(m.n, boost::white_color);
    auto colors = boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
    auto eidx = boost::get(boost::edge_index, g);
    struct Visitor : boost::default_bfs_visitor {
        Impl* s;
        const MathModel* m;
        decltype(eidx) ei;
        void discover_vertex(Graph::vertex_descriptor v, const Graph&) { s->order.push_back(int(v)); }
        void tree_edge(Graph::edge_descriptor e, const Graph& g) {
            const int p = int(boost::source(e, g)), c = int(boost::target(e, g));
            const BranchY& b = m->branches[boost::get(ei, e)];
            s->parent[c] = p;
            cplx ypp, ypc, ycp, ycc;
            if (b.t == c) { ypp = b.yff; ypc = b.yft; ycp = b.ytf; ycc = b.ytt; }
            else { ypp = b.ytt; ypc = b.ytf; ycp = b.yft; ycc = b.yff; }
            s->Ycp[c] = ycp;
            s->Ycc[c] = ycc;
            s->A[c] = ypp - ypc * ycp / ycc;
            s->B[c] = -ypc / ycc;
        }
    };
    Visitor vis;
    vis.s = &s;
    vis.m = &m;
    vis.ei = eidx;
    for (int is = 0; is < m.n_islands; ++is) {
        const int root = m.island_slack[is];
        boost::breadth_first_visit(g, root, boost::visitor(vis).color_map(colors));
    }
    s.D.assign(m.n, 0.0);
}

SolveStatus SweepSolver::solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter) {
    Impl& s = *impl_;
    SolveStatus st;
    const int n = s.n;
    for (int i = 0; i < n; ++i)
        if (s.is_root[i]) V[i] = m.v_set[i];
    // Converge on the voltage change; the final power mismatch is then far below tol as well.
    const double dv_tol = tol * 1e-2;
    for (int it = 1; it <= max_iter; ++it) {
        // backward: currents drawn, leaves to root
        for (int i = 0; i < n; ++i) {
            const double vm = std::abs(V[i]);
            s.D[i] = -std::conj(specified_injection(m, i, vm) / V[i]) + s.y_shunt[i] * V[i];
        }
        for (int k = n - 1; k > 0; --k) {
            const int c = s.order[k], p = s.parent[c];
            if (p >= 0) s.D[p] += s.A[c] * V[p] + s.B[c] * s.D[c];
        }
        // forward: voltages, root to leaves
        double dv = 0.0;
        for (int k = 0; k < n; ++k) {
            const int c = s.order[k], p = s.parent[c];
            if (p < 0) continue;
            const cplx v_new = -(s.D[c] + s.Ycp[c] * V[p]) / s.Ycc[c];
            dv = std::max(dv, std::abs(v_new - V[c]));
            V[c] = v_new;
        }
        st.iterations = it;
        st.max_mismatch = dv;
        if (!std::isfinite(dv)) return st;
        if (dv < dv_tol) {
            st.converged = true;
            return st;
        }
    }
    return st;
}

}  // namespace libgrid
