// libgrid layer 1: the network model. Plain tables of plain structs in physical units
// (kV, MW, MVAr, ohm, km, kVA, percent) with stable user-chosen integer ids and no pointers
// between components: components refer to buses by bus id. A Network is a value: copyable,
// comparable and serialisable (MATPOWER .m and the project's JSON, see io/).
//
// Two kinds of branch coexist:
//  * `Branch`: a MATPOWER branch, already in per unit on the system base (r, x, b, ratio, shift);
//  * `Line` and `Transformer`: distribution components as a data sheet gives them.
// Per-unit conversion happens once, in powerflow/math_model (never here).
// Thread safety (docs/threads.md): a Network is a plain value. Several threads may read one at
// once (run_power_flow, Simulation and the writers take it by const & or by copy); changing it
// (add_*, set_*, validate's fixes) needs that no other thread reads it meanwhile.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "libgrid/core/ids.hpp"
#include "libgrid/model/branch.hpp"
#include "libgrid/model/bus.hpp"
#include "libgrid/model/ext_grid.hpp"
#include "libgrid/model/forming.hpp"
#include "libgrid/model/gen.hpp"
#include "libgrid/model/line.hpp"
#include "libgrid/model/load.hpp"
#include "libgrid/model/sgen.hpp"
#include "libgrid/model/shunt.hpp"
#include "libgrid/model/storage.hpp"
#include "libgrid/model/switch.hpp"
#include "libgrid/model/transformer.hpp"

// One header per component (model/bus.hpp, line.hpp, ...): its struct and its schema(), the one
// list of its fields that validation, the JSON reader/writer, the Python tables and the docs use.

namespace libgrid {

enum class TrafoModel : int { T = 0, Pi = 1 };

/// The whole network: a value.
struct Network {
    std::string name;
    double f_hz = 50.0;
    double sn_mva = 100.0;  ///< system base power (MATPOWER baseMVA)
    TrafoModel trafo_model = TrafoModel::T;

    std::vector<Bus> buses;
    std::vector<Branch> branches;
    std::vector<Line> lines;
    std::vector<Transformer> transformers;
    std::vector<Switch> switches;
    std::vector<Shunt> shunts;
    std::vector<Load> loads;
    std::vector<Gen> gens;
    std::vector<SGen> sgens;
    std::vector<Storage> storage;
    std::vector<ExtGrid> ext_grids;
    std::vector<FormingSource> forming;  ///< grid-forming droop sources (docs/microgrid.md)

    bool operator==(const Network&) const = default;

    /// Throws ValidationError / IdError naming the component, id and field on the first problem:
    /// duplicate ids, unknown bus ids, NaN or negative where impossible, no source at all (ext grid,
    /// slack bus or in-service grid-forming source).
    void validate() const;

    /// Index of the bus with this id in `buses`; throws IdError if unknown.
    std::size_t bus_index(Id id) const;

    /// Calls f(table) for every component table, in the order of the network JSON (buses first).
    template <class F>
    void for_each_table(F&& f) const {
        f(buses), f(lines), f(transformers), f(loads), f(sgens), f(storage), f(gens), f(shunts), f(ext_grids),
            f(switches), f(branches), f(forming);
    }
    template <class F>
    void for_each_table(F&& f) {
        f(buses), f(lines), f(transformers), f(loads), f(sgens), f(storage), f(gens), f(shunts), f(ext_grids),
            f(switches), f(branches), f(forming);
    }
};

}  // namespace libgrid
