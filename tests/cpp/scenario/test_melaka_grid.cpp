// Tests for the Melaka grid generator (scenario/melaka_grid.hpp, docs/melaka.md).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "libgrid/core/errors.hpp"
#include "libgrid/powerflow/powerflow.hpp"
#include "libgrid/scenario/melaka_grid.hpp"

using namespace libgrid;

namespace {

MelakaGrid make(GridSize size, std::uint64_t seed = 1) {
    MelakaGridOptions o;
    o.size = size;
    o.seed = seed;
    return generate_melaka_grid(o);
}

// Checks that `f` throws ValidationError whose message names `field`.
template <class F>
void check_names_field(F&& f, const std::string& field) {
    bool thrown = false;
    try {
        f();
    } catch (const ValidationError& e) {
        thrown = true;
        const std::string msg = e.what();
        INFO("message: " << msg);
        CHECK(msg.find("'" + field + "'") != std::string::npos);
    }
    INFO("field: " << field);
    CHECK(thrown);
}

/// The network as an undirected graph over bus indices, closed elements only. For every bus
/// reached from the ext grid: its parent bus and the element that leads to it.
struct Tree {
    std::vector<int> parent;        // bus index -> parent bus index (-1 at the root or unreached)
    std::vector<int> via_trafo;     // bus index -> transformer index of its parent edge, or -1
    std::vector<char> reached;
    int edges = 0;                  // closed edges (lines, transformers, bus-bus switches)
    std::unordered_map<Id, int> at; // bus id -> index
};

Tree walk(const Network& net) {
    Tree t;
    const int nb = int(net.buses.size());
    for (int i = 0; i < nb; ++i) t.at[net.buses[i].id] = i;
    std::set<std::pair<Id, Id>> open_line_end;  // (line id, bus id)
    for (const Switch& s : net.switches)
        if (!s.closed && s.et == SwitchElement::Line) open_line_end.insert({s.element, s.bus});
    struct Adj {
        int to, trafo;
    };
    std::vector<std::vector<Adj>> adj(nb);
    auto edge = [&](Id a, Id b, int trafo) {
        adj[t.at.at(a)].push_back({t.at.at(b), trafo});
        adj[t.at.at(b)].push_back({t.at.at(a), trafo});
        ++t.edges;
    };
    for (const Line& l : net.lines)
        if (l.in_service && !open_line_end.count({l.id, l.from_bus}) && !open_line_end.count({l.id, l.to_bus})) edge(l.from_bus, l.to_bus, -1);
    for (std::size_t k = 0; k < net.transformers.size(); ++k) edge(net.transformers[k].hv_bus, net.transformers[k].lv_bus, int(k));
    for (const Switch& s : net.switches)
        if (s.closed && s.et == SwitchElement::Bus) edge(s.bus, s.element, -1);
    t.parent.assign(nb, -1);
    t.via_trafo.assign(nb, -1);
    t.reached.assign(nb, 0);
    std::vector<int> queue{t.at.at(net.ext_grids.at(0).bus)};
    t.reached[queue[0]] = 1;
    for (std::size_t h = 0; h < queue.size(); ++h)
        for (const Adj& a : adj[queue[h]])
            if (!t.reached[a.to]) {
                t.reached[a.to] = 1;
                t.parent[a.to] = queue[h];
                t.via_trafo[a.to] = a.trafo;
                queue.push_back(a.to);
            }
    return t;
}

std::size_t count_open_line_switches(const Network& net) {
    return std::size_t(std::count_if(net.switches.begin(), net.switches.end(), [](const Switch& s) { return s.et == SwitchElement::Line && !s.closed; }));
}

}  // namespace

TEST_CASE("melaka grid: parse_grid_size") {
    CHECK(parse_grid_size("small") == GridSize::Small);
    CHECK(parse_grid_size("district") == GridSize::District);
    CHECK(parse_grid_size("city") == GridSize::City);
    CHECK_THROWS_AS(parse_grid_size("huge"), ValidationError);
    CHECK_THROWS_AS(parse_grid_size("Small"), ValidationError);
    CHECK_THROWS_AS(parse_grid_size(""), ValidationError);
    for (GridSize s : {GridSize::Small, GridSize::District, GridSize::City}) CHECK(parse_grid_size(to_string(s)) == s);
}

TEST_CASE("melaka grid: bad options name the field") {
    auto with = [](auto set) {
        MelakaGridOptions o;
        set(o);
        return [o] { generate_melaka_grid(o); };
    };
    check_names_field(with([](MelakaGridOptions& o) { o.n_substations = 0; }), "n_substations");
    check_names_field(with([](MelakaGridOptions& o) { o.feeders_per_substation = -2; }), "feeders_per_substation");
    check_names_field(with([](MelakaGridOptions& o) { o.transformers_per_feeder = 0; }), "transformers_per_feeder");
    check_names_field(with([](MelakaGridOptions& o) { o.customers_per_transformer = 0; }), "customers_per_transformer");
    check_names_field(with([](MelakaGridOptions& o) { o.n_charging_sites = -3; }), "n_charging_sites");
    check_names_field(with([](MelakaGridOptions& o) { o.size = GridSize(7); }), "size");
    // Absurd sizes are refused before any allocation.
    check_names_field(with([](MelakaGridOptions& o) {
                          o.n_substations = 10000;
                          o.customers_per_transformer = 1000;
                      }),
                      "customers_per_transformer");
}

TEST_CASE("melaka grid: deterministic for a seed, different across seeds") {
    for (GridSize size : {GridSize::Small, GridSize::District}) {
        const MelakaGrid a = make(size, 7), b = make(size, 7), c = make(size, 8);
        CHECK(a == b);  // bit for bit: doubles compared with ==
        CHECK(a.net == b.net);
        CHECK_FALSE(a.net == c.net);
        // Different seeds draw different customers, not just different names.
        double pa = 0, pc = 0;
        for (const Load& l : a.net.loads) pa += l.p_mw;
        for (const Load& l : c.net.loads) pc += l.p_mw;
        CHECK(pa != pc);
    }
}

TEST_CASE("melaka grid: sizes and counts") {
    const MelakaGrid s = make(GridSize::Small), d = make(GridSize::District);
    CHECK(s.net.buses.size() >= 200);
    CHECK(s.net.buses.size() <= 450);
    CHECK(d.net.buses.size() >= 3000);
    CHECK(d.net.buses.size() <= 8000);
    // Small: 1 substation x 2 feeders x 4 transformers; district: 1 x 6 x 8 (docs/melaka.md).
    CHECK(s.primary_transformers.size() == 1);
    CHECK(s.feeder_ids.size() == 2);
    CHECK(s.lv_transformers.size() == 8);
    CHECK(d.feeder_ids.size() == 6);
    CHECK(d.lv_transformers.size() == 48);
    CHECK(s.net.transformers.size() == s.lv_transformers.size() + s.primary_transformers.size());
    CHECK(s.charging_sites.size() == 2);
    CHECK(d.charging_sites.size() == 6);
    CHECK(s.net.ext_grids.size() == 1);
    CHECK(s.net.loads.size() == s.customers.size());
    // Ids are the positions in their tables.
    for (std::size_t i = 0; i < d.net.buses.size(); ++i) CHECK(d.net.buses[i].id == Id(i));
    for (std::size_t i = 0; i < d.net.lines.size(); ++i) CHECK(d.net.lines[i].id == Id(i));
    for (std::size_t i = 0; i < d.net.transformers.size(); ++i) CHECK(d.net.transformers[i].id == Id(i));
    for (std::size_t i = 0; i < d.net.loads.size(); ++i) CHECK(d.net.loads[i].id == Id(i));
    for (std::size_t i = 0; i < d.net.switches.size(); ++i) CHECK(d.net.switches[i].id == Id(i));

    MelakaGridOptions o;
    o.n_substations = 3;
    o.feeders_per_substation = 3;
    o.transformers_per_feeder = 5;
    o.customers_per_transformer = 10;
    o.n_charging_sites = 4;
    const MelakaGrid g = generate_melaka_grid(o);
    CHECK(g.primary_transformers.size() == 3);
    CHECK(g.feeder_ids.size() == 9);
    CHECK(g.lv_transformers.size() == 45);
    CHECK(g.charging_sites.size() == 4);
    // Ties: feeders (0,1) of each substation, and the odd feeder 2 to feeder 0 of the next one.
    CHECK(count_open_line_switches(g.net) == 3 + 2);
    for (std::size_t f = 0; f < g.feeder_ids.size(); ++f) {
        CHECK(g.feeder_ids[f] == Id(f));
        CHECK(g.feeder_substation[f] == Id(f / 3));
    }
}

TEST_CASE("melaka grid: city is about a million buses") {
    const MelakaGrid c = make(GridSize::City);
    CHECK(c.net.buses.size() >= 900000);
    CHECK(c.net.buses.size() <= 1100000);
    CHECK(c.lv_transformers.size() == 50 * 8 * 15);
    CHECK(c.charging_sites.size() == 40);  // melaka.md: 40 public sites in Melaka (Feb 2024)
    CHECK_NOTHROW(c.net.validate());
}

TEST_CASE("melaka grid: catalogue types") {
    const MelakaGrid g = make(GridSize::District, 3);
    std::map<std::string, const MelakaLineType*> lt;
    for (const MelakaLineType& t : melaka_line_types()) lt[t.name] = &t;
    std::map<std::string, const MelakaTransformerType*> tt;
    for (const MelakaTransformerType& t : melaka_transformer_types()) tt[t.name] = &t;
    std::set<std::string> used;
    for (const Line& l : g.net.lines) {
        REQUIRE(lt.count(l.name));
        const MelakaLineType& t = *lt[l.name];
        used.insert(l.name);
        CHECK(l.r_ohm_per_km == t.r_ohm_per_km);
        CHECK(l.x_ohm_per_km == t.x_ohm_per_km);
        CHECK(l.c_nf_per_km == t.c_nf_per_km);
        CHECK(l.max_i_ka == t.max_i_ka);
        CHECK(l.type == t.kind);
        CHECK(l.parallel >= 1);
        CHECK(l.length_km > 0.0);
        CHECK(l.length_km < 5.0);
        // Each line joins buses of the type's voltage.
        CHECK(g.net.buses[std::size_t(l.from_bus)].vn_kv == t.vn_kv);
        CHECK(g.net.buses[std::size_t(l.to_bus)].vn_kv == t.vn_kv);
    }
    CHECK(used.count("11kV 240 Al"));
    CHECK(used.count("4x240 Al XLPE"));
    CHECK(used.count("ABC 3x95+70"));  // the district has a semi-rural feeder
    CHECK(used.count("SVC 2x16 1ph-eq"));
    std::set<double> dt_kva;
    for (const Transformer& t : g.net.transformers) {
        REQUIRE(tt.count(t.name));
        const MelakaTransformerType& y = *tt[t.name];
        CHECK(t.sn_mva == y.sn_mva);
        CHECK(t.vk_percent == y.vk_percent);
        CHECK(t.vkr_percent == y.vkr_percent);
        CHECK(t.shift_deg == 330.0);  // Dyn11
        CHECK(t.tap_side == TapSide::HV);
        CHECK(t.tap_pos >= t.tap_min);
        CHECK(t.tap_pos <= t.tap_max);
        if (t.vn_lv_kv < 1.0) dt_kva.insert(t.sn_mva * 1000.0);
    }
    for (double kva : dt_kva) CHECK((kva == 315.0 || kva == 500.0 || kva == 630.0 || kva == 1000.0));  // melaka.md
    for (Id k : g.primary_transformers) {
        const Transformer& t = g.net.transformers[std::size_t(k)];
        CHECK(t.oltc);
        CHECK(t.parallel == 2);
        CHECK(t.tap_step_percent == 1.25);
        CHECK(t.tap_min == -8);
        CHECK(t.tap_max == 8);
        CHECK(t.oltc_vm_pu == 1.0);
        CHECK(t.oltc_band_pu == 0.02);
    }
}

TEST_CASE("melaka grid: customers, loads and charging sites") {
    const MelakaGrid g = make(GridSize::Small);
    const MelakaGrid d = make(GridSize::District);
    for (const MelakaGrid* m : {&g, &d}) {
        const Network& net = m->net;
        CHECK_NOTHROW(net.validate());
        std::unordered_map<Id, std::size_t> bus_at, load_at;
        for (std::size_t i = 0; i < net.buses.size(); ++i) bus_at[net.buses[i].id] = i;
        for (std::size_t i = 0; i < net.loads.size(); ++i) load_at[net.loads[i].id] = i;
        const std::set<Id> lv_tx(m->lv_transformers.begin(), m->lv_transformers.end());
        for (std::size_t i = 0; i < m->customers.size(); ++i) {
            const Customer& c = m->customers[i];
            CHECK(c.id == Id(i));
            REQUIRE(bus_at.count(c.bus));
            REQUIRE(load_at.count(c.load_id));
            const Load& l = net.loads[load_at[c.load_id]];
            CHECK(l.bus == c.bus);
            CHECK(l.type == to_string(c.type));
            CHECK(net.buses[bus_at[c.bus]].vn_kv == 0.4);
            CHECK(lv_tx.count(c.transformer));
            CHECK(c.feeder >= 0);
            CHECK(c.feeder < Id(m->feeder_ids.size()));
            CHECK((c.phases == 1 || c.phases == 3));
            CHECK(c.peak_kw > 0.0);
            CHECK(c.daily_kwh > 0.0);
            CHECK(c.roof_area_m2 > 0.0);
            // The design load is the coincident share of the customer's own peak, lagging.
            CHECK(l.p_mw > 0.0);
            CHECK(l.p_mw * 1000.0 <= c.peak_kw);
            CHECK(l.q_mvar > 0.0);
            CHECK(l.q_mvar < l.p_mw);  // power factor above 0.7
            if (c.type != CustomerType::TerraceHouse) CHECK(c.phases == 3);
        }
        CHECK(m->charging_site_pv.size() == m->charging_sites.size());
        CHECK(m->charging_site_battery.size() == m->charging_sites.size());
        for (std::size_t k = 0; k < m->charging_sites.size(); ++k) {
            const Customer& c = m->customers[std::size_t(m->charging_sites[k])];
            CHECK(c.type == CustomerType::ChargingSite);
            // One 50 kW DC bay and one to three 22 kW AC bays (melaka.md: ~3 bays a site).
            const double ac = (c.peak_kw - 50.0) / 22.0;
            CHECK(ac == std::round(ac));
            CHECK(ac >= 1.0);
            CHECK(ac <= 3.0);
            const SGen& pv = net.sgens.at(std::size_t(m->charging_site_pv[k]));
            const Storage& bat = net.storage.at(std::size_t(m->charging_site_battery[k]));
            CHECK(pv.id == m->charging_site_pv[k]);
            CHECK(bat.id == m->charging_site_battery[k]);
            CHECK(pv.bus == c.bus);
            CHECK(bat.bus == c.bus);
            CHECK(pv.sn_mva > 0.0);
            CHECK(pv.p_mw == 0.0);
            CHECK(bat.max_e_mwh > 0.0);
            CHECK(bat.p_mw == 0.0);
        }
    }
    // The small grid has every customer type (README example).
    std::set<CustomerType> types;
    for (const Customer& c : g.customers) types.insert(c.type);
    CHECK(types.size() == 7);
    // melaka.md: residential about 14.5 kWh/day.
    double sum = 0;
    int n = 0;
    for (const Customer& c : d.customers)
        if (c.type == CustomerType::TerraceHouse) sum += c.daily_kwh, ++n;
    REQUIRE(n > 1000);
    CHECK(sum / n == doctest::Approx(14.5).epsilon(0.03));
}

TEST_CASE("melaka grid: radial tree, every bus energised, customers under their transformer and feeder") {
    for (GridSize size : {GridSize::Small, GridSize::District}) {
        const MelakaGrid g = make(size);
        const Network& net = g.net;
        const Tree t = walk(net);
        // Connected and radial: every bus reached and exactly (buses - 1) closed edges.
        CHECK(std::count(t.reached.begin(), t.reached.end(), 1) == long(net.buses.size()));
        CHECK(t.edges == int(net.buses.size()) - 1);
        const std::set<Id> heads(g.feeder_head_bus.begin(), g.feeder_head_bus.end());
        CHECK(heads.size() == g.feeder_ids.size());
        for (const Customer& c : g.customers) {
            // Walk up to the root: the first transformer is the customer's, and the feeder head
            // bus passed on the way is its feeder's.
            int b = t.at.at(c.bus), first_trafo = -1;
            Id head = -1;
            while (t.parent[b] >= 0) {
                if (first_trafo < 0 && t.via_trafo[b] >= 0) first_trafo = t.via_trafo[b];
                if (heads.count(net.buses[b].id)) head = net.buses[b].id;
                b = t.parent[b];
            }
            REQUIRE(first_trafo >= 0);
            CHECK(net.transformers[std::size_t(first_trafo)].id == c.transformer);
            CHECK(head == g.feeder_head_bus[std::size_t(c.feeder)]);
        }
        // The feeder's head line leaves its head bus.
        for (std::size_t f = 0; f < g.feeder_ids.size(); ++f) {
            const Line& l = net.lines.at(std::size_t(g.feeder_head_line[f]));
            CHECK(l.id == g.feeder_head_line[f]);
            CHECK(l.from_bus == g.feeder_head_bus[f]);
        }
    }
    // Without ties: no line switches and one line fewer per tie.
    MelakaGridOptions o;
    const MelakaGrid with = generate_melaka_grid(o);
    o.normally_open_ties = false;
    const MelakaGrid without = generate_melaka_grid(o);
    CHECK(count_open_line_switches(with.net) == 1);
    CHECK(count_open_line_switches(without.net) == 0);
    CHECK(without.net.lines.size() + 1 == with.net.lines.size());
    CHECK(without.net.buses == with.net.buses);
}

TEST_CASE("melaka grid: substations nest (a smaller grid is a prefix of a larger one)") {
    MelakaGridOptions o;
    o.size = GridSize::District;
    o.seed = 11;
    o.n_charging_sites = 0;
    o.normally_open_ties = false;
    o.n_substations = 1;
    const MelakaGrid one = generate_melaka_grid(o);
    o.n_substations = 3;
    const MelakaGrid three = generate_melaka_grid(o);
    REQUIRE(three.net.buses.size() > one.net.buses.size());
    CHECK(std::equal(one.net.buses.begin(), one.net.buses.end(), three.net.buses.begin()));
    CHECK(std::equal(one.net.lines.begin(), one.net.lines.end(), three.net.lines.begin()));
    CHECK(std::equal(one.net.transformers.begin(), one.net.transformers.end(), three.net.transformers.begin()));
    CHECK(std::equal(one.customers.begin(), one.customers.end(), three.customers.begin()));
}

TEST_CASE("melaka grid: the design case solves within limits (small, district)") {
    for (GridSize size : {GridSize::Small, GridSize::District}) {
        const MelakaGrid g = make(size);
        const Network& net = g.net;
        INFO("size " << to_string(size));
        std::vector<double> vm_sweep;
        for (Method method : {Method::Auto, Method::NewtonRaphson}) {
            PowerFlowOptions opt;
            opt.method = method;
            const PowerFlowResult r = run_power_flow(net, opt);
            INFO("method " << to_string(method) << ": " << r.message);
            REQUIRE(r.converged);
            if (method == Method::Auto) CHECK(r.method_used == Method::Sweep);  // radial: auto picks the sweep
            for (std::size_t i = 0; i < net.buses.size(); ++i) {
                REQUIRE(r.bus_energized[i]);
                CHECK(r.bus_vm_pu[i] > 0.9);
                CHECK(r.bus_vm_pu[i] < 1.1);
                // The generator plans for the band at the design load (docs/melaka.md).
                CHECK_FALSE(r.bus_voltage_violation[i]);
            }
            for (double x : r.line_loading_percent) CHECK(x <= 100.0);
            for (std::size_t k = 0; k < net.transformers.size(); ++k) {
                CHECK(r.trafo_loading_percent[k] <= 100.0);
                CHECK(r.trafo_loading_percent[k] > 1.0);
            }
            // The primary's tap was preset where its OLTC settles.
            for (Id k : g.primary_transformers) CHECK(std::abs(r.trafo_tap_pos[std::size_t(k)] - net.transformers[std::size_t(k)].tap_pos) <= 1);
            // Power balance: the supply covers the loads and the losses.
            double load = 0;
            for (const Load& l : net.loads) load += l.p_mw;
            CHECK(r.ext_grid_p_mw[0] == doctest::Approx(load + r.losses_mw).epsilon(1e-6));
            CHECK(r.losses_mw > 0.0);
            CHECK(r.losses_mw < 0.1 * load);
            if (vm_sweep.empty()) {
                vm_sweep = r.bus_vm_pu;
            } else {
                for (std::size_t i = 0; i < net.buses.size(); ++i) CHECK(r.bus_vm_pu[i] == doctest::Approx(vm_sweep[i]).epsilon(1e-6));
            }
        }
    }
}

TEST_CASE("melaka grid: no-load voltages stay below the band's top") {
    MelakaGrid g = make(GridSize::District, 5);
    for (Load& l : g.net.loads) l.scaling = 0.0;
    PowerFlowOptions opt;
    opt.method = Method::Auto;
    const PowerFlowResult r = run_power_flow(g.net, opt);
    REQUIRE(r.converged);
    for (std::size_t i = 0; i < g.net.buses.size(); ++i) {
        CHECK(r.bus_vm_pu[i] <= g.net.buses[i].vmax_pu);
        CHECK(r.bus_vm_pu[i] >= g.net.buses[i].vmin_pu);
    }
    // The LV side sits near the 433 V winding's no-load voltage on the +2 tap: 1.0825 / 1.05.
    CHECK(r.bus_vm_pu[std::size_t(g.customers[0].bus)] == doctest::Approx(1.0825 / 1.05).epsilon(0.015));
}

TEST_CASE("melaka grid: opening a feeder breaker and closing its tie") {
    MelakaGrid g = make(GridSize::Small);
    Network& net = g.net;
    const Id head = g.feeder_head_bus[0];
    auto cb = std::find_if(net.switches.begin(), net.switches.end(), [&](const Switch& s) { return s.et == SwitchElement::Bus && s.element == head; });
    REQUIRE(cb != net.switches.end());
    cb->closed = false;
    PowerFlowOptions opt;
    opt.method = Method::Auto;
    PowerFlowResult r = run_power_flow(net, opt);
    REQUIRE(r.converged);
    for (const Customer& c : g.customers) CHECK(bool(r.bus_energized[std::size_t(c.bus)]) == (c.feeder != 0));
    // Close the normally-open point: feeder 1 now carries feeder 0 as well, still radially.
    auto nop = std::find_if(net.switches.begin(), net.switches.end(), [](const Switch& s) { return s.et == SwitchElement::Line && !s.closed; });
    REQUIRE(nop != net.switches.end());
    nop->closed = true;
    r = run_power_flow(net, opt);
    REQUIRE(r.converged);
    CHECK(r.method_used == Method::Sweep);
    for (const Customer& c : g.customers) CHECK(r.bus_energized[std::size_t(c.bus)]);
    // Both feeders' customers now come through feeder 1's head line.
    double load = 0;
    for (const Load& l : net.loads) {
        const Customer& c = g.customers[std::size_t(l.id)];
        if (c.feeder <= 1) load += l.p_mw;
    }
    CHECK(r.line_p_from_mw[std::size_t(g.feeder_head_line[1])] > load);
    CHECK(r.line_p_from_mw[std::size_t(g.feeder_head_line[0])] == doctest::Approx(0.0).epsilon(1e-9));
}
