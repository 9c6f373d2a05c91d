// libgrid Python module (_libgrid): the C++ core with numpy columns; the `libgrid` package on top
// turns them into pandas tables. The GIL is released inside every solve and run.
#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/core/schema.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <chrono>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <map>
#include <type_traits>
#include <variant>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace libgrid;

namespace {

// ---- columns of the network tables, by name, with units in the names (pandapower style) -------
template <class T>
struct Column {
    std::string name;
    std::function<py::object(const std::vector<T>&)> get;
    std::function<void(std::vector<T>&, py::handle)> set;  // empty = read-only
};

template <class T, class M>
Column<T> col(const std::string& name, M T::*member) {
    Column<T> c;
    c.name = name;
    c.get = [member](const std::vector<T>& v) -> py::object {
        using V = std::remove_cv_t<M>;
        if constexpr (std::is_same_v<V, std::string>) {
            py::list out;
            for (const T& e : v) out.append(e.*member);
            return out;
        } else if constexpr (std::is_enum_v<V>) {
            py::array_t<int> out(v.size());
            auto* p = out.mutable_data();
            for (std::size_t i = 0; i < v.size(); ++i) p[i] = static_cast<int>(v[i].*member);
            return out;
        } else {
            py::array_t<V> out(v.size());
            auto* p = out.mutable_data();
            for (std::size_t i = 0; i < v.size(); ++i) p[i] = v[i].*member;
            return out;
        }
    };
    c.set = [member, name](std::vector<T>& v, py::handle values) {
        using V = std::remove_cv_t<M>;
        if constexpr (std::is_same_v<V, std::string>) {
            auto seq = values.cast<std::vector<std::string>>();
            if (seq.size() != v.size()) throw ValidationError("column '" + name + "': expected " + std::to_string(v.size()) + " values");
            for (std::size_t i = 0; i < v.size(); ++i) v[i].*member = seq[i];
        } else if constexpr (std::is_enum_v<V>) {
            auto seq = values.cast<std::vector<int>>();
            if (seq.size() != v.size()) throw ValidationError("column '" + name + "': expected " + std::to_string(v.size()) + " values");
            for (std::size_t i = 0; i < v.size(); ++i) v[i].*member = static_cast<V>(seq[i]);
        } else {
            auto seq = values.cast<std::vector<V>>();
            if (seq.size() != v.size()) throw ValidationError("column '" + name + "': expected " + std::to_string(v.size()) + " values");
            for (std::size_t i = 0; i < v.size(); ++i) v[i].*member = seq[i];
        }
    };
    return c;
}

template <class T>
py::dict table(const std::vector<T>& v, const std::vector<Column<T>>& cols) {
    py::dict d;
    for (const auto& c : cols) d[py::str(c.name)] = c.get(v);
    return d;
}

template <class T>
void set_column(std::vector<T>& v, const std::vector<Column<T>>& cols, const std::string& kind, const std::string& name, py::handle values) {
    for (const auto& c : cols)
        if (c.name == name) return c.set(v, values);
    throw ValidationError(kind + ": unknown column '" + name + "'");
}

/// A column of an enum field: its integer values (BusType 1..4, TapSide 0..2, SwitchElement 0..2).
template <class T>
Column<T> enum_col(const std::string& name, const EnumAccess<T>& access) {
    Column<T> c;
    c.name = name;
    c.get = [access](const std::vector<T>& v) -> py::object {
        py::array_t<int> out(v.size());
        auto* p = out.mutable_data();
        for (std::size_t i = 0; i < v.size(); ++i) p[i] = access.get(v[i]);
        return out;
    };
    c.set = [access, name](std::vector<T>& v, py::handle values) {
        auto seq = values.cast<std::vector<int>>();
        if (seq.size() != v.size()) throw ValidationError("column '" + name + "': expected " + std::to_string(v.size()) + " values");
        for (std::size_t i = 0; i < v.size(); ++i) access.set(v[i], seq[i]);
    };
    return c;
}

/// The columns of a component table: every stored field of its schema (model/<component>.hpp),
/// in schema order, named as the struct member (units in the names: vn_kv, p_mw, length_km).
template <class T>
const std::vector<Column<T>>& cols() {
    static const std::vector<Column<T>> c = [] {
        std::vector<Column<T>> out;
        for (const Field<T>& f : T::schema().fields) {
            const std::string name(f.name);
            std::visit(
                [&](const auto& a) {
                    using A = std::decay_t<decltype(a)>;
                    if constexpr (std::is_same_v<A, EnumAccess<T>>) out.push_back(enum_col(name, a));
                    else if constexpr (!std::is_same_v<A, std::monostate>) out.push_back(col(name, a));
                },
                f.access);
        }
        return out;
    }();
    return c;
}

/// libgrid.schema(kind): the schema of a component kind as a list of dicts.
template <class T>
py::list schema_list() {
    py::list out;
    for (const Field<T>& f : T::schema().fields) {
        py::dict d;
        d["name"] = std::string(f.name);
        d["key"] = std::string(f.key);
        d["unit"] = std::string(f.unit);
        d["kind"] = std::string(kind_name(f.kind));
        d["stored"] = f.stored();
        d["required"] = f.required;
        d["extension"] = f.extension;
        d["default"] = default_text(f);
        d["range"] = f.range.text();
        d["check"] = std::string(check_text(f.check));
        d["ref"] = std::string(f.ref);
        py::list labels;
        for (const EnumLabel& l : f.labels) labels.append(py::make_tuple(l.value, std::string(l.label)));
        d["labels"] = labels;
        d["doc"] = std::string(f.doc);
        out.append(d);
    }
    return out;
}

py::list component_schema(const std::string& kind) {
    if (kind == "bus") return schema_list<Bus>();
    if (kind == "branch") return schema_list<Branch>();
    if (kind == "line") return schema_list<Line>();
    if (kind == "trafo" || kind == "transformer") return schema_list<Transformer>();
    if (kind == "switch") return schema_list<Switch>();
    if (kind == "shunt") return schema_list<Shunt>();
    if (kind == "load") return schema_list<Load>();
    if (kind == "gen") return schema_list<Gen>();
    if (kind == "sgen") return schema_list<SGen>();
    if (kind == "storage") return schema_list<Storage>();
    if (kind == "ext_grid") return schema_list<ExtGrid>();
    if (kind == "forming") return schema_list<FormingSource>();
    throw ValidationError("unknown component kind '" + kind + "'");
}

py::dict network_table(const Network& n, const std::string& kind) {
    if (kind == "bus") return table(n.buses, cols<Bus>());
    if (kind == "branch") return table(n.branches, cols<Branch>());
    if (kind == "line") return table(n.lines, cols<Line>());
    if (kind == "trafo") return table(n.transformers, cols<Transformer>());
    if (kind == "switch") return table(n.switches, cols<Switch>());
    if (kind == "shunt") return table(n.shunts, cols<Shunt>());
    if (kind == "load") return table(n.loads, cols<Load>());
    if (kind == "gen") return table(n.gens, cols<Gen>());
    if (kind == "sgen") return table(n.sgens, cols<SGen>());
    if (kind == "storage") return table(n.storage, cols<Storage>());
    if (kind == "ext_grid") return table(n.ext_grids, cols<ExtGrid>());
    if (kind == "forming") return table(n.forming, cols<FormingSource>());
    throw ValidationError("unknown table '" + kind + "'");
}

void network_set(Network& n, const std::string& kind, const std::string& name, py::handle v) {
    if (kind == "bus") return set_column(n.buses, cols<Bus>(), kind, name, v);
    if (kind == "branch") return set_column(n.branches, cols<Branch>(), kind, name, v);
    if (kind == "line") return set_column(n.lines, cols<Line>(), kind, name, v);
    if (kind == "trafo") return set_column(n.transformers, cols<Transformer>(), kind, name, v);
    if (kind == "switch") return set_column(n.switches, cols<Switch>(), kind, name, v);
    if (kind == "shunt") return set_column(n.shunts, cols<Shunt>(), kind, name, v);
    if (kind == "load") return set_column(n.loads, cols<Load>(), kind, name, v);
    if (kind == "gen") return set_column(n.gens, cols<Gen>(), kind, name, v);
    if (kind == "sgen") return set_column(n.sgens, cols<SGen>(), kind, name, v);
    if (kind == "storage") return set_column(n.storage, cols<Storage>(), kind, name, v);
    if (kind == "ext_grid") return set_column(n.ext_grids, cols<ExtGrid>(), kind, name, v);
    if (kind == "forming") return set_column(n.forming, cols<FormingSource>(), kind, name, v);
    throw ValidationError("unknown table '" + kind + "'");
}

template <class T>
py::array_t<T> arr(const std::vector<T>& v) {
    return py::array_t<T>(v.size(), v.data());
}

/// A numpy bool array from 0/1 chars (one copy, no Python objects).
py::array_t<bool> bool_arr(const std::vector<char>& v) {
    py::array_t<bool> a(py::ssize_t(v.size()));
    bool* out = a.mutable_data();
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] != 0;
    return a;
}

py::dict result_tables(const Network& n, const PowerFlowResult& r) {
    py::dict d;
    std::vector<Id> ids;
    for (const Bus& b : n.buses) ids.push_back(b.id);
    py::dict bus;
    bus["id"] = arr(ids);
    bus["vm_pu"] = arr(r.bus_vm_pu);
    bus["va_deg"] = arr(r.bus_va_deg);
    bus["p_mw"] = arr(r.bus_p_mw);
    bus["q_mvar"] = arr(r.bus_q_mvar);
    bus["energized"] = bool_arr(r.bus_energized);
    bus["voltage_violation"] = bool_arr(r.bus_voltage_violation);
    d["bus"] = bus;
    // a source table: id, bus, P (and Q where given), in the network's row order
    auto sources = [&](const auto& rows, const std::vector<double>& p, const std::vector<double>* q) {
        std::vector<Id> id, at;
        for (const auto& x : rows) {
            id.push_back(x.id);
            at.push_back(x.bus);
        }
        py::dict t;
        t["id"] = arr(id);
        t["bus"] = arr(at);
        t["p_mw"] = arr(p);
        if (q) t["q_mvar"] = arr(*q);
        return t;
    };
    d["gen"] = sources(n.gens, r.gen_p_mw, &r.gen_q_mvar);
    d["ext_grid"] = sources(n.ext_grids, r.ext_grid_p_mw, &r.ext_grid_q_mvar);
    py::dict fo = sources(n.forming, r.forming_p_mw, &r.forming_q_mvar);
    fo["p_limit"] = arr(r.forming_p_limit);
    fo["q_limit"] = arr(r.forming_q_limit);
    d["forming"] = fo;
    d["sgen"] = sources(n.sgens, r.sgen_p_mw, nullptr);
    bus["frequency_hz"] = arr(r.bus_frequency_hz);
    {
        std::vector<Id> ib;
        std::vector<int> inb;
        std::vector<char> idr, ico;
        std::vector<double> ifr, ip;
        py::list cause;
        for (const IslandResult& is : r.islands) {
            ib.push_back(is.bus);
            inb.push_back(is.n_buses);
            idr.push_back(is.droop);
            ico.push_back(is.collapsed);
            ifr.push_back(is.frequency_hz);
            ip.push_back(is.forming_p_mw);
            cause.append(is.cause);
        }
        py::dict isl;
        isl["bus"] = arr(ib);
        isl["n_buses"] = arr(inb);
        isl["droop"] = bool_arr(idr);
        isl["collapsed"] = bool_arr(ico);
        isl["frequency_hz"] = arr(ifr);
        isl["forming_p_mw"] = arr(ip);
        isl["cause"] = cause;
        d["island"] = isl;
    }
    std::vector<Id> bid, bf, bt;
    for (const Branch& b : n.branches) { bid.push_back(b.id); bf.push_back(b.from_bus); bt.push_back(b.to_bus); }
    py::dict br;
    br["id"] = arr(bid);
    br["from"] = arr(bf);
    br["to"] = arr(bt);
    br["p_from_mw"] = arr(r.branch_p_from_mw);
    br["q_from_mvar"] = arr(r.branch_q_from_mvar);
    br["p_to_mw"] = arr(r.branch_p_to_mw);
    br["q_to_mvar"] = arr(r.branch_q_to_mvar);
    br["loading_percent"] = arr(r.branch_loading_percent);
    d["branch"] = br;
    std::vector<Id> lid, lf, lt;
    for (const Line& l : n.lines) { lid.push_back(l.id); lf.push_back(l.from_bus); lt.push_back(l.to_bus); }
    py::dict line;
    line["id"] = arr(lid);
    line["from"] = arr(lf);
    line["to"] = arr(lt);
    line["p_from_mw"] = arr(r.line_p_from_mw);
    line["q_from_mvar"] = arr(r.line_q_from_mvar);
    line["p_to_mw"] = arr(r.line_p_to_mw);
    line["q_to_mvar"] = arr(r.line_q_to_mvar);
    line["i_from_ka"] = arr(r.line_i_from_ka);
    line["i_to_ka"] = arr(r.line_i_to_ka);
    line["pl_mw"] = arr(r.line_pl_mw);
    line["loading_percent"] = arr(r.line_loading_percent);
    d["line"] = line;
    std::vector<Id> tid, th, tl;
    for (const Transformer& t : n.transformers) { tid.push_back(t.id); th.push_back(t.hv_bus); tl.push_back(t.lv_bus); }
    py::dict tr;
    tr["id"] = arr(tid);
    tr["hv_bus"] = arr(th);
    tr["lv_bus"] = arr(tl);
    tr["p_hv_mw"] = arr(r.trafo_p_hv_mw);
    tr["q_hv_mvar"] = arr(r.trafo_q_hv_mvar);
    tr["p_lv_mw"] = arr(r.trafo_p_lv_mw);
    tr["q_lv_mvar"] = arr(r.trafo_q_lv_mvar);
    tr["pl_mw"] = arr(r.trafo_pl_mw);
    tr["loading_percent"] = arr(r.trafo_loading_percent);
    tr["tap_pos"] = arr(r.trafo_tap_pos);
    d["trafo"] = tr;
    return d;
}

}  // namespace

void bind_simulation(py::module_& m);  // bindings/simulation.cpp
void bind_scenario(py::module_& m);    // bindings/scenario.cpp
void bind_topology(py::module_& m);    // bindings/topology.cpp

PYBIND11_MODULE(_libgrid, m) {
    m.doc() = "libgrid core (C++)";
    m.attr("__version__") = LIBGRID_VERSION;
    m.attr("have_klu") = bool(LIBGRID_HAVE_KLU);
    static py::exception<Error> base_error(m, "Error", PyExc_RuntimeError);
    static py::exception<ParseError> parse_error(m, "ParseError", base_error.ptr());
    static py::exception<ValidationError> validation_error(m, "ValidationError", base_error.ptr());
    static py::exception<IdError> id_error(m, "IdError", base_error.ptr());
    static py::exception<SolverError> solver_error(m, "SolverError", base_error.ptr());
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ParseError& e) {
            PyErr_SetString(parse_error.ptr(), e.what());
        } catch (const ValidationError& e) {
            PyErr_SetString(validation_error.ptr(), e.what());
        } catch (const IdError& e) {
            PyErr_SetString(id_error.ptr(), e.what());
        } catch (const SolverError& e) {
            PyErr_SetString(solver_error.ptr(), e.what());
        } catch (const Error& e) {
            PyErr_SetString(base_error.ptr(), e.what());
        }
    });

    m.def("schema", &component_schema, py::arg("kind"),
          "The schema of a component kind ('bus', 'line', 'trafo', ...): one dict per field with name, JSON key, "
          "unit, kind, default, range, check, doc.");

    py::class_<Network>(m, "Network")
        .def(py::init<>())
        .def_static("from_matpower", &read_matpower, py::arg("path"))
        .def_static("from_json", &read_case_json, py::arg("path"))
        .def_static("from_file", &read_network, py::arg("path"))
        .def_static("parse_matpower", [](const std::string& text) { return parse_matpower(text); })
        .def_static("parse_json", [](const std::string& text) { return parse_case_json(text); })
        .def("to_matpower", [](const Network& n) { return to_matpower(n); })
        .def("to_json", [](const Network& n) { return to_case_json(n); })
        .def("write", &write_network, py::arg("path"))
        .def("validate", &Network::validate)
        .def("table", &network_table, py::arg("kind"))
        .def("set_column", &network_set, py::arg("kind"), py::arg("column"), py::arg("values"))
        .def("copy", [](const Network& n) { return Network(n); })
        .def("__eq__", [](const Network& a, const Network& b) { return a == b; })
        .def_readwrite("name", &Network::name)
        .def_readwrite("sn_mva", &Network::sn_mva)
        .def_readwrite("f_hz", &Network::f_hz)
        .def_property("trafo_model", [](const Network& n) { return n.trafo_model == TrafoModel::T ? "t" : "pi"; },
                      [](Network& n, const std::string& s) {
                          if (s != "t" && s != "pi") throw ValidationError("trafo_model must be 't' or 'pi'");
                          n.trafo_model = s == "t" ? TrafoModel::T : TrafoModel::Pi;
                      })
        .def("__repr__", [](const Network& n) {
            return "<libgrid.Network '" + n.name + "': " + std::to_string(n.buses.size()) + " buses, " +
                   std::to_string(n.branches.size() + n.lines.size() + n.transformers.size()) + " branches>";
        });

    py::class_<PowerFlowResult>(m, "PowerFlowResult")
        .def_readonly("converged", &PowerFlowResult::converged)
        .def_readonly("iterations", &PowerFlowResult::iterations)
        .def_readonly("max_mismatch", &PowerFlowResult::max_mismatch)
        .def_readonly("solve_time_s", &PowerFlowResult::solve_time_s)
        .def_readonly("message", &PowerFlowResult::message)
        .def_readonly("losses_mw", &PowerFlowResult::losses_mw)
        .def_readonly("losses_mvar", &PowerFlowResult::losses_mvar)
        .def_readonly("deenergized_buses", &PowerFlowResult::deenergized_buses)
        .def_property_readonly("method", [](const PowerFlowResult& r) { return to_string(r.method_used); });

    m.def(
        "run_pf",
        [](const Network& net, const std::string& method, const std::string& linear_solver, double tolerance, int max_iterations,
           bool flat_start, bool enforce_q_limits, bool run_controls) {
            PowerFlowOptions opt;
            opt.method = parse_method(method);
            opt.linear_solver = parse_linear_solver(linear_solver);
            opt.tolerance = tolerance;
            opt.max_iterations = max_iterations;
            opt.flat_start = flat_start;
            opt.enforce_q_limits = enforce_q_limits;
            opt.run_controls = run_controls;
            PowerFlowResult r;
            {
                py::gil_scoped_release release;
                r = run_power_flow(net, opt);
            }
            return py::make_tuple(r, result_tables(net, r));
        },
        py::arg("net"), py::arg("method") = "nr", py::arg("linear_solver") = "default", py::arg("tolerance") = 1e-8,
        py::arg("max_iterations") = 30, py::arg("flat_start") = false, py::arg("enforce_q_limits") = false, py::arg("run_controls") = true);

    m.def(
        "time_nr",
        [](const Network& net, const std::string& linear_solver, int repeats, double tolerance) {
            // The numeric Newton-Raphson solve alone, from the case voltages (topology, Ybus and the
            // symbolic analysis done once beforehand), median of `repeats`: for benchmarks.
            MathModel mm = build_math_model(net);
            const std::vector<cplx> V0 = initial_voltages(net, mm, false);
            NewtonRaphsonSolver nr(parse_linear_solver(linear_solver));
            nr.analyze(mm);
            std::vector<double> t;
            int iters = 0;
            bool ok = true;
            {
                py::gil_scoped_release release;
                for (int r = 0; r < repeats; ++r) {
                    std::vector<cplx> V = V0;
                    const auto t0 = std::chrono::steady_clock::now();
                    SolveStatus st = nr.solve(mm, V, tolerance, 30);
                    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
                    ok = ok && st.converged;
                    iters = st.iterations;
                }
            }
            std::sort(t.begin(), t.end());
            return py::make_tuple(t.empty() ? 0.0 : t[t.size() / 2], iters, ok);
        },
        py::arg("net"), py::arg("linear_solver") = "klu", py::arg("repeats") = 50, py::arg("tolerance") = 1e-8);

    { void bind_stepping(py::module_&); bind_stepping(m); }  // bindings/stepping.cpp: issue 19, SteppedSimulation
    bind_simulation(m);
    bind_scenario(m);
    { void bind_batch(py::module_&); bind_batch(m); }  // bindings/batch.cpp: run_batch, run_sweep, load_sweep_file
    { void bind_batch_pf(py::module_&); bind_batch_pf(m); }  // bindings/batch_pf.cpp: run_pf_batch
    { void bind_unbalanced(py::module_&); bind_unbalanced(m); }  // bindings/unbalanced.cpp: UNetwork, read_dss, run_unbalanced_pf
    bind_topology(m);
    { void bind_economics(py::module_&); bind_economics(m); }  // bindings/economics.cpp: issue 18
}
