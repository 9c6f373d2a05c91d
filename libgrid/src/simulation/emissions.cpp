// libgrid layer 7: CO2 of grid imports (see simulation/emissions.hpp; factor from
// docs/sources/melaka_facts.md, "Emissions").
#include "libgrid/simulation/emissions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "libgrid/core/errors.hpp"

namespace libgrid {

namespace {

std::string num(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", x);
    return buf;
}

[[noreturn]] void fail(const std::string& component, const std::string& field, const std::string& message) {
    throw ValidationError(component + ": field '" + field + "': " + message);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

double checked_value(double v, std::size_t i) {
    if (!std::isfinite(v) || v < 0.0)
        fail("EmissionFactor", "series[" + std::to_string(i) + "]", "must be finite and >= 0 tCO2/MWh, got " + num(v));
    return v;
}

std::string series_span(const EmissionFactor& f) {
    // built with append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&
    std::string s = "[";
    s.append(std::to_string(f.start)).append(", ");
    s.append(std::to_string(f.start + static_cast<std::int64_t>(f.series.size()) * f.step_s)).append(") s");
    return s;
}

double co2_sum(const char* who, const char* field, const EmissionFactor& factor, std::int64_t start,
               std::int64_t step_s, const double* energy, std::size_t n) {
    validate(factor);
    if (step_s <= 0) fail(who, "step_s", "must be > 0 s, got " + std::to_string(step_s));
    if (n > 0 && energy == nullptr) fail(who, field, "null pointer");
    double sum = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        const double e = energy[k];
        if (!std::isfinite(e) || e < 0.0)
            fail(who, std::string(field) + "[" + std::to_string(k) + "]",
                 "grid import must be finite and >= 0, got " + num(e));
        const std::int64_t t0 = start + static_cast<std::int64_t>(k) * step_s;
        const double ef = factor.series.empty() ? factor.t_per_mwh : factor.mean(t0, t0 + step_s);
        sum += e * ef;
    }
    return sum;
}

}  // namespace

void validate(const EmissionFactor& factor) {
    if (!std::isfinite(factor.t_per_mwh) || factor.t_per_mwh < 0.0)
        fail("EmissionFactor", "t_per_mwh", "must be finite and >= 0 tCO2/MWh, got " + num(factor.t_per_mwh));
    const bool wd = !factor.hourly_weekday.empty(), we = !factor.hourly_weekend.empty();
    if (wd || we) {
        if (factor.hourly_weekday.size() != 24 || factor.hourly_weekend.size() != 24)
            fail("EmissionFactor", "hourly_weekday", "an hourly profile needs 24 values for weekdays and 24 for weekends, got " +
                                                         std::to_string(factor.hourly_weekday.size()) + " and " +
                                                         std::to_string(factor.hourly_weekend.size()));
        for (std::size_t h = 0; h < 24; ++h) {
            for (const auto* v : {&factor.hourly_weekday, &factor.hourly_weekend})
                if (!std::isfinite((*v)[h]) || (*v)[h] < 0.0)
                    fail("EmissionFactor", std::string(v == &factor.hourly_weekday ? "hourly_weekday[" : "hourly_weekend[") +
                                               std::to_string(h) + "]",
                         "must be finite and >= 0 tCO2/MWh, got " + num((*v)[h]));
        }
    }
    if (factor.series.empty()) return;
    if (factor.step_s <= 0)
        fail("EmissionFactor", "step_s", "must be > 0 s when a series is given, got " + std::to_string(factor.step_s));
    for (std::size_t i = 0; i < factor.series.size(); ++i) checked_value(factor.series[i], i);
}

double EmissionFactor::at(std::int64_t t, bool weekday) const {
    if (series.empty() && hourly_weekday.size() == 24 && hourly_weekend.size() == 24) {
        const std::int64_t sod = ((t % 86400) + 86400) % 86400;
        const double v = (weekday ? hourly_weekday : hourly_weekend)[std::size_t(sod / 3600)];
        if (!std::isfinite(v) || v < 0.0) fail("EmissionFactor", "hourly", "must be finite and >= 0 tCO2/MWh, got " + num(v));
        return v;
    }
    if (series.empty()) {
        if (!std::isfinite(t_per_mwh) || t_per_mwh < 0.0)
            fail("EmissionFactor", "t_per_mwh", "must be finite and >= 0 tCO2/MWh, got " + num(t_per_mwh));
        return t_per_mwh;
    }
    if (step_s <= 0) fail("EmissionFactor", "step_s", "must be > 0 s, got " + std::to_string(step_s));
    const std::int64_t i = floor_div(t - start, step_s);
    if (i < 0 || i >= static_cast<std::int64_t>(series.size()))
        fail("EmissionFactor", "series",
             "time " + std::to_string(t) + " s lies outside the series " + series_span(*this));
    return checked_value(series[static_cast<std::size_t>(i)], static_cast<std::size_t>(i));
}

std::string EmissionFactor::describe() const {
    if (!name.empty()) return name;
    if (!series.empty()) return "a series of " + std::to_string(series.size()) + " values, " + std::to_string(step_s) + " s each";
    if (hourly_weekday.size() == 24) return "an hourly profile (weekday / weekend)";
    return "constant " + num(t_per_mwh) + " t/MWh";
}

double EmissionFactor::mean(std::int64_t t0, std::int64_t t1) const {
    if (t1 <= t0)
        fail("EmissionFactor", "mean", "empty span [" + std::to_string(t0) + ", " + std::to_string(t1) + ") s");
    if (series.empty()) return at(t0);
    if (step_s <= 0) fail("EmissionFactor", "step_s", "must be > 0 s, got " + std::to_string(step_s));
    const std::int64_t end = start + static_cast<std::int64_t>(series.size()) * step_s;
    if (t0 < start || t1 > end)
        fail("EmissionFactor", "series",
             "span [" + std::to_string(t0) + ", " + std::to_string(t1) + ") s is not inside the series " +
                 series_span(*this));
    // Integral of the piecewise-constant factor over [t0, t1), divided by the span.
    double integral = 0.0;
    for (std::int64_t i = (t0 - start) / step_s; i * step_s + start < t1; ++i) {
        const std::int64_t a = std::max(t0, start + i * step_s);
        const std::int64_t b = std::min(t1, start + (i + 1) * step_s);
        integral += static_cast<double>(b - a) * checked_value(series[static_cast<std::size_t>(i)], static_cast<std::size_t>(i));
    }
    return integral / static_cast<double>(t1 - t0);
}

double co2_tonnes(const EmissionFactor& factor, std::int64_t start, std::int64_t step_s, const double* import_mwh,
                  std::size_t n) {
    return co2_sum("co2_tonnes", "import_mwh", factor, start, step_s, import_mwh, n);
}

double co2_tonnes_from_kwh(const EmissionFactor& factor, std::int64_t start, std::int64_t step_s,
                           const double* import_kwh, std::size_t n) {
    return co2_sum("co2_tonnes_from_kwh", "import_kwh", factor, start, step_s, import_kwh, n) / 1000.0;
}

}  // namespace libgrid
