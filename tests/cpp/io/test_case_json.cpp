// Tests of the network JSON reader / writer (libgrid/io/case_json.hpp).
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libgrid/core/errors.hpp"
#include "libgrid/io/case_json.hpp"

using namespace libgrid;
using nlohmann::json;

namespace {

const char* const kCases[] = {
    "cigre/cigre_lv.input.json",     "cigre/cigre_mv_pv_wind.input.json", "cigre/cigre_mv_all.input.json",
    "cigre/mv_oberrhein.input.json", "cigre/case118.input.json",          "cigre/case2869pegase.input.json",
    "pgm_bench/radial_1804.input.json", "pgm_bench/meshed_2605.input.json",
};

std::string data_path(const std::string& rel) { return std::string(LIBGRID_TEST_DATA) + "/" + rel; }

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json load_json(const std::string& rel) { return json::parse(slurp(data_path(rel))); }

/// what() of the exception of type E thrown by f; fails the test if f throws nothing or another type.
template <class E>
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("wrong exception type: " << e.what());
    }
    FAIL("no exception thrown");
    return {};
}

/// The element of array `array` whose "id" is `id` (must exist).
json& element(json& j, const char* array, long long id) {
    for (json& e : j.at(array))
        if (e.at("id").get<long long>() == id) return e;
    FAIL("no element " << array << "[id=" << id << "]");
    throw std::logic_error("unreachable");
}

/// A small valid network to mutate in tests.
json mini_case() {
    return json::parse(R"({
      "schema": "mg-case-json/1", "name": "mini", "f_hz": 50.0, "sn_mva": 1.0,
      "buses": [
        {"id": 1, "name": "LV", "vn_kv": 0.4, "type": "b", "zone": null, "in_service": true},
        {"id": 2, "name": "MV", "vn_kv": 11.0, "type": "n", "zone": null, "in_service": true}
      ],
      "lines": [
        {"id": 3, "name": null, "from_bus": 1, "to_bus": 2, "length_km": 0.1,
         "r_ohm_per_km": 0.2, "x_ohm_per_km": 0.1, "c_nf_per_km": 0.0, "g_us_per_km": 0.0,
         "max_i_ka": 0.3, "parallel": 1, "df": 1.0, "type": "cs", "in_service": true}
      ],
      "transformers": [
        {"id": 4, "name": "T", "hv_bus": 2, "lv_bus": 1, "sn_mva": 0.4, "vn_hv_kv": 11.0,
         "vn_lv_kv": 0.42, "vk_percent": 4.0, "vkr_percent": 1.0, "pfe_kw": 0.5, "i0_percent": 0.3,
         "shift_degree": 150.0, "tap_side": "hv", "tap_neutral": 0, "tap_min": -2, "tap_max": 2,
         "tap_step_percent": 2.5, "tap_step_degree": null, "tap_pos": 1, "tap_changer_type": "Ratio",
         "parallel": 1, "df": 1.0, "in_service": true}
      ],
      "ext_grids": [{"id": 0, "name": null, "bus": 2, "vm_pu": 1.0, "va_degree": 0.0, "in_service": true}]
    })");
}

Network parse_mini(const json& j) { return parse_case_json(j.dump(1), "mini.json"); }

std::size_t array_size(const json& j, const char* name) {
    auto it = j.find(name);
    return (it == j.end() || it->is_null()) ? 0 : it->size();
}

template <class T>
std::vector<Id> ids_of(const std::vector<T>& v) {
    std::vector<Id> out;
    for (const T& e : v) out.push_back(e.id);
    return out;
}

std::vector<Id> json_ids(const json& j, const char* name) {
    std::vector<Id> out;
    auto it = j.find(name);
    if (it != j.end() && it->is_array())
        for (const json& e : *it) out.push_back(e.at("id").get<Id>());
    return out;
}

template <class T>
const T& by_id(const std::vector<T>& v, Id id) {
    for (const T& e : v)
        if (e.id == id) return e;
    FAIL("no element with id " << id);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("case_json: every shipped input file parses, element counts and ids match the JSON arrays") {
    for (const char* rel : kCases) {
        CAPTURE(rel);
        const Network net = read_case_json(data_path(rel));
        const json j = load_json(rel);
        CHECK(net.name == j.at("name").get<std::string>());
        CHECK(net.f_hz == j.at("f_hz").get<double>());
        CHECK(net.sn_mva == j.at("sn_mva").get<double>());
        CHECK(net.buses.size() == array_size(j, "buses"));
        CHECK(net.lines.size() == array_size(j, "lines"));
        CHECK(net.transformers.size() == array_size(j, "transformers"));
        CHECK(net.switches.size() == array_size(j, "switches"));
        CHECK(net.shunts.size() == array_size(j, "shunts"));
        CHECK(net.loads.size() == array_size(j, "loads"));
        CHECK(net.sgens.size() == array_size(j, "sgens"));
        CHECK(net.storage.size() == array_size(j, "storage"));
        CHECK(net.gens.size() == array_size(j, "gens"));
        CHECK(net.ext_grids.size() == array_size(j, "ext_grids"));
        CHECK(net.branches.empty());
        // file order and ids preserved
        CHECK(ids_of(net.buses) == json_ids(j, "buses"));
        CHECK(ids_of(net.lines) == json_ids(j, "lines"));
        CHECK(ids_of(net.transformers) == json_ids(j, "transformers"));
        CHECK(ids_of(net.loads) == json_ids(j, "loads"));
        CHECK(ids_of(net.gens) == json_ids(j, "gens"));
        CHECK(ids_of(net.shunts) == json_ids(j, "shunts"));
        // bus type letters are informational; no shipped case has a slack gen
        for (const Bus& b : net.buses) CHECK(b.type == BusType::PQ);
    }
}

TEST_CASE("case_json: spot values, cigre_lv") {
    const Network net = read_case_json(data_path("cigre/cigre_lv.input.json"));
    CHECK(net.f_hz == 50.0);
    CHECK(net.sn_mva == 1.0);
    CHECK(net.trafo_model == TrafoModel::T);
    const Line& l = by_id(net.lines, 3);
    CHECK(l.name == "Line R4-R5");
    CHECK(l.from_bus == 5);
    CHECK(l.to_bus == 6);
    CHECK(l.length_km == 0.035);
    CHECK(l.r_ohm_per_km == 0.162);
    CHECK(l.x_ohm_per_km == 0.0832);
    CHECK(l.max_i_ka == 1.0);
    CHECK(l.type == "cs");
    const Transformer& t = by_id(net.transformers, 0);
    CHECK(t.hv_bus == 1);
    CHECK(t.lv_bus == 2);
    CHECK(t.sn_mva == 0.5);
    CHECK(t.vn_lv_kv == 0.4);
    CHECK(t.vk_percent == 4.123106);
    CHECK(t.vkr_percent == 1.0);
    CHECK(t.shift_deg == 30.0);
    CHECK(t.tap_side == TapSide::None);  // tap_side null
    CHECK(t.tap_pos == 0);
    CHECK(t.tap_step_percent == 0.0);     // null -> default
    const Bus& b0 = by_id(net.buses, 0);
    CHECK(b0.name == "Bus 0");
    CHECK(b0.vn_kv == 20.0);
    CHECK(b0.zone == 1);  // "CIGRE_LV" is a text zone: dropped
    CHECK(b0.vmin_pu == 0.90);
    CHECK(b0.vmax_pu == 1.10);
    const Bus& b2 = by_id(net.buses, 2);
    CHECK(b2.vn_kv == 0.4);
    CHECK(b2.vmin_pu == 0.94);
    CHECK(b2.vmax_pu == 1.05);
    REQUIRE(net.switches.size() == 3);
    for (const Switch& s : net.switches) {
        CHECK(s.et == SwitchElement::Bus);
        CHECK(s.bus == 0);
        CHECK(s.closed);
        CHECK(s.type == "CB");
    }
    CHECK(by_id(net.switches, 1).element == 20);
    const Load& ld = by_id(net.loads, 0);
    CHECK(ld.bus == 2);
    CHECK(ld.p_mw == 0.19);
    CHECK(ld.q_mvar == 0.06244998);
    CHECK(ld.type == "wye");
    REQUIRE(net.ext_grids.size() == 1);
    CHECK(net.ext_grids[0].bus == 0);
}

TEST_CASE("case_json: spot values, case118 and case2869pegase (MATPOWER conversions)") {
    const Network c118 = read_case_json(data_path("cigre/case118.input.json"));
    CHECK(c118.f_hz == 60.0);
    CHECK(c118.sn_mva == 100.0);
    const Bus& b = by_id(c118.buses, 0);
    CHECK(b.name == "1");  // numeric name kept as text
    CHECK(b.zone == 1);
    CHECK(b.vn_kv == 138.0);
    const Gen& g = by_id(c118.gens, 0);
    CHECK(g.bus == 0);
    CHECK(g.vm_pu == 0.955);
    CHECK(g.min_q_mvar == -5.0);
    CHECK(g.max_q_mvar == 15.0);
    CHECK(g.mbase_mva == 100.0);  // sn_mva null -> default
    CHECK(g.max_p_mw == kInf);
    const Transformer& t0 = by_id(c118.transformers, 0);
    CHECK(t0.tap_side == TapSide::HV);
    CHECK(t0.tap_pos == -1);
    CHECK(t0.tap_step_percent == 1.5);
    CHECK(t0.tap_min == 0);  // null -> default
    const Transformer& t7 = by_id(c118.transformers, 7);
    CHECK(t7.tap_side == TapSide::None);
    CHECK(t7.tap_pos == t7.tap_neutral);  // tap_pos null
    CHECK(t7.i0_percent == -0.64444444444444);
    const Shunt& sh = by_id(c118.shunts, 0);
    CHECK(sh.bus == 4);
    CHECK(sh.q_mvar == 40.0);
    CHECK(sh.step == 1);
    REQUIRE(c118.ext_grids.size() == 1);
    CHECK(c118.ext_grids[0].bus == 68);

    const Network peg = read_case_json(data_path("cigre/case2869pegase.input.json"));
    CHECK(by_id(peg.buses, 0).name == "2");
    CHECK(by_id(peg.buses, 0).zone == 0);
    CHECK(by_id(peg.buses, 0).vn_kv == 220.0);
    CHECK(by_id(peg.gens, 0).p_mw == 8.0);
    CHECK(by_id(peg.gens, 0).vm_pu == 1.006206);
    CHECK(by_id(peg.sgens, 0).q_mvar == -28.66);
    CHECK(by_id(peg.sgens, 0).sn_mva == 0.0);
}

TEST_CASE("case_json: spot values, mv_oberrhein and cigre_mv_all") {
    const Network mv = read_case_json(data_path("cigre/mv_oberrhein.input.json"));
    CHECK(by_id(mv.transformers, 114).tap_pos == -2);
    CHECK(by_id(mv.transformers, 142).tap_pos == -3);
    CHECK(by_id(mv.transformers, 114).tap_min == -9);
    CHECK(by_id(mv.transformers, 114).pfe_kw == 29.0);
    const Load& l0 = by_id(mv.loads, 0);
    CHECK(l0.p_mw == 0.25);  // p_mw and scaling kept separately
    CHECK(l0.scaling == 0.6);
    CHECK(l0.type == "MV/LV Station");
    CHECK(by_id(mv.sgens, 0).p_mw == 0.12215);
    CHECK(by_id(mv.sgens, 0).scaling == 0.0);
    CHECK(mv.ext_grids.size() == 2);
    int open = 0;
    for (const Switch& s : mv.switches) {
        CHECK(s.et == SwitchElement::Line);
        open += s.closed ? 0 : 1;
    }
    CHECK(open == 6);

    const Network all = read_case_json(data_path("cigre/cigre_mv_all.input.json"));
    const Storage& st = by_id(all.storage, 0);
    CHECK(st.name == "Battery 1");
    CHECK(st.bus == 5);
    CHECK(st.p_mw == 0.6);
    CHECK(st.sn_mva == 0.2);
    CHECK(st.soc_percent == 50.0);  // null -> default
    CHECK(st.max_e_mwh == 0.0);     // null -> default
    CHECK(st.type == "Battery");
    CHECK(by_id(all.switches, 0).name.empty());
    CHECK(by_id(all.switches, 1).closed == false);
    CHECK(by_id(all.switches, 1).element == 12);
}

TEST_CASE("case_json: spot values, pgm_bench radial_1804") {
    const Network net = read_case_json(data_path("pgm_bench/radial_1804.input.json"));
    CHECK(net.trafo_model == TrafoModel::Pi);
    const Transformer& hv = by_id(net.transformers, 3);
    CHECK(hv.tap_side == TapSide::HV);
    CHECK(hv.tap_min == -10);
    CHECK(hv.tap_max == 10);
    CHECK(hv.tap_step_percent == 1.6666666666666667);
    CHECK(hv.shift_deg == 150.0);
    const Transformer& lv = by_id(net.transformers, 2228);
    CHECK(lv.tap_neutral == 3);
    CHECK(lv.tap_pos == 3);
    CHECK(lv.tap_min == 1);
    CHECK(lv.tap_max == 5);
    CHECK(lv.tap_step_percent == -2.380952380952381);
    CHECK(lv.shift_deg == 330.0);
    CHECK(lv.vn_lv_kv == 0.42);
    const Load& z = by_id(net.loads, 13);
    CHECK(z.const_z_p_percent == 100.0);
    CHECK(z.const_z_q_percent == 100.0);
    CHECK(z.const_i_p_percent == 0.0);
    CHECK(z.type == "sym_load");
    const Load& i = by_id(net.loads, 28);
    CHECK(i.const_i_p_percent == 100.0);
    CHECK(i.const_i_q_percent == 100.0);
    CHECK(i.p_mw == 0.6880529065088433);
    REQUIRE(net.ext_grids.size() == 1);
    CHECK(net.ext_grids[0].id == 1);
    CHECK(net.ext_grids[0].vm_pu == 1.05);
    CHECK(by_id(net.buses, 0).name.empty());
    CHECK(by_id(net.buses, 0).vmin_pu == 0.90);
    const Line& l = net.lines.front();
    CHECK(l.length_km == 1.0);
    CHECK(l.g_us_per_km > 0.0);
}

TEST_CASE("case_json: to_case_json then parse gives an equal network, for every shipped file") {
    for (const char* rel : kCases) {
        CAPTURE(rel);
        const Network net = read_case_json(data_path(rel));
        const std::string text = to_case_json(net);
        const Network back = parse_case_json(text, "roundtrip.json");
        CHECK(back == net);
        CHECK(to_case_json(back) == text);  // the writer is deterministic and idempotent
        const json j = json::parse(text);
        CHECK(j.at("schema") == "mg-case-json/1");
        CHECK(j.at("trafo_model") == (net.trafo_model == TrafoModel::Pi ? "pi" : "t"));
        CHECK(j.at("buses").at(0).contains("vmin_pu"));
    }
}

TEST_CASE("case_json: write_case_json / read_case_json through a file") {
    const Network net = read_case_json(data_path("cigre/cigre_mv_all.input.json"));
    const std::filesystem::path path = libgrid_test::scratch_path("case_json_roundtrip.json");
    write_case_json(net, path.string());
    const Network back = read_case_json(path.string());
    std::filesystem::remove(path);
    CHECK(back == net);
}

TEST_CASE("case_json: libgrid extensions and non-default values survive a round trip") {
    Network net;
    net.name = "extensions";
    net.f_hz = 60.0;
    net.sn_mva = 10.0;
    net.trafo_model = TrafoModel::Pi;
    Bus b1;
    b1.id = 10; b1.name = "slack"; b1.vn_kv = 11.0; b1.type = BusType::Slack; b1.vm_pu = 1.02; b1.va_deg = -3.5;
    b1.vmin_pu = 0.95; b1.vmax_pu = 1.05; b1.area = 3; b1.zone = 7;
    Bus b2 = b1;
    b2.id = 11; b2.name = "pv"; b2.vn_kv = 0.4; b2.type = BusType::PV; b2.in_service = false;
    Bus b3 = b1;
    b3.id = -5; b3.name = "iso"; b3.type = BusType::Isolated;
    net.buses = {b1, b2, b3};
    Branch br;
    br.id = 1; br.from_bus = 10; br.to_bus = -5; br.r_pu = -0.001; br.x_pu = 0.05; br.b_pu = 0.02;
    br.rate_a_mva = 90; br.rate_b_mva = 100; br.rate_c_mva = 110; br.ratio = 0.98; br.shift_deg = -2;
    br.angmin_deg = -30; br.angmax_deg = 30; br.in_service = false;
    net.branches = {br};
    Line l;
    l.id = 2; l.from_bus = 10; l.to_bus = 11; l.length_km = 0.3; l.r_ohm_per_km = 0.1; l.x_ohm_per_km = -0.05;
    l.c_nf_per_km = 200; l.g_us_per_km = 1; l.max_i_ka = kInf; l.parallel = 2; l.df = 0.8; l.type = "ol";
    net.lines = {l};
    Transformer t;
    t.id = 3; t.hv_bus = 10; t.lv_bus = 11; t.sn_mva = 0.63; t.vn_hv_kv = 11; t.vn_lv_kv = 0.415; t.vk_percent = 4;
    t.vkr_percent = 1.1; t.tap_side = TapSide::LV; t.tap_min = -4; t.tap_max = 4; t.tap_pos = -3;
    t.tap_step_percent = 2.5; t.tap_step_deg = 0.5; t.oltc = true; t.oltc_bus = -5; t.oltc_vm_pu = 1.01;
    t.oltc_band_pu = 0.03;
    net.transformers = {t};
    Switch s1; s1.id = 0; s1.bus = 10; s1.element = 11; s1.et = SwitchElement::Bus; s1.closed = false; s1.type = "CB";
    Switch s2; s2.id = 1; s2.bus = 11; s2.element = 2; s2.et = SwitchElement::Line;
    Switch s3; s3.id = 2; s3.bus = 10; s3.element = 3; s3.et = SwitchElement::Transformer; s3.name = "Q3";
    net.switches = {s1, s2, s3};
    Shunt sh; sh.id = 4; sh.bus = 11; sh.q_mvar = -0.05; sh.step = 2; sh.max_step = 4; sh.switched = true;
    sh.v_low_pu = 0.96; sh.v_high_pu = 1.04;
    net.shunts = {sh};
    Load ld; ld.id = 5; ld.bus = 11; ld.p_mw = 0.1; ld.q_mvar = 0.02; ld.const_z_p_percent = 30;
    ld.const_i_p_percent = 20; ld.const_z_q_percent = 50; ld.const_i_q_percent = 10; ld.scaling = 0.7;
    net.loads = {ld};
    Gen g; g.id = 6; g.bus = 10; g.p_mw = 1; g.q_mvar = 0.3; g.vm_pu = 1.02; g.min_p_mw = 0.1; g.max_p_mw = 2;
    g.mbase_mva = 2.5;  // min/max Q stay infinite
    Gen g2 = g; g2.id = 7; g2.bus = 11; g2.min_q_mvar = -1; g2.max_q_mvar = 1; g2.max_p_mw = kInf;
    net.gens = {g, g2};
    SGen sg; sg.id = 8; sg.bus = 11; sg.p_mw = 0.05; sg.sn_mva = 0.06; sg.scaling = 0.5; sg.type = "PV";
    net.sgens = {sg};
    Storage sto; sto.id = 9; sto.bus = 11; sto.p_mw = -0.02; sto.sn_mva = 0.05; sto.soc_percent = 80;
    sto.min_e_mwh = 0.01; sto.max_e_mwh = 0.1; sto.type = "Battery";
    net.storage = {sto};
    ExtGrid eg; eg.id = 0; eg.bus = 10; eg.vm_pu = 1.03; eg.va_deg = 5;
    net.ext_grids = {eg};

    const std::string text = to_case_json(net);
    const Network back = parse_case_json(text, "ext.json");
    CHECK(back == net);

    const json j = json::parse(text);
    CHECK(j.at("trafo_model") == "pi");
    CHECK(j.at("branches").size() == 1);
    CHECK(j.at("buses").at(1).at("bus_type") == "pv");
    CHECK(j.at("transformers").at(0).at("oltc") == true);
    CHECK(j.at("transformers").at(0).at("tap_side") == "lv");
    CHECK(j.at("shunts").at(0).at("switched") == true);
    CHECK(j.at("shunts").at(0).at("vn_kv") == 0.4);
    CHECK(j.at("lines").at(0).at("max_i_ka").is_null());  // +inf
    CHECK(j.at("gens").at(0).at("min_q_mvar").is_null());  // -inf
    CHECK(j.at("gens").at(0).at("slack") == true);         // its bus is the slack
    CHECK(j.at("gens").at(1).at("slack") == false);
}

TEST_CASE("case_json: the writer refuses values JSON cannot hold") {
    Network net = read_case_json(data_path("cigre/cigre_lv.input.json"));
    net.lines[3].r_ohm_per_km = kNaN;
    const std::string msg = error_of<ValidationError>([&] { (void)to_case_json(net); });
    CHECK(msg.find("lines[id=3]: field 'r_ohm_per_km'") != std::string::npos);
    net.lines[3].r_ohm_per_km = 0.1;
    net.gens.push_back(Gen{});
    net.gens.back().bus = 0;
    net.gens.back().min_p_mw = -kInf;  // default is 0: null would read back as 0
    const std::string msg2 = error_of<ValidationError>([&] { (void)to_case_json(net); });
    CHECK(msg2.find("gens[id=0]: field 'min_p_mw'") != std::string::npos);
}

TEST_CASE("case_json: mapping rules on a small case") {
    SUBCASE("bus voltage band defaults depend on vn_kv; explicit values win") {
        json j = mini_case();
        Network n = parse_mini(j);
        CHECK(by_id(n.buses, 1).vmin_pu == 0.94);
        CHECK(by_id(n.buses, 1).vmax_pu == 1.05);
        CHECK(by_id(n.buses, 2).vmin_pu == 0.90);
        CHECK(by_id(n.buses, 2).vmax_pu == 1.10);
        element(j, "buses", 2)["vmin_pu"] = 0.95;
        element(j, "buses", 2)["vmax_pu"] = 1.05;
        n = parse_mini(j);
        CHECK(by_id(n.buses, 2).vmin_pu == 0.95);
        CHECK(by_id(n.buses, 2).vmax_pu == 1.05);
    }
    SUBCASE("null tap_pos runs at the neutral tap; null tap_side is None") {
        json j = mini_case();
        json& t = element(j, "transformers", 4);
        t["tap_pos"] = nullptr;
        t["tap_neutral"] = 2.0;
        t["tap_max"] = 3;
        Network n = parse_mini(j);
        CHECK(n.transformers[0].tap_pos == 2);
        CHECK(n.transformers[0].tap_side == TapSide::HV);
        t["tap_side"] = nullptr;
        n = parse_mini(j);
        CHECK(n.transformers[0].tap_pos == 2);
        CHECK(n.transformers[0].tap_side == TapSide::None);
    }
    SUBCASE("a slack gen makes its bus the slack only where no ext_grid sits") {
        json j = mini_case();
        j["gens"] = json::parse(R"([{"id": 7, "bus": 1, "p_mw": 0.1, "vm_pu": 1.01, "slack": true,
                                     "min_q_mvar": null, "max_q_mvar": null}])");
        Network n = parse_mini(j);
        CHECK(by_id(n.buses, 1).type == BusType::Slack);
        CHECK(by_id(n.buses, 2).type == BusType::PQ);
        CHECK(n.gens.size() == 1);
        CHECK(n.ext_grids.size() == 1);  // nothing added
        CHECK(n.gens[0].min_q_mvar == -kInf);
        CHECK(n.gens[0].max_q_mvar == kInf);
        CHECK(n.gens[0].vm_pu == 1.01);
        element(j, "ext_grids", 0)["bus"] = 1;  // now an ext_grid is on the gen's bus
        n = parse_mini(j);
        CHECK(by_id(n.buses, 1).type == BusType::PQ);
        element(j, "ext_grids", 0)["bus"] = 2;
        element(j, "gens", 7)["in_service"] = false;  // an out-of-service gen is ignored
        n = parse_mini(j);
        CHECK(by_id(n.buses, 1).type == BusType::PQ);
        element(j, "gens", 7)["in_service"] = true;
        element(j, "gens", 7)["slack"] = false;
        n = parse_mini(j);
        CHECK(by_id(n.buses, 1).type == BusType::PQ);
    }
    SUBCASE("gen scaling is folded into p_mw") {
        json j = mini_case();
        j["gens"] = json::parse(R"([{"id": 7, "bus": 1, "p_mw": 0.4, "vm_pu": 1.0, "scaling": 0.5}])");
        CHECK(parse_mini(j).gens[0].p_mw == 0.2);
    }
    SUBCASE("a shunt rated at another voltage than its bus is referred to the bus voltage") {
        json j = mini_case();
        j["shunts"] = json::parse(R"([{"id": 9, "bus": 2, "p_mw": 0.0, "q_mvar": -1.0, "vn_kv": 10.0}])");
        const Network n = parse_mini(j);
        CHECK(n.shunts[0].q_mvar == doctest::Approx(-1.21).epsilon(1e-14));
        element(j, "shunts", 9)["vn_kv"] = 11.0;
        CHECK(parse_mini(j).shunts[0].q_mvar == -1.0);
    }
    SUBCASE("numeric names become text, missing arrays are empty, null means the default") {
        json j = mini_case();
        element(j, "buses", 1)["name"] = 42;
        element(j, "lines", 3)["max_i_ka"] = nullptr;
        element(j, "lines", 3)["parallel"] = nullptr;
        const Network n = parse_mini(j);
        CHECK(by_id(n.buses, 1).name == "42");
        CHECK(n.lines[0].max_i_ka == kInf);
        CHECK(n.lines[0].parallel == 1);
        CHECK(n.loads.empty());
        CHECK(n.switches.empty());
        CHECK(n.trafo_model == TrafoModel::T);
    }
}

TEST_CASE("case_json: a JSON syntax error names the file and its line") {
    const std::string text = slurp(data_path("cigre/cigre_lv.input.json"));
    std::vector<std::string> lines;
    {
        std::istringstream ss(text);
        for (std::string line; std::getline(ss, line);) lines.push_back(line);
    }
    REQUIRE(lines.size() > 500);
    for (std::size_t n : {std::size_t{2}, std::size_t{17}, std::size_t{333}, lines.size() - 1}) {
        CAPTURE(n);
        std::vector<std::string> bad = lines;
        bad[n - 1] += " @";  // garbage at the end of line n
        std::string joined;
        for (const auto& l : bad) joined += l + "\n";
        try {
            (void)parse_case_json(joined, "cigre_lv.input.json");
            FAIL("no exception");
        } catch (const ParseError& e) {
            CHECK(e.line() == static_cast<long>(n));
            CHECK(e.file() == "cigre_lv.input.json");
            const std::string what = e.what();
            CHECK(what.find("cigre_lv.input.json:" + std::to_string(n) + ":") == 0);
        }
    }
    // a truncated file: the error is reported at the last line that has content
    const std::string truncated = text.substr(0, text.find("\"lines\""));  // ends in "],\n "
    const std::string content = truncated.substr(0, truncated.find_last_not_of(" \n") + 1);
    const long last_line = 1 + static_cast<long>(std::count(content.begin(), content.end(), '\n'));
    CHECK(last_line < 1 + static_cast<long>(std::count(truncated.begin(), truncated.end(), '\n')));
    try {
        (void)parse_case_json(truncated, "trunc.json");
        FAIL("no exception");
    } catch (const ParseError& e) {
        CHECK(e.line() == last_line);
    }
    // NaN as Python's json module writes it, and a number too large for a double
    const std::string nan_text = "{\n \"schema\": \"mg-case-json/1\",\n \"sn_mva\": NaN\n}\n";
    CHECK(error_of<ParseError>([&] { (void)parse_case_json(nan_text, "nan.json"); }).find("nan.json:3:") == 0);
    const std::string big_text = "{\n \"schema\": \"mg-case-json/1\",\n\n \"sn_mva\": 1e999\n}\n";
    CHECK(error_of<ParseError>([&] { (void)parse_case_json(big_text, "big.json"); }).find("big.json:4:") == 0);
}

TEST_CASE("case_json: wrong or missing schema, wrong top level") {
    json j = mini_case();
    j["schema"] = "mg-case-json/2";
    try {
        (void)parse_mini(j);
        FAIL("no exception");
    } catch (const ParseError& e) {
        CHECK(e.line() == 1);
        const std::string what = e.what();
        CHECK(what.find("mini.json:1:") == 0);
        CHECK(what.find("\"mg-case-json/1\"") != std::string::npos);
        CHECK(what.find("mg-case-json/2") != std::string::npos);
    }
    j.erase("schema");
    CHECK(error_of<ParseError>([&] { (void)parse_mini(j); }).find("mg-case-json/1") != std::string::npos);
    CHECK(error_of<ParseError>([&] { (void)parse_case_json("[1, 2]", "arr.json"); }).find("arr.json:1:") == 0);
    CHECK(error_of<ParseError>([&] { (void)read_case_json("/nonexistent/dir/none.json"); })
              .find("/nonexistent/dir/none.json:0: cannot open") == 0);
}

TEST_CASE("case_json: values out of their domain give ValidationError naming file, element and field") {
    // the example of the specification, on the real file
    {
        json j = load_json("cigre/cigre_lv.input.json");
        element(j, "lines", 3)["length_km"] = -1;
        const std::string msg = error_of<ValidationError>([&] { (void)parse_case_json(j.dump(1), "cigre_lv.input.json"); });
        CHECK(msg == "cigre_lv.input.json: lines[id=3]: field 'length_km': must be > 0, got -1");
    }
    struct Case {
        const char* array;
        long long id;
        const char* field;
        json value;
        const char* expect;
    };
    const std::vector<Case> cases = {
        {"lines", 3, "length_km", "abc", "lines[id=3]: field 'length_km': must be a number, got string \"abc\""},
        {"lines", 3, "length_km", 0.0, "lines[id=3]: field 'length_km': must be > 0, got 0"},
        {"lines", 3, "length_km", nullptr, "lines[id=3]: field 'length_km': is required"},
        {"lines", 3, "r_ohm_per_km", -0.1, "field 'r_ohm_per_km': must be >= 0, got -0.1"},
        {"lines", 3, "max_i_ka", 0.0, "field 'max_i_ka': must be > 0, got 0"},
        {"lines", 3, "parallel", 0, "field 'parallel': must be >= 1, got 0"},
        {"lines", 3, "parallel", 1.5, "field 'parallel': must be an integer, got 1.5"},
        {"lines", 3, "df", 1.5, "field 'df': must be in (0, 1], got 1.5"},
        {"lines", 3, "in_service", "yes", "field 'in_service': must be true or false, got string \"yes\""},
        {"lines", 3, "type", 5, "field 'type': must be a string or null, got number 5"},
        {"buses", 2, "vn_kv", -11.0, "buses[id=2]: field 'vn_kv': must be > 0, got -11"},
        {"buses", 2, "vn_kv", nullptr, "buses[id=2]: field 'vn_kv': is required"},
        {"buses", 2, "vmax_pu", 0.8, "buses[id=2]: field 'vmax_pu': must be >= vmin_pu (0.9), got 0.8"},
        {"transformers", 4, "sn_mva", 0.0, "transformers[id=4]: field 'sn_mva': must be > 0, got 0"},
        {"transformers", 4, "vk_percent", -4.0, "field 'vk_percent': must be > 0, got -4"},
        {"transformers", 4, "vkr_percent", -1.0, "field 'vkr_percent': must be >= 0, got -1"},
        {"transformers", 4, "vkr_percent", 5.0, "field 'vkr_percent': must be <= vk_percent (4), got 5"},
        {"transformers", 4, "tap_side", "mid", "field 'tap_side': must be \"hv\", \"lv\" or null, got string \"mid\""},
        {"transformers", 4, "tap_pos", 0.5, "field 'tap_pos': must be an integer, got 0.5"},
        {"transformers", 4, "tap_min", 3, "field 'tap_max': must be >= tap_min (3), got 2"},
        {"transformers", 4, "tap_changer_type", "Ideal", "field 'tap_changer_type': only \"Ratio\" or null"},
        {"transformers", 4, "parallel", -1, "field 'parallel': must be >= 1, got -1"},
        {"ext_grids", 0, "vm_pu", 0.0, "ext_grids[id=0]: field 'vm_pu': must be > 0, got 0"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.array);
        CAPTURE(c.field);
        CAPTURE(c.value.dump());
        json j = mini_case();
        element(j, c.array, c.id)[c.field] = c.value;
        const std::string msg = error_of<ValidationError>([&] { (void)parse_mini(j); });
        CHECK(msg.find("mini.json: ") == 0);
        CHECK(msg.find(c.expect) != std::string::npos);
    }
    // elements added to the mini case
    auto expect_error = [](json j, const char* expect) {
        CAPTURE(expect);
        const std::string msg = error_of<ValidationError>([&] { (void)parse_mini(j); });
        CHECK(msg.find(expect) != std::string::npos);
    };
    {
        json j = mini_case();
        j["loads"] = json::parse(R"([{"id": 5, "bus": 1, "p_mw": 0.1, "const_z_p_percent": 80, "const_i_p_percent": 30}])");
        expect_error(j, "loads[id=5]: field 'const_i_p_percent': must be <= 100 - const_z_p_percent (20), got 30");
    }
    {
        json j = mini_case();
        j["storage"] = json::parse(R"([{"id": 5, "bus": 1, "soc_percent": 150}])");
        expect_error(j, "storage[id=5]: field 'soc_percent': must be in [0, 100], got 150");
    }
    {
        json j = mini_case();
        j["switches"] = json::parse(R"([{"id": 5, "bus": 1, "element": 2, "et": "x"}])");
        expect_error(j, "switches[id=5]: field 'et': must be \"b\", \"l\" or \"t\", got string \"x\"");
        j["switches"][0]["et"] = "b";
        j["switches"][0]["z_ohm"] = 0.1;
        expect_error(j, "switches[id=5]: field 'z_ohm': switch impedance is not supported");
    }
    {
        json j = mini_case();
        j["gens"] = json::parse(R"([{"id": 5, "bus": 1, "min_q_mvar": 2, "max_q_mvar": 1}])");
        expect_error(j, "gens[id=5]: field 'max_q_mvar': must be >= min_q_mvar (2), got 1");
    }
    {
        json j = mini_case();
        j["lines"][0]["id"] = 3.5;
        expect_error(j, "lines[index 0]: field 'id': must be an integer, got 3.5");
    }
    {
        json j = mini_case();
        j["sn_mva"] = 0;
        expect_error(j, "mini.json: field 'sn_mva': must be > 0, got 0");
        j["sn_mva"] = 1;
        j["trafo_model"] = "x";
        expect_error(j, "mini.json: field 'trafo_model': must be \"t\", \"pi\" or null");
        j["trafo_model"] = "pi";
        j["lines"] = json::object();
        expect_error(j, "mini.json: field 'lines': must be an array, got an object");
    }
}

TEST_CASE("case_json: duplicate ids, duplicate keys and unknown references") {
    {
        json j = load_json("cigre/cigre_lv.input.json");
        j["lines"][5]["id"] = 3;  // lines[3] already has id 3
        const std::string msg = error_of<IdError>([&] { (void)parse_case_json(j.dump(1), "cigre_lv.input.json"); });
        CHECK(msg.find("cigre_lv.input.json: lines: duplicate id 3") == 0);
        CHECK(msg.find("index 3 and 5") != std::string::npos);
    }
    {
        json j = mini_case();
        j["buses"][1]["id"] = 1;
        CHECK(error_of<IdError>([&] { (void)parse_mini(j); }).find("buses: duplicate id 1") != std::string::npos);
    }
    {
        // duplicate key inside one element: the plain DOM would silently keep the last value
        std::string text = mini_case().dump(1);
        const std::string key = "\"length_km\": 0.1";
        const auto pos = text.find(key);
        REQUIRE(pos != std::string::npos);
        text.insert(pos, "\"length_km\": 5.0, ");
        const std::string msg = error_of<ValidationError>([&] { (void)parse_case_json(text, "dup.json"); });
        CHECK(msg == "dup.json: lines[id=3]: duplicate key 'length_km'");
    }
    {
        json j = mini_case();
        element(j, "lines", 3)["to_bus"] = 9999;
        CHECK(error_of<IdError>([&] { (void)parse_mini(j); }) ==
              "mini.json: lines[id=3]: field 'to_bus': unknown bus id 9999");
    }
    {
        json j = mini_case();
        element(j, "transformers", 4)["hv_bus"] = nullptr;
        CHECK(error_of<ValidationError>([&] { (void)parse_mini(j); }).find("field 'hv_bus': is required") !=
              std::string::npos);
    }
    {
        json j = mini_case();
        j["switches"] = json::parse(R"([{"id": 5, "bus": 1, "element": 77, "et": "l"}])");
        CHECK(error_of<IdError>([&] { (void)parse_mini(j); }).find("switches[id=5]: field 'element': unknown line id 77") !=
              std::string::npos);
    }
}

TEST_CASE("case_json: case2869pegase (2.7 MB) parses and writes") {
    // Speed: benches/bench_io.cpp (BM_CaseJsonParse2869pegase, BM_CaseJsonWrite2869pegase).
    const std::string text = slurp(data_path("cigre/case2869pegase.input.json"));
    const Network net = parse_case_json(text, "case2869pegase.input.json");
    const std::string out = to_case_json(net);
    CHECK(parse_case_json(out, "back.json") == net);
    CHECK(net.buses.size() == 2869);
    CHECK(net.lines.size() == 4051);
    CHECK(net.shunts.size() == 2197);
}
