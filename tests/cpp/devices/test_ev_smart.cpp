// EV smart charging at the station: spread (valley filling to departure), random start delays of
// delayed_off_peak, grid_aware's floors under a limit, the session outcomes.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/devices/ev.hpp>
#include <libgrid/profiles/calendar.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace libgrid;

namespace {

const std::int64_t kMon = from_civil(2025, 6, 2);  // a Monday, local
constexpr double kDtH = 0.25;

bool peak_at(std::int64_t t) {  // TNB ToU peak: 14:00-22:00 Monday to Friday
    const std::int64_t day = (t - kMon) / 86400, hr = ((t - kMon) % 86400) / 3600;
    return day % 7 < 5 && hr >= 14 && hr < 22;
}

/// Steps the station over [t0, t1); returns the per-step net power, kW.
std::vector<double> run(EvStation& st, std::int64_t t0, std::int64_t t1) {
    st.prepare(900.0);
    std::vector<double> p;
    for (std::int64_t t = t0; t < t1; t += 900) {
        EvStepInput in;
        in.t = t;
        in.is_peak = peak_at(t);
        p.push_back(st.step(in, kDtH));
    }
    return p;
}

EvSession car(std::int64_t arrival, double hours, double kwh) {
    EvSession s;
    s.arrival = arrival;
    s.departure = arrival + std::int64_t(hours * 3600);
    s.energy_kwh = kwh;
    s.max_kw = 7.0;
    s.battery_kwh = 60.0;
    s.soc_arrival = 0.2;
    return s;
}

}  // namespace

TEST_CASE("ev spread: a car's energy at one constant power over its dwell, all delivered by departure") {
    EvStation st;
    st.params.strategy = EvStrategy::Spread;
    st.params.efficiency = 0.9;
    st.sessions = {car(kMon + 18 * 3600, 12.0, 18.0)};  // 18:00 -> 06:00
    const std::vector<double> p = run(st, kMon, kMon + 2 * 86400);
    const double expect_kw = 18.0 / 0.9 / 12.0;  // 1.667 kW, far below the 7 kW charger
    for (std::size_t k = 0; k < p.size(); ++k) {
        const std::int64_t t = kMon + std::int64_t(k) * 900;
        if (t >= kMon + 18 * 3600 && t < kMon + 30 * 3600) CHECK(-p[k] == doctest::Approx(expect_kw).epsilon(1e-9));
        else CHECK(p[k] == 0.0);
    }
    CHECK(st.records[0].delivered_kwh == doctest::Approx(18.0).epsilon(1e-12));
    CHECK(outcome(st.records[0]) == EvOutcome::Served);
}

TEST_CASE("ev delayed_off_peak: random start delays spread the 22:00 step, still meet departures, same every run") {
    const std::int64_t t0 = kMon, t1 = kMon + 7 * 86400;
    auto station = [&](double delay_h) {
        EvStation st;
        st.params.id = 5;
        st.params.n_chargers = 60;
        st.params.strategy = EvStrategy::DelayedOffPeak;
        st.params.start_delay_max_s = delay_h * 3600.0;
        st.params.delay_seed = 42;
        st.sessions = generate_sessions(ChargerKind::Home, 7.0, t0, t1, 3, 5, 50.0);
        return st;
    };
    EvStation a = station(0.0), b = station(4.0), c = station(4.0);
    const auto pa = run(a, t0, t1), pb = run(b, t0, t1), pc = run(c, t0, t1);
    CHECK(pb == pc);  // seeded: the same delays every run
    const double peak_a = -*std::min_element(pa.begin(), pa.end()), peak_b = -*std::min_element(pb.begin(), pb.end());
    CHECK(peak_b < 0.7 * peak_a);  // not every car at full power at 22:00
    for (const EvStation* st : {&a, &b}) {
        const EvKpi k = st->kpi();
        CHECK(k.delivered_kwh > 0.0);
        for (std::size_t i = 0; i < st->sessions.size(); ++i) {
            const EvSession& s = st->sessions[i];
            const bool feasible = s.energy_kwh / 0.92 <= 7.0 * double(s.departure - s.arrival) / 3600.0 - 0.25 * 7.0;
            if (st->records[i].status == EvSessionStatus::Finished && feasible) CHECK(st->records[i].unmet_kwh <= 1e-6);
        }
    }
    // the delays act after the peak: the energy drawn in the peak stays as small as without them
    double peak_kwh_a = 0.0, peak_kwh_b = 0.0, all_kwh_a = 0.0;
    for (std::size_t k = 0; k < pb.size(); ++k) {
        all_kwh_a -= pa[k] * kDtH;
        if (peak_at(t0 + std::int64_t(k) * 900)) {
            peak_kwh_a -= pa[k] * kDtH;
            peak_kwh_b -= pb[k] * kDtH;
        }
    }
    CHECK(peak_kwh_a < 0.05 * all_kwh_a);
    CHECK(peak_kwh_b <= peak_kwh_a * 1.05 + 1.0);
}

TEST_CASE("ev grid_aware at a station: floors first, most urgent first, under its limit") {
    EvStation st;
    st.params.n_chargers = 3;
    st.params.charger_kw = 7.0;
    st.params.strategy = EvStrategy::GridAware;
    st.params.connection_limit_kw = 8.0;
    st.params.efficiency = 1.0;
    // car 0 must charge at full rate the whole time (its floor is 7 kW); cars 1 and 2 are flexible
    st.sessions = {car(kMon, 2.0, 14.0), car(kMon, 10.0, 10.0), car(kMon, 6.0, 10.0)};
    st.prepare(900.0);
    EvStepInput in;
    in.t = kMon;
    const double p = st.step(in, kDtH);
    CHECK(-p == doctest::Approx(8.0));
    CHECK(st.records[0].grid_in_kwh == doctest::Approx(7.0 * kDtH));  // its floor, first
    CHECK(st.records[2].grid_in_kwh == doctest::Approx(1.0 * kDtH));  // then the earlier departure
    CHECK(st.records[1].grid_in_kwh == 0.0);
    EvStation bad = st;
    bad.params.grid_order = EvStrategy::PowerLimitedRoundRobin;
    CHECK_THROWS_WITH_AS(bad.prepare(900.0), doctest::Contains("grid_order"), ValidationError);
}

TEST_CASE("ev outcomes: served, partly served, blocked, pending") {
    EvSessionRecord r;
    r.status = EvSessionStatus::Finished;
    CHECK(outcome(r) == EvOutcome::Served);
    r.unmet_kwh = 0.5;
    CHECK(outcome(r) == EvOutcome::PartlyServed);
    r.status = EvSessionStatus::Blocked;
    CHECK(outcome(r) == EvOutcome::Blocked);
    r.status = EvSessionStatus::Active;
    CHECK(outcome(r) == EvOutcome::Pending);
    CHECK(to_string(EvOutcome::PartlyServed) == "partly_served");
    CHECK(parse_ev_strategy("spread") == EvStrategy::Spread);
    CHECK(parse_ev_strategy("grid_aware") == EvStrategy::GridAware);
    CHECK(shares_a_limit(EvStrategy::PowerLimitedEDF));
    CHECK(!shares_a_limit(EvStrategy::GridAware));
}
