// libgrid layer 5: a PV system with a smart inverter.
//
// Chain, one call per time step (see docs/devices_pv_battery.md for equations and sources):
//   weather --(transposition)--> plane-of-array irradiance --(NOCT or Faiman)--> cell temperature
//   --(PVWatts DC model)--> DC power --(PVWatts inverter curve, clip at S_rated)--> available AC
//   --(volt-watt, volt-var / fixed PF, S limit with priority)--> P, Q at the terminal.
//
// Units at the interface: kW, kVAr, kVA, W/m2, degC, degrees, m/s; voltage in p.u. of nominal.
// Sign convention: generator convention, p_kw > 0 injects active power into the grid, q_kvar > 0
// injects reactive power (over-excited, raises the local voltage), q_kvar < 0 absorbs.
//
// Plain values: no allocation, no virtual calls; the step functions are pure and thread-safe.
#pragma once

#include <string>

namespace libgrid {

/// Sky-diffuse transposition model.
enum class SkyModel : int {
    Isotropic = 0,  ///< Liu and Jordan (1963): sky diffuse uniform over the sky dome
    HayDavies = 1,  ///< Hay and Davies (1980): circumsolar part follows the beam
};

/// Cell temperature model.
enum class CellTempModel : int {
    Noct = 0,    ///< T_cell = T_amb + (NOCT - 20) / 800 * G_poa (no wind)
    Faiman = 1,  ///< T_cell = T_amb + G_poa / (U0 + U1 * wind)
};

/// Reactive power control of the inverter.
enum class QControl : int {
    None = 0,     ///< unity power factor, Q = 0
    FixedPF = 1,  ///< constant power factor `pf` (sign gives injection/absorption)
    VoltVar = 2,  ///< Q from the local voltage by `VoltVarCurve`
};

/// Which of P and Q yields when sqrt(P^2 + Q^2) would exceed the inverter rating (volt-var mode;
/// fixed PF always scales P and Q together so the power factor is kept).
enum class InverterPriority : int {
    Var = 0,   ///< Q first, P curtailed to sqrt(S^2 - Q^2) (IEEE 1547-2018 / EPRI OpenDER default)
    Watt = 1,  ///< P first, Q limited to sqrt(S^2 - P^2)
};

/// Piecewise-linear volt-var curve, four points, Q in p.u. of the inverter's nameplate kVA,
/// generator convention (Q > 0 injects). Flat outside [v1, v4]. Defaults: IEEE 1547-2018
/// Category B default settings (Table 8).
struct VoltVarCurve {
    double v1_pu = 0.92;
    double q1_pu = 0.44;   ///< injection at low voltage
    double v2_pu = 0.98;
    double q2_pu = 0.0;
    double v3_pu = 1.02;
    double q3_pu = 0.0;
    double v4_pu = 1.08;
    double q4_pu = -0.44;  ///< absorption at high voltage
    static VoltVarCurve ieee1547_cat_b() { return VoltVarCurve{}; }
};

/// Volt-watt curve: active power limit in p.u. of rated active power (= inverter kVA at unity
/// PF), 1 below v1, linear to p2 at v2, flat above. Defaults: IEEE 1547-2018 default settings
/// (Table 10) for a DER that can only generate: V1 = 1.06, P1 = 1.0, V2 = 1.10, P2 = 0.2.
struct VoltWattCurve {
    double v1_pu = 1.06;
    double p1_pu = 1.0;
    double v2_pu = 1.10;
    double p2_pu = 0.2;
    static VoltWattCurve ieee1547_cat_b() { return VoltWattCurve{}; }
};

/// Parameters of one PV system (array + inverter). Call validate() once at setup.
struct PvParams {
    double kwp_dc = 0.0;            ///< array DC nameplate at STC (1000 W/m2, 25 degC), kWp; > 0
    double tilt_deg = 10.0;         ///< surface tilt from horizontal, degrees, [0, 90]
    double azimuth_deg = 180.0;     ///< surface azimuth, degrees clockwise from north (180 = south), [0, 360)
    double albedo = 0.2;            ///< ground reflectance, [0, 1]
    SkyModel sky = SkyModel::Isotropic;
    double gamma_pdc_per_c = -0.0037;  ///< power temperature coefficient, 1/degC, [-0.02, 0]
    CellTempModel temp_model = CellTempModel::Noct;
    double noct_c = 45.0;           ///< nominal operating cell temperature, degC (Noct model), [20, 80]
    double faiman_u0 = 25.0;        ///< W/(m2 K) (Faiman model), > 0
    double faiman_u1 = 6.84;        ///< W s/(m3 K) (Faiman model), >= 0
    double dc_losses = 0.14;        ///< DC-side losses (soiling, wiring, mismatch, ...), fraction, [0, 1)
    double inverter_kva = 0.0;      ///< inverter apparent power rating = rated AC active power, kVA; > 0
    double inverter_eta_nom = 0.96; ///< PVWatts nominal inverter efficiency, (0, 1]
    QControl qmode = QControl::None;
    double pf = 1.0;                ///< fixed power factor, 0 < |pf| <= 1; pf > 0 injects Q, pf < 0 absorbs Q
    VoltVarCurve vv{};
    bool volt_watt = false;         ///< apply the volt-watt curve `vw`
    VoltWattCurve vw{};
    InverterPriority priority = InverterPriority::Var;
    bool var_at_night = false;      ///< volt-var also when no PV power is available (inverter stays on)

    /// An IEEE 1547-2018 Category B smart inverter: volt-var (Cat B defaults) with reactive power
    /// priority, and volt-watt (defaults) enabled.
    static PvParams ieee1547_cat_b(double kwp_dc, double inverter_kva);
};

/// Weather of one step, supplied by the caller (profiles/ weather model).
struct PvWeather {
    double ghi_wm2 = 0.0;          ///< global horizontal irradiance, W/m2, >= 0
    double dni_wm2 = 0.0;          ///< direct normal irradiance, W/m2, >= 0
    double dhi_wm2 = 0.0;          ///< diffuse horizontal irradiance, W/m2, >= 0
    double sun_zenith_deg = 90.0;  ///< apparent sun zenith, degrees (>= 90: sun below horizon)
    double sun_azimuth_deg = 180.0;///< sun azimuth, degrees clockwise from north
    double t_amb_c = 25.0;         ///< ambient air temperature, degC
    double wind_ms = 1.0;          ///< wind speed, m/s, >= 0 (Faiman model only)
    int day_of_year = 1;           ///< 1..366 (extraterrestrial irradiance, Hay-Davies only)
};

/// Plane-of-array irradiance split into its parts, W/m2.
struct PoaIrradiance {
    double beam_wm2 = 0.0;
    double sky_diffuse_wm2 = 0.0;
    double ground_wm2 = 0.0;
    double total_wm2() const { return beam_wm2 + sky_diffuse_wm2 + ground_wm2; }
};

/// Result of one PV step. Generator convention.
struct PvOutput {
    double p_kw = 0.0;          ///< active power injected
    double q_kvar = 0.0;        ///< reactive power injected (< 0: absorbed)
    double available_kw = 0.0;  ///< AC power the inverter could deliver at unity PF (after clipping)
    double curtailed_kw = 0.0;  ///< available_kw - p_kw (volt-watt, var priority, fixed-PF S limit)
    double clipped_kw = 0.0;    ///< AC power lost to inverter clipping at inverter_kva
    double p_dc_kw = 0.0;       ///< DC power at the maximum power point (before any curtailment)
    double poa_wm2 = 0.0;       ///< plane-of-array irradiance
    double t_cell_c = 0.0;      ///< cell temperature
};

/// Throws ValidationError "<who>: field '<name>': <reason>" on the first bad field.
void validate(const PvParams& params, const std::string& who);
/// Throws ValidationError naming the weather field (NaN, negative irradiance, day out of range).
void validate(const PvWeather& weather, const std::string& who);

/// cos(angle of incidence) of the beam on a surface: cos(z)cos(beta) + sin(z)sin(beta)cos(gamma_s - gamma).
/// Negative when the sun is behind the surface.
double cos_incidence(double tilt_deg, double surface_azimuth_deg, double sun_zenith_deg,
                     double sun_azimuth_deg);

/// Extraterrestrial normal irradiance, W/m2: G_sc (1 + 0.033 cos(2 pi n / 365)), G_sc = 1361.
double extraterrestrial_irradiance(int day_of_year);

/// Beam, sky-diffuse and ground-reflected irradiance on the tilted plane.
PoaIrradiance poa_components(double tilt_deg, double surface_azimuth_deg, double albedo,
                             SkyModel sky, const PvWeather& w);

/// Total plane-of-array irradiance, W/m2, for the array of `params`.
double poa_irradiance(const PvParams& params, const PvWeather& w);

/// Cell temperature, degC, by the model chosen in `params`.
double cell_temperature(const PvParams& params, double poa_wm2, double t_amb_c, double wind_ms);

/// PVWatts DC power, kW: kwp_dc * G/1000 * (1 + gamma (T_cell - 25)) * (1 - dc_losses), >= 0.
double dc_power_kw(const PvParams& params, double poa_wm2, double t_cell_c);

/// PVWatts inverter efficiency at DC input p_dc_kw (before clipping); 0 when p_dc_kw <= 0.
double inverter_efficiency(const PvParams& params, double p_dc_kw);

/// Available AC power at unity power factor, kW: min(eta(p_dc) p_dc, inverter_kva), >= 0.
/// Reactive power priority and volt-watt are applied on top of this by pv_step().
double inverter_ac_kw(const PvParams& params, double p_dc_kw);

/// Volt-var curve value, p.u. of nameplate kVA (generator convention).
double volt_var_q_pu(const VoltVarCurve& c, double v_pu);

/// Volt-watt active power limit, p.u. of rated active power.
double volt_watt_p_pu(const VoltWattCurve& c, double v_pu);

/// One step: weather and local voltage to P and Q. Throws ValidationError on NaN / negative
/// irradiance or a non-positive voltage (params are assumed validated at setup).
PvOutput pv_step(const PvParams& params, const PvWeather& w, double v_pu);

}  // namespace libgrid
