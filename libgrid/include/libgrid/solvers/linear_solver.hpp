// libgrid: the linear solver behind Newton-Raphson and fast-decoupled power flow.
// One verb set, as Eigen's: analyze (sparsity pattern, once), factorize (numeric, per iteration),
// solve (in place). The Newton solver is a template over this interface, so the choice costs no
// virtual call in the inner loop (lightsim2grid's design).
#pragma once

#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include <memory>
#include <vector>

namespace libgrid {

using SpMat = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;

/// A fill-reducing ordering (AMD, from SuiteSparse) of the symmetric pattern of an n x n matrix in
/// compressed columns (sorted rows, diagonal present): order[k] = the k-th column to eliminate.
/// Empty when libgrid was built without SuiteSparse.
std::vector<int> amd_ordering(int n, const int* outer, const int* inner);

/// Eigen's SparseLU with COLAMD ordering: always available.
class SparseLUSolver {
public:
    static constexpr const char* name = "sparselu";
    /// SparseLU orders the columns itself (COLAMD); a given ordering is not used.
    void analyze(const SpMat& A, const std::vector<int>& /*order*/) { analyze(A); }
    void analyze(const SpMat& A) {
        lu_ = std::make_unique<LU>();
        lu_->analyzePattern(A);
    }
    bool factorize(const SpMat& A) {
        lu_->factorize(A);
        return lu_->info() == Eigen::Success;
    }
    void solve(double* b, int n) {
        Eigen::Map<Eigen::VectorXd> x(b, n);
        x = lu_->solve(x);
    }

private:
    using LU = Eigen::SparseLU<SpMat, Eigen::COLAMDOrdering<int>>;
    std::unique_ptr<LU> lu_;
};

/// SuiteSparse KLU: symbolic analysis once, klu_factor the first time, klu_refactor (same pivot
/// order, no allocation) afterwards, falling back to a fresh factorisation when the pivots degrade.
/// analyze(A, order): the symmetric permutation `order` is given (klu_analyze_given, no BTF) instead
/// of KLU's own BTF + AMD on A; empty: KLU's own.
class KluSolver {
public:
    static constexpr const char* name = "klu";
    KluSolver();
    ~KluSolver();
    KluSolver(KluSolver&&) noexcept;
    KluSolver& operator=(KluSolver&&) noexcept;
    static bool available();  ///< false when libgrid was built without KLU
    void analyze(const SpMat& A);
    void analyze(const SpMat& A, const std::vector<int>& order);
    bool factorize(const SpMat& A);
    void solve(double* b, int n);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace libgrid
