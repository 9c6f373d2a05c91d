// libgrid layer 7: the KPI table (simulation/kpis.hpp).
#include <libgrid/simulation/kpis.hpp>
#include <libgrid/simulation/engine.hpp>

namespace libgrid {
namespace {

#define LIBGRID_KPI(name, unit, def, count, file, cmp) \
    KpiInfo{#name, unit, def, count, file, cmp, [](const SimulationSummary& s) { return double(s.name); }}

constexpr KpiInfo kKpis[] = {
    LIBGRID_KPI(steps, "", "time steps computed", true, true, true),
    LIBGRID_KPI(load_mwh, "MWh", "energy consumed by loads, EV charging, buildings and homes", false, true, true),
    LIBGRID_KPI(pv_mwh, "MWh", "PV energy fed in (also site canopies and home rooftops)", false, true, true),
    LIBGRID_KPI(pv_curtailed_mwh, "MWh", "PV energy curtailed (volt-watt, export limits)", false, true, true),
    LIBGRID_KPI(import_mwh, "MWh", "energy imported from the external grid(s), converged steps", false, true, true),
    LIBGRID_KPI(export_mwh, "MWh", "energy exported to the external grid(s), converged steps", false, true, true),
    LIBGRID_KPI(peak_import_mw, "MW", "largest import from the external grid(s)", false, true, true),
    LIBGRID_KPI(losses_mwh, "MWh", "branch losses, converged steps", false, true, true),
    LIBGRID_KPI(co2_t, "t", "CO2 of grid imports", false, true, true),
    LIBGRID_KPI(bills_rm, "RM", "sum of all customers' bills", false, true, true),
    LIBGRID_KPI(self_consumption, "fraction", "behind-the-meter PV used on site / PV energy", false, true, true),
    LIBGRID_KPI(self_sufficiency, "fraction", "behind-the-meter PV used on site / consumption", false, true, true),
    LIBGRID_KPI(min_vm_pu, "p.u.", "lowest bus voltage, converged steps", false, true, true),
    LIBGRID_KPI(max_vm_pu, "p.u.", "highest bus voltage, converged steps", false, true, true),
    LIBGRID_KPI(voltage_violation_hours, "h", "hours with at least one bus outside its band", false, true, true),
    LIBGRID_KPI(voltage_violation_bus_steps, "", "bus-steps outside [vmin_pu, vmax_pu]", true, true, true),
    LIBGRID_KPI(max_line_loading_percent, "percent", "highest line loading", false, true, true),
    LIBGRID_KPI(max_trafo_loading_percent, "percent", "highest transformer loading", false, true, true),
    LIBGRID_KPI(overloaded_branch_steps, "", "line/trafo-steps above the loading limit", true, true, true),
    LIBGRID_KPI(ev_delivered_mwh, "MWh", "energy delivered to EVs", false, true, true),
    LIBGRID_KPI(ev_not_delivered_mwh, "MWh", "energy EVs that charged and left wanted and did not get by departure", false, true, true),
    LIBGRID_KPI(ev_blocked_mwh, "MWh", "energy wanted by public-site arrivals that found every bay taken", false, true, true),
    LIBGRID_KPI(ev_pending_mwh, "MWh", "energy still wanted by EVs plugged in at the end of the run", false, true, true),
    LIBGRID_KPI(ev_peak_mw, "MW", "largest EV charging power", false, true, true),
    LIBGRID_KPI(battery_charged_mwh, "MWh", "energy into batteries", false, true, true),
    LIBGRID_KPI(battery_discharged_mwh, "MWh", "energy out of batteries", false, true, true),
    LIBGRID_KPI(battery_losses_mwh, "MWh", "battery conversion losses", false, true, true),
    LIBGRID_KPI(building_comfort_degree_hours, "K h", "BEMS buildings: K h outside the comfort band while occupied", false, true, true),
    LIBGRID_KPI(non_converged_steps, "", "steps whose power flow did not converge", true, true, true),
    LIBGRID_KPI(energy_balance_max_error_mw, "MW", "largest energy-balance error of a converged step", false, true, true),
    LIBGRID_KPI(controls_unsettled_steps, "", "steps whose voltage controls did not settle", true, true, false),
    LIBGRID_KPI(home_comfort_degree_hours, "K h", "HEMS homes: K h outside the comfort band while occupied", false, true, false),
    LIBGRID_KPI(deenergized_buses, "", "in-service buses no source feeds, the most at any step", true, true, false),
    LIBGRID_KPI(wall_time_s, "s", "wall-clock time of the run", false, true, false),
    LIBGRID_KPI(pv_available_mwh, "MWh", "PV energy available before curtailment", false, false, false),
    LIBGRID_KPI(pv_self_consumed_mwh, "MWh", "behind-the-meter PV used on site", false, false, false),
    LIBGRID_KPI(battery_storage_change_mwh, "MWh", "energy stored at the end minus at the start", false, false, false),
    LIBGRID_KPI(steps_per_second, "1/s", "steps computed per wall-clock second", false, false, false),
};
#undef LIBGRID_KPI

}  // namespace

std::span<const KpiInfo> summary_kpis() { return kKpis; }

}  // namespace libgrid
