// Hosting capacity in kW on a scenario: per-customer roof / Solar ATAP limits, non-domestic roofs,
// the critical window, and the limits (bands, tap, loading) as scenario keys that change the answer.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/scenario/hosting.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

using namespace libgrid;

namespace {

const std::string kScenarios = LIBGRID_SCENARIOS;

Scenario baseline() {
    Scenario s = load_scenario(kScenarios + "/melaka_baseline.yaml");
    override_key(s, "network.model", "balanced");  // issue 15: hosting on the balanced model (per phase: a later part)
    return s;
}

std::map<Id, HostingCapacityResult> by_group(const HostingStudyResult& r) {
    std::map<Id, HostingCapacityResult> m;
    for (const auto& g : r.groups) m[g.group] = g;
    return m;
}

}  // namespace

TEST_CASE("hosting study: kW per transformer from roofs and Solar ATAP caps; non-domestic roofs above the domestic cap") {
    const Scenario s = baseline();
    const HostingStudyResult r = hosting_capacity(s, HostingStudy{});
    const BuiltScenario b = build_scenario(s);
    REQUIRE(r.groups.size() >= 4);
    CHECK(r.window.rfind("critical", 0) == 0);
    // the critical window: midday of one day
    const CivilTime a = to_civil(r.start), e = to_civil(r.start + std::int64_t(r.n_steps) * r.step_s - 1);
    CHECK(a.day == e.day);
    CHECK(a.hour >= 10);
    CHECK(e.hour <= 15);
    CHECK(r.n_steps >= 12);
    std::map<Id, double> kva;
    for (const Transformer& t : b.net.transformers) kva[t.id] = t.sn_mva * 1000.0 * t.parallel;
    bool non_domestic_above_cap = false;
    for (const HostingCapacityResult& g : r.groups) {
        CHECK(g.rating_kva == kva.at(g.group));
        CHECK(g.hosting_kw <= g.max_kw + 1e-9);
        CHECK(g.hosting_kw >= g.installed_kw);
        CHECK(g.hosting_kw == doctest::Approx(g.installed_kw + g.added_kw));
        // the roof / connection limit: every customer's min(roof kW, ATAP cap)
        double cap = 0.0;
        bool all_non_domestic = true;
        for (const Customer& c : b.customers) {
            if (c.transformer != g.group || c.type == CustomerType::ChargingSite) continue;
            cap += std::min(c.roof_area_m2 * s.devices.pv.kwp_per_m2 / s.devices.pv.dc_ac_ratio, solar_atap_cap_kw(c));
            all_non_domestic = all_non_domestic && c.type != CustomerType::TerraceHouse && c.type != CustomerType::Shophouse;
        }
        CHECK(g.max_kw == doctest::Approx(std::max(cap, g.installed_kw)));
        if (g.limited) {
            CHECK(g.limit.element >= 0);
            CHECK(g.limit.time >= r.start);
            CHECK(g.hosting_kw < g.max_kw);
        } else {
            CHECK(g.limit_name(r.kind) == "roof_limit");
            CHECK(g.hosting_kw == doctest::Approx(g.max_kw));
        }
        // a mall / hotel / office building: far above the domestic 15 kW three-phase cap
        if (all_non_domestic && g.rating_kva >= 630.0) {
            non_domestic_above_cap = true;
            CHECK(g.hosting_kw > 15.0 * double(g.customers));
        }
    }
    CHECK(non_domestic_above_cap);  // the small grid has a mall, a hotel and an office transformer
    // without the ATAP caps, a mall's whole roof
    HostingStudy roofs;
    roofs.cap = "none";
    const auto r2 = by_group(hosting_capacity(s, roofs));
    bool bigger = false;
    for (const auto& g : r.groups) bigger = bigger || r2.at(g.group).max_kw > g.max_kw + 1.0;
    CHECK(bigger);
    for (const auto& g : r.groups)  // one building on its own transformer: its whole roof, or a grid limit above its ATAP cap
        if (g.customers == 1) CHECK(r2.at(g.group).hosting_kw >= g.hosting_kw - g.tolerance_kw);
    // a uniform kW per customer (the old "every customer 5 kW" question)
    HostingStudy five;
    five.kw_per_customer = 5.0;
    for (const auto& g : hosting_capacity(s, five).groups) CHECK(g.max_kw <= 5.0 * double(g.customers) + g.installed_kw + 1e-9);
}

TEST_CASE("hosting study: the voltage band, the distribution tap and the loading limit are scenario keys that change the answer") {
    const Scenario s = baseline();
    const auto base = by_group(hosting_capacity(s, HostingStudy{}));
    Id vg = -1;  // a transformer limited by voltage rise
    for (const auto& [id, g] : base)
        if (g.limited && g.limit.kind == "voltage_high" && vg < 0) vg = id;
    REQUIRE(vg >= 0);
    CHECK(base.at(vg).limit.value > 1.05);
    CHECK(base.at(vg).limit.value < 1.06);

    Scenario wide = s;
    override_key(wide, "network.lv_vmax_pu", "1.10");  // +10 % at LV
    const auto w = by_group(hosting_capacity(wide, HostingStudy{}));
    CHECK(w.at(vg).hosting_kw > base.at(vg).hosting_kw + 1.0);
    if (w.at(vg).limited && w.at(vg).limit.kind == "voltage_high") CHECK(w.at(vg).limit.value > 1.10);

    Scenario tap0 = s;
    override_key(tap0, "network.distribution_tap_pos", "0");  // fewer HV turns than at +2: a higher LV voltage
    const auto t0 = by_group(hosting_capacity(tap0, HostingStudy{}));
    CHECK(t0.at(vg).hosting_kw < base.at(vg).hosting_kw - 1.0);

    Scenario tight = s;
    override_key(tight, "limits.loading_percent", "10");
    const auto l = by_group(hosting_capacity(tight, HostingStudy{}));
    bool overload = false;
    for (const auto& [id, g] : l) overload = overload || g.limit.kind == "trafo_overload" || g.limit.kind == "line_overload";
    CHECK(overload);

    // the generated network carries the bands and the tap
    const BuiltScenario b = build_scenario(wide);
    bool lv = false;
    for (const Bus& bus : b.net.buses)
        if (bus.vn_kv < 1.0) {
            lv = true;
            CHECK(bus.vmax_pu == 1.10);
            CHECK(bus.vmin_pu == 0.94);
        }
    CHECK(lv);
    const BuiltScenario bt = build_scenario(tap0);
    for (const Transformer& t : bt.net.transformers)
        if (!t.oltc) CHECK(t.tap_pos == 0);
}

TEST_CASE("hosting study: the new keys are written only when not the defaults, and checked") {
    Scenario s = baseline();
    CHECK(scenario_to_yaml(s).find("lv_vmax_pu") == std::string::npos);
    CHECK(scenario_to_yaml(s).find("limits") == std::string::npos);
    override_key(s, "network.lv_vmax_pu", "1.1");
    override_key(s, "limits.loading_percent", "90");
    override_key(s, "limits.reverse_flow", "true");
    const std::string y = scenario_to_yaml(s);
    CHECK(y.find("lv_vmax_pu: 1.1") != std::string::npos);
    const Scenario back = parse_scenario(y);
    CHECK(back.same_settings(s));
    CHECK(back.limits.loading_percent == 90.0);
    CHECK(back.limits.reverse_flow);
    CHECK(build_scenario(back).options.loading_limit_percent == 90.0);
    CHECK_THROWS_WITH_AS(override_key(s, "network.lv_vmax_pu", "0.9"), doctest::Contains("network.lv_vmax_pu"), ValidationError);
    CHECK_THROWS_WITH_AS(override_key(s, "network.distribution_tap_pos", "3"), doctest::Contains("distribution_tap_pos"), ValidationError);
    CHECK_THROWS_WITH_AS(override_key(s, "limits.loading_percent", "0"), doctest::Contains("limits.loading_percent"), ValidationError);
    HostingStudy bad;
    bad.window = "noon";
    CHECK_THROWS_WITH_AS(hosting_capacity(s, bad), doctest::Contains("window"), ValidationError);
}

TEST_CASE("hosting study: EV chargers in kW, one per customer without one, on the first weekday evening") {
    Scenario s = baseline();
    HostingStudy ev;
    ev.kind = "ev";
    ev.group = "feeder";
    const HostingStudyResult r = hosting_capacity(s, ev);
    CHECK(r.window.find("weekday") != std::string::npos);
    CHECK(to_civil(r.start).hour == 16);
    CHECK(day_type(r.start) == DayType::Weekday);
    for (const auto& g : r.groups) {
        CHECK(g.tolerance_kw == 7.0);
        CHECK(g.added_kw == doctest::Approx(7.0 * double(g.hosted)));
        CHECK(g.rating_kva > 0);
        if (!g.limited) CHECK(g.limit_name(r.kind) == "connection_limit");
    }
    // home chargers only at devices.ev.types (terrace houses): a building on its own transformer gets none
    ev.group = "transformer";
    bool building = false;
    for (const auto& g : hosting_capacity(s, ev).groups)
        if (g.customers == 1) {
            building = true;
            CHECK(g.max_kw == g.installed_kw);
            CHECK(g.added_kw == 0.0);
        }
    CHECK(building);
    std::istringstream csv(hosting_csv(r));
    std::string header;
    std::getline(csv, header);
    CHECK(header == "group,group_kind,customers,rating_kva,installed_kw,max_kw,added_kw,hosting_kw,share,tolerance_kw,hosted,limited,"
                    "violated_without,limit,limit_time,limit_element,limit_value,runs,limit_phase,added_kw_a,added_kw_b,added_kw_c");
}
