// libgrid layer 7 (economics): CO2 of grid imports.
//
// Default factor 0.78 tCO2/MWh: Peninsular Malaysia grid emission factor (NRECC report to UNFCCC,
// quoted by Asia Carbon Exchange, June 2023; base year not stated). Other figures in circulation:
// 0.652 kg/kWh (projection for 2026), 0.758 kg/kWh. Source: docs/sources/melaka_facts.md
// ("Emissions"), which also says no official series exists: the factor is a parameter, constant or a
// time series.
//
// Time: int64_t seconds since 1970-01-01T00:00 in LOCAL Melaka time (UTC+8, no DST).
// Only imports emit; exports are not credited with avoided emissions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace libgrid {

/// Grid emission factor: constant, a daily profile by hour (weekday / weekend), or piecewise constant
/// in time (a series). Precedence: series, then the hourly profile, then the constant.
struct EmissionFactor {
    double t_per_mwh = 0.78;      ///< constant factor, tCO2/MWh (= kg/kWh), used when `series` is empty (melaka.md)
    std::vector<double> series;   ///< optional, tCO2/MWh; series[i] holds on [start + i*step_s, start + (i+1)*step_s)
    std::int64_t start = 0;       ///< s, local: start of series[0]
    std::int64_t step_s = 3600;   ///< s, > 0: length of one series value
    /// Issue 18: optional 24 values each, tCO2/MWh, hour h of the local day ([h, h+1) h); weekend is
    /// used on weekends and public holidays (the caller says which: at(t, weekday)).
    std::vector<double> hourly_weekday, hourly_weekend;
    /// What the factor is, for the results (/summary/co2_t's attribute `factor`): e.g. "constant 0.78
    /// t/MWh" (the default when empty), "hourly average (data/emissions/peninsular_malaysia.yaml)".
    std::string name;

    /// Factor at local time t, tCO2/MWh. Throws ValidationError (field 'series') if the series is set
    /// and t lies outside it, or if a value is not finite and >= 0. With an hourly profile, `weekday`
    /// picks its day (t's hour of day); without one it is ignored.
    double at(std::int64_t t, bool weekday = true) const;
    /// name, or a description of the constant / series when name is empty.
    std::string describe() const;
    /// Time-weighted mean factor over [t0, t1), tCO2/MWh (t1 > t0); the whole span must lie in the series.
    double mean(std::int64_t t0, std::int64_t t1) const;
};

/// Throws ValidationError naming the field if the factor is unusable (NaN, negative, step_s <= 0).
void validate(const EmissionFactor& factor);

/// CO2 of grid imports, tonnes: sum over k of import_mwh[k] * (mean factor over interval k), interval k
/// being [start + k*step_s, start + (k+1)*step_s). import_mwh: n values, finite and >= 0 (ValidationError
/// naming 'import_mwh[k]' otherwise).
double co2_tonnes(const EmissionFactor& factor, std::int64_t start, std::int64_t step_s, const double* import_mwh,
                  std::size_t n);

/// The same for energies in kWh (e.g. straight from a MeterTable row): 1 MWh = 1000 kWh.
double co2_tonnes_from_kwh(const EmissionFactor& factor, std::int64_t start, std::int64_t step_s,
                           const double* import_kwh, std::size_t n);

}  // namespace libgrid
