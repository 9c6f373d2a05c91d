// libgrid layer 3: the per-unit math model over the topology layer's nodes.
#include <libgrid/core/errors.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/math/output.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

namespace libgrid {

template BranchAdmittance<symmetric_t> pi_section<symmetric_t>(const cplx&, const cplx&, const cplx&, cplx);

namespace {

/// Position of row i in the sorted rows [begin, end) of one compressed column (present by construction).
int find_row(const int* rows, int begin, int end, int i) {
    return int(std::lower_bound(rows + begin, rows + end, i) - rows);
}

/// Ybus's pattern straight in compressed column form: per column the diagonal and the other end of
/// every branch there, sorted, parallel branches merged into one entry. Reuses m.Ybus's storage.
void ybus_pattern(MathModel& m) {
    const int n = m.n;
    std::vector<int> start(std::size_t(n) + 1, 0);
    for (int j = 0; j < n; ++j) start[j + 1] = 1;  // the diagonal
    for (const BranchY& b : m.branches)
        if (b.f >= 0 && b.t >= 0 && b.f != b.t) {
            ++start[b.f + 1];  // (t, f) in column f
            ++start[b.t + 1];  // (f, t) in column t
        }
    for (int j = 0; j < n; ++j) start[j + 1] += start[j];
    std::vector<int> rows(start[n]), fill(start.begin(), start.end() - 1);
    for (int j = 0; j < n; ++j) rows[fill[j]++] = j;
    for (const BranchY& b : m.branches)
        if (b.f >= 0 && b.t >= 0 && b.f != b.t) {
            rows[fill[b.f]++] = b.t;
            rows[fill[b.t]++] = b.f;
        }
    // Sort each column and drop duplicates (parallel branches), compacting in place.
    int nnz = 0;
    for (int j = 0; j < n; ++j) {
        int* first = rows.data() + start[j];
        int* last = rows.data() + start[j + 1];
        std::sort(first, last);
        last = std::unique(first, last);
        start[j] = nnz;
        nnz = int(std::copy(first, last, rows.data() + nnz) - rows.data());
    }
    start[n] = nnz;
    m.Ybus.resize(n, n);
    m.Ybus.resizeNonZeros(nnz);
    std::copy(start.begin(), start.end(), m.Ybus.outerIndexPtr());
    std::copy(rows.begin(), rows.begin() + nnz, m.Ybus.innerIndexPtr());
}

}  // namespace

/// Ybus in compressed column form without triplets: the pattern (ybus_pattern), then the blocks
/// summed in the order of m.branches (each entry: its contributions in branch order, the
/// diagonal's from 0), which is the order Eigen's setFromTriplets summed them in.
template <symmetry_tag Sym>
void assemble_ybus(MathModel& m) {
    static_assert(is_symmetric_v<Sym>, "assemble_ybus: only symmetric_t is implemented yet");
    ybus_pattern(m);
    const int* yo = m.Ybus.outerIndexPtr();
    const int* yi = m.Ybus.innerIndexPtr();
    cplx* yv = m.Ybus.valuePtr();
    std::fill(yv, yv + m.Ybus.nonZeros(), cplx(0.0, 0.0));
    auto at = [&](int i, int j) -> cplx& { return yv[find_row(yi, yo[j], yo[j + 1], i)]; };
    for (const BranchY& b : m.branches) {
        if (b.f >= 0 && b.t >= 0) {
            at(b.f, b.f) += b.yff;
            at(b.f, b.t) += b.yft;
            at(b.t, b.f) += b.ytf;
            at(b.t, b.t) += b.ytt;
        } else if (b.f >= 0) {
            at(b.f, b.f) += b.yff;
        } else {
            at(b.t, b.t) += b.ytt;
        }
    }
}
template void assemble_ybus<symmetric_t>(MathModel&);

namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

/// Builds the 2x2 block of a pi section (series ys, shunts yf_sh / yt_sh on the network side of an
/// ideal transformer tap at the from end), MATPOWER's convention.
BranchY pi_block(cplx ys, cplx yf_sh, cplx yt_sh, cplx tap) {
    BranchY b;
    static_cast<BranchAdmittance<symmetric_t>&>(b) = pi_section<symmetric_t>(ys, yf_sh, yt_sh, tap);
    return b;
}

}  // namespace

BranchY line_admittance(const Network& net, const Line& l, double vn_from_kv) {
    const double z_base = vn_from_kv * vn_from_kv / net.sn_mva;
    const cplx z_ohm = cplx(l.r_ohm_per_km, l.x_ohm_per_km) * l.length_km / double(l.parallel);
    const cplx y_sh_s = cplx(l.g_us_per_km * 1e-6, 2.0 * std::numbers::pi * net.f_hz * l.c_nf_per_km * 1e-9) *
                        l.length_km * double(l.parallel);
    const cplx ys = 1.0 / (z_ohm / z_base);
    const cplx y_half = 0.5 * y_sh_s * z_base;
    BranchY b = pi_block(ys, y_half, y_half, 1.0);
    b.kind = BranchKind::Line;
    return b;
}

BranchY transformer_admittance(const Network& net, const Transformer& t, double vn_hv_bus_kv, double vn_lv_bus_kv) {
    // Rated voltages with the tap applied on its side (cigre README, pandapower's convention).
    double vn_hv = t.vn_hv_kv, vn_lv = t.vn_lv_kv, shift = t.shift_deg;
    const double steps = double(t.tap_pos - t.tap_neutral);
    if (t.tap_side == TapSide::HV) {
        vn_hv *= 1.0 + steps * t.tap_step_percent / 100.0;
        shift += steps * t.tap_step_deg;
    } else if (t.tap_side == TapSide::LV) {
        vn_lv *= 1.0 + steps * t.tap_step_percent / 100.0;
        shift -= steps * t.tap_step_deg;
    }
    const double ratio = (vn_hv / vn_hv_bus_kv) / (vn_lv / vn_lv_bus_kv);
    // Short-circuit impedance in p.u. of the rated power at the (tapped) LV rated voltage, then on
    // the system base at the LV bus voltage.
    const double to_sys = (vn_lv / vn_lv_bus_kv) * (vn_lv / vn_lv_bus_kv) * net.sn_mva / t.sn_mva;
    const double zk = t.vk_percent / 100.0, rk = t.vkr_percent / 100.0;
    const double xk = std::sqrt(std::max(zk * zk - rk * rk, 0.0));
    const cplx z = cplx(rk, xk) * to_sys / double(t.parallel);
    // Magnetising admittance (inductive), p.u. of the rated power, to the system base.
    const double gm = t.pfe_kw / 1000.0 / t.sn_mva;
    const double ym_abs = t.i0_percent / 100.0;
    const double bm = std::sqrt(std::max(ym_abs * ym_abs - gm * gm, 0.0));
    const cplx ym = cplx(gm, -bm) / to_sys * double(t.parallel);
    const cplx tap = std::polar(ratio, shift * kDeg);

    BranchY b;
    if (net.trafo_model == TrafoModel::Pi || ym == cplx(0.0, 0.0)) {
        b = pi_block(1.0 / z, 0.5 * ym, 0.5 * ym, tap);
    } else {
        // T circuit: z/2 - ym - z/2, Kron-reduced at the middle node.
        const cplx y1 = 2.0 / z, y2 = 2.0 / z;
        const cplx ysum = y1 + y2 + ym;
        const cplx yaa = y1 - y1 * y1 / ysum, ybb = y2 - y2 * y2 / ysum, yab = -y1 * y2 / ysum;
        b.ys = -yab;
        b.tap = tap;
        b.yff = yaa / std::norm(tap);
        b.yft = yab / std::conj(tap);
        b.ytf = yab / tap;
        b.ytt = ybb;
    }
    b.kind = BranchKind::Transformer;
    return b;
}

namespace {

/// Nodes: usable groups in energised islands, numbered in order of first bus, with their type,
/// island number, base voltage and set point (ext grid, else the first in-service gen, else the
/// bus's own values).
void number_nodes(const Network& net, const Topology& t, MathModel& m) {
    std::vector<int> group_node(t.n_groups, -1), island_number(t.n_islands, -1);
    m.bus_node.assign(t.n_buses, -1);
    for (int i = 0; i < t.n_buses; ++i) {
        if (!t.energised(i)) continue;
        const int gi = t.bus_group[i];
        if (group_node[gi] < 0) {
            group_node[gi] = m.n++;
            m.node_bus.push_back(i);
            int& isn = island_number[t.group_island[gi]];
            if (isn < 0) isn = m.n_islands++;
            m.node_island.push_back(isn);
            m.node_type.push_back(t.group_type[gi]);
            m.node_base_kv.push_back(net.buses[i].vn_kv);
            cplx vs(net.buses[i].vm_pu, 0.0);
            if (t.group_ext_grid[gi] >= 0) {
                const ExtGrid& e = net.ext_grids[t.group_ext_grid[gi]];
                vs = std::polar(e.vm_pu, e.va_deg * kDeg);
            } else if (t.group_type[gi] == BusType::Slack) {
                int b0 = t.group_slack_bus[gi] >= 0 ? t.group_slack_bus[gi] : i;
                double vm = t.group_gen[gi] >= 0 ? net.gens[t.group_gen[gi]].vm_pu : net.buses[b0].vm_pu;
                vs = std::polar(vm, net.buses[b0].va_deg * kDeg);
            } else if (t.group_type[gi] == BusType::PV) {
                vs = cplx(net.gens[t.group_gen[gi]].vm_pu, 0.0);
            }
            m.v_set.push_back(vs);
        }
        m.bus_node[i] = group_node[gi];
    }
    m.n_bus_nodes = m.n;
    // Ext grids with a finite short-circuit power (power-grid-model's source): the ideal voltage
    // vm_pu/va_deg is a hidden slack node behind the source impedance.
    // Every such ext grid gets its own hidden node; the bus stays the slack only if an ideal ext grid
    // is there too, else it is PV under the group's first gen (its vm_pu), else PQ.
    std::vector<int> group_source(t.n_groups, -1);
    std::vector<int> group_ideal(t.n_groups, -1);  // the group's first in-service ideal ext grid
    for (int k = int(net.ext_grids.size()) - 1; k >= 0; --k)
        if (net.ext_grids[k].in_service && !std::isfinite(net.ext_grids[k].sk_mva)) group_ideal[t.bus_group[t.bus(net.ext_grids[k].bus)]] = k;
    for (int k = 0; k < int(net.ext_grids.size()); ++k) {
        const ExtGrid& e = net.ext_grids[k];
        const int gi = t.bus_group[t.bus(e.bus)], b = group_node[gi];
        if (!e.in_service || b < 0 || !std::isfinite(e.sk_mva)) continue;
        const int h = m.n++;
        if (group_source[gi] < 0 && group_ideal[gi] < 0) group_source[gi] = h;
        m.hidden_ext_grid.push_back(k);
        m.node_bus.push_back(m.node_bus[b]);
        m.node_island.push_back(m.node_island[b]);
        m.node_type.push_back(BusType::Slack);
        m.node_base_kv.push_back(m.node_base_kv[b]);
        m.v_set.push_back(std::polar(e.vm_pu, e.va_deg * kDeg));
        if (const int i = group_ideal[gi]; i >= 0) {
            m.v_set[b] = std::polar(net.ext_grids[i].vm_pu, net.ext_grids[i].va_deg * kDeg);
            continue;
        }
        const int g = t.group_gen[gi];
        m.node_type[b] = g >= 0 ? BusType::PV : BusType::PQ;
        m.v_set[b] = cplx(g >= 0 ? net.gens[g].vm_pu : net.buses[m.node_bus[b]].vm_pu, 0.0);
    }
    m.island_slack.assign(m.n_islands, -1);
    m.island_droop.assign(m.n_islands, 0);
    for (int is = 0; is < t.n_islands; ++is)
        if (island_number[is] >= 0) {
            const int g = t.island_source[is];
            m.island_slack[island_number[is]] = group_source[g] >= 0 ? group_source[g] : group_node[g];
            m.island_droop[island_number[is]] = t.island_droop[is];
        }
    m.island_df_hz.assign(m.n_islands, 0.0);
    m.f_nom_hz = net.f_hz;
}

/// Per-unit series admittance of an ext grid's source impedance, as power-grid-model's
/// Source::math_param: |z| = sn_mva / sk_mva, x = |z| / sqrt(1 + rx^2), r = x rx.
cplx source_admittance(const Network& net, const ExtGrid& e) {
    const double z_abs = net.sn_mva / e.sk_mva;
    const double x = z_abs / std::sqrt(e.rx_ratio * e.rx_ratio + 1.0);
    return 1.0 / cplx(x * e.rx_ratio, x);
}

/// Appends one branch between nodes f and t (-1 or an open end: Kron-reduced into a shunt).
void add_branch(MathModel& m, BranchY b, int f, int t, bool open_f, bool open_t, std::vector<int>& slot, int index,
                BranchKind kind) {
    if (open_f) f = -1;
    if (open_t) t = -1;
    if (f < 0 && t < 0) return;
    b.kind = kind;
    b.index = index;
    if (t < 0) {  // open at the far end: a shunt at f
        if (b.ytt == cplx(0.0, 0.0)) return;
        b.yff -= b.yft * b.ytf / b.ytt;
    } else if (f < 0) {
        if (b.yff == cplx(0.0, 0.0)) return;
        b.ytt -= b.ytf * b.yft / b.yff;
    }
    b.f = f;
    b.t = t;
    slot[index] = int(m.branches.size());
    m.branches.push_back(b);
}

/// Branch admittances of every in-service, energised branch, line and transformer.
void add_branches(const Network& net, const Topology& topo, MathModel& m) {
    auto node_of = [&](Id bus) { return m.bus_node[topo.bus(bus)]; };
    m.branch_slot.assign(net.branches.size(), -1);
    m.line_slot.assign(net.lines.size(), -1);
    m.trafo_slot.assign(net.transformers.size(), -1);
    m.branches.reserve(net.branches.size() + net.lines.size() + net.transformers.size());  // one allocation
    for (int k = 0; k < int(net.branches.size()); ++k) {
        const Branch& br = net.branches[k];
        if (!br.in_service) continue;
        int f = node_of(br.from_bus), t = node_of(br.to_bus);
        if (f < 0 || t < 0) continue;  // an energised bus never connects to a de-energised one by a closed branch
        const double ratio = br.ratio == 0.0 ? 1.0 : br.ratio;
        const cplx ys = 1.0 / cplx(br.r_pu, br.x_pu);
        const cplx ysh(0.0, br.b_pu / 2.0);
        add_branch(m, pi_block(ys, ysh, ysh, std::polar(ratio, br.shift_deg * kDeg)), f, t, false, false, m.branch_slot, k,
                   BranchKind::Branch);
    }
    for (int k = 0; k < int(net.lines.size()); ++k) {
        const Line& l = net.lines[k];
        // A line at an out-of-service bus, like one behind an open switch, stays energised from its
        // other end (pandapower's auxiliary bus, Kron-reduced in add_branch()).
        if (!l.in_service) continue;
        int f = node_of(l.from_bus), t = node_of(l.to_bus);
        bool of = topo.line_open_f[k] || f < 0, ot = topo.line_open_t[k] || t < 0;
        if (of && ot) continue;
        add_branch(m, line_admittance(net, l, net.buses[topo.bus(l.from_bus)].vn_kv), f, t, of, ot, m.line_slot, k,
                   BranchKind::Line);
    }
    for (int k = 0; k < int(net.transformers.size()); ++k) {
        const Transformer& tr = net.transformers[k];
        // A transformer at an out-of-service bus is out of service as a whole (pandapower gives only
        // lines an auxiliary bus there); one behind an open switch stays energised from its other end.
        const int hv = topo.bus(tr.hv_bus), lv = topo.bus(tr.lv_bus);
        if (!tr.in_service || !topo.bus_usable[hv] || !topo.bus_usable[lv]) continue;
        int f = m.bus_node[hv], t = m.bus_node[lv];
        bool of = topo.trafo_open_hv[k] || f < 0, ot = topo.trafo_open_lv[k] || t < 0;
        if (of && ot) continue;
        add_branch(m, transformer_admittance(net, tr, net.buses[hv].vn_kv, net.buses[lv].vn_kv), f, t, of, ot,
                   m.trafo_slot, k, BranchKind::Transformer);
    }    m.source_slot.assign(net.ext_grids.size(), -1);
    for (int h = m.n_bus_nodes; h < m.n; ++h) {
        const int k = m.hidden_ext_grid[h - m.n_bus_nodes];
        const ExtGrid& e = net.ext_grids[k];
        add_branch(m, pi_block(source_admittance(net, e), 0.0, 0.0, 1.0), h, node_of(e.bus), false, false, m.source_slot,
                   k, BranchKind::Source);
    }
}

/// Radial islands: the island (connected) is a tree over its distinct node pairs. Parallel branches
/// between the same two nodes merge into one edge, and a branch with both ends in one node (two
/// buses fused by a closed bus-bus switch) is a shunt there; neither makes a loop, so the sweep
/// solves both exactly.
void mark_radial_islands(MathModel& m) {
    std::vector<std::pair<int, int>> edges;
    edges.reserve(m.branches.size());
    for (const BranchY& b : m.branches)
        if (b.f >= 0 && b.t >= 0) edges.emplace_back(b.f, b.t);
    m.island_radial = is_forest_per_component(m.n, m.node_island, m.n_islands, edges);
}

/// The node of every gen, ext grid, load, sgen, storage unit and shunt (-1: out of service or
/// de-energised; loads and the like keep their node when out of service).
void place_elements(const Network& net, const Topology& topo, MathModel& m) {
    auto node_of = [&](Id bus) { return m.bus_node[topo.bus(bus)]; };
    m.gen_node.assign(net.gens.size(), -1);
    for (std::size_t k = 0; k < net.gens.size(); ++k)
        if (net.gens[k].in_service) m.gen_node[k] = node_of(net.gens[k].bus);
    auto element_nodes = [&](const auto& table, std::vector<int>& out) {
        out.assign(table.size(), -1);
        for (std::size_t k = 0; k < table.size(); ++k) out[k] = node_of(table[k].bus);
    };
    element_nodes(net.loads, m.load_node);
    element_nodes(net.sgens, m.sgen_node);
    element_nodes(net.storage, m.storage_node);
    element_nodes(net.shunts, m.shunt_node);
    m.ext_grid_node.assign(net.ext_grids.size(), -1);
    for (std::size_t k = 0; k < net.ext_grids.size(); ++k)
        if (net.ext_grids[k].in_service) m.ext_grid_node[k] = node_of(net.ext_grids[k].bus);
    for (int h = m.n_bus_nodes; h < m.n; ++h) m.ext_grid_node[m.hidden_ext_grid[h - m.n_bus_nodes]] = h;
    m.forming_node.assign(net.forming.size(), -1);
    for (std::size_t k = 0; k < net.forming.size(); ++k)
        if (net.forming[k].in_service) m.forming_node[k] = node_of(net.forming[k].bus);
    m.forming_pu.assign(net.forming.size(), MathModel::FormingPu{});
    m.sgen_fw_node.assign(net.sgens.size(), -1);
    for (std::size_t k = 0; k < net.sgens.size(); ++k) {
        const int i = m.sgen_node[k];
        if (net.sgens[k].fw_enabled && i >= 0 && m.island_droop[m.node_island[i]]) m.sgen_fw_node[k] = i;
    }
    m.sgen_fw.assign(net.sgens.size(), MathModel::FwPu{});
}

}  // namespace

MathModel build_math_model(const Network& net) {
    net.validate();
    return build_math_model(net, analyze_topology(net));
}

MathModel build_math_model(const Network& net, const Topology& topo) {
    MathModel m;
    number_nodes(net, topo, m);
    add_branches(net, topo, m);
    mark_radial_islands(m);
    place_elements(net, topo, m);
    m.s_p.assign(m.n, 0.0);
    m.s_i.assign(m.n, 0.0);
    m.s_z.assign(m.n, 0.0);
    m.q_fixed_pv.assign(m.n, 0);
    rebuild_ybus_values(m);
    update_injections(net, m);
    return m;
}

void rebuild_ybus_values(MathModel& m) { assemble_ybus<symmetric_t>(m); }

void update_injections(const Network& net, MathModel& m, bool include_loads) {
    std::fill(m.s_p.begin(), m.s_p.end(), cplx(0.0, 0.0));
    std::fill(m.s_i.begin(), m.s_i.end(), cplx(0.0, 0.0));
    std::fill(m.s_z.begin(), m.s_z.end(), cplx(0.0, 0.0));
    const double base = net.sn_mva;
    for (std::size_t k = 0; include_loads && k < net.loads.size(); ++k) {
        const Load& l = net.loads[k];
        int i = m.load_node[k];
        if (!l.in_service) continue;
        if (i < 0) continue;
        const ZipParts zip = load_zip_parts(l, l.p_mw * l.scaling / base, l.q_mvar * l.scaling / base);
        m.s_p[i] -= zip.p;
        m.s_i[i] -= zip.i;
        m.s_z[i] -= zip.z;
    }
    for (std::size_t k = 0; k < net.sgens.size(); ++k) {
        const SGen& g = net.sgens[k];
        int i = m.sgen_node[k];
        if (k < m.sgen_fw.size()) m.sgen_fw[k] = MathModel::FwPu{};
        if (!g.in_service) continue;
        if (i >= 0) m.s_p[i] += cplx(g.p_mw, g.q_mvar) * g.scaling / base;
        if (k < m.sgen_fw_node.size() && m.sgen_fw_node[k] >= 0) {
            const double p_avail = g.p_mw * g.scaling;
            const double p_rated = g.sn_mva > 0 ? g.sn_mva : p_avail;
            m.sgen_fw[k] = {p_avail / base, p_rated / (g.fw_droop_percent / 100.0 * m.f_nom_hz) / base, g.fw_deadband_hz};
        }
    }
    for (std::size_t k = 0; k < net.storage.size(); ++k) {
        const Storage& s = net.storage[k];
        int i = m.storage_node[k];
        if (!s.in_service) continue;
        if (i >= 0) m.s_p[i] -= cplx(s.p_mw, s.q_mvar) * s.scaling / base;
    }
    for (std::size_t k = 0; k < net.shunts.size(); ++k) {
        const Shunt& s = net.shunts[k];
        int i = m.shunt_node[k];
        if (!s.in_service) continue;
        if (i >= 0) m.s_z[i] -= cplx(s.p_mw, s.q_mvar) * double(s.step) / base;
    }
    for (std::size_t k = 0; k < net.gens.size(); ++k) {
        int i = m.gen_node[k];
        if (i < 0) continue;
        const Gen& g = net.gens[k];
        // Q counts only where the node does not control its voltage (PQ, or PV held at a Q limit).
        const bool q_free = m.node_type[i] == BusType::PQ;
        m.s_p[i] += cplx(g.p_mw, q_free ? g.q_mvar : 0.0) / base;
    }
    for (std::size_t k = 0; k < net.forming.size() && k < m.forming_node.size(); ++k) {
        const FormingSource& f = net.forming[k];
        MathModel::FormingPu& u = m.forming_pu[k];
        u.p0 = f.p_set_mw / base;
        u.q0 = f.q_set_mvar / base;
        u.kp = f.kp_mw_per_hz / base;
        u.kq = f.kq_mvar_per_pu / base;
        u.v_set = f.v_set_pu;
        u.p_min = f.p_min_mw / base;
        u.p_max = f.p_max_mw / base;
        u.q_min = f.q_min_mvar / base;
        u.q_max = f.q_max_mvar / base;
        const int i = m.forming_node[k];
        // Grid-connected: grid-following at its set point (inside its limits).
        if (i >= 0 && !m.island_droop[m.node_island[i]])
            m.s_p[i] += cplx(std::clamp(u.p0, u.p_min, u.p_max), std::clamp(u.q0, u.q_min, u.q_max));
    }
}

}  // namespace libgrid
