// libgrid model: the schema of every component (one place per field: name, unit, range, doc).
// Out of line so that the headers of the components stay light (core/schema.hpp is included here
// and where schemas are read: validation, the JSON reader/writer, the Python tables).
#include <libgrid/core/schema.hpp>
#include <libgrid/model/branch.hpp>
#include <libgrid/model/bus.hpp>
#include <libgrid/model/ext_grid.hpp>
#include <libgrid/model/forming.hpp>
#include <libgrid/model/gen.hpp>
#include <libgrid/model/line.hpp>
#include <libgrid/model/load.hpp>
#include <libgrid/model/sgen.hpp>
#include <libgrid/model/shunt.hpp>
#include <libgrid/model/storage.hpp>
#include <libgrid/model/switch.hpp>
#include <libgrid/model/transformer.hpp>

namespace libgrid {

const Schema<Branch>& Branch::schema() {
    using B = Branch;
    static const Schema<Branch> s{"branch", "branches", {
        field("id", &B::id).req().ext().about("unique branch id"),
        field("from_bus", &B::from_bus).req().ext().refers("bus").about("from bus id (tap side)"),
        field("to_bus", &B::to_bus).req().ext().refers("bus").about("to bus id"),
        field("r_pu", &B::r_pu, "p.u.").ext().model(Check::Finite).about("series resistance on sn_mva; any sign (equivalents)"),
        field("x_pu", &B::x_pu, "p.u.").ext().model(Check::Finite).about("series reactance; r and x not both 0"),
        field("b_pu", &B::b_pu, "p.u.").ext().model(Check::Finite).about("total line charging susceptance"),
        field("rate_a_mva", &B::rate_a_mva, "MVA").ext().in(ge(0)).about("long-term rating; 0 = unlimited"),
        field("rate_b_mva", &B::rate_b_mva, "MVA").ext().in(ge(0)).about("short-term rating; 0 = unlimited"),
        field("rate_c_mva", &B::rate_c_mva, "MVA").ext().in(ge(0)).about("emergency rating; 0 = unlimited"),
        field("ratio", &B::ratio).ext().in(ge(0)).model(Check::NonNegative).about("off-nominal tap ratio at the from end; 0 means 1"),
        field("shift_deg", &B::shift_deg, "deg").ext().model(Check::Finite).about("phase shift; applies even when ratio is 0"),
        field("in_service", &B::in_service).ext(),
        field("angmin_deg", &B::angmin_deg, "deg").ext().about("minimum angle difference"),
        field("angmax_deg", &B::angmax_deg, "deg").ext().about(">= angmin_deg; maximum angle difference"),
    }};
    return s;
}

const Schema<Bus>& Bus::schema() {
    using B = Bus;
    static const Schema<Bus> s{"bus", "buses", {
        field("id", &B::id).req().about("unique bus id"),
        field("name", &B::name).about("free text; a number in a file becomes text (1 -> \"1\")"),
        field("vn_kv", &B::vn_kv, "kV").req().in(gt(0)).model(Check::NonNegative)
            .about("nominal line-to-line voltage (a MATPOWER bus may have 0: no physical component on it)"),
        file_field<B>("type", FieldKind::String).about("b/n/m: informational, discarded; the writer writes \"b\""),
        field("zone", &B::zone).about("integer; a text zone (\"CIGRE_LV\") is dropped"),
        field("in_service", &B::in_service),
        field("type", &B::type, {{1, "pq"}, {2, "pv"}, {3, "slack"}, {4, "isolated"}}).json("bus_type").ext()
            .about("declared type; the slack comes from ext_grids, PV behaviour from gens"),
        field("vm_pu", &B::vm_pu, "p.u.").ext().in(ge(0)).model(Check::Finite).about("initial voltage magnitude"),
        field("va_deg", &B::va_deg, "deg").ext().model(Check::Finite).about("initial voltage angle"),
        field("area", &B::area).ext().about("MATPOWER area"),
        field("vmin_pu", &B::vmin_pu, "p.u.").ext().in(ge(0)).model(Check::NotNan)
            .shown_default("0.94 if vn_kv < 1, else 0.90").about("lower limit of the band used in violation reports"),
        field("vmax_pu", &B::vmax_pu, "p.u.").ext().model(Check::NotNan)
            .shown_default("1.05 if vn_kv < 1, else 1.10").about(">= vmin_pu; upper limit of the band"),
    }};
    return s;
}

const Schema<ExtGrid>& ExtGrid::schema() {
    using E = ExtGrid;
    static const Schema<ExtGrid> s{"ext_grid", "ext_grids", {
        field("id", &E::id).req().about("unique ext_grid id"),
        file_field<E>("name", FieldKind::String).about("discarded; written as null"),
        field("bus", &E::bus).req().refers("bus").about("bus id"),
        field("vm_pu", &E::vm_pu, "p.u.").in(gt(0)).model(Check::Positive).about("voltage set point"),
        field("va_deg", &E::va_deg, "deg").json("va_degree").model(Check::Finite).about("voltage angle"),
        file_field<E>("slack_weight", FieldKind::Double).about("discarded; written as null"),
        field("in_service", &E::in_service),
        field("sk_mva", &E::sk_mva, "MVA").in(Range{0.0, kInf, true, false, true}).model(Check::PositiveOrInf)
            .about("short-circuit power of the source; null = infinite (ideal slack at the bus). Finite: the "
                   "ideal voltage vm_pu/va_degree sits behind z = sn_mva/sk_mva p.u. (power-grid-model's source)"),
        field("rx_ratio", &E::rx_ratio).in(ge(0)).model(Check::NonNegative)
            .about("R/X of the source impedance (used when sk_mva is finite)"),
    }};
    return s;
}

const Schema<FormingSource>& FormingSource::schema() {
    using F = FormingSource;
    const Range any{-kInf, kInf, false, false, true};
    static const Schema<FormingSource> s{"forming", "forming", {
        field("id", &F::id).req().ext().about("unique forming source id"),
        field("name", &F::name).ext(),
        field("bus", &F::bus).req().ext().refers("bus").about("bus id"),
        field("p_set_mw", &F::p_set_mw, "MW").ext().model(Check::Finite)
            .about("P0, active power at nominal frequency, generator convention (< 0: charging)"),
        field("q_set_mvar", &F::q_set_mvar, "Mvar").ext().model(Check::Finite).about("Q0, reactive power at |V| = v_set_pu"),
        field("v_set_pu", &F::v_set_pu, "p.u.").ext().in(gt(0)).model(Check::Positive).about("voltage at which Q = Q0"),
        field("kp_mw_per_hz", &F::kp_mw_per_hz, "MW/Hz").ext().in(gt(0)).model(Check::Positive)
            .about("P-f droop: P = p_set_mw - kp_mw_per_hz (f - f_hz)"),
        field("kq_mvar_per_pu", &F::kq_mvar_per_pu, "Mvar/p.u.").ext().in(gt(0)).model(Check::Positive)
            .about("Q-V droop: Q = q_set_mvar - kq_mvar_per_pu (|V| - v_set_pu); it holds the island's voltage level"),
        field("p_min_mw", &F::p_min_mw, "MW").ext().in(any).model(Check::NotNan).about("lower P limit (a battery: minus its charging power); null = unlimited"),
        field("p_max_mw", &F::p_max_mw, "MW").ext().in(any).model(Check::NotNan).about(">= p_min_mw; null = unlimited"),
        field("q_min_mvar", &F::q_min_mvar, "Mvar").ext().in(any).model(Check::NotNan).about("null = unlimited"),
        field("q_max_mvar", &F::q_max_mvar, "Mvar").ext().in(any).model(Check::NotNan).about(">= q_min_mvar; null = unlimited"),
        field("sn_mva", &F::sn_mva, "MVA").ext().in(ge(0)).model(Check::NonNegative).about("rating; 0 = not given"),
        field("in_service", &F::in_service).ext(),
    }};
    return s;
}

const Schema<Gen>& Gen::schema() {
    using G = Gen;
    const Range any{-kInf, kInf, false, false, true};
    static const Schema<Gen> s{"gen", "gens", {
        field("id", &G::id).req().about("unique gen id"),
        file_field<G>("name", FieldKind::String).about("discarded; written as null"),
        field("bus", &G::bus).req().refers("bus").about("bus id"),
        field("p_mw", &G::p_mw, "MW").model(Check::Finite).about("active power, generator convention"),
        field("vm_pu", &G::vm_pu, "p.u.").in(gt(0)).model(Check::Positive).about("voltage set point"),
        field("mbase_mva", &G::mbase_mva, "MVA").json("sn_mva").in(gt(0)).about("machine base (MATPOWER mBase)"),
        field("min_q_mvar", &G::min_q_mvar, "Mvar").in(any).model(Check::NotNan).about("null = unlimited"),
        field("max_q_mvar", &G::max_q_mvar, "Mvar").in(any).model(Check::NotNan).about(">= min_q_mvar; null = unlimited"),
        file_field<G>("scaling", FieldKind::Double).shown_default("1")
            .about(">= 0; Gen has no scaling: p_mw*scaling is stored and the writer writes 1"),
        file_field<G>("slack", FieldKind::Bool).shown_default("false")
            .about("true makes the bus a slack when no in-service ext_grid sits on it; written true on a slack bus"),
        file_field<G>("slack_weight", FieldKind::Double).about("discarded; written as null"),
        file_field<G>("type", FieldKind::String).about("discarded; written as null"),
        field("in_service", &G::in_service),
        field("q_mvar", &G::q_mvar, "Mvar").ext().model(Check::Finite).about("Q output where the bus is not voltage controlled"),
        field("min_p_mw", &G::min_p_mw, "MW").ext().about("lower active power limit"),
        field("max_p_mw", &G::max_p_mw, "MW").ext().in(any).about(">= min_p_mw; null = unlimited"),
    }};
    return s;
}

const Schema<Line>& Line::schema() {
    using L = Line;
    static const Schema<Line> s{"line", "lines", {
        field("id", &L::id).req().about("unique line id"),
        field("name", &L::name),
        field("from_bus", &L::from_bus).req().refers("bus").about("from bus id; the bus needs vn_kv > 0"),
        field("to_bus", &L::to_bus).req().refers("bus").about("to bus id; the bus needs vn_kv > 0"),
        field("length_km", &L::length_km, "km").req().in(gt(0)).model(Check::Positive),
        field("r_ohm_per_km", &L::r_ohm_per_km, "ohm/km").req().in(ge(0)).model(Check::NonNegative),
        field("x_ohm_per_km", &L::x_ohm_per_km, "ohm/km").req().model(Check::Finite)
            .about("finite; series compensation may be negative; r and x not both 0"),
        field("c_nf_per_km", &L::c_nf_per_km, "nF/km").in(ge(0)).model(Check::NonNegative),
        field("g_us_per_km", &L::g_us_per_km, "µS/km").in(ge(0)).model(Check::NonNegative),
        field("max_i_ka", &L::max_i_ka, "kA").in(Range{0, kInf, true, false, true}).model(Check::PositiveOrInf)
            .about("thermal rating per circuit; null = unlimited"),
        field("parallel", &L::parallel).in(ge(1)).model(Check::AtLeastOne).about("parallel circuits"),
        field("df", &L::df).in(in(0, 1, true, false)).model(Check::Positive).about("derating factor"),
        field("type", &L::type).about("cs cable / ol overhead (informational)"),
        field("in_service", &L::in_service),
    }};
    return s;
}

const Schema<Load>& Load::schema() {
    using L = Load;
    static const Schema<Load> s{"load", "loads", {
        field("id", &L::id).req().about("unique load id"),
        field("name", &L::name),
        field("bus", &L::bus).req().refers("bus").about("bus id"),
        field("p_mw", &L::p_mw, "MW").model(Check::Finite).about("active power, consumption positive"),
        field("q_mvar", &L::q_mvar, "Mvar").model(Check::Finite).about("reactive power"),
        field("const_z_p_percent", &L::const_z_p_percent, "%").in(in(0, 100)).model(Check::Finite)
            .about("constant-impedance share of p_mw; z + i <= 100"),
        field("const_z_q_percent", &L::const_z_q_percent, "%").in(in(0, 100)).model(Check::Finite)
            .about("constant-impedance share of q_mvar; z + i <= 100"),
        field("const_i_p_percent", &L::const_i_p_percent, "%").in(in(0, 100)).model(Check::Finite)
            .about("constant-current share of p_mw"),
        field("const_i_q_percent", &L::const_i_q_percent, "%").in(in(0, 100)).model(Check::Finite)
            .about("constant-current share of q_mvar"),
        file_field<L>("sn_mva", FieldKind::Double, "MVA").about("ignored; the writer writes null"),
        field("scaling", &L::scaling).in(ge(0)).model(Check::NonNegative)
            .about("kept apart from p_mw: the effective load is p_mw*scaling"),
        field("type", &L::type),
        field("in_service", &L::in_service),
    }};
    return s;
}

const Schema<SGen>& SGen::schema() {
    using G = SGen;
    static const Schema<SGen> s{"sgen", "sgens", {
        field("id", &G::id).req().about("unique sgen id"),
        field("name", &G::name),
        field("bus", &G::bus).req().refers("bus").about("bus id"),
        field("p_mw", &G::p_mw, "MW").model(Check::Finite).about("active power, generator convention"),
        field("q_mvar", &G::q_mvar, "Mvar").model(Check::Finite).about("reactive power"),
        field("sn_mva", &G::sn_mva, "MVA").in(ge(0)).about("rating; 0 = not given"),
        field("scaling", &G::scaling).in(ge(0)).model(Check::NonNegative).about("the injection is p_mw*scaling"),
        field("type", &G::type),
        field("in_service", &G::in_service),
        field("fw_enabled", &G::fw_enabled).ext()
            .about("frequency-watt (IEEE 1547-2018) in a droop island: P falls above f_hz + fw_deadband_hz"),
        field("fw_deadband_hz", &G::fw_deadband_hz, "Hz").ext().in(ge(0)).model(Check::NonNegative)
            .about("frequency-watt deadband"),
        field("fw_droop_percent", &G::fw_droop_percent, "%").ext().in(gt(0)).model(Check::Positive)
            .about("frequency-watt droop: sn_mva (else p_mw*scaling) per fw_droop_percent of f_hz"),
    }};
    return s;
}

const Schema<Shunt>& Shunt::schema() {
    using S = Shunt;
    static const Schema<Shunt> s{"shunt", "shunts", {
        field("id", &S::id).req().about("unique shunt id"),
        file_field<S>("name", FieldKind::String).about("discarded (Shunt has no name); written as null"),
        field("bus", &S::bus).req().refers("bus").about("bus id"),
        field("p_mw", &S::p_mw, "MW").model(Check::Finite).about("per step, drawn at vn_kv (load convention)"),
        field("q_mvar", &S::q_mvar, "Mvar").model(Check::Finite).about("per step; < 0 is a capacitor"),
        file_field<S>("vn_kv", FieldKind::Double, "kV").shown_default("the bus vn_kv")
            .about("> 0; p, q are referred to the bus voltage by (vn_bus/vn_kv)^2; written as the bus vn_kv"),
        field("step", &S::step).in(ge(0)).about("<= max_step; steps in service"),
        field("max_step", &S::max_step).in(ge(1)).about("number of steps"),
        field("in_service", &S::in_service),
        field("switched", &S::switched).ext().about("switched-capacitor control"),
        field("v_low_pu", &S::v_low_pu, "p.u.").ext().in(gt(0)).about("add a step below this voltage"),
        field("v_high_pu", &S::v_high_pu, "p.u.").ext().about("> v_low_pu; remove a step above this voltage"),
    }};
    return s;
}

const Schema<Storage>& Storage::schema() {
    using S = Storage;
    static const Schema<Storage> s{"storage", "storage", {
        field("id", &S::id).req().about("unique storage id"),
        field("name", &S::name),
        field("bus", &S::bus).req().refers("bus").about("bus id"),
        field("p_mw", &S::p_mw, "MW").model(Check::Finite).about("active power, load convention (charging positive)"),
        field("q_mvar", &S::q_mvar, "Mvar").model(Check::Finite).about("reactive power"),
        field("sn_mva", &S::sn_mva, "MVA").in(ge(0)).about("rating; 0 = not given"),
        field("soc_percent", &S::soc_percent, "%").in(in(0, 100)).about("state of charge"),
        field("min_e_mwh", &S::min_e_mwh, "MWh").in(ge(0)).about("minimum stored energy"),
        field("max_e_mwh", &S::max_e_mwh, "MWh").in(ge(0)).about("capacity; when > 0, >= min_e_mwh"),
        field("scaling", &S::scaling).in(ge(0)).model(Check::NonNegative).about("the power is p_mw*scaling"),
        field("type", &S::type),
        field("in_service", &S::in_service),
    }};
    return s;
}

const Schema<Switch>& Switch::schema() {
    using S = Switch;
    static const Schema<Switch> s{"switch", "switches", {
        field("id", &S::id).req().about("unique switch id"),
        field("name", &S::name),
        field("bus", &S::bus).req().refers("bus").about("bus id"),
        field("element", &S::element).req()
            .about("a bus id (et b), line id (l) or transformer id (t), which must exist; l/t: bus is one of its ends"),
        field("et", &S::et, {{0, "b"}, {1, "l"}, {2, "t"}}).req().about("element type"),
        field("type", &S::type),
        field("closed", &S::closed),
        file_field<S>("z_ohm", FieldKind::Double, "ohm")
            .about("switches are ideal: non-zero on a bus-bus switch is rejected; the writer writes 0"),
    }};
    return s;
}

const Schema<Transformer>& Transformer::schema() {
    using T = Transformer;
    static const Schema<Transformer> s{"transformer", "transformers", {
        field("id", &T::id).req().about("unique transformer id"),
        field("name", &T::name),
        field("hv_bus", &T::hv_bus).req().refers("bus").about("HV bus id; the bus needs vn_kv > 0"),
        field("lv_bus", &T::lv_bus).req().refers("bus").about("LV bus id; the bus needs vn_kv > 0"),
        field("sn_mva", &T::sn_mva, "MVA").req().in(gt(0)).model(Check::Positive).about("rated power"),
        field("vn_hv_kv", &T::vn_hv_kv, "kV").req().in(gt(0)).model(Check::Positive).about("rated HV voltage"),
        field("vn_lv_kv", &T::vn_lv_kv, "kV").req().in(gt(0)).model(Check::Positive).about("rated LV voltage"),
        field("vk_percent", &T::vk_percent, "%").req().in(gt(0)).model(Check::Positive).about("short-circuit voltage"),
        field("vkr_percent", &T::vkr_percent, "%").in(ge(0)).model(Check::NonNegative).about("<= vk_percent; its real part"),
        field("pfe_kw", &T::pfe_kw, "kW").in(ge(0)).model(Check::NonNegative).about("iron losses"),
        field("i0_percent", &T::i0_percent, "%").model(Check::Finite)
            .about("no-load current; may be negative (case118 has capacitive MATPOWER branches)"),
        field("shift_deg", &T::shift_deg, "deg").json("shift_degree").model(Check::Finite).about("LV lags HV by this angle"),
        field("tap_side", &T::tap_side, {{0, ""}, {1, "hv"}, {2, "lv"}}).about("tap changer side; null = none"),
        field("tap_neutral", &T::tap_neutral, "step").about("tap position of the rated ratio"),
        field("tap_min", &T::tap_min, "step").about("lowest tap position"),
        field("tap_max", &T::tap_max, "step").about(">= tap_min; highest tap position"),
        field("tap_step_percent", &T::tap_step_percent, "%").model(Check::Finite)
            .about("voltage change per step; may be negative (PGM MV/LV units)"),
        field("tap_step_deg", &T::tap_step_deg, "deg").json("tap_step_degree").model(Check::Finite).about("angle change per step"),
        field("tap_pos", &T::tap_pos, "step").shown_default("tap_neutral")
            .about("tap position; not range checked (case118 has -1 with no range)"),
        file_field<T>("tap_changer_type", FieldKind::String)
            .about("\"Ratio\" or null; the writer writes \"Ratio\" when tap_side is set"),
        field("parallel", &T::parallel).in(ge(1)).model(Check::AtLeastOne).about("parallel units"),
        field("df", &T::df).in(in(0, 1, true, false)).model(Check::Positive).about("derating factor"),
        field("in_service", &T::in_service),
        field("oltc", &T::oltc).ext().about("on-load tap changer control; needs tap_side"),
        field("oltc_bus", &T::oltc_bus).ext().about("controlled bus id; -1 = the LV bus"),
        field("oltc_vm_pu", &T::oltc_vm_pu, "p.u.").ext().in(gt(0)).about("voltage set point"),
        field("oltc_band_pu", &T::oltc_band_pu, "p.u.").ext().in(gt(0)).about("full dead band: vm +- band/2"),
    }};
    return s;
}

}  // namespace libgrid
