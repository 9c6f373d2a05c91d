// libgrid model: the balanced Network as a three-phase UNetwork (issue 15).
//
// `to_unetwork` turns every bus, line, transformer, load and ext grid of a balanced `Network` into
// the unbalanced model's elements (model/unetwork.hpp), keeping each id in the new `id` fields, so
// that a balanced study can be re-run per phase: loads on the phases the options give (three-phase
// balanced by default), LV lines four-wire with the neutral modelled and earthed, transformers with
// their vector group. Rules, defaults and their sources: docs/unbalanced.md, "From a balanced
// Network". A balanced network converted with three-phase loads gives the balanced power flow's
// bus voltages (phase a = the positive sequence) where the elements agree (every transformer
// without a magnetising branch: the balanced T model puts it mid-winding, OpenDSS at winding 2).
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/model/unetwork.hpp>

#include <map>
#include <string>

namespace libgrid {

struct ToUnbalancedOptions {
    /// Zero- over positive-sequence ratios of a three-wire line (the Network has no r0/x0/c0):
    /// OpenDSS's default line (PDElements/Line.pas: R1 0.058, X1 0.1206, R0 0.1784, X0 0.4047
    /// ohm/kft, C1 3.4, C0 1.6 nF/kft).
    double r0_r1 = 0.1784 / 0.0580, x0_x1 = 0.4047 / 0.1206, c0_c1 = 1.6 / 3.4;  ///< ratios, dimensionless
    /// Lines whose buses are at or below this voltage (kV, line to line) are LV: four-wire when
    /// `model_neutral` (phases 1, 2, 3 and the neutral 4), else three-wire as above.
    double lv_kv_max = 1.0;  ///< kV, line to line
    bool model_neutral = true;
    /// The neutral's resistance over a phase conductor's (1: a 4-core cable of equal cores); its
    /// reactance is the phase's. A four-wire line's matrix has no mutual terms: the phases see
    /// r + jx (the balanced line's positive sequence, exactly), a phase-neutral loop 2 (r + jx)
    /// for equal cores (docs/melaka.md's single-phase service rule).
    double neutral_r_ratio = 1.0;  ///< dimensionless
    /// Earth electrode (ohm) from the neutral to ground at every LV bus with a load (the
    /// customer's installation earth of a multi-grounded neutral); <= 0: none.
    double customer_earth_ohm = 10.0;
    /// Earth of the LV star point at each transformer (ohm, the winding's rneut); < 0: solidly.
    double substation_earth_ohm = 1.0;
    /// Phases per load id: "a", "b", "c", "ab", "bc", "ca", "abc" (case-insensitive); absent:
    /// `default_load_phases`. A load on one phase is wye between that phase and the neutral.
    std::map<Id, std::string> load_phases;
    std::string default_load_phases = "abc";
    /// Phases per line id (LV lines only): a single-phase line ("a", "b" or "c") is a two-wire
    /// service, the phase and the neutral (the neutral must be modelled). Absent: every phase.
    std::map<Id, std::string> line_phases;
    /// Vector group per transformer id: "Dyn1", "Dyn5", "Dyn11", ... (any odd clock), "YNyn0",
    /// "YNyn4", "YNyn8", "Dd0", ... (clock 0, 4, 8). Absent: from shift_deg (clock =
    /// shift / 30, pandapower's convention: LV lags HV by shift): odd clock Dyn, else YNyn.
    std::map<Id, std::string> vector_groups;
    /// A closed bus-bus switch becomes a switch line of this resistance and reactance (ohm; the
    /// balanced model fuses the buses).
    double switch_ohm = 1e-6;
    /// Load voltage band (OpenDSS vminpu / vmaxpu, vlowpu = vminpu - 0.1) outside which a
    /// constant-power load turns constant impedance. Wide by default: the balanced model's loads
    /// keep their law at any voltage.
    double load_vminpu = 0.6, load_vmaxpu = 1.4;  ///< p.u. (OpenDSS vminpu / vmaxpu)
    bool operator==(const ToUnbalancedOptions&) const = default;  ///< issue 15 (H1): scenarios compare settings
};

/// The balanced network as a three-phase one. Names: buses "b<id>", lines "l<id>", switches
/// "sw<id>", transformers "t<id>", loads "ld<id>", the first ext grid "source" (the others
/// "source<id>"), earth electrodes "earth_b<id>" (id -1). Throws ValidationError naming the
/// element, id and field for what the unbalanced model does not take: generators, static
/// generators or storage with non-zero power, non-capacitive shunts, MATPOWER branches, lines with
/// conductance, an out-of-service bus with an in-service element, bad phases or vector groups.
UNetwork to_unetwork(const Network& net, const ToUnbalancedOptions& opt = {});

}  // namespace libgrid
