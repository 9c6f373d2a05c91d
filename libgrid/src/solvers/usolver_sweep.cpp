// libgrid solvers: the backward/forward sweep on a radial unbalanced model.
//
// Every series element (line, transformer) of the tree is seen through its yprim blocks, up
// terminal (toward the source) 1, down terminal 2:  I1 = Y11 V1 + Y12 V2,  I2 = Y21 V1 + Y22 V2
// (currents into the element). With I2 = -(the current drawn at the down bus by its shunts and the
// branches below), the forward step is V2 = Y22^-1 (I2 - Y21 V1) = Zd I2 + T V1, and the backward
// step carries the current up exactly: I1 = A V1 + B I2, B = Y12 Y22^-1, A = Y11 - B Y21 (A is a
// line's charging or a transformer's magnetising branch; 0 for a plain series impedance). For a line
// without charging that is V2 = V1 - Z I and I1 = -I2. The source is the first branch: its EMF
// behind its Norton impedance, V_s = Ysrc^-1 (i_source - drawn_s). Shunts are currents at their nodes
// from the last voltages: yprim v (capacitors, ...), and the loads' own currents I(v) (UMathLoad's
// rules; the same as yprim v - I_comp(v)).
#include "usolver_detail.hpp"

#include <libgrid/core/errors.hpp>

#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <string>

namespace libgrid::udetail {

namespace {
const char* const kWhat = "unbalanced sweep";

[[noreturn]] void fail(const std::string& msg) { throw SolverError(std::string(kWhat) + ": " + msg); }

std::string node_name(const UMathModel& m, int n) {
    std::string s = "node " + std::to_string(n);
    if (n >= 0 && n < int(m.node_bus.size()) && n < int(m.node_phase.size()))
        s += " (bus " + std::to_string(m.node_bus[std::size_t(n)]) + ", phase " + std::to_string(m.node_phase[std::size_t(n)]) + ")";
    return s;
}

/// A branch's blocks: at most kMaxCond conductors a side, on the stack (no allocation per branch).
constexpr int kMaxCond = 8;
using Small = Eigen::Matrix<cplx, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor, kMaxCond, kMaxCond>;

/// y (rows r, columns c) -> dense block
Small block(const Eigen::MatrixXcd& y, const std::vector<int>& r, const std::vector<int>& c) {
    Small b(Eigen::Index(r.size()), Eigen::Index(c.size()));
    for (std::size_t i = 0; i < r.size(); ++i)
        for (std::size_t j = 0; j < c.size(); ++j) b(Eigen::Index(i), Eigen::Index(j)) = y(r[i], c[j]);
    return b;
}

/// out (m) = M (m x k, column-major at p) * x (k, gathered through idx, or contiguous when idx == nullptr)
inline void matvec_add(const cplx* p, int mrows, int k, const cplx* x, const int* idx, cplx* out) {
    for (int j = 0; j < k; ++j) {
        const cplx xj = idx ? x[idx[j]] : x[j];
        const cplx* col = p + std::size_t(j) * std::size_t(mrows);
        for (int i = 0; i < mrows; ++i) out[i] += col[i] * xj;
    }
}
}  // namespace

SweepUSolver::SweepUSolver(const UMathModel& m) : m_(m), inv_vbase_(inverse_vbase(m)) {
    if (m.n_nodes <= 0) fail("the model has no node");
    if (int(m.i_source.size()) != m.n_nodes) fail("i_source does not match the nodes");
    analyse_tree();
    drawn_.assign(std::size_t(m.n_nodes), cplx(0.0));
    vold_.assign(std::size_t(m.n_nodes), cplx(0.0));
    tmp_.assign(std::size_t(m.n_nodes), cplx(0.0));
}

void SweepUSolver::analyse_tree() {
    const UMathModel& m = m_;
    std::vector<char> is_branch(m.elements.size(), 0);
    for (const UMathBranch& b : m.branches) {
        if (b.element < 0 || b.element >= int(m.elements.size())) fail("a branch names element " + std::to_string(b.element) + ", which does not exist");
        if (m.elements[std::size_t(b.element)].n_terminals != 2) fail("element " + std::to_string(b.element) + " has " + std::to_string(m.elements[std::size_t(b.element)].n_terminals) + " terminals (a branch needs 2)");
        is_branch[std::size_t(b.element)] = 1;
    }
    // The source: exactly one Vsource, grounded on its second terminal.
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        if (m.elements[e].kind != UElementKind::vsource) continue;
        if (source_element_ >= 0) fail("the model has more than one source (the sweep needs one)");
        source_element_ = int(e);
    }
    if (source_element_ < 0) fail("the model has no source");
    const UMathElement& src = m.elements[std::size_t(source_element_)];
    std::vector<char> fed(std::size_t(m.n_nodes), 0);
    for (int c = 0; c < int(src.node.size()); ++c) {
        const int n = src.node[std::size_t(c)];
        if (n < 0) continue;
        if (c >= src.n_cond) fail("the source's second terminal is not grounded");
        source_nodes_.push_back(n);
        fed[std::size_t(n)] = 1;
    }
    for (int n = 0; n < m.n_nodes; ++n)
        if (m.i_source[std::size_t(n)] != cplx(0.0) && !fed[std::size_t(n)]) fail("a source current at " + node_name(m, n) + ", not on the source");
    // Branches in the order from the source: breadth first over the buses, from_bus -> to_bus. A bus
    // may be reached by several branches (three single-phase regulators side by side); the node
    // check below refuses a node fed twice or fed from a node not yet fed.
    int n_bus = 0;
    for (int b : m.node_bus) n_bus = std::max(n_bus, b + 1);
    for (const UMathBranch& b : m.branches) n_bus = std::max({n_bus, b.from_bus + 1, b.to_bus + 1});
    std::vector<std::vector<int>> out(static_cast<std::size_t>(n_bus));
    for (std::size_t k = 0; k < m.branches.size(); ++k)
        if (m.branches[k].from_bus >= 0) out[std::size_t(m.branches[k].from_bus)].push_back(int(k));
    std::vector<int> order, queue;
    std::vector<char> seen(std::size_t(n_bus), 0);
    const int root = m.node_bus.empty() ? -1 : m.node_bus[std::size_t(source_nodes_.empty() ? 0 : source_nodes_[0])];
    if (root >= 0) {
        queue.push_back(root);
        seen[std::size_t(root)] = 1;
    }
    for (std::size_t q = 0; q < queue.size(); ++q)
        for (int k : out[std::size_t(queue[q])]) {
            order.push_back(k);
            const int to = m.branches[std::size_t(k)].to_bus;
            if (to < 0) fail("element " + std::to_string(m.branches[std::size_t(k)].element) + " has no to_bus");
            if (seen[std::size_t(to)]) continue;
            seen[std::size_t(to)] = 1;
            queue.push_back(to);
        }
    // Node by node: every up-side node fed before, every down-side node fed exactly once.
    for (int k : order) {
        const UMathBranch& ub = m.branches[std::size_t(k)];
        const UMathElement& el = m.elements[std::size_t(ub.element)];
        Branch br;
        br.element = ub.element;
        const int tu = ub.reversed ? 1 : 0;
        br.tu = tu;
        br.up = int(nodes_.size());
        for (int c = 0; c < el.n_cond; ++c) {
            const int n = el.node[std::size_t(tu * el.n_cond + c)];
            if (n < 0) continue;
            if (!fed[std::size_t(n)]) fail("element " + std::to_string(ub.element) + ": its up-side " + node_name(m, n) + " is not fed from the source");
            nodes_.push_back(n);
        }
        br.nu = int(nodes_.size()) - br.up;
        br.down = int(nodes_.size());
        for (int c = 0; c < el.n_cond; ++c) {
            const int n = el.node[std::size_t((1 - tu) * el.n_cond + c)];
            if (n < 0) continue;
            if (fed[std::size_t(n)]) fail("element " + std::to_string(ub.element) + ": its down-side " + node_name(m, n) + " is fed twice (the model is not radial)");
            fed[std::size_t(n)] = 1;
            nodes_.push_back(n);
        }
        br.nd = int(nodes_.size()) - br.down;
        if (br.nu > kMaxCond || br.nd > kMaxCond) fail("element " + std::to_string(ub.element) + " has more than " + std::to_string(kMaxCond) + " conductors a side");
        br.a = int(mat_.size());
        br.b = br.a + br.nu * br.nu;
        br.zd = br.b + br.nu * br.nd;
        br.t = br.zd + br.nd * br.nd;
        mat_.resize(std::size_t(br.t + br.nd * br.nu));
        br.i2 = int(i2_.size());
        i2_.resize(i2_.size() + std::size_t(br.nd));
        branches_.push_back(br);
    }
    for (int n = 0; n < m.n_nodes; ++n)
        if (!fed[std::size_t(n)]) fail(node_name(m, n) + " is not fed through a branch from the source");
    for (const UMathLoad& ld : m.loads) is_branch[std::size_t(ld.element)] = 2;  // a load: its current I(v)
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        if (is_branch[e] || int(e) == source_element_) continue;
        const UMathElement& el = m.elements[e];
        Shunt sh{int(e), int(el.node.size()), int(nodes_.size())};
        for (int n : el.node) nodes_.push_back(n);
        if (std::any_of(el.node.begin(), el.node.end(), [](int n) { return n >= 0; })) shunts_.push_back(sh);
    }
    refactor();
}

void SweepUSolver::branch_matrices(Branch& br) {
    const UMathElement& el = m_.elements[std::size_t(br.element)];
    const int tu = br.tu;
    std::vector<int> iu, id;  // yprim indices of the non-ground conductors
    for (int c = 0; c < el.n_cond; ++c) {
        if (el.node[std::size_t(tu * el.n_cond + c)] >= 0) iu.push_back(tu * el.n_cond + c);
        if (el.node[std::size_t((1 - tu) * el.n_cond + c)] >= 0) id.push_back((1 - tu) * el.n_cond + c);
    }
    const Small y11 = block(el.yprim, iu, iu), y12 = block(el.yprim, iu, id), y21 = block(el.yprim, id, iu);
    Small y22 = block(el.yprim, id, id);
    Eigen::FullPivLU<Small> lu(y22);
    br.regularised = false;
    if (br.nd > 0 && (!lu.isInvertible() || !(lu.rcond() > 1e-12))) {
        // A floating down side (a delta winding with nothing to ground): OpenDSS's ppm_antifloat,
        // a conductance of 1e-6 of the winding's own to ground on each conductor.
        const double g = 1e-6 * y22.diagonal().cwiseAbs().maxCoeff();
        y22.diagonal().array() += g;
        lu.compute(y22);
        br.regularised = true;
        if (!lu.isInvertible() || !(g > 0.0)) fail("element " + std::to_string(br.element) + ": its down-side admittance block is singular");
    }
    const Small zd = br.nd > 0 ? Small(lu.inverse()) : Small(0, 0);
    const Small t = -zd * y21;
    const Small b = y12 * zd;
    const Small a = y11 - b * y21;
    std::copy(a.data(), a.data() + a.size(), mat_.begin() + br.a);
    std::copy(b.data(), b.data() + b.size(), mat_.begin() + br.b);
    std::copy(zd.data(), zd.data() + zd.size(), mat_.begin() + br.zd);
    std::copy(t.data(), t.data() + t.size(), mat_.begin() + br.t);
}

void SweepUSolver::source_matrices() {
    const UMathElement& src = m_.elements[std::size_t(source_element_)];
    std::vector<int> is;
    for (int c = 0; c < src.n_cond; ++c)
        if (src.node[std::size_t(c)] >= 0) is.push_back(c);
    Eigen::FullPivLU<Eigen::MatrixXcd> lu(block(src.yprim, is, is));
    if (!lu.isInvertible()) fail("the source's admittance is singular");
    const Eigen::MatrixXcd z = lu.inverse();
    zsrc_.assign(z.data(), z.data() + z.size());
    isrc_.resize(source_nodes_.size());
    for (std::size_t k = 0; k < source_nodes_.size(); ++k) isrc_[k] = m_.i_source[std::size_t(source_nodes_[k])];
}

void SweepUSolver::refactor() {
    for (Branch& br : branches_) branch_matrices(br);
    source_matrices();
}

void SweepUSolver::shunt_currents(const std::vector<cplx>& v) {
    std::fill(drawn_.begin(), drawn_.end(), cplx(0.0));
    for (const Shunt& sh : shunts_) {
        const Eigen::MatrixXcd& y = m_.elements[std::size_t(sh.element)].yprim;
        const int* nd = nodes_.data() + sh.nodes;
        for (int j = 0; j < sh.n; ++j) {
            if (nd[j] < 0) continue;
            const cplx vj = v[std::size_t(nd[j])];
            for (int i = 0; i < sh.n; ++i)
                if (nd[i] >= 0) drawn_[std::size_t(nd[i])] += y(i, j) * vj;
        }
    }
    add_load_currents(m_, v.data(), drawn_.data());
}

void SweepUSolver::backward(const std::vector<cplx>& v) {
    for (auto it = branches_.rbegin(); it != branches_.rend(); ++it) {
        const Branch& br = *it;
        const int* up = nodes_.data() + br.up;
        const int* dn = nodes_.data() + br.down;
        cplx* i2 = i2_.data() + br.i2;
        for (int k = 0; k < br.nd; ++k) i2[k] = -drawn_[std::size_t(dn[k])];
        cplx* i1 = tmp_.data();  // nu <= n_nodes scratch
        std::fill(i1, i1 + br.nu, cplx(0.0));
        matvec_add(mat_.data() + br.a, br.nu, br.nu, v.data(), up, i1);
        matvec_add(mat_.data() + br.b, br.nu, br.nd, i2, nullptr, i1);
        for (int k = 0; k < br.nu; ++k) drawn_[std::size_t(up[k])] += i1[k];
    }
}

void SweepUSolver::forward(std::vector<cplx>& v) {
    const int ns = int(source_nodes_.size());
    cplx* rhs = tmp_.data();
    for (int k = 0; k < ns; ++k) rhs[k] = isrc_[std::size_t(k)] - drawn_[std::size_t(source_nodes_[std::size_t(k)])];
    for (int k = 0; k < ns; ++k) v[std::size_t(source_nodes_[std::size_t(k)])] = cplx(0.0);
    for (int j = 0; j < ns; ++j)
        for (int i = 0; i < ns; ++i) v[std::size_t(source_nodes_[std::size_t(i)])] += zsrc_[std::size_t(j * ns + i)] * rhs[j];
    for (const Branch& br : branches_) {
        const int* up = nodes_.data() + br.up;
        const int* dn = nodes_.data() + br.down;
        cplx* vd = tmp_.data();
        std::fill(vd, vd + br.nd, cplx(0.0));
        matvec_add(mat_.data() + br.zd, br.nd, br.nd, i2_.data() + br.i2, nullptr, vd);
        matvec_add(mat_.data() + br.t, br.nd, br.nu, v.data(), up, vd);
        for (int k = 0; k < br.nd; ++k) v[std::size_t(dn[k])] = vd[k];
    }
}

USolveStats SweepUSolver::solve(std::vector<cplx>& v, const USolveOptions& opt) {
    const int n = m_.n_nodes;
    if (int(v.size()) != n) fail("the start has " + std::to_string(v.size()) + " voltages for " + std::to_string(n) + " nodes");
    USolveStats st;
    for (int it = 1; it <= opt.max_iterations; ++it) {
        std::copy(v.begin(), v.end(), vold_.begin());
        shunt_currents(v);
        backward(v);
        forward(v);
        st.max_dv_pu = max_dv_pu(inv_vbase_, v.data(), vold_.data(), n);
        st.iterations = it;
        if (st.max_dv_pu < opt.tolerance) {
            st.converged = true;
            break;
        }
        if (!std::isfinite(st.max_dv_pu)) break;
    }
    return st;
}

}  // namespace libgrid::udetail
