// libgrid solvers, private: the pieces the three unbalanced solvers share (usolvers.hpp is the
// interface). Not installed; included by usolver*.cpp only.
#pragma once

#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/solvers/usolvers.hpp>

#include <memory>
#include <vector>

namespace libgrid::udetail {

/// 1 / (a node's line-to-neutral base) for the convergence test; a node without a base (NaN)
/// uses its start voltage's magnitude, or 1 V.
std::vector<double> inverse_vbase(const UMathModel& m);

/// out[n] += I_comp(v) of every load, as add_load_compensation: the load element's yprim v (what
/// it put into Y) minus its current I(v) (UMathLoad's rules: from a to b of each phase element).
void add_compensation(const UMathModel& m, const cplx* v, cplx* out);

/// out[n] += the current the loads draw at node n (I(v) at a, -I(v) at b of each phase element).
void add_load_currents(const UMathModel& m, const cplx* v, cplx* out);

/// max_n |a[n] - b[n]| * inv_vbase[n]
double max_dv_pu(const std::vector<double>& inv_vbase, const cplx* a, const cplx* b, int n);

/// A complex sparse LU of Y (KLU's complex interface when libgrid has KLU, else Eigen's SparseLU):
/// analyse once, factor, refactor after the values change, solve in place.
class ComplexLU {
public:
    ComplexLU();
    ~ComplexLU();
    ComplexLU(const ComplexLU&) = delete;
    ComplexLU& operator=(const ComplexLU&) = delete;
    /// Symbolic analysis and numeric factorisation; throws SolverError (naming `what`) when singular.
    void factor(const Eigen::SparseMatrix<cplx>& Y, const char* what);
    /// Same pattern, new values. Throws SolverError when singular.
    void refactor(const Eigen::SparseMatrix<cplx>& Y, const char* what);
    void solve(cplx* b, int n);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A real sparse LU (KLU when available, else Eigen's SparseLU), same verbs as the balanced solvers'.
class RealLU {
public:
    void analyze(const SpMat& A, const std::vector<int>& order);  ///< order: as KluSolver's (empty: its own)
    bool factorize(const SpMat& A);
    void solve(double* b, int n);

private:
    std::unique_ptr<KluSolver> klu_;
    std::unique_ptr<SparseLUSolver> slu_;
};

class FixedPointUSolver final : public USolver {
public:
    explicit FixedPointUSolver(const UMathModel& m);
    USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) override;
    void refactor() override;
    UMethod method() const override { return UMethod::fixed_point; }

private:
    const UMathModel& m_;
    ComplexLU lu_;
    std::vector<double> inv_vbase_;
    std::vector<cplx> rhs_;
};

class NewtonUSolver final : public USolver {
public:
    explicit NewtonUSolver(const UMathModel& m);
    USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) override;
    void refactor() override;
    UMethod method() const override { return UMethod::newton; }

private:
    void build_pattern();
    void fill_y_values();
    void residual(const std::vector<cplx>& v);  ///< f_ = Y v - i_source - I_comp(v), interleaved
    void jacobian(const std::vector<cplx>& v);  ///< J_'s values: Y's blocks + the loads' derivatives

    const UMathModel& m_;
    SpMat J_;                      ///< 2n x 2n, node i -> rows/columns 2i (real), 2i+1 (imaginary)
    std::vector<double> jy_;       ///< J's values from Y alone (copied in before the loads' blocks)
    std::vector<int> y_pos_;       ///< per nonzero k of Y: the position of its 2x2 block's (0,0) in J
    std::vector<int> load_pos_;    ///< per load phase element: 4 blocks (aa, ab, ba, bb) x 2 positions
    std::vector<int> lyp_pos_;     ///< per entry of each load's yprim (non-ground): 2 positions, or -1
    RealLU lu_;
    std::vector<double> inv_vbase_;
    std::vector<double> f_;        ///< residual, then the Newton step
    std::vector<cplx> row_sum_;    ///< sum of each row of Y (the residual's Y v uses differences)
};

class SweepUSolver final : public USolver {
public:
    explicit SweepUSolver(const UMathModel& m);
    USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) override;
    void refactor() override;
    UMethod method() const override { return UMethod::sweep; }

    /// One series element of the tree, its up terminal toward the source. Matrices are dense,
    /// column-major, in `mat_` at the offsets given.
    struct Branch {
        int element = -1;
        int tu = 0;                    ///< the element's up terminal (0, or 1 when reversed)
        int nu = 0, nd = 0;            ///< non-ground conductors up and down
        int up = 0, down = 0;          ///< offsets into nodes_ (nu, then nd node indices)
        int a = 0, b = 0, zd = 0, t = 0;  ///< offsets into mat_: A (nu x nu), B (nu x nd),
                                          ///< Zd = Y22^-1 (nd x nd), T = -Y22^-1 Y21 (nd x nu)
        int i2 = 0;                    ///< offset into i2_ (nd): current into the down terminal
        bool regularised = false;      ///< Y22 was singular: a ppm conductance to ground was added
    };
    /// An element that is not a branch (load, capacitor, ...): its current yprim v at its nodes.
    struct Shunt {
        int element = -1;
        int n = 0;      ///< conductors (ground included: node -1)
        int nodes = 0;  ///< offset into nodes_ (n entries, -1 = ground)
    };

private:
    void analyse_tree();
    void branch_matrices(Branch& br);
    void source_matrices();
    void shunt_currents(const std::vector<cplx>& v);
    void backward(const std::vector<cplx>& v);
    void forward(std::vector<cplx>& v);

    const UMathModel& m_;
    std::vector<Branch> branches_;  ///< in the order from the source (forward order)
    std::vector<Shunt> shunts_;
    std::vector<int> nodes_;
    std::vector<cplx> mat_;
    std::vector<cplx> i2_;
    int source_element_ = -1;
    std::vector<int> source_nodes_;
    std::vector<cplx> zsrc_;        ///< Ysrc^-1 over the source nodes (column-major)
    std::vector<cplx> isrc_;        ///< i_source at the source nodes
    std::vector<cplx> drawn_;       ///< per node: current drawn by shunts and downstream branches
    std::vector<cplx> vold_;
    std::vector<cplx> tmp_;
    std::vector<double> inv_vbase_;
};

}  // namespace libgrid::udetail

namespace libgrid::udetail {

/// Added (h6, issue 14): the fixed point restricted to the nodes the loads' compensation touches
/// ("Z-bus Gauss"). With Y fixed, every iterate of the full fixed point is V = V0 + Z[:,L] c(V_L)
/// with V0 = Y^-1 i_source, Z = Y^-1 and c the compensation currents, which are non-zero at the
/// load nodes L only. So the iteration runs on V_L alone with the dense block Z_LL (|L|^2 a step
/// instead of a sparse solve) and all nodes are recovered once at the end from the last c. The
/// iterates are exactly the full fixed point's; the convergence test reads the load nodes.
class ReducedFixedPointUSolver final : public USolver {
public:
    explicit ReducedFixedPointUSolver(const UMathModel& m);
    USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) override;
    void refactor() override;  ///< Y changed (tap move): factorise again, recompute V0 and Z
    UMethod method() const override { return UMethod::fixed_point; }
    int reduced_nodes() const { return int(nodes_.size()); }

private:
    void precompute();
    void compensation(const cplx* vl, cplx* c) const;  ///< c = I_comp at L (local order)
    void recover(std::vector<cplx>& v);                ///< all nodes: Y^-1 (i_source + c_)

    struct Entry {  ///< one entry of a load's yprim between two load nodes (local indices)
        int row = 0, col = 0;
        cplx y{0.0, 0.0};
        int element = 0, yr = 0, yc = 0;  ///< added (issue 15, H5): where y comes from (refactor re-reads it)
    };
    struct Phase {  ///< one load phase element: its load and local nodes (-1 ground)
        int load = 0, a = -1, b = -1;
    };
    const UMathModel& m_;
    ComplexLU lu_;
    std::vector<int> nodes_;       ///< L: the load nodes (global, ascending)
    std::vector<Entry> entries_;   ///< the loads' yprims restricted to L
    std::vector<Phase> phases_;
    std::vector<double> inv_vbase_;  ///< over L, squared: 1 / vbase^2
    std::vector<cplx> v0_;         ///< V0 = Y^-1 i_source, all nodes
    std::vector<cplx> col_;        ///< one column of Z (set-up only)
    std::vector<cplx> zll_;        ///< Z_LL, |L| x |L| column-major
    std::vector<cplx> vl_, vnew_, c_;  ///< work over L
};

}  // namespace libgrid::udetail
