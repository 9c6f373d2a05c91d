// libgrid layer 7: the KPI table (simulation/kpis.hpp). docs/kpis.md is generated from it
// (tests/tools/kpi_docs.py; the CTest docs_kpis fails when the page is stale).
//
// Notation of the formulas: k runs over the steps, dt = step_s / 3600 h, C = the converged steps
// (/solver/converged = 1), P_ext[k] = sum of /ext_grid/p_mw at step k (generator convention: > 0 =
// import from the external grid), N_c[k] = customer c's net import at its meter, kW.
#include <libgrid/simulation/kpis.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>

#include <nlohmann/json.hpp>
#include <libgrid/simulation/engine.hpp>

namespace libgrid {
namespace {

using B = KpiBoundary;

// name, unit, boundary, definition, formula, where measured, count, in /summary, compared
#define KPI(name, unit, boundary, def, formula, where, count, file, cmp) \
    KpiInfo{#name, unit, boundary, def, formula, where, count, file, cmp, [](const SimulationSummary& s) { return double(s.name); }}
// The short form (no boundary, formula nor place yet): the test "every KPI is defined" fails until they are given.
#define LIBGRID_KPI(name, unit, def, count, file, cmp) KPI(name, unit, B::Unassigned, def, "", "", count, file, cmp)

constexpr KpiInfo kKpis[] = {
    KPI(steps, "", B::Run, "time steps computed", "number of steps run", "rows of /time", true, true, true),
    KPI(load_mwh, "MWh", B::City, "all consumption: load profiles, EV charging, BEMS buildings, HEMS homes' houses",
        "load_profiles_mwh + ev_charging_mwh + building_mwh + home_mwh (added per step), all steps",
        "/load/p_mw, /ev/p_mw, /ev_site/ev_mw, /home/ev_mw, /building/p_mw, /home/building_mw", false, true, true),
    KPI(pv_mwh, "MWh", B::City, "PV energy fed in by all PV: PV units, charging-site canopies, home rooftops",
        "sum_k dt (sum /pv/p_mw + sum /ev_site/pv_mw + sum /home/pv_mw), all steps", "the PV inverters", false, true, true),
    KPI(pv_curtailed_mwh, "MWh", B::City, "PV energy curtailed (volt-watt, export limits) of the PV units",
        "sum_k dt sum /pv/curtailed_mw", "the PV units' inverters (/pv)", false, true, true),
    KPI(import_mwh, "MWh", B::Substation, "energy imported from the external grid(s)", "sum over k in C of dt max(P_ext[k], 0)",
        "the external grid(s) at the slack: /ext_grid/p_mw", false, true, true),
    KPI(export_mwh, "MWh", B::Substation, "energy exported to the external grid(s) (reverse flow at the slack)",
        "sum over k in C of dt max(-P_ext[k], 0)", "the external grid(s) at the slack: /ext_grid/p_mw", false, true, true),
    KPI(peak_import_mw, "MW", B::Substation, "peak import: the largest import from the external grid(s)", "max(0, max over k in C of P_ext[k])",
        "the external grid(s) at the slack: /ext_grid/p_mw", false, true, true),
    KPI(losses_mwh, "MWh", B::Network, "losses of all branches (lines, transformers, MATPOWER branches)",
        "sum over k in C of dt sum_b /branch/p_loss_mw[k, b] = losses_line_mwh + losses_trafo_load_mwh + "
        "losses_trafo_noload_mwh + losses_branch_mwh; by voltage level in /summary/losses_by_level",
        "every branch: /branch/p_loss_mw", false, true, true),
    KPI(co2_t, "t", B::Substation, "CO2 of the energy imported from the external grid(s)",
        "sum over k in C of dt max(P_ext[k], 0) EF(t_k), EF = the emission factor in t/MWh (a constant, an hourly profile or a "
        "series; the one used is the attribute 'factor' of /summary/co2_t); NaN when no factor is given (SimulationOptions::emission; "
        "scenarios give 0.78)",
        "the external grid(s) at the slack: /ext_grid/p_mw", false, true, true),
    KPI(co2_avoided_export_t, "t", B::Substation, "CO2 the energy exported to the external grid(s) avoids elsewhere",
        "sum over k in C of dt max(-P_ext[k], 0) EF_m(t_k), EF_m = the marginal emission factor when given (scenario "
        "emissions.marginal), else the average one of co2_t; the factor used is the attribute 'factor' (docs/economics.md); NaN when no factor is given",
        "the external grid(s) at the slack: /ext_grid/p_mw", false, true, true),
    KPI(bills_rm, "RM", B::CustomerMeters, "sum of all customers' bills", "sum of /bill/total_rm over customers and months; NaN when no customer has a tariff (SimulationOptions::default_tariff "
        "and DeviceSet::tariffs not given: no /bill)",
        "the customers' meters (/meter), billed by month", false, true, true),
    KPI(self_consumption, "fraction", B::CustomerMeters, "share of the behind-the-meter PV the customers use themselves",
        "pv_self_consumed_mwh / pv_behind_meter_mwh (0 without behind-the-meter PV)", "the customers' meters and their PV",
        false, true, true),
    KPI(self_sufficiency, "fraction", B::CustomerMeters, "share of the customers' gross consumption their own PV covers",
        "pv_self_consumed_mwh / (pv_self_consumed_mwh + meter_import_mwh) (0 when both are 0)",
        "the customers' meters and their PV", false, true, true),
    KPI(min_vm_pu, "p.u.", B::Network, "lowest bus voltage", "min over k in C and energised buses of /bus/vm_pu (NaN if none)",
        "every bus: /bus/vm_pu", false, true, true),
    KPI(max_vm_pu, "p.u.", B::Network, "highest bus voltage", "max over k in C and energised buses of /bus/vm_pu (NaN if none)",
        "every bus: /bus/vm_pu", false, true, true),
    KPI(voltage_violation_hours, "h", B::Network, "hours with at least one bus outside its band",
        "dt x number of k in C with some bus vm < /bus/vmin_pu or vm > /bus/vmax_pu", "every bus: /bus/vm_pu", false, true, true),
    KPI(voltage_violation_bus_steps, "", B::Network, "bus-steps outside the buses' bands",
        "number of (k in C, bus) with vm < /bus/vmin_pu or vm > /bus/vmax_pu", "every bus: /bus/vm_pu", true, true, true),
    KPI(max_line_loading_percent, "percent", B::Network, "highest line loading",
        "max over k in C of /branch/loading_percent where /branch/kind = line (0 without lines)",
        "every line: larger end current / (max_i_ka df parallel)", false, true, true),
    KPI(max_trafo_loading_percent, "percent", B::Network, "highest transformer loading",
        "max over k in C of /branch/loading_percent where /branch/kind = trafo (0 without transformers)",
        "every transformer: larger end current / rated current / (df parallel)", false, true, true),
    KPI(overloaded_branch_steps, "", B::Network, "line- and transformer-steps above the loading limit",
        "number of (k in C, line or trafo) with /branch/loading_percent > the root attribute loading_limit_percent",
        "every line and transformer: /branch/loading_percent", true, true, true),
    KPI(ev_delivered_mwh, "MWh", B::City, "energy delivered to EVs (stations, charging sites, home chargers)",
        "sum of the EV sessions' delivered energy / 1000", "the EV sessions: /summary/ev_sessions/delivered_kwh", false, true, true),
    KPI(ev_not_delivered_mwh, "MWh", B::City, "energy EVs that charged and left wanted and did not get by departure",
        "sum of /summary/ev_sessions/unmet_kwh over sessions with status served or partly_served, / 1000",
        "the EV sessions: /summary/ev_sessions", false, true, true),
    KPI(ev_blocked_mwh, "MWh", B::City, "energy wanted by public-site arrivals that found every bay taken",
        "sum of /summary/ev_sessions/unmet_kwh over sessions with status blocked, / 1000",
        "the EV sessions: /summary/ev_sessions", false, true, true),
    KPI(ev_pending_mwh, "MWh", B::City, "energy still wanted by EVs plugged in at the end of the run",
        "sum of /summary/ev_sessions/pending_kwh over sessions with status pending, / 1000",
        "the EV sessions: /summary/ev_sessions", false, true, true),
    KPI(ev_peak_mw, "MW", B::City, "largest EV charging power, all chargers together",
        "max over all k of -(sum /ev/p_mw + sum /ev_site/ev_mw + sum /home/ev_mw)", "every EV charger", false, true, true),
    KPI(battery_charged_mwh, "MWh", B::City, "AC energy into the battery devices (/battery)",
        "sum_k dt sum max(-/battery/p_mw, 0)", "the battery devices' inverters: /battery/p_mw", false, true, true),
    KPI(battery_discharged_mwh, "MWh", B::City, "AC energy out of the battery devices (/battery)",
        "sum_k dt sum max(/battery/p_mw, 0)", "the battery devices' inverters: /battery/p_mw", false, true, true),
    KPI(battery_losses_mwh, "MWh", B::City, "the battery devices' conversion and self-discharge losses",
        "battery_charged_mwh - battery_discharged_mwh - battery_storage_change_mwh", "inside the battery devices (/battery)",
        false, true, true),
    KPI(building_comfort_degree_hours, "K h", B::City, "BEMS buildings: K h outside the comfort band while occupied",
        "sum over buildings of /summary/building/comfort_degree_hours", "the buildings' indoor air temperature", false, true, true),
    KPI(non_converged_steps, "", B::Run, "steps whose power flow did not converge",
        "number of k with /solver/converged = 0 (their energies are left out of the substation and network KPIs; when no step converged, those KPIs are NaN)",
        "/solver/converged", true, true, true),
    KPI(energy_balance_max_error_mw, "MW", B::Run, "energy balance, worst step: the largest error of a converged step",
        "max over k in C of |/solver/energy_balance_mw| (P_ext + sum of all elements' p - losses)", "/solver/energy_balance_mw",
        false, true, true),
    KPI(controls_unsettled_steps, "", B::Run, "steps whose voltage controls did not settle",
        "number of steps whose control rounds ended with a voltage change above control_tolerance_pu", "the engine (not recorded)",
        true, true, false),
    KPI(home_comfort_degree_hours, "K h", B::City, "HEMS homes: K h outside the comfort band while occupied",
        "sum over homes of their comfort degree hours", "the homes' indoor air temperature (not recorded)", false, true, false),
    KPI(deenergized_buses, "", B::Network, "in-service buses no source feeds, the most at any step",
        "max over k of the number of in-service, non-isolated buses without a source in their island (NaN in /bus/vm_pu)",
        "every bus", true, true, false),
    KPI(wall_time_s, "s", B::Run, "wall-clock time of the run", "seconds from the start of run() to the summary",
        "the process (not reproducible)", false, true, false),
    KPI(pv_available_mwh, "MWh", B::City, "PV energy the PV units could have fed in before curtailment",
        "sum_k dt sum /pv/available_mw", "the PV units' inverters (/pv)", false, true, false),
    KPI(pv_self_consumed_mwh, "MWh", B::CustomerMeters,
        "behind-the-meter PV the customers use themselves (own load, own battery, own EV)",
        "sum_k dt sum_c max(PV_c[k] - max(-N_c[k], 0), 0) / 1000: a customer's PV minus what its meter exports, per step",
        "the customers' meters (/meter) and their PV (/pv with a customer, /home/pv_mw)", false, true, false),
    KPI(battery_storage_change_mwh, "MWh", B::City, "energy stored in the battery devices at the end minus at the start",
        "sum over /battery of stored energy at the end - at the start", "inside the battery devices (/battery)", false, true, false),
    KPI(steps_per_second, "1/s", B::Run, "steps computed per wall-clock second", "steps / wall_time_s",
        "the process (not reproducible)", false, false, false),
    // ---- the boundaries made explicit (issue 12) ----
    KPI(meter_import_mwh, "MWh", B::CustomerMeters, "energy the customers' meters import",
        "sum_k dt sum_c max(N_c[k], 0) / 1000 = sum of /meter/import_kwh / 1000",
        "the customers' meters (/meter: one per load)", false, true, false),
    KPI(meter_export_mwh, "MWh", B::CustomerMeters, "energy the customers' meters export",
        "sum_k dt sum_c max(-N_c[k], 0) / 1000 = sum of /meter/export_kwh / 1000",
        "the customers' meters (/meter: one per load)", false, true, false),
    KPI(pv_behind_meter_mwh, "MWh", B::CustomerMeters, "PV behind the customers' meters (PV units with a customer, home rooftops)",
        "sum_k dt sum_c PV_c[k] / 1000, PV_c = its PV units' /pv/p_mw + its homes' /home/pv_mw (kW); charging sites are not "
        "metered customers: their canopy PV is not in it", "the customers' PV inverters", false, true, false),
    KPI(load_profiles_mwh, "MWh", B::City, "consumption of the loads' profiles (not replaced by a building or home model)",
        "-sum_k dt sum /load/p_mw, all steps", "every load: /load/p_mw", false, true, false),
    KPI(ev_charging_mwh, "MWh", B::City, "EV charging drawn from the grid (stations, charging sites, home chargers; V2G counts against it)",
        "-sum_k dt (sum /ev/p_mw + sum /ev_site/ev_mw + sum /home/ev_mw), all steps", "every EV charger", false, true, false),
    KPI(building_mwh, "MWh", B::City, "consumption of the BEMS buildings", "-sum_k dt sum /building/p_mw, all steps",
        "every building: /building/p_mw", false, true, false),
    KPI(home_mwh, "MWh", B::City, "consumption of the HEMS homes' houses (without their EV, PV and battery)",
        "-sum_k dt sum /home/building_mw, all steps", "every home: /home/building_mw", false, true, false),
    KPI(battery_net_charge_mwh, "MWh", B::City,
        "net AC energy into all batteries (battery devices, charging sites', homes', network storage)",
        "-sum_k dt (sum /battery/p_mw + sum /ev_site/battery_mw + sum /home/battery_mw + sum /storage/p_mw), all steps; "
        "for the battery devices alone = battery_storage_change_mwh + battery_losses_mwh",
        "every battery's inverter", false, true, false),
    KPI(network_gen_mwh, "MWh", B::City, "energy of the network's generators, static generators and shunts (shunts count negative)",
        "sum_k dt (sum /gen/p_mw + sum /sgen/p_mw + sum /shunt/p_mw), all steps", "the network table's gen, sgen, shunt",
        false, true, false),
    KPI(losses_line_mwh, "MWh", B::Network, "losses of the lines (series and shunt)",
        "sum over k in C of dt sum of /branch/p_loss_mw where /branch/kind = line", "every line", false, true, false),
    KPI(losses_trafo_load_mwh, "MWh", B::Network, "transformers' load (series, copper) losses",
        "sum over k in C of dt sum over transformers of (/branch/p_loss_mw - /trafo/p_loss_noload_mw)", "every transformer", false,
        true, false),
    KPI(losses_trafo_noload_mwh, "MWh", B::Network, "transformers' no-load (magnetising, iron) losses",
        "sum over k in C of dt sum /trafo/p_loss_noload_mw: Re(ym)|V|^2 at the magnetising admittance (math/output.hpp)",
        "every transformer", false, true, false),
    KPI(losses_branch_mwh, "MWh", B::Network, "losses of the MATPOWER branch table's branches (not split)",
        "sum over k in C of dt sum of /branch/p_loss_mw where /branch/kind = branch", "every MATPOWER branch", false, true, false),
    KPI(losses_source_mwh, "MWh", B::Substation,
        "losses in the external grids' source impedances (ext_grid sk_mva finite; 0 for an ideal slack), not in losses_mwh",
        "sum over k in C of dt sum over ext grids of Re(S_source - S_bus): what leaves the ideal source (/ext_grid/p_mw) "
        "minus what enters its bus", "the ext grids' source impedances (docs/distribution.md, \"External grid\")", false, true,
        false),
    // ---- unbalanced networks (issue 15; NaN and not written on a balanced network) ----
    KPI(max_vuf_percent, "percent", B::Network, "worst voltage unbalance factor of a three-phase bus (unbalanced networks)",
        "max over k in C and three-phase buses of /bus/vuf_percent = |V2| / |V1| x 100 of the bus's phase-to-neutral voltages "
        "(to ground where it has no neutral)", "every three-phase bus: /bus/vuf_percent", false, true, false),
    KPI(vuf_p95_percent, "percent", B::Network, "95th percentile of the voltage unbalance factor over three-phase bus-steps",
        "the smallest multiple v of 0.001 % with at least 95 % of the values of /bus/vuf_percent (k in C, three-phase buses) <= v",
        "every three-phase bus: /bus/vuf_percent", false, true, false),
    KPI(max_neutral_current_a, "A", B::Network, "largest neutral current of a line or transformer (unbalanced networks)",
        "max over k in C and branches with a neutral conductor of 1000 x /branch/i_n_max_ka (the larger of its terminals: a Dyn "
        "transformer's LV star point counts; an earth electrode does not); NaN when no branch has one",
        "every line and transformer with a neutral: /branch/i_n_max_ka", false, true, false),
    // ---- the rest of the unbalance KPIs (issue 15, H3; unbalanced networks only, like the three above) ----
    KPI(vuf_limit_percent, "percent", B::Network, "the voltage unbalance factor limit the unbalance KPIs compare with",
        "the scenario's limits.vuf_percent (default 2: IEC 61000-2-2, 95 % of the 10-minute values; SimulationOptions::vuf_limit_percent)",
        "the setting (root attribute scenario)", false, true, false),
    KPI(vuf_bus_steps_over_limit_percent, "percent", B::Network, "share of the three-phase bus-steps whose VUF is above the limit",
        "100 x number of (k in C, three-phase bus) with /bus/vuf_percent > vuf_limit_percent / number of (k in C, three-phase bus) "
        "(NaN when there is none); IEC 61000-2-2 asks for 95 % of the 10-minute values at or below the limit: > 5 fails it",
        "every three-phase bus: /bus/vuf_percent", false, true, false),
    KPI(undervoltage_node_steps_a, "", B::Network, "phase-a node-steps below the bus's band (phase to neutral)",
        "number of (k in C, phase-a node) with |V_a - V_n| / (kV_LL / sqrt 3) < /bus/vmin_pu (to ground where the bus has no neutral)",
        "every phase-a node: /node/v_volts, /node/va_deg", true, true, false),
    KPI(undervoltage_node_steps_b, "", B::Network, "phase-b node-steps below the bus's band (phase to neutral)",
        "as undervoltage_node_steps_a for the phase-b nodes", "every phase-b node: /node/v_volts, /node/va_deg", true, true, false),
    KPI(undervoltage_node_steps_c, "", B::Network, "phase-c node-steps below the bus's band (phase to neutral)",
        "as undervoltage_node_steps_a for the phase-c nodes", "every phase-c node: /node/v_volts, /node/va_deg", true, true, false),
    KPI(overvoltage_node_steps_a, "", B::Network, "phase-a node-steps above the bus's band (phase to neutral)",
        "number of (k in C, phase-a node) with |V_a - V_n| / (kV_LL / sqrt 3) > /bus/vmax_pu (to ground where the bus has no neutral)",
        "every phase-a node: /node/v_volts, /node/va_deg", true, true, false),
    KPI(overvoltage_node_steps_b, "", B::Network, "phase-b node-steps above the bus's band (phase to neutral)",
        "as overvoltage_node_steps_a for the phase-b nodes", "every phase-b node: /node/v_volts, /node/va_deg", true, true, false),
    KPI(overvoltage_node_steps_c, "", B::Network, "phase-c node-steps above the bus's band (phase to neutral)",
        "as overvoltage_node_steps_a for the phase-c nodes", "every phase-c node: /node/v_volts, /node/va_deg", true, true, false),
    KPI(neutral_losses_mwh, "MWh", B::Network, "losses in the neutral: neutral conductors, earth electrodes, transformer star-point earths",
        "sum over k in C of dt sum_b /branch/p_loss_neutral_mw = the power into lines and transformers through their conductors on "
        "neutral nodes, sum Re(V_n conj(I_n)) over terminals (R_n |I_n|^2 for a line without mutual impedance to its neutral); "
        "part of losses_mwh; NaN when no branch has a neutral conductor",
        "every branch with a neutral: /branch/p_loss_neutral_mw", false, true, false),
    KPI(max_trafo_phase_loading_percent, "percent", B::Network, "highest per-phase transformer loading (LV winding, against the rating / 3)",
        "max over k in C, transformers and phases of /trafo/loading_{a,b,c}_percent = |I_phase| at winding 2 / (kVA / phases / kV_phase) "
        "(0 without transformers)", "every transformer's winding 2: /trafo/loading_a_percent, ..._b_, ..._c_", false, true, false),
    KPI(max_line_conductor_loading_percent, "percent", B::Network, "highest loading of any line conductor, the neutral included",
        "max over k in C, lines and conductors a, b, c, n of /branch/loading_{a,b,c,n}_percent = the larger end current / normamps "
        "(0 without lines; a line to ground, an earth electrode, has none)",
        "every line conductor: /branch/loading_a_percent, ..., /branch/loading_n_percent", false, true, false),
    // ---- resilience (issue 16, H2; written to /summary when the run had events; docs/resilience.md) ----
    KPI(energy_not_served_mwh, "MWh", B::CustomerMeters, "energy the interrupted customers' loads would have drawn",
        "sum_k dt sum over customers c interrupted at k of max(P_c[k], 0) / 1000, P_c[k] = the load's profile value (kW, at "
        "1 p.u., before a building or home model replaces it) = sum of /load/not_served_kw x dt / 1000; a customer is interrupted "
        "when its bus is de-energised (no source in its island) or an event switched its load out of service",
        "the customers (loads) of the run: /load/not_served_kw", false, true, false),
    KPI(energy_not_served_residential_mwh, "MWh", B::CustomerMeters, "energy not served, residential customers",
        "energy_not_served_mwh over the customers whose load profile has class residential", "/load/not_served_kw", false, true, false),
    KPI(energy_not_served_commercial_mwh, "MWh", B::CustomerMeters, "energy not served, commercial customers",
        "energy_not_served_mwh over the customers whose load profile has class commercial (shophouses, offices, malls, hotels)",
        "/load/not_served_kw", false, true, false),
    KPI(energy_not_served_industrial_mwh, "MWh", B::CustomerMeters, "energy not served, industrial customers",
        "energy_not_served_mwh over the customers whose load profile has class industrial", "/load/not_served_kw", false, true, false),
    KPI(customer_hours_interrupted, "h", B::CustomerMeters, "customer-hours of interruption",
        "sum over (k, customer c interrupted at k) of dt", "the customers (loads) of the run", false, true, false),
    KPI(customers_interrupted, "", B::CustomerMeters, "customers interrupted at least once in the run",
        "number of customers c interrupted at some step k", "the customers (loads) of the run", true, true, false),
    KPI(interruptions, "", B::CustomerMeters, "customer interruptions: the starts of an interruption, over all customers",
        "number of (k, c) with c interrupted at k and not at k - 1 (or k the first step)", "the customers (loads) of the run", true,
        true, false),
    KPI(customers, "", B::CustomerMeters, "the run's customers: loads in service and energised in the network as given (N_T)",
        "number of loads in service before any event whose bus an ext grid (or another source) feeds at the start",
        "the customers (loads) of the run", true, true, false),
    KPI(saidi_h, "h", B::CustomerMeters, "SAIDI of the run (IEEE 1366): customer-hours interrupted per customer",
        "customer_hours_interrupted / customers (0 without customers); every interruption counts (a step is at least a minute: "
        "sustained in IEEE 1366's sense only when dt > 5 min)", "the customers (loads) of the run", false, true, false),
    KPI(saifi, "", B::CustomerMeters, "SAIFI of the run (IEEE 1366): customer interruptions per customer",
        "interruptions / customers (0 without customers)", "the customers (loads) of the run", false, true, false),
    KPI(interrupted_steps, "", B::CustomerMeters, "steps in which at least one customer was interrupted",
        "number of k with some customer interrupted at k", "the customers (loads) of the run", true, true, false),
    KPI(islanded_steps, "", B::Network, "steps in which an island without an ext grid was energised (by grid-forming sources)",
        "number of k whose topology has an energised island without an in-service ext grid: held by grid-forming sources "
        "(droop islands, balanced networks) or by a voltage-controlled generator; an island without a source is de-energised and "
        "does not count", "every island of the topology", true, true, false),
    // ---- islanded operation (issue 16; docs/microgrid.md "Time series"; runs with events) ----
    KPI(energy_shed_deferrable_mwh, "MWh", B::CustomerMeters, "energy of deferrable customers' loads shed in droop islands (in energy_not_served_mwh)",
        "sum over k, customers c of priority deferrable shed at k of max(p_c,k, 0) dt", "/load/not_served_kw, /island/shed_level", false, true, false),
    KPI(energy_shed_essential_mwh, "MWh", B::CustomerMeters, "energy of essential customers' loads shed in droop islands (in energy_not_served_mwh)",
        "sum over k, customers c of priority essential shed at k of max(p_c,k, 0) dt", "/load/not_served_kw, /island/shed_level", false, true, false),
    KPI(shed_steps, "", B::Network, "steps in which some droop island shed load (level 1 or 2)", "number of k with a shedding level > 0",
        "/island/shed_level", true, true, false),
    KPI(critical_customer_hours_interrupted, "h", B::CustomerMeters, "customer-hours of interruption of the critical customers",
        "sum over k, critical customers c interrupted at k (de-energised, out of service or shed) of dt",
        "customers whose load type has priority critical (SimulationOptions::load_priority)", false, true, false),
    KPI(critical_load_served_hours, "h", B::CustomerMeters,
        "hours in which some critical customer was off the main grid and every such customer was supplied by an island",
        "sum over k of dt where some critical customer is in a droop island or interrupted at k, and none is interrupted",
        "customers whose load type has priority critical", false, true, false),
    KPI(island_collapses, "", B::Network, "droop islands that could not be held and were de-energised (cause in /island_collapse)",
        "number of collapses: every forming source at a P limit with the deferrable and essential loads shed (deficit) or at its "
        "charging limit (surplus)", "/island_collapse", true, true, false),
    KPI(time_to_collapse_h, "h", B::Network, "time from the start of the first islanded step to the first collapse (NaN: none)",
        "t(first collapse) - t(first islanded step)", "/island_collapse/time", false, true, false),
    KPI(island_frequency_min_hz, "Hz", B::Network, "lowest frequency of a droop island over the run (NaN: none)",
        "min over islanded k and droop islands of f_nom + df", "/island/frequency_min_hz", false, true, false),
    KPI(island_frequency_max_hz, "Hz", B::Network, "highest frequency of a droop island over the run (NaN: none)",
        "max over islanded k and droop islands of f_nom + df", "/island/frequency_max_hz", false, true, false),
    KPI(forming_soc_outage_start, "fraction", B::Network, "state of charge of the grid-forming batteries at the start of the first islanded step",
        "sum of stored energy / sum of capacity over every grid-forming battery", "/battery/soc", false, true, false),
    KPI(forming_soc_outage_end, "fraction", B::Network, "state of charge of the grid-forming batteries at the end of the last islanded step",
        "sum of stored energy / sum of capacity over every grid-forming battery", "/battery/soc", false, true, false),
    // ---- the communication layer (issue 17; written to /summary when comms are enabled; docs/comms.md) ----
    KPI(meter_data_completeness, "fraction", B::CustomerMeters, "share of the meter-intervals whose reading the head-end has (0..1)",
        "number of finite values of /headend/import_kwh / number of values of /meter/import_kwh (a reading counts when some attempt "
        "through the PLC channel got through within comms.deadline_s of its interval's end)",
        "the head-end: /headend/import_kwh against the meters' /meter/import_kwh", false, true, false),
    KPI(bill_estimation_error_rm, "RM", B::CustomerMeters, "error of the bills computed from the head-end's data against the true bills",
        "sum over customers and months of |/bill_headend/total_rm - /bill/total_rm|; the head-end's bills fill a missing interval by "
        "the same interval of the day before, else the mean of that day's received intervals, else 0 (docs/comms.md)",
        "the head-end's billing: /bill_headend/total_rm against /bill/total_rm", false, true, false),
    // ---- demand response through the channel (issue 17 H2; written when demand_response has events; docs/comms.md) ----
    KPI(dr_requested_kw, "kW", B::CustomerMeters, "mean reduction asked of the targeted devices over the events' steps",
        "sum over events e with a baseline and over the classes c it targets (buildings, HEMS homes, EV stations, charging sites) of "
        "reduction_e x max(baseline_e,c, 0) x steps_e / sum of steps_e; baseline_e,c = mean over the event's steps of the mean of the "
        "class's power at the same time on the up-to-5 latest earlier days of the same day type without an event (10 days back "
        "at most; a 5-of-5 style baseline, ASSUMPTION)",
        "the targeted classes' consumption: BEMS buildings (/building/p_mw summed, /dr), homes' net import (/home/p_mw, /dr_home), EV stations (/ev/p_mw, /dr_ev), "
        "charging sites' net import (/ev_site/p_mw, /dr_ev_site): requested_kw", false, true, false),
    KPI(dr_delivered_kw, "kW", B::CustomerMeters, "mean reduction the targeted devices delivered over the events' steps",
        "sum over events e with a baseline and over the classes c it targets of (baseline_e,c - actual_e,c) x steps_e / sum of "
        "steps_e; actual_e,c = the class's mean power over the event's steps",
        "the targeted classes' consumption, /dr, /dr_home, /dr_ev, /dr_ev_site: delivered_kw", false, true, false),
    KPI(dr_devices_reached_share, "fraction", B::CustomerMeters,
        "share of the targeted devices whose event message arrived before the event's start",
        "sum over events and targeted classes of devices reached in time / of devices targeted (in service)",
        "the head-end's DR messages: reached_in_time and devices of /dr, /dr_home, /dr_ev, /dr_ev_site", false, true, false),
    KPI(stale_price_steps, "", B::CustomerMeters, "device-steps acting on an older day's ToU price schedule than the day in force",
        "sum over price-reading devices (batteries, EV stations, EV charging sites, HEMS homes, BEMS buildings) and steps of 1 when the newest day's schedule "
        "the device has received (sent at comms.price_send_hour of the day before, through the PLC channel) is not the step's day "
        "(also when it has none of the last 8 days); 0 with a perfect channel (docs/comms.md)",
        "the devices' view of the price: the head-end's day-ahead broadcast against the tariff in force", true, true, false),
    KPI(stale_price_wrong_steps, "", B::CustomerMeters, "of stale_price_steps, the ones whose peak flag differs from the true one",
        "sum over the stale device-steps of 1 when is_peak of the schedule's day type at the step's time of day (false with no "
        "schedule) differs from the tariff's is_peak of the step (docs/comms.md)",
        "the devices' view of the price against the tariff in force", true, true, false),
    KPI(battery_setpoint_stale_steps, "", B::CustomerMeters, "battery-steps (Schedule strategy) acting on an older step's set point",
        "sum over batteries on the Schedule strategy and steps of 1 when the newest set point arrived by the step's end is an earlier "
        "step's (or none within a day: the battery idles); 0 with a perfect channel (docs/comms.md)",
        "the batteries' view of the head-end's schedule_kw", true, true, false),
    KPI(ev_limit_stale_steps, "", B::CustomerMeters, "station-steps of grid_aware EV stations and sites acting on an older step's limit",
        "sum over grid_aware stations and sites and steps of 1 when the newest limit of their aggregator arrived by the step's end "
        "(sent at each step's start, kept 16 steps) is an earlier step's, or none (then the one kept); 0 with a perfect channel",
        "the stations' view of their transformer aggregator's limit", true, true, false),
};
#undef LIBGRID_KPI
#undef KPI

}  // namespace

const char* kpi_boundary_name(KpiBoundary b) {
    switch (b) {
    case KpiBoundary::Substation: return "substation";
    case KpiBoundary::CustomerMeters: return "customer_meters";
    case KpiBoundary::City: return "city";
    case KpiBoundary::Network: return "network";
    case KpiBoundary::Run: return "run";
    case KpiBoundary::Unassigned: break;
    }
    return "unassigned";
}

std::span<const KpiInfo> summary_kpis() { return kKpis; }

bool kpi_is_resilience(const char* name) {
    for (const char* r : {"energy_not_served_mwh", "energy_not_served_residential_mwh", "energy_not_served_commercial_mwh",
                          "energy_not_served_industrial_mwh", "customer_hours_interrupted", "customers_interrupted", "interruptions",
                          "customers", "saidi_h", "saifi", "interrupted_steps", "islanded_steps", "energy_shed_deferrable_mwh",
                          "energy_shed_essential_mwh", "shed_steps", "critical_customer_hours_interrupted", "critical_load_served_hours",
                          "island_collapses", "time_to_collapse_h", "island_frequency_min_hz", "island_frequency_max_hz",
                          "forming_soc_outage_start", "forming_soc_outage_end"})
        if (std::strcmp(name, r) == 0) return true;
    return false;
}

bool kpi_is_comms(const char* name) {
    return std::strcmp(name, "meter_data_completeness") == 0 || std::strcmp(name, "bill_estimation_error_rm") == 0 ||
           std::strcmp(name, "stale_price_steps") == 0 || std::strcmp(name, "stale_price_wrong_steps") == 0 ||
           std::strcmp(name, "battery_setpoint_stale_steps") == 0 || std::strcmp(name, "ev_limit_stale_steps") == 0;
}

bool kpi_written(const KpiInfo& k, const SimulationSummary& s) {
    if (!k.in_file) return false;
    if (std::strncmp(k.name, "dr_", 3) == 0 && !s.dr) return false;  // issue 17 (H2): runs with demand_response events only
    if (kpi_is_resilience(k.name) && !s.resilience) return false;  // issue 16: runs with events only
    if (kpi_is_comms(k.name) && !s.comms) return false;  // issue 17: runs with comms only
    if (s.unbalanced) return true;
    for (const char* u : {"max_vuf_percent", "vuf_p95_percent", "max_neutral_current_a", "vuf_limit_percent", "vuf_bus_steps_over_limit_percent",
                          "undervoltage_node_steps_a", "undervoltage_node_steps_b", "undervoltage_node_steps_c", "overvoltage_node_steps_a",
                          "overvoltage_node_steps_b", "overvoltage_node_steps_c", "neutral_losses_mwh", "max_trafo_phase_loading_percent",
                          "max_line_conductor_loading_percent"})
        if (std::strcmp(k.name, u) == 0) return false;
    return true;
}

std::string summary_to_json(const SimulationSummary& s, int indent) {
    nlohmann::ordered_json j;
    j["steps"] = s.steps;
    j["planned_steps"] = s.planned_steps;
    j["completed"] = s.completed;
    j["stop_reason"] = s.stop_reason;
    j["resumed_from_step"] = s.resumed_from_step;
    nlohmann::ordered_json kpis = nlohmann::ordered_json::object();
    for (const KpiInfo& k : summary_kpis()) {
        if (!kpi_written(k, s)) continue;
        const double v = k.get(s);
        nlohmann::ordered_json e;
        if (std::isfinite(v)) e["value"] = v;
        else e["value"] = nullptr;
        e["unit"] = k.unit;
        e["boundary"] = kpi_boundary_name(k.boundary);
        kpis[k.name] = std::move(e);
    }
    j["kpis"] = std::move(kpis);
    return j.dump(indent < 0 ? -1 : indent);
}

void print_summary_table(std::ostream& os, const SimulationSummary& s) {
    char line[512];
    for (KpiBoundary b : {KpiBoundary::Substation, KpiBoundary::CustomerMeters, KpiBoundary::City, KpiBoundary::Network, KpiBoundary::Run,
                          KpiBoundary::Unassigned}) {
        bool header = false;
        for (const KpiInfo& k : summary_kpis()) {
            if (k.boundary != b || !kpi_written(k, s) || std::strcmp(k.name, "steps") == 0 || std::strcmp(k.name, "wall_time_s") == 0) continue;
            if (!header) os << "  " << kpi_boundary_name(b) << "\n";
            header = true;
            const double v = k.get(s);
            std::snprintf(line, sizeof line, k.count ? "    %-32s %14.0f %-8s %s\n" : "    %-32s %14.6g %-8s %s\n", k.name, v, k.unit, k.definition);
            os << line;
        }
    }
    os << "  (definitions: docs/kpis.md)\n";
}

}  // namespace libgrid
