// libgrid layers 2-3: topology (Boost.Graph) and the per-unit math model.
#include <libgrid/core/errors.hpp>
#include <libgrid/math/math_model.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_map>
#include <utility>

namespace libgrid {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

using UGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;

/// Builds the 2x2 block of a pi section (series ys, shunts yf_sh / yt_sh on the network side of an
/// ideal transformer tap at the from end), MATPOWER's convention.
BranchY pi_block(cplx ys, cplx yf_sh, cplx yt_sh, cplx tap) {
    BranchY b;
    b.ys = ys;
    b.tap = tap;
    b.yff = (ys + yf_sh) / std::norm(tap);
    b.yft = -ys / std::conj(tap);
    b.ytf = -ys / tap;
    b.ytt = ys + yt_sh;
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
    double vn_hv = t.vn_hv_kv, vn_lv = t.vn_lv_kv, shift = t.shift_degree;
    const double steps = double(t.tap_pos - t.tap_neutral);
    if (t.tap_side == TapSide::HV) {
        vn_hv *= 1.0 + steps * t.tap_step_percent / 100.0;
        shift += steps * t.tap_step_degree;
    } else if (t.tap_side == TapSide::LV) {
        vn_lv *= 1.0 + steps * t.tap_step_percent / 100.0;
        shift -= steps * t.tap_step_degree;
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

MathModel build_math_model(const Network& net) {
    net.validate();
    MathModel m;
    const int nb = int(net.buses.size());
    std::unordered_map<Id, int> bus_at;
    bus_at.reserve(nb * 2);
    for (int i = 0; i < nb; ++i) bus_at[net.buses[i].id] = i;
    auto usable = [&](int i) { return net.buses[i].in_service && net.buses[i].type != BusType::Isolated; };

    // 1. Closed bus-bus switches fuse buses into groups.
    UGraph sw(nb);
    for (const Switch& s : net.switches)
        if (s.et == SwitchElement::Bus && s.closed) {
            int a = bus_at.at(s.bus), b = bus_at.at(s.element);
            if (usable(a) && usable(b)) boost::add_edge(a, b, sw);
        }
    std::vector<int> group(nb);
    const int ng = boost::connected_components(sw, group.data());

    // Open line / transformer ends.
    std::unordered_map<Id, int> line_at, trafo_at;
    for (int i = 0; i < int(net.lines.size()); ++i) line_at[net.lines[i].id] = i;
    for (int i = 0; i < int(net.transformers.size()); ++i) trafo_at[net.transformers[i].id] = i;
    std::vector<char> line_open_f(net.lines.size(), 0), line_open_t(net.lines.size(), 0);
    std::vector<char> trafo_open_hv(net.transformers.size(), 0), trafo_open_lv(net.transformers.size(), 0);
    for (const Switch& s : net.switches) {
        if (s.closed || s.et == SwitchElement::Bus) continue;
        if (s.et == SwitchElement::Line) {
            int k = line_at.at(s.element);
            (net.lines[k].from_bus == s.bus ? line_open_f : line_open_t)[k] = 1;
        } else {
            int k = trafo_at.at(s.element);
            (net.transformers[k].hv_bus == s.bus ? trafo_open_hv : trafo_open_lv)[k] = 1;
        }
    }

    // 2. Islands over groups joined by closed, in-service branches (Boost.Graph).
    struct Edge { int a, b; };
    std::vector<Edge> edges;
    auto connect = [&](Id fb, Id tb, bool in_service, bool open_f, bool open_t) {
        int a = bus_at.at(fb), b = bus_at.at(tb);
        if (!in_service || open_f || open_t || !usable(a) || !usable(b)) return;
        edges.push_back({group[a], group[b]});
    };
    for (const Branch& br : net.branches) connect(br.from_bus, br.to_bus, br.in_service, false, false);
    for (std::size_t k = 0; k < net.lines.size(); ++k)
        connect(net.lines[k].from_bus, net.lines[k].to_bus, net.lines[k].in_service, line_open_f[k], line_open_t[k]);
    for (std::size_t k = 0; k < net.transformers.size(); ++k)
        connect(net.transformers[k].hv_bus, net.transformers[k].lv_bus, net.transformers[k].in_service, trafo_open_hv[k], trafo_open_lv[k]);
    UGraph g(ng);
    for (const Edge& e : edges)
        if (e.a != e.b) boost::add_edge(e.a, e.b, g);
    std::vector<int> island(ng);
    const int ni = ng ? boost::connected_components(g, island.data()) : 0;

    // 3. Sources: ext grids and declared slack buses; generators make PV buses.
    std::vector<char> group_usable(ng, 0);
    for (int i = 0; i < nb; ++i)
        if (usable(i)) group_usable[group[i]] = 1;
    std::vector<int> group_ext(ng, -1), group_gen(ng, -1), group_declared_slack(ng, -1);
    for (int k = 0; k < int(net.ext_grids.size()); ++k) {
        const ExtGrid& e = net.ext_grids[k];
        int b = bus_at.at(e.bus);
        if (e.in_service && usable(b) && group_ext[group[b]] < 0) group_ext[group[b]] = k;
    }
    for (int k = 0; k < int(net.gens.size()); ++k) {
        const Gen& gn = net.gens[k];
        int b = bus_at.at(gn.bus);
        if (gn.in_service && usable(b) && group_gen[group[b]] < 0) group_gen[group[b]] = k;
    }
    for (int i = 0; i < nb; ++i)
        if (usable(i) && net.buses[i].type == BusType::Slack && group_declared_slack[group[i]] < 0) group_declared_slack[group[i]] = i;

    std::vector<BusType> gtype(ng, BusType::PQ);
    for (int gi = 0; gi < ng; ++gi) {
        if (group_ext[gi] >= 0 || group_declared_slack[gi] >= 0) gtype[gi] = BusType::Slack;
        else if (group_gen[gi] >= 0) gtype[gi] = BusType::PV;
    }
    std::vector<int> island_slack_group(ni, -1), island_first_pv(ni, -1);
    for (int gi = 0; gi < ng; ++gi) {
        if (!group_usable[gi]) continue;
        int is = island[gi];
        if (gtype[gi] == BusType::Slack && island_slack_group[is] < 0) island_slack_group[is] = gi;
        if (gtype[gi] == BusType::PV && island_first_pv[is] < 0) island_first_pv[is] = gi;
    }
    for (int is = 0; is < ni; ++is)  // MATPOWER: with no reference bus, the first PV bus becomes it
        if (island_slack_group[is] < 0 && island_first_pv[is] >= 0) {
            island_slack_group[is] = island_first_pv[is];
            gtype[island_first_pv[is]] = BusType::Slack;
        }

    // 4. Nodes: usable groups in energised islands, numbered in order of first bus.
    std::vector<int> group_node(ng, -1), island_number(ni, -1);
    m.bus_node.assign(nb, -1);
    for (int i = 0; i < nb; ++i) {
        if (!usable(i)) continue;
        int gi = group[i];
        if (island_slack_group[island[gi]] < 0) continue;  // no source: de-energised
        if (group_node[gi] < 0) {
            group_node[gi] = m.n++;
            m.node_bus.push_back(i);
            int& isn = island_number[island[gi]];
            if (isn < 0) isn = m.n_islands++;
            m.node_island.push_back(isn);
            m.node_type.push_back(gtype[gi]);
            m.node_base_kv.push_back(net.buses[i].vn_kv);
            // Set points: ext grid, else the first in-service gen, else the bus's own values.
            cplx vs(net.buses[i].vm_pu, 0.0);
            if (group_ext[gi] >= 0) {
                const ExtGrid& e = net.ext_grids[group_ext[gi]];
                vs = std::polar(e.vm_pu, e.va_degree * kDeg);
            } else if (gtype[gi] == BusType::Slack) {
                int b0 = group_declared_slack[gi] >= 0 ? group_declared_slack[gi] : i;
                double vm = group_gen[gi] >= 0 ? net.gens[group_gen[gi]].vm_pu : net.buses[b0].vm_pu;
                vs = std::polar(vm, net.buses[b0].va_deg * kDeg);
            } else if (gtype[gi] == BusType::PV) {
                vs = cplx(net.gens[group_gen[gi]].vm_pu, 0.0);
            }
            m.v_set.push_back(vs);
        }
        m.bus_node[i] = group_node[gi];
    }
    m.island_radial.assign(m.n_islands, 1);
    m.island_slack.assign(m.n_islands, -1);
    for (int is = 0; is < ni; ++is)
        if (island_number[is] >= 0) m.island_slack[island_number[is]] = group_node[island_slack_group[is]];

    // 5. Branch admittances.
    auto node_of = [&](Id bus) { return m.bus_node[bus_at.at(bus)]; };
    m.branch_slot.assign(net.branches.size(), -1);
    m.line_slot.assign(net.lines.size(), -1);
    m.trafo_slot.assign(net.transformers.size(), -1);
    auto add = [&](BranchY b, int f, int t, bool open_f, bool open_t, std::vector<int>& slot, int index, BranchKind kind) {
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
    };
    for (int k = 0; k < int(net.branches.size()); ++k) {
        const Branch& br = net.branches[k];
        if (!br.in_service) continue;
        int f = node_of(br.from_bus), t = node_of(br.to_bus);
        if (f < 0 || t < 0) continue;  // an energised bus never connects to a de-energised one by a closed branch
        const double ratio = br.ratio == 0.0 ? 1.0 : br.ratio;
        const cplx ys = 1.0 / cplx(br.r_pu, br.x_pu);
        const cplx ysh(0.0, br.b_pu / 2.0);
        add(pi_block(ys, ysh, ysh, std::polar(ratio, br.shift_deg * kDeg)), f, t, false, false, m.branch_slot, k, BranchKind::Branch);
    }
    for (int k = 0; k < int(net.lines.size()); ++k) {
        const Line& l = net.lines[k];
        // A line at an out-of-service bus, like one behind an open switch, stays energised from its
        // other end (pandapower's auxiliary bus, Kron-reduced in add()).
        if (!l.in_service) continue;
        int f = node_of(l.from_bus), t = node_of(l.to_bus);
        bool of = line_open_f[k] || f < 0, ot = line_open_t[k] || t < 0;
        if (of && ot) continue;
        add(line_admittance(net, l, net.buses[bus_at.at(l.from_bus)].vn_kv), f, t, of, ot, m.line_slot, k, BranchKind::Line);
    }
    for (int k = 0; k < int(net.transformers.size()); ++k) {
        const Transformer& tr = net.transformers[k];
        // A transformer at an out-of-service bus is out of service as a whole (pandapower gives only
        // lines an auxiliary bus there); one behind an open switch stays energised from its other end.
        if (!tr.in_service || !usable(bus_at.at(tr.hv_bus)) || !usable(bus_at.at(tr.lv_bus))) continue;
        int f = node_of(tr.hv_bus), t = node_of(tr.lv_bus);
        bool of = trafo_open_hv[k] || f < 0, ot = trafo_open_lv[k] || t < 0;
        if (of && ot) continue;
        add(transformer_admittance(net, tr, net.buses[bus_at.at(tr.hv_bus)].vn_kv, net.buses[bus_at.at(tr.lv_bus)].vn_kv),
            f, t, of, ot, m.trafo_slot, k, BranchKind::Transformer);
    }

    // Radial islands: the island (connected) is a tree over its distinct node pairs, i.e. it has
    // exactly (nodes - 1) of them. Parallel branches between the same two nodes merge into one
    // edge, and a branch with both ends in one node (two buses fused by a closed bus-bus switch) is
    // a shunt there; neither makes a loop, so the sweep solves both exactly.
    std::vector<int> island_nodes(m.n_islands, 0), island_edges(m.n_islands, 0);
    for (int i = 0; i < m.n; ++i) island_nodes[m.node_island[i]]++;
    std::vector<std::pair<int, int>> node_pairs;
    node_pairs.reserve(m.branches.size());
    for (const BranchY& b : m.branches)
        if (b.f >= 0 && b.t >= 0 && b.f != b.t) node_pairs.emplace_back(std::min(b.f, b.t), std::max(b.f, b.t));
    std::sort(node_pairs.begin(), node_pairs.end());
    node_pairs.erase(std::unique(node_pairs.begin(), node_pairs.end()), node_pairs.end());
    for (const auto& e : node_pairs) island_edges[m.node_island[e.first]]++;
    for (int is = 0; is < m.n_islands; ++is)
        if (island_edges[is] != island_nodes[is] - 1) m.island_radial[is] = 0;

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

    m.s_p.assign(m.n, 0.0);
    m.s_i.assign(m.n, 0.0);
    m.s_z.assign(m.n, 0.0);
    m.q_fixed_pv.assign(m.n, 0);
    rebuild_ybus_values(m);
    update_injections(net, m);
    return m;
}

void rebuild_ybus_values(MathModel& m) {
    std::vector<Eigen::Triplet<cplx>> trip;
    trip.reserve(m.branches.size() * 4 + m.n);
    for (int i = 0; i < m.n; ++i) trip.emplace_back(i, i, cplx(0.0, 0.0));  // every diagonal present
    for (const BranchY& b : m.branches) {
        if (b.f >= 0 && b.t >= 0) {
            trip.emplace_back(b.f, b.f, b.yff);
            trip.emplace_back(b.f, b.t, b.yft);
            trip.emplace_back(b.t, b.f, b.ytf);
            trip.emplace_back(b.t, b.t, b.ytt);
        } else if (b.f >= 0) {
            trip.emplace_back(b.f, b.f, b.yff);
        } else {
            trip.emplace_back(b.t, b.t, b.ytt);
        }
    }
    m.Ybus.resize(m.n, m.n);
    m.Ybus.setFromTriplets(trip.begin(), trip.end());
    m.Ybus.makeCompressed();
}

void update_injections(const Network& net, MathModel& m) {
    std::fill(m.s_p.begin(), m.s_p.end(), cplx(0.0, 0.0));
    std::fill(m.s_i.begin(), m.s_i.end(), cplx(0.0, 0.0));
    std::fill(m.s_z.begin(), m.s_z.end(), cplx(0.0, 0.0));
    const double base = net.sn_mva;
    for (std::size_t k = 0; k < net.loads.size(); ++k) {
        const Load& l = net.loads[k];
        int i = m.load_node[k];
        if (!l.in_service) continue;
        if (i < 0) continue;
        const double p = l.p_mw * l.scaling / base, q = l.q_mvar * l.scaling / base;
        const double pz = l.const_z_p_percent / 100.0, pi = l.const_i_p_percent / 100.0;
        const double qz = l.const_z_q_percent / 100.0, qi = l.const_i_q_percent / 100.0;
        m.s_p[i] -= cplx(p * (1.0 - pz - pi), q * (1.0 - qz - qi));
        m.s_i[i] -= cplx(p * pi, q * qi);
        m.s_z[i] -= cplx(p * pz, q * qz);
    }
    for (std::size_t k = 0; k < net.sgens.size(); ++k) {
        const SGen& g = net.sgens[k];
        int i = m.sgen_node[k];
        if (!g.in_service) continue;
        if (i >= 0) m.s_p[i] += cplx(g.p_mw, g.q_mvar) * g.scaling / base;
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
}

}  // namespace libgrid
