// libgrid devices: EV sessions, generators, charging station, charging site. See ev.hpp and
// docs/devices_ev_building.md (equations and the stated assumptions behind every figure here).
#include <libgrid/devices/ev.hpp>
#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace libgrid {

namespace {

// ---- errors ------------------------------------------------------------------------------------

std::string num(double x) {
    std::ostringstream os;
    os.precision(10);
    os << x;
    return os.str();
}

[[noreturn]] void fail(const std::string& who, const std::string& field, const std::string& msg) {
    throw ValidationError(who + ": field '" + field + "': " + msg);
}

void require_positive(const std::string& who, const char* field, double x) {
    if (!(x > 0.0) || !std::isfinite(x)) fail(who, field, "must be > 0 and finite (got " + num(x) + ")");
}
void require_nonneg(const std::string& who, const char* field, double x, bool allow_inf = false) {
    if (std::isnan(x) || x < 0.0 || (!allow_inf && std::isinf(x)))
        fail(who, field, std::string("must be >= 0") + (allow_inf ? "" : " and finite") + " (got " + num(x) + ")");
}
void require_unit(const std::string& who, const char* field, double x) {
    if (!(x >= 0.0 && x <= 1.0)) fail(who, field, "must be in [0, 1] (got " + num(x) + ")");
}

// ---- deterministic random numbers: xoshiro256** seeded by splitmix64 ---------------------------

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// xoshiro256** (Blackman & Vigna, 2018) with its own uniform / normal / log-normal / Poisson; no std
/// distributions, so the numbers do not depend on the standard library. normal(), lognormal() and
/// poisson() call std::log / std::exp / std::sqrt: bit-identical for the same libm (glibc), not promised
/// across libms. (profiles/rng.hpp, written in parallel, is the project-wide generator; this one is kept
/// private to the EV generators so that their sessions do not move when that one changes.)
class SessionRng {
public:
    SessionRng(std::uint64_t seed, std::uint64_t stream) {
        std::uint64_t x = seed;
        std::uint64_t a = splitmix64(x);
        x = a ^ (stream * 0xD1B54A32D192ED03ull);
        for (auto& w : s_) w = splitmix64(x);
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform on the open interval (0, 1).
    double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
    double uniform(double a, double b) { return a + (b - a) * uniform(); }
    /// Standard normal, Marsaglia's polar method (one of the pair is discarded: simpler state).
    double normal() {
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        return u * std::sqrt(-2.0 * std::log(s) / s);
    }
    /// Normal(mu, sd) truncated to [lo, hi] by rejection (clamped after 64 tries).
    double truncated_normal(double mu, double sd, double lo, double hi) {
        for (int k = 0; k < 64; ++k) {
            const double x = mu + sd * normal();
            if (x >= lo && x <= hi) return x;
        }
        return std::clamp(mu, lo, hi);
    }
    /// Log-normal with the given median and log-standard deviation.
    double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
    /// Poisson(lambda): Knuth's product method below 500, a rounded normal above.
    int poisson(double lambda) {
        if (!(lambda > 0.0)) return 0;
        if (lambda < 500.0) {
            const double L = std::exp(-lambda);
            int k = 0;
            double p = 1.0;
            do {
                ++k;
                p *= uniform();
            } while (p > L);
            return k - 1;
        }
        return static_cast<int>(std::max(0.0, std::round(lambda + std::sqrt(lambda) * normal())));
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

// ---- the vehicle fleet (assumption, docs/devices_ev_building.md section 1.2) --------------------

struct Vehicle {
    double battery_kwh;  ///< usable capacity
    double ac_kw;        ///< on-board charger limit
    double dc_kw;        ///< DC fast-charging limit
    double kwh_per_km;   ///< consumption at the plug
};
constexpr Vehicle kFleet[3] = {
    {44.9, 7.0, 60.0, 0.15},   // compact hatchback (BYD Dolphin-like)
    {60.5, 7.0, 88.0, 0.16},   // compact crossover (BYD Atto 3-like)
    {75.0, 11.0, 150.0, 0.17}  // premium crossover (Tesla Model Y LR-like)
};
constexpr double kFleetShare[3] = {0.35, 0.40, 0.25};

const Vehicle& pick_vehicle(SessionRng& rng) {
    const double u = rng.uniform();
    if (u < kFleetShare[0]) return kFleet[0];
    if (u < kFleetShare[0] + kFleetShare[1]) return kFleet[1];
    return kFleet[2];
}

constexpr std::int64_t kDay = 86400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

/// Monday..Friday? (1970-01-01, day 0, was a Thursday.)
bool is_weekday(std::int64_t day) {
    const std::int64_t dow = ((day % 7) + 7 + 4) % 7;  // 0 = Sunday
    return dow >= 1 && dow <= 5;
}

std::int64_t at_hour(std::int64_t day, double hour) {
    return day * kDay + static_cast<std::int64_t>(std::llround(hour * 3600.0));
}

/// Energy wanted when a car tops up what it drove, and the state of charge that implies.
void fill_from_driving(EvSession& s, const Vehicle& v, double km, SessionRng& rng) {
    const double target_soc = rng.uniform(0.8, 1.0);
    const double e = std::min(km * v.kwh_per_km, v.battery_kwh * (target_soc - 0.1));
    s.energy_kwh = e;
    s.soc_arrival = target_soc - e / v.battery_kwh;
}

// Reference efficiency the DC generator sizes dwell times with (a station may be more efficient).
constexpr double kDcEtaRef = 0.90;

}  // namespace

// ------------------------------------------------------------------------------------------------

std::string to_string(ChargerKind k) {
    switch (k) {
        case ChargerKind::Home: return "home";
        case ChargerKind::Workplace: return "workplace";
        case ChargerKind::PublicAC: return "public_ac";
        case ChargerKind::DCFast: return "dc_fast";
    }
    return "?";
}

ChargerKind parse_charger_kind(const std::string& s) {
    if (s == "home") return ChargerKind::Home;
    if (s == "workplace") return ChargerKind::Workplace;
    if (s == "public_ac") return ChargerKind::PublicAC;
    if (s == "dc_fast") return ChargerKind::DCFast;
    throw ValidationError("charger kind: unknown '" + s + "' (expected home, workplace, public_ac, dc_fast)");
}

std::string to_string(EvStrategy s) {
    switch (s) {
        case EvStrategy::Uncontrolled: return "uncontrolled";
        case EvStrategy::DelayedOffPeak: return "delayed_off_peak";
        case EvStrategy::PvFollowing: return "pv_following";
        case EvStrategy::PowerLimitedEDF: return "edf";
        case EvStrategy::PowerLimitedLLF: return "llf";
        case EvStrategy::PowerLimitedRoundRobin: return "round_robin";
        case EvStrategy::Spread: return "spread";
        case EvStrategy::GridAware: return "grid_aware";
    }
    return "?";
}

bool shares_a_limit(EvStrategy s) {
    return s == EvStrategy::PowerLimitedEDF || s == EvStrategy::PowerLimitedLLF || s == EvStrategy::PowerLimitedRoundRobin;
}

std::string to_string(EvOutcome o) {
    switch (o) {
        case EvOutcome::Served: return "served";
        case EvOutcome::PartlyServed: return "partly_served";
        case EvOutcome::Blocked: return "blocked";
        case EvOutcome::Pending: return "pending";
        case EvOutcome::NotArrived: return "not_arrived";
    }
    return "?";
}

EvOutcome outcome(const EvSessionRecord& r) {
    switch (r.status) {
        case EvSessionStatus::Finished: return r.unmet_kwh > 1e-6 ? EvOutcome::PartlyServed : EvOutcome::Served;
        case EvSessionStatus::Blocked: return EvOutcome::Blocked;
        case EvSessionStatus::Active: return EvOutcome::Pending;
        default: return EvOutcome::NotArrived;
    }
}

EvStrategy parse_ev_strategy(const std::string& s) {
    if (s == "uncontrolled") return EvStrategy::Uncontrolled;
    if (s == "delayed_off_peak") return EvStrategy::DelayedOffPeak;
    if (s == "pv_following") return EvStrategy::PvFollowing;
    if (s == "edf") return EvStrategy::PowerLimitedEDF;
    if (s == "llf") return EvStrategy::PowerLimitedLLF;
    if (s == "round_robin") return EvStrategy::PowerLimitedRoundRobin;
    if (s == "spread") return EvStrategy::Spread;
    if (s == "grid_aware") return EvStrategy::GridAware;
    throw ValidationError("EV strategy: unknown '" + s +
                          "' (expected uncontrolled, delayed_off_peak, pv_following, edf, llf, round_robin, spread, grid_aware)");
}

// ------------------------------------------------------------------------------------------------
// Generators
// ------------------------------------------------------------------------------------------------

namespace {

void check_generator_args(const std::string& who, ChargerKind kind, double charger_kw, std::int64_t start,
                          std::int64_t end, double sessions_per_day) {
    require_positive(who, "charger_kw", charger_kw);
    switch (kind) {
        case ChargerKind::Home:
            if (charger_kw > 22.0) fail(who, "charger_kw", "a home charger is at most 22 kW (got " + num(charger_kw) + ")");
            break;
        case ChargerKind::Workplace:
        case ChargerKind::PublicAC:
            if (charger_kw > 43.0) fail(who, "charger_kw", "an AC charger is at most 43 kW (got " + num(charger_kw) + ")");
            break;
        case ChargerKind::DCFast:
            if (charger_kw < 20.0 || charger_kw > 400.0)
                fail(who, "charger_kw", "a DC fast charger is 20..400 kW (got " + num(charger_kw) + ")");
            break;
        default: fail(who, "kind", "unknown charger kind");
    }
    if (!(end > start)) fail(who, "end", "must be after start (" + std::to_string(start) + ")");
    require_nonneg(who, "sessions_per_day", sessions_per_day);
}

/// Weekly-mean-preserving day factors: (5 * weekday + 2 * weekend) / 7 = 1.
struct DayFactors {
    double weekday = 1.0;
    double weekend = 1.0;
};

DayFactors day_factors(ChargerKind kind) {
    switch (kind) {
        case ChargerKind::Home: return {1.0, 1.0};
        case ChargerKind::Workplace: return {1.36, 0.10};
        case ChargerKind::PublicAC: return {0.92, 1.20};
        case ChargerKind::DCFast: return {0.88, 1.30};
    }
    return {};
}

/// Sessions arriving on one day: home chargers round lambda stochastically, the others draw Poisson.
int sessions_on_day(ChargerKind kind, double lambda, SessionRng& rng) {
    if (kind == ChargerKind::Home) {
        const double whole = std::floor(lambda);
        return static_cast<int>(whole) + (rng.uniform() < lambda - whole ? 1 : 0);
    }
    return rng.poisson(lambda);
}

void draw_home(EvSession& s, const Vehicle& v, std::int64_t day, bool wd, double sessions_per_day, SessionRng& rng) {
    const double h_arr = wd ? rng.truncated_normal(18.75, 1.5, 15.0, 23.75)
                            : rng.truncated_normal(17.0, 3.0, 9.0, 23.75);
    const double h_dep = is_weekday(day + 1) ? rng.truncated_normal(7.5, 0.75, 5.5, 10.0)
                                             : rng.truncated_normal(9.5, 1.5, 6.0, 14.0);
    s.arrival = at_hour(day, h_arr);
    s.departure = at_hour(day + 1, h_dep);
    s.max_kw = v.ac_kw;
    // one session covers 1/sessions_per_day days of driving when cars plug in less than daily
    const double days = sessions_per_day < 1.0 && sessions_per_day > 0.0 ? 1.0 / sessions_per_day : 1.0;
    fill_from_driving(s, v, std::clamp(rng.lognormal(50.0, 0.5), 5.0, 300.0) * std::min(days, 4.0), rng);
}

void draw_workplace(EvSession& s, const Vehicle& v, std::int64_t day, SessionRng& rng) {
    const double h_arr = rng.truncated_normal(8.5, 0.75, 6.5, 11.0);
    const double dwell = rng.truncated_normal(8.75, 1.0, 3.0, 11.0);
    s.arrival = at_hour(day, h_arr);
    s.departure = at_hour(day, h_arr + dwell);
    s.max_kw = v.ac_kw;
    fill_from_driving(s, v, std::clamp(rng.lognormal(45.0, 0.5), 5.0, 300.0), rng);
}

void draw_public_ac(EvSession& s, const Vehicle& v, std::int64_t day, SessionRng& rng) {
    const double h_arr = rng.uniform() < 0.45 ? rng.truncated_normal(13.0, 2.0, 9.0, 22.5)
                                              : rng.truncated_normal(19.5, 1.5, 9.0, 22.5);
    const double dwell = std::clamp(rng.lognormal(1.75, 0.5), 1.0 / 3.0, 6.0);
    s.arrival = at_hour(day, h_arr);
    s.departure = at_hour(day, h_arr + dwell);
    s.max_kw = v.ac_kw;
    s.soc_arrival = rng.uniform(0.2, 0.6);
    const double target = rng.uniform(0.8, 1.0);
    s.energy_kwh = std::min(v.battery_kwh * (target - s.soc_arrival), rng.lognormal(15.0, 0.6));
}

void draw_dc_fast(EvSession& s, const Vehicle& v, std::int64_t day, double charger_kw, SessionRng& rng) {
    const double h_arr = rng.uniform() < 0.5 ? rng.truncated_normal(11.5, 2.5, 6.0, 23.5)
                                             : rng.truncated_normal(17.5, 2.5, 6.0, 23.5);
    s.soc_arrival = rng.uniform(0.1, 0.4);
    const double target = rng.uniform(0.75, 0.85);
    s.energy_kwh = v.battery_kwh * (target - s.soc_arrival);
    s.max_kw = v.dc_kw;
    const double rate = std::min(charger_kw, v.dc_kw);
    const double overhead_h = rng.truncated_normal(10.0, 4.0, 3.0, 25.0) / 60.0;
    s.arrival = at_hour(day, h_arr);
    s.departure = at_hour(day, h_arr + s.energy_kwh / (kDcEtaRef * rate) + overhead_h);
}

/// One session of a day: the vehicle, then the kind's arrival, departure and energy (draws in this order).
EvSession draw_session(ChargerKind kind, double charger_kw, std::int64_t day, bool wd, double sessions_per_day,
                       SessionRng& rng) {
    const Vehicle& v = pick_vehicle(rng);
    EvSession s;
    s.battery_kwh = v.battery_kwh;
    switch (kind) {
        case ChargerKind::Home: draw_home(s, v, day, wd, sessions_per_day, rng); break;
        case ChargerKind::Workplace: draw_workplace(s, v, day, rng); break;
        case ChargerKind::PublicAC: draw_public_ac(s, v, day, rng); break;
        case ChargerKind::DCFast: draw_dc_fast(s, v, day, charger_kw, rng); break;
    }
    if (s.departure <= s.arrival) s.departure = s.arrival + 60;
    return s;
}

}  // namespace

std::vector<EvSession> generate_sessions(ChargerKind kind, double charger_kw, std::int64_t start,
                                         std::int64_t end, std::uint64_t seed, std::uint64_t station_id,
                                         double sessions_per_day) {
    const std::string who = "generate_sessions(" + to_string(kind) + ", station " + std::to_string(station_id) + ")";
    check_generator_args(who, kind, charger_kw, start, end, sessions_per_day);
    const DayFactors f = day_factors(kind);

    // One stream per (seed, kind, station) and day: a day's sessions do not depend on the window.
    std::uint64_t mix = seed;
    const std::uint64_t station_seed =
        splitmix64(mix) ^ (station_id * 0x9E3779B97F4A7C15ull) ^ (static_cast<std::uint64_t>(kind) + 1) * 0xA24BAED4963EE407ull;

    std::vector<EvSession> out;
    const std::int64_t day0 = floor_div(start, kDay) - 1;  // previous evening's arrivals are filtered out
    const std::int64_t day1 = floor_div(end - 1, kDay);
    for (std::int64_t day = day0; day <= day1; ++day) {
        SessionRng rng(station_seed, static_cast<std::uint64_t>(day));
        const bool wd = is_weekday(day);
        const int n = sessions_on_day(kind, sessions_per_day * (wd ? f.weekday : f.weekend), rng);
        for (int k = 0; k < n; ++k) {
            const EvSession s = draw_session(kind, charger_kw, day, wd, sessions_per_day, rng);
            if (s.arrival >= start && s.arrival < end) out.push_back(s);
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const EvSession& a, const EvSession& b) { return a.arrival < b.arrival; });
    return out;
}

// ------------------------------------------------------------------------------------------------
// Station
// ------------------------------------------------------------------------------------------------

namespace {

/// Spread `amount` over n items with headroom h[k] >= 0, as equal shares as the headrooms allow
/// (max-min fair "water-filling"); adds to out[k]. order is scratch of length n. Returns what was given.
double waterfill(double amount, const double* h, double* out, int* order, int n) {
    if (n <= 0 || !(amount > 0.0)) return 0.0;
    for (int k = 0; k < n; ++k) order[k] = k;
    std::sort(order, order + n, [h](int a, int b) { return h[a] < h[b] || (h[a] == h[b] && a < b); });
    double left = amount;
    int m = n;
    for (int r = 0; r < n; ++r) {
        const int k = order[r];
        const double g = std::max(0.0, std::min(h[k], left / m));
        out[k] += g;
        left -= g;
        --m;
    }
    return amount - std::max(0.0, left);
}

/// Give `amount` to items in the order given (each up to its headroom h[k]); adds to out[k].
double greedy(double amount, const double* h, double* out, const int* order, int n) {
    double left = amount;
    for (int r = 0; r < n && left > 0.0; ++r) {
        const int k = order[r];
        const double g = std::min(h[k], left);
        out[k] += g;
        left -= g;
    }
    return amount - std::max(0.0, left);
}

}  // namespace

double ev_waterfill(double amount, const double* h, double* out, int* order, int n) { return waterfill(amount, h, out, order, n); }
double ev_greedy(double amount, const double* h, double* out, const int* order, int n) { return greedy(amount, h, out, order, n); }

void EvStation::prepare(double max_dt_s) {
    const std::string who = "EvStation " + std::to_string(params.id);
    if (params.n_chargers < 1) fail(who, "n_chargers", "must be >= 1 (got " + std::to_string(params.n_chargers) + ")");
    require_positive(who, "charger_kw", params.charger_kw);
    require_nonneg(who, "connection_limit_kw", params.connection_limit_kw, /*allow_inf=*/true);
    if (!(params.efficiency > 0.0 && params.efficiency <= 1.0))
        fail(who, "efficiency", "must be in (0, 1] (got " + num(params.efficiency) + ")");
    require_unit(who, "v2g_min_soc", params.v2g_min_soc);
    require_nonneg(who, "v2g_reserve_h", params.v2g_reserve_h);
    if (static_cast<int>(params.strategy) < 0 || static_cast<int>(params.strategy) > 7)
        fail(who, "strategy", "unknown strategy");
    if (params.grid_order != EvStrategy::PowerLimitedEDF && params.grid_order != EvStrategy::PowerLimitedLLF)
        fail(who, "grid_order", "must be edf or llf (got " + to_string(params.grid_order) + ")");
    require_nonneg(who, "start_delay_max_s", params.start_delay_max_s);
    if (!(params.grid_limit > 0.0 && params.grid_limit <= 2.0))
        fail(who, "grid_limit", "must be in (0, 2] (a fraction of the transformer's rating; got " + num(params.grid_limit) + ")");
    if (!(max_dt_s >= 1.0) || !std::isfinite(max_dt_s)) fail(who, "max_dt_s", "must be >= 1 s and finite (got " + num(max_dt_s) + ")");

    for (std::size_t i = 0; i < sessions.size(); ++i) {
        const EvSession& s = sessions[i];
        const std::string ws = who + " session " + std::to_string(i);
        if (!(s.departure > s.arrival))
            fail(ws, "departure", "must be after arrival (" + std::to_string(s.arrival) + "; got " + std::to_string(s.departure) + ")");
        require_nonneg(ws, "energy_kwh", s.energy_kwh);
        require_positive(ws, "max_kw", s.max_kw);
        require_positive(ws, "battery_kwh", s.battery_kwh);
        require_unit(ws, "soc_arrival", s.soc_arrival);
        if (s.soc_arrival * s.battery_kwh + s.energy_kwh > s.battery_kwh * (1.0 + 1e-9))
            fail(ws, "energy_kwh", "soc_arrival * battery_kwh + energy_kwh exceeds battery_kwh (" + num(s.energy_kwh) + " kWh wanted)");
    }
    std::stable_sort(sessions.begin(), sessions.end(),
                     [](const EvSession& a, const EvSession& b) { return a.arrival < b.arrival; });
    records.assign(sessions.size(), EvSessionRecord{});

    // Bound on sessions plugged in during one step of at most dt: a session is active in [t, t+dt) only
    // if t lies in (arrival - dt, departure); the bound is the largest overlap of those open intervals.
    const std::int64_t dt = static_cast<std::int64_t>(std::ceil(max_dt_s));
    std::vector<std::int64_t> starts(sessions.size()), ends(sessions.size());
    for (std::size_t i = 0; i < sessions.size(); ++i) {
        starts[i] = sessions[i].arrival - dt;
        ends[i] = sessions[i].departure;
    }
    std::sort(starts.begin(), starts.end());
    std::sort(ends.begin(), ends.end());
    std::size_t j = 0, bound = 0;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        while (j < ends.size() && ends[j] <= starts[i]) ++j;
        bound = std::max(bound, i + 1 - j);
    }
    bound = std::max<std::size_t>(bound, 1);

    charger_free_at_.assign(static_cast<std::size_t>(params.n_chargers), std::numeric_limits<std::int64_t>::min());
    active_.assign(bound, -1);  // sized, not just reserved: a copied station keeps its room
    n_active_ = 0;
    for (auto* v : {&cap_, &floor_, &want_, &p_, &d_, &key_, &h_}) v->assign(bound, 0.0);
    order_.assign(bound, 0);

    max_dt_s_ = max_dt_s;
    started_ = false;
    t_next_ = 0;
    next_session_ = 0;
    last_connected_ = 0;
    peak_import_kw_ = 0.0;
    peak_export_kw_ = 0.0;
    was_peak_ = false;
    last_peak_end_ = std::numeric_limits<std::int64_t>::min();
    prepared_ = true;
}

double EvStation::soc(std::size_t i) const {
    const EvSession& s = sessions.at(i);
    return s.soc_arrival + records.at(i).delivered_kwh / s.battery_kwh;
}

namespace {

/// The step's length in whole seconds; throws on a bad input, a step before prepare() or a gap in time.
std::int64_t checked_step_seconds(const EvStation& st, const EvStepInput& in, double dt_h) {
    const EvStationParams& P = st.params;
    if (!st.prepared_) throw ValidationError("EvStation " + std::to_string(P.id) + ": step() before prepare()");
    if (!(dt_h > 0.0) || !std::isfinite(dt_h) || dt_h * 3600.0 > st.max_dt_s_ * (1.0 + 1e-12))
        throw ValidationError("EvStation " + std::to_string(P.id) + ": step dt_h " + num(dt_h) +
                              " h must be > 0 and at most the prepared " + num(st.max_dt_s_) + " s");
    const std::int64_t dt_s = std::llround(dt_h * 3600.0);
    if (std::abs(static_cast<double>(dt_s) - dt_h * 3600.0) > 1e-6 || dt_s < 1)
        throw ValidationError("EvStation " + std::to_string(P.id) + ": step dt_h " + num(dt_h) + " h is not a whole number of seconds");
    if (std::isnan(in.pv_available_kw) || in.pv_available_kw < 0.0 || std::isnan(in.import_limit_kw) ||
        in.import_limit_kw < 0.0 || std::isnan(in.v2g_request_kw) || in.v2g_request_kw < 0.0 ||
        std::isinf(in.pv_available_kw) || std::isinf(in.v2g_request_kw))
        throw ValidationError("EvStation " + std::to_string(P.id) +
                              ": step input: pv_available_kw, import_limit_kw and v2g_request_kw must be >= 0 (got " +
                              num(in.pv_available_kw) + ", " + num(in.import_limit_kw) + ", " + num(in.v2g_request_kw) + ")");
    if (st.started_ && in.t != st.t_next_)
        throw ValidationError("EvStation " + std::to_string(P.id) + ": step input field 't': steps must be contiguous (expected " +
                              std::to_string(st.t_next_) + ", got " + std::to_string(in.t) + ")");
    return dt_s;
}

/// Arrivals before t1: each takes the first free charger (lowest index), else it is blocked.
void admit_arrivals(EvStation& st, std::int64_t t0, std::int64_t t1) {
    const EvStationParams& P = st.params;
    while (st.next_session_ < st.sessions.size() && st.sessions[st.next_session_].arrival < t1) {
        const std::size_t i = st.next_session_++;
        const EvSession& s = st.sessions[i];
        EvSessionRecord& r = st.records[i];
        if (!st.started_ && s.departure <= t0) {
            r.status = EvSessionStatus::Outside;
            continue;
        }
        int c = -1;
        for (int k = 0; k < P.n_chargers; ++k)
            if (st.charger_free_at_[static_cast<std::size_t>(k)] <= s.arrival) {
                c = k;
                break;
            }
        if (c < 0) {
            r.status = EvSessionStatus::Blocked;
            r.unmet_kwh = s.energy_kwh;
            continue;
        }
        st.charger_free_at_[static_cast<std::size_t>(c)] = s.departure;
        r.status = EvSessionStatus::Active;
        r.charger = c;
        if (st.n_active_ >= st.active_.size())
            throw SolverError("EvStation " + std::to_string(P.id) + ": more vehicles plugged in than prepare() sized for");
        st.active_[st.n_active_++] = static_cast<int>(i);
    }
    st.started_ = true;
}

/// The step's window [t0, t1) and length, shared by the phases of one step.
struct StepWindow {
    std::int64_t t0, t1;
    double dt_h, dt_sd;
};

/// Per vehicle: cap (full rate for the time present), floor (minimum to still meet departure).
void charge_bounds(EvStation& st, const StepWindow& w, int n) {
    const EvStationParams& P = st.params;
    const double eta = P.efficiency;
    for (int k = 0; k < n; ++k) {
        const EvSession& s = st.sessions[static_cast<std::size_t>(st.active_[k])];
        const EvSessionRecord& r = st.records[static_cast<std::size_t>(st.active_[k])];
        const double rate = std::min(s.max_kw, P.charger_kw);
        const std::int64_t a = std::max(s.arrival, w.t0), b = std::min(s.departure, w.t1);
        const double f = static_cast<double>(b - a) / w.dt_sd;
        const double e_rem = std::max(0.0, s.energy_kwh - r.delivered_kwh);
        const double need_grid = e_rem / eta;
        const double t_after_h = static_cast<double>(std::max<std::int64_t>(0, s.departure - w.t1)) / 3600.0;
        st.cap_[k] = std::min(f * rate, need_grid / w.dt_h);
        st.floor_[k] = std::clamp((need_grid - rate * t_after_h) / w.dt_h, 0.0, st.cap_[k]);
        st.p_[k] = 0.0;
        st.d_[k] = 0.0;
    }
}

/// V2G: discharge on request, only what leaves each vehicle its reserve of laxity. Returns the total.
double v2g_discharge(EvStation& st, const EvStepInput& in, const StepWindow& w, int n) {
    const EvStationParams& P = st.params;
    const double eta = P.efficiency;
    if (!(P.v2g && in.v2g_request_kw > 0.0 && n > 0)) return 0.0;
    for (int k = 0; k < n; ++k) {
        const EvSession& s = st.sessions[static_cast<std::size_t>(st.active_[k])];
        const EvSessionRecord& r = st.records[static_cast<std::size_t>(st.active_[k])];
        const double rate = std::min(s.max_kw, P.charger_kw);
        const std::int64_t a = std::max(s.arrival, w.t0), b = std::min(s.departure, w.t1);
        const double f = static_cast<double>(b - a) / w.dt_sd;
        const double soc_now = s.soc_arrival + r.delivered_kwh / s.battery_kwh;
        const double e_rem = std::max(0.0, s.energy_kwh - r.delivered_kwh);
        const double t_spare_h = static_cast<double>(std::max<std::int64_t>(0, s.departure - w.t1)) / 3600.0 - P.v2g_reserve_h;
        double hk = 0.0;
        if (soc_now > P.v2g_min_soc && t_spare_h > 0.0) {
            // after giving d for dt_h, (e_rem + d dt_h / eta) / eta must fit in rate * t_spare_h
            const double by_laxity = eta * (eta * rate * t_spare_h - e_rem) / w.dt_h;
            const double by_soc = (soc_now - P.v2g_min_soc) * s.battery_kwh * eta / w.dt_h;
            hk = std::max(0.0, std::min({f * rate, by_laxity, by_soc}));
        }
        st.h_[k] = hk;
    }
    const double sum_d = waterfill(in.v2g_request_kw, st.h_.data(), st.d_.data(), st.order_.data(), n);
    for (int k = 0; k < n; ++k)
        if (st.d_[k] > 0.0) {
            st.cap_[k] = 0.0;
            st.floor_[k] = 0.0;
        }
    return sum_d;
}

struct Wants {
    double sum_floor = 0.0;
    double sum_want = 0.0;
};

/// delayed_off_peak with start delays: vehicle k still waits at t (off-peak) until max(arrival, the
/// last peak's end) + its own delay, uniform in [0, start_delay_max_s] from (delay_seed, id, arrival).
bool still_delayed(const EvStation& st, int k, std::int64_t t) {
    const EvStationParams& P = st.params;
    if (!(P.start_delay_max_s > 0.0)) return false;
    const EvSession& s = st.sessions[static_cast<std::size_t>(st.active_[k])];
    std::uint64_t x = P.delay_seed ^ (static_cast<std::uint64_t>(P.id) * 0x9E3779B97F4A7C15ull) ^
                      (static_cast<std::uint64_t>(s.arrival) * 0xD1B54A32D192ED03ull);
    const double u = static_cast<double>(splitmix64(x) >> 11) * 0x1.0p-53;
    const double release = static_cast<double>(std::max(s.arrival, st.last_peak_end_)) + u * P.start_delay_max_s;
    return static_cast<double>(t) < release;
}

/// spread: the energy still wanted at a constant power over the time left to departure (step average).
double spread_kw(const EvStation& st, int k, std::int64_t t0) {
    const EvSession& s = st.sessions[static_cast<std::size_t>(st.active_[k])];
    const EvSessionRecord& r = st.records[static_cast<std::size_t>(st.active_[k])];
    const std::int64_t from = std::max(s.arrival, t0);
    const double left_h = static_cast<double>(s.departure - from) / 3600.0;
    const double need_grid = std::max(0.0, s.energy_kwh - r.delivered_kwh) / st.params.efficiency;
    const std::int64_t t1 = st.pending_t1_;
    const double f = static_cast<double>(std::min(s.departure, t1) - from) / static_cast<double>(t1 - t0);
    return left_h > 0.0 ? f * need_grid / left_h : 0.0;
}

/// What the strategy would like (floor <= want <= cap).
Wants strategy_wants(EvStation& st, const EvStepInput& in, int n) {
    const EvStationParams& P = st.params;
    double* cap = st.cap_.data();
    double* flo = st.floor_.data();
    double* want = st.want_.data();
    double* h = st.h_.data();
    Wants w;
    switch (P.strategy) {
        case EvStrategy::DelayedOffPeak:
        case EvStrategy::PvFollowing: {
            for (int k = 0; k < n; ++k) w.sum_floor += flo[k];
            const bool pv_only = P.strategy == EvStrategy::PvFollowing || in.is_peak;
            bool any_held = pv_only;
            for (int k = 0; k < n; ++k) {
                const bool held = pv_only || still_delayed(st, k, in.t);
                any_held = any_held || held;
                want[k] = held ? flo[k] : cap[k];
                h[k] = held ? cap[k] - flo[k] : 0.0;
            }
            if (any_held) waterfill(std::max(0.0, in.pv_available_kw - w.sum_floor), h, want, st.order_.data(), n);
            break;
        }
        case EvStrategy::Spread:
            for (int k = 0; k < n; ++k) {
                w.sum_floor += flo[k];
                want[k] = std::clamp(spread_kw(st, k, in.t), flo[k], cap[k]);
            }
            break;
        case EvStrategy::GridAware:
            for (int k = 0; k < n; ++k) {
                w.sum_floor += flo[k];
                want[k] = cap[k];
            }
            break;
        default:
            for (int k = 0; k < n; ++k) {
                want[k] = cap[k];
                flo[k] = 0.0;
            }
            break;
    }
    for (int k = 0; k < n; ++k) w.sum_want += want[k];
    return w;
}

/// EDF: departure, s; LLF: laxity at t0 (time left minus time needed at full rate), h.
double urgency(const EvStation& st, int k, bool llf, std::int64_t t0, double eta) {
    const EvSession& s = st.sessions[static_cast<std::size_t>(st.active_[k])];
    if (!llf) return static_cast<double>(s.departure);
    const EvSessionRecord& r = st.records[static_cast<std::size_t>(st.active_[k])];
    const double rate = std::min(s.max_kw, st.params.charger_kw);
    const double e_rem = std::max(0.0, s.energy_kwh - r.delivered_kwh);
    return static_cast<double>(s.departure - std::max(s.arrival, t0)) / 3600.0 - e_rem / (eta * rate);
}

/// Priority order into order_: by departure (EDF) for floors and for EDF; by laxity for LLF.
void priority_order(EvStation& st, std::int64_t t0, int n) {
    const EvStationParams& P = st.params;
    const double eta = P.efficiency;
    double* key = st.key_.data();
    int* order = st.order_.data();
    const bool llf = P.strategy == EvStrategy::PowerLimitedLLF ||
                     (P.strategy == EvStrategy::GridAware && P.grid_order == EvStrategy::PowerLimitedLLF);
    for (int k = 0; k < n; ++k) {
        key[k] = urgency(st, k, llf, t0, eta);
        order[k] = k;
    }
    const int* act = st.active_.data();
    std::sort(order, order + n, [key, act](int a, int b) {
        return key[a] < key[b] || (key[a] == key[b] && act[a] < act[b]);
    });
}

/// The connection limit L on the net import (charging - discharging): the charging powers p_.
void limit_charging(EvStation& st, double L, const Wants& w, std::int64_t t0, int n) {
    const EvStationParams& P = st.params;
    EvShare sh;
    sh.floor = st.floor_.data();
    sh.want = st.want_.data();
    sh.p = st.p_.data();
    sh.h = st.h_.data();
    sh.order = st.order_.data();
    sh.n = n;
    sh.sum_floor = w.sum_floor;
    sh.sum_want = w.sum_want;
    // EDF, LLF and grid_aware: greedy by urgency; round-robin, uncontrolled, delayed, PV, spread: equal shares
    const bool greedy_rule = P.strategy == EvStrategy::PowerLimitedEDF || P.strategy == EvStrategy::PowerLimitedLLF ||
                             P.strategy == EvStrategy::GridAware;
    share_limit(L, sh, greedy_rule, [&] { priority_order(st, t0, n); });
}

/// Apply the powers to the vehicles' records; returns the station's net power (charging < 0).
double apply_powers(EvStation& st, double dt_h, int n) {
    const double eta = st.params.efficiency;
    double p_station = 0.0;
    for (int k = 0; k < n; ++k) {
        const EvSession& s = st.sessions[static_cast<std::size_t>(st.active_[k])];
        EvSessionRecord& r = st.records[static_cast<std::size_t>(st.active_[k])];
        const double d = st.d_[k], p = st.p_[k];
        if (d > 0.0) {
            r.grid_out_kwh += d * dt_h;
            r.delivered_kwh -= d * dt_h / eta;
            p_station += d;
        } else if (p > 0.0) {
            r.grid_in_kwh += p * dt_h;
            r.delivered_kwh = std::min(s.energy_kwh, r.delivered_kwh + eta * p * dt_h);
            p_station -= p;
        }
    }
    return p_station;
}

/// Vehicles leaving by t1 finish (unmet energy recorded) and free their slot in active_.
void depart(EvStation& st, std::int64_t t1, int n) {
    for (int k = n - 1; k >= 0; --k) {
        const std::size_t i = static_cast<std::size_t>(st.active_[k]);
        if (st.sessions[i].departure <= t1) {
            EvSessionRecord& r = st.records[i];
            r.status = EvSessionStatus::Finished;
            r.unmet_kwh = std::max(0.0, st.sessions[i].energy_kwh - r.delivered_kwh);
            st.active_[static_cast<std::size_t>(k)] = st.active_[st.n_active_ - 1];
            --st.n_active_;
        }
    }
}

}  // namespace

double EvStation::step(const EvStepInput& in, double dt_h) {
    begin_step(in, dt_h);
    return end_step(kInf);
}

void EvStation::begin_step(const EvStepInput& in, double dt_h) {
    const std::int64_t dt_s = checked_step_seconds(*this, in, dt_h);
    const StepWindow w{in.t, in.t + dt_s, dt_h, static_cast<double>(dt_s)};
    if (in.is_peak) was_peak_ = true;
    else if (was_peak_) {
        was_peak_ = false;
        last_peak_end_ = w.t0;
    }
    pending_t0_ = w.t0;
    pending_t1_ = w.t1;
    pending_dt_h_ = dt_h;
    admit_arrivals(*this, w.t0, w.t1);
    const int n = static_cast<int>(n_active_);
    charge_bounds(*this, w, n);
    pending_sum_d_ = v2g_discharge(*this, in, w, n);
    const Wants wants = strategy_wants(*this, in, n);
    pending_sum_floor_ = wants.sum_floor;
    pending_sum_want_ = wants.sum_want;
    pending_limit_kw_ = in.import_limit_kw;
}

double EvStation::end_step(double extra_limit_kw) {
    const int n = static_cast<int>(n_active_);
    Wants wants;
    wants.sum_floor = pending_sum_floor_;
    wants.sum_want = pending_sum_want_;
    const double L = std::min(std::min(params.connection_limit_kw, pending_limit_kw_), extra_limit_kw) + pending_sum_d_;
    limit_charging(*this, L, wants, pending_t0_, n);

    const double p_station = apply_powers(*this, pending_dt_h_, n);
    peak_import_kw_ = std::max(peak_import_kw_, -p_station);
    peak_export_kw_ = std::max(peak_export_kw_, p_station);
    last_connected_ = n;
    depart(*this, pending_t1_, n);
    t_next_ = pending_t1_;
    return p_station;
}

double EvStation::priority_key(int k, bool llf) const { return urgency(*this, k, llf, pending_t0_, params.efficiency); }

EvKpi EvStation::kpi() const {
    EvKpi k;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
        const EvSessionRecord& r = records[i];
        if (r.status == EvSessionStatus::Pending || r.status == EvSessionStatus::Outside) continue;
        ++k.n_sessions;
        k.delivered_kwh += r.delivered_kwh;
        k.grid_in_kwh += r.grid_in_kwh;
        k.grid_out_kwh += r.grid_out_kwh;
        switch (r.status) {
            case EvSessionStatus::Finished:
                ++k.n_finished;
                k.unmet_kwh += r.unmet_kwh;
                if (r.unmet_kwh > 1e-6) ++k.n_unmet;
                break;
            case EvSessionStatus::Blocked:
                ++k.n_blocked;
                k.unmet_kwh += r.unmet_kwh;
                k.blocked_kwh += r.unmet_kwh;
                break;
            case EvSessionStatus::Active:
                k.pending_kwh += std::max(0.0, sessions[i].energy_kwh - r.delivered_kwh);
                break;
            default: break;
        }
    }
    k.peak_import_kw = peak_import_kw_;
    k.peak_export_kw = peak_export_kw_;
    return k;
}

// ------------------------------------------------------------------------------------------------
// SimpleBattery
// ------------------------------------------------------------------------------------------------

double SimpleBattery::max_charge_kw(double dt_h) const {
    if (!(capacity_kwh > 0.0)) return 0.0;
    return std::max(0.0, std::min(p_charge_max_kw, (soc_max - soc) * capacity_kwh / (eta_charge * dt_h)));
}

double SimpleBattery::max_discharge_kw(double dt_h) const {
    if (!(capacity_kwh > 0.0)) return 0.0;
    return std::max(0.0, std::min(p_discharge_max_kw, (soc - floor_soc()) * capacity_kwh * eta_discharge / dt_h));
}

double SimpleBattery::apply(double p_kw, double dt_h) {
    if (!(capacity_kwh > 0.0) || p_kw == 0.0) return 0.0;
    if (p_kw > 0.0) {
        const double g = std::min(p_kw, max_discharge_kw(dt_h));
        soc = std::max(std::min(soc, floor_soc()), soc - g * dt_h / (eta_discharge * capacity_kwh));
        return g;
    }
    const double c = std::min(-p_kw, max_charge_kw(dt_h));
    soc = std::min(soc_max, soc + c * eta_charge * dt_h / capacity_kwh);
    return -c;
}

void SimpleBattery::validate(const char* owner, Id id) const {
    const std::string who = std::string(owner) + " " + std::to_string(id) + ": battery";
    require_nonneg(who, "capacity_kwh", capacity_kwh);
    require_nonneg(who, "p_charge_max_kw", p_charge_max_kw);
    require_nonneg(who, "p_discharge_max_kw", p_discharge_max_kw);
    if (!(eta_charge > 0.0 && eta_charge <= 1.0)) fail(who, "eta_charge", "must be in (0, 1] (got " + num(eta_charge) + ")");
    if (!(eta_discharge > 0.0 && eta_discharge <= 1.0))
        fail(who, "eta_discharge", "must be in (0, 1] (got " + num(eta_discharge) + ")");
    require_unit(who, "soc_min", soc_min);
    require_unit(who, "soc_max", soc_max);
    if (soc_min > soc_max) fail(who, "soc_min", "must be <= soc_max (" + num(soc_max) + ")");
    require_unit(who, "outage_reserve_soc", outage_reserve_soc);
    if (!(soc >= soc_min && soc <= soc_max))
        fail(who, "soc", "must be within [soc_min, soc_max] (got " + num(soc) + ")");
}

// ------------------------------------------------------------------------------------------------
// ChargingSite
// ------------------------------------------------------------------------------------------------

void ChargingSite::prepare(double max_dt_s) {
    const std::string who = "ChargingSite " + std::to_string(params.id);
    require_nonneg(who, "connection_limit_kw", params.connection_limit_kw, true);
    require_nonneg(who, "export_limit_kw", params.export_limit_kw, true);
    battery.validate("ChargingSite", params.id);
    evs.prepare(max_dt_s);
    peak_import_kw_ = 0.0;
    peak_export_kw_ = 0.0;
}

SiteStepOutput ChargingSite::step(const SiteStepInput& in, double dt_h) {
    begin_step(in, dt_h);
    return end_step(kInf);
}

void ChargingSite::begin_step(const SiteStepInput& in, double dt_h) {
    const ChargingSiteParams& S = params;
    if (std::isnan(in.pv_available_kw) || in.pv_available_kw < 0.0 || std::isinf(in.pv_available_kw))
        throw ValidationError("ChargingSite " + std::to_string(S.id) + ": step input field 'pv_available_kw': must be >= 0 and finite (got " +
                              num(in.pv_available_kw) + ")");
    pending_in_ = in;
    pending_dt_h_ = dt_h;
    pending_b_dis_ = battery.max_discharge_kw(dt_h);
    pending_b_ch_ = battery.max_charge_kw(dt_h);
    // (1) the EVs may draw what the connection, the PV and the battery can supply together
    EvStepInput ev_in;
    ev_in.t = in.t;
    ev_in.is_peak = in.is_peak;
    ev_in.pv_available_kw = in.pv_available_kw;
    ev_in.import_limit_kw = S.connection_limit_kw + in.pv_available_kw + pending_b_dis_;
    ev_in.v2g_request_kw = in.v2g_request_kw;
    evs.begin_step(ev_in, dt_h);
}

SiteStepOutput ChargingSite::end_step(double import_share_kw) {
    const ChargingSiteParams& S = params;
    const SiteStepInput& in = pending_in_;
    const double dt_h = pending_dt_h_;
    const double pv = in.pv_available_kw;
    const double L = std::min(S.connection_limit_kw, import_share_kw);
    const double b_dis = pending_b_dis_;
    const double b_ch = pending_b_ch_;
    const double p_ev = evs.end_step(import_share_kw + pv + b_dis);
    const double ev_draw = std::max(0.0, -p_ev);
    const double ev_give = std::max(0.0, p_ev);  // V2G

    // (2) PV first to the EVs
    const double pv_to_ev = std::min(pv, ev_draw);
    double need = ev_draw - pv_to_ev;            // still to be supplied
    double surplus = pv - pv_to_ev + ev_give;    // to be stored or exported

    // (4) battery: cover import above the limit; in the peak (option), all of it
    double dis = 0.0;
    if (need > L) dis = std::min(need - L, b_dis);
    if (in.is_peak && S.battery_discharge_in_peak) dis = std::max(dis, std::min(need, b_dis));
    need -= dis;

    // (3) surplus charges the battery, the rest is exported (curtailed above the export limit)
    const double ch_pv = std::min(surplus, b_ch);
    surplus -= ch_pv;
    double ch_grid = 0.0;
    if (!in.is_peak && S.battery_grid_charge_offpeak && dis == 0.0)
        ch_grid = std::max(0.0, std::min(b_ch - ch_pv, L - need));
    // export is net of what is still needed (both at once cannot happen, but keep the balance exact)
    double net = surplus - need - ch_grid;
    double curtailed = 0.0;
    if (net > S.export_limit_kw) {
        curtailed = std::min(net - S.export_limit_kw, pv);
        net -= curtailed;
    }
    const double p_bat = battery.apply(dis - ch_pv - ch_grid, dt_h);

    SiteStepOutput out;
    out.p_ev_kw = p_ev;
    out.p_pv_kw = pv - curtailed;
    out.p_battery_kw = p_bat;
    out.pv_curtailed_kw = curtailed;
    out.p_kw = out.p_pv_kw + p_bat + p_ev;
    peak_import_kw_ = std::max(peak_import_kw_, -out.p_kw);
    peak_export_kw_ = std::max(peak_export_kw_, out.p_kw);
    return out;
}

}  // namespace libgrid
