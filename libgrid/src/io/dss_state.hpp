// libgrid io (internal): the OpenDSS reader's state - the network being built plus what OpenDSS
// keeps beside each element to resolve it (bus specs, units, which impedance input came last).
#pragma once

#include "dss_lexer.hpp"

#include <libgrid/io/dss.hpp>
#include <libgrid/model/unetwork.hpp>

#include <complex>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace libgrid::dss {

enum class Cls { Line, LineCode, Load, Transformer, RegControl, Capacitor, Vsource, LoadShape, CapControl, None };

/// Sequence or matrix impedance data per unit length, as OpenDSS's LineCode and Line hold it.
struct ZData {
    int nphases = 3;
    bool sym = true;
    double r1 = 0.0580, x1 = 0.1206, r0 = 0.1784, x0 = 0.4047;  ///< ohm per unit length (OpenDSS: per kft)
    double c1 = 3.4, c0 = 1.6;                                    ///< nF per unit length
    std::vector<std::complex<double>> z;  ///< n x n, per unit length
    std::vector<double> c;                ///< n x n, nF per unit length
    double basefreq = 60.0;
    void recalc_from_sequence();          ///< z, c from r1..c0
};

struct LineCodeDef {
    std::string name;
    ZData zd;
    std::string units = "none";
    double normamps = 400.0, emergamps = 600.0;
    int neutral = 3;  ///< 1-based conductor Kron eliminates
};

struct LineDef {
    std::string bus1, bus2;
    ZData zd;
    std::string length_units = "none";
    std::string code_units = "none";
    bool has_code = false;
    double units_convert = 1.0;  ///< OpenDSS FUnitsConvert
    double len = 1.0;
    bool cap_specified = false;
};

struct XfDef {
    int active = 0;  ///< 0-based active winding (wdg=)
    std::vector<std::string> buses;
};

struct LoadDef {
    std::string bus1;
    int spec = 0;  ///< 0 kW+PF, 1 kW+kvar, 2 kVA+PF
    double pf = 0.88;
    double kva = 0.0;
};

struct CapDef {
    std::string bus1, bus2;
};

struct VsrcDef {
    std::string bus1 = "sourcebus";
    int zspec = 1;  ///< 1 MVAsc, 2 Isc, 3 ohms
    double mvasc3 = 2000.0, mvasc1 = 2100.0, isc3 = 10000.0, isc1 = 10540.0;
    double r1 = 1.65, x1 = 6.6, r0 = 1.9, x0 = 5.7, x1r1 = 4.0, x0r0 = 3.0;
    bool z0_given = false;
};

struct RegDef {
    std::string transformer;
    std::string file;
    long line = 0;
};

/// Added (h8): a CapControl's capacitor by name until the end of the script.
struct CapCtlDef {
    std::string capacitor;
    std::string file;
    long line = 0;
};

/// Where a command came from.
struct Where {
    std::string file;
    long line = 0;
    std::string dir;  ///< directory for relative file names
};

struct State {
    DssReadResult out;
    DssReadOptions options;
    bool have_circuit = false;
    double default_base_freq = 60.0;
    std::vector<LineCodeDef> linecodes;
    std::vector<LineDef> line_defs;
    std::vector<XfDef> xf_defs;
    std::vector<LoadDef> load_defs;
    std::vector<CapDef> cap_defs;
    std::vector<VsrcDef> vsrc_defs;
    std::vector<RegDef> reg_defs;
    std::vector<CapCtlDef> capctl_defs;  ///< added (h8)
    Cls active = Cls::None;
    int active_index = -1;
    int depth = 0;  ///< Redirect nesting
    Where where;
    /// Name (lower case) -> index, per class (find_element/new_element) and for the buses
    /// (resolve_buses, find_bus): hash look-ups, so a feeder of N elements reads in O(N), not O(N^2).
    std::unordered_map<std::string, int> element_index[static_cast<int>(Cls::None)];
    std::unordered_map<std::string, int> bus_index;
    /// New/Edit count, and its value at the last resolve_buses: the buses are resolved again only
    /// when an element changed since (a script of N SetkVBase lines stays O(N)).
    std::uint64_t edits = 1, resolved_edits = 0;
    /// Index of bus `lower_name` after resolve_buses, -1 when absent.
    int find_bus(const std::string& lower_name) const {
        const auto it = bus_index.find(lower_name);
        return it == bus_index.end() ? -1 : it->second;
    }

    UNetwork& net() { return out.net; }
    void clear();
    [[noreturn]] void fail(const std::string& message) const;
    void note(const std::string& message);
};

/// "line", "linecode", ... -> Cls (Cls::None when not one of ours).
Cls class_of(const std::string& lower_name);
const char* class_name(Cls c);

/// Index of element `name` (lower case) of class c, -1 when absent.
int find_element(State& st, Cls c, const std::string& name);
/// New element of class c (replacing nothing: OpenDSS's New on an existing name edits it).
int new_element(State& st, Cls c, const std::string& name);
/// Apply the properties of a command to element (c, index), in order; positional ones follow
/// the class's property order. Recomputes what depends on them.
void edit_element(State& st, Cls c, int index, const std::vector<Param>& params, std::size_t first);
/// Recompute an element's derived data (line matrices, load kvar, source impedances).
void finish_element(State& st, Cls c, int index);
/// Rebuild the bus list from every element's bus specs (in class order) and resolve nodes.
void resolve_buses(State& st);
/// Resolve RegControl -> transformer names.
void resolve_regcontrols(State& st);
/// Added (h8): resolve CapControl -> capacitor names; check the monitored elements exist.
void resolve_capcontrols(State& st);

}  // namespace libgrid::dss
