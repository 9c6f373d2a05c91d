// libgrid Python module: the unbalanced model (model/unetwork.hpp, io/dss.hpp,
// powerflow/unbalanced.hpp). The `libgrid` package wraps it (bindings/python/libgrid/unbalanced.py):
//
//   _libgrid.read_dss(path) / read_dss_string(text, name, base_dir) -> (UNetwork, notes)
//   _libgrid.UNetwork: .table(kind) -> {column: list} for "buses", "lines", "transformers", "loads",
//       "capacitors", "regcontrols", "vsources"; .to_dss(path), .to_dss_string(), .copy(),
//       .apply_loadshapes_at(hour), .validate(), .name, ==
//   _libgrid.run_unbalanced_pf(net, controls, method, tolerance, max_iterations) -> dict of
//       scalars and column tables (see `result_dict`); the taps settled by the controls stay in `net`.
#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
using namespace libgrid;

namespace {

constexpr double kRad2Deg = 57.29577951308232;

/// "1.2.3" from node numbers (as OpenDSS writes them after a bus name).
std::string nodes_text(const std::vector<int>& nodes) {
    std::string s;
    for (int n : nodes) {
        if (!s.empty()) s += '.';
        s += std::to_string(n);
    }
    return s;
}

std::string bus_name(const UNetwork& net, int bus) { return bus >= 0 && bus < int(net.buses.size()) ? net.buses[std::size_t(bus)].name : ""; }

/// A table as {column: list}, one row per element: each column a function of the row.
template <class T>
using RowFn = std::function<py::object(const T&)>;

template <class T>
py::dict table(const std::vector<T>& rows, const std::vector<std::pair<std::string, RowFn<T>>>& cols) {
    py::dict d;
    for (const auto& c : cols) {
        py::list l;
        for (const T& r : rows) l.append(c.second(r));
        d[py::str(c.first)] = l;
    }
    return d;
}

template <class T, class F>
std::pair<std::string, RowFn<T>> c(const char* name, F f) {
    return {name, [f](const T& r) { return py::cast(f(r)); }};
}

py::dict buses_table(const UNetwork& net) {
    // The nodes of a bus are those its elements' terminals use (UBus holds none itself).
    std::vector<std::set<int>> nodes(net.buses.size());
    auto add = [&](const UTerminal& t) {
        if (t.bus < 0 || t.bus >= int(nodes.size())) return;
        for (int n : t.nodes) if (n > 0) nodes[std::size_t(t.bus)].insert(n);
    };
    for (const ULine& l : net.lines) { add(l.bus1); add(l.bus2); }
    for (const UTransformer& t : net.transformers) for (const UWinding& w : t.windings) add(w.bus);
    for (const ULoad& l : net.loads) add(l.bus1);
    for (const UCapacitor& k : net.capacitors) { add(k.bus1); add(k.bus2); }
    for (const UVsource& s : net.vsources) add(s.bus1);
    py::list name, kv, x, y, nd, ids;
    for (std::size_t b = 0; b < net.buses.size(); ++b) {
        name.append(net.buses[b].name);
        ids.append(net.buses[b].id);
        kv.append(net.buses[b].kv_base_ll);
        x.append(net.buses[b].has_coords ? net.buses[b].x : NAN);
        y.append(net.buses[b].has_coords ? net.buses[b].y : NAN);
        nd.append(nodes_text(std::vector<int>(nodes[b].begin(), nodes[b].end())));
    }
    py::dict d;
    d["name"] = name; d["nodes"] = nd; d["kv_base_ll"] = kv; d["x"] = x; d["y"] = y;
    d["id"] = ids;  // issue 15
    return d;
}

py::dict lines_table(const UNetwork& net) {
    using L = ULine;
    return table<L>(net.lines, {c<L>("name", [](const L& l) { return l.name; }),
                                c<L>("bus1", [&net](const L& l) { return bus_name(net, l.bus1.bus); }),
                                c<L>("nodes1", [](const L& l) { return nodes_text(l.bus1.nodes); }),
                                c<L>("bus2", [&net](const L& l) { return bus_name(net, l.bus2.bus); }),
                                c<L>("nodes2", [](const L& l) { return nodes_text(l.bus2.nodes); }),
                                c<L>("nphases", [](const L& l) { return l.nphases; }),
                                c<L>("length_km", [](const L& l) { return l.length_km; }),
                                c<L>("linecode", [](const L& l) { return l.linecode; }),
                                c<L>("r_ohm_per_km", [](const L& l) { return l.r_ohm_per_km; }),
                                c<L>("x_ohm_per_km", [](const L& l) { return l.x_ohm_per_km; }),
                                c<L>("c_nf_per_km", [](const L& l) { return l.c_nf_per_km; }),
                                c<L>("norm_amps", [](const L& l) { return l.norm_amps; }),
                                c<L>("emerg_amps", [](const L& l) { return l.emerg_amps; }),
                                c<L>("is_switch", [](const L& l) { return l.is_switch; }),
                                c<L>("enabled", [](const L& l) { return l.enabled; }),
                                c<L>("id", [](const L& l) { return l.id; })});  // issue 15
}

py::dict transformers_table(const UNetwork& net) {
    using T = UTransformer;
    std::vector<std::pair<std::string, RowFn<T>>> cols = {
        c<T>("name", [](const T& t) { return t.name; }), c<T>("nphases", [](const T& t) { return t.nphases; }),
        c<T>("windings", [](const T& t) { return int(t.windings.size()); })};
    std::size_t nw = 2;
    for (const T& t : net.transformers) nw = std::max(nw, t.windings.size());
    for (std::size_t w = 0; w < nw; ++w) {
        const std::string k = std::to_string(w + 1);
        auto wd = [w](const T& t) -> const UWinding* { return w < t.windings.size() ? &t.windings[w] : nullptr; };
        cols.emplace_back("bus" + k, [&net, wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? bus_name(net, x->bus.bus) : ""); });
        cols.emplace_back("nodes" + k, [wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? nodes_text(x->bus.nodes) : ""); });
        cols.emplace_back("conn" + k, [wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? (x->delta ? "delta" : "wye") : ""); });
        cols.emplace_back("kv" + k, [wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? x->kv : double(NAN)); });
        cols.emplace_back("kva" + k, [wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? x->kva : double(NAN)); });
        cols.emplace_back("r" + k + "_pct", [wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? x->r_pct : double(NAN)); });
        cols.emplace_back("tap" + k + "_pu", [wd](const T& t) { const UWinding* x = wd(t); return py::cast(x ? x->tap : double(NAN)); });
    }
    cols.push_back(c<T>("xhl_pct", [](const T& t) { return t.xhl_pct; }));
    cols.push_back(c<T>("xht_pct", [](const T& t) { return t.xht_pct; }));
    cols.push_back(c<T>("xlt_pct", [](const T& t) { return t.xlt_pct; }));
    cols.push_back(c<T>("noload_loss_pct", [](const T& t) { return t.noload_loss_pct; }));
    cols.push_back(c<T>("imag_pct", [](const T& t) { return t.imag_pct; }));
    cols.push_back(c<T>("enabled", [](const T& t) { return t.enabled; }));
    cols.push_back(c<T>("id", [](const T& t) { return t.id; }));  // issue 15
    return table<T>(net.transformers, cols);
}

py::dict loads_table(const UNetwork& net) {
    using L = ULoad;
    return table<L>(net.loads, {c<L>("name", [](const L& l) { return l.name; }),
                                c<L>("bus", [&net](const L& l) { return bus_name(net, l.bus1.bus); }),
                                c<L>("nodes", [](const L& l) { return nodes_text(l.bus1.nodes); }),
                                c<L>("nphases", [](const L& l) { return l.nphases; }),
                                c<L>("conn", [](const L& l) { return std::string(l.delta ? "delta" : "wye"); }),
                                c<L>("kv", [](const L& l) { return l.kv; }), c<L>("kw", [](const L& l) { return l.kw; }),
                                c<L>("kvar", [](const L& l) { return l.kvar; }), c<L>("model", [](const L& l) { return l.model; }),
                                c<L>("vminpu", [](const L& l) { return l.vminpu; }), c<L>("vmaxpu", [](const L& l) { return l.vmaxpu; }),
                                c<L>("daily", [](const L& l) { return l.daily; }), c<L>("yearly", [](const L& l) { return l.yearly; }),
                                c<L>("base_kw", [](const L& l) { return l.base_kw; }),
                                c<L>("base_kvar", [](const L& l) { return l.base_kvar; }),
                                c<L>("enabled", [](const L& l) { return l.enabled; }),
                                c<L>("id", [](const L& l) { return l.id; })});  // issue 15
}

py::dict capacitors_table(const UNetwork& net) {
    using K = UCapacitor;
    auto kvar_in = [](const K& k) {
        double s = 0;
        for (std::size_t i = 0; i < k.kvar.size(); ++i) s += i < k.states.size() && k.states[i] ? k.kvar[i] : 0.0;
        return s;
    };
    return table<K>(net.capacitors, {c<K>("name", [](const K& k) { return k.name; }),
                                     c<K>("bus", [&net](const K& k) { return bus_name(net, k.bus1.bus); }),
                                     c<K>("nodes", [](const K& k) { return nodes_text(k.bus1.nodes); }),
                                     c<K>("nphases", [](const K& k) { return k.nphases; }),
                                     c<K>("conn", [](const K& k) { return std::string(k.delta ? "delta" : "wye"); }),
                                     c<K>("kv", [](const K& k) { return k.kv; }),
                                     c<K>("kvar", [](const K& k) { double s = 0; for (double x : k.kvar) s += x; return s; }),
                                     c<K>("steps", [](const K& k) { return int(k.kvar.size()); }),
                                     c<K>("kvar_in", kvar_in), c<K>("enabled", [](const K& k) { return k.enabled; })});
}

py::dict regcontrols_table(const UNetwork& net) {
    using R = URegControl;
    auto tap = [&net](const R& r) {
        if (r.transformer < 0 || r.transformer >= int(net.transformers.size())) return double(NAN);
        const UTransformer& t = net.transformers[std::size_t(r.transformer)];
        return r.winding >= 1 && r.winding <= int(t.windings.size()) ? t.windings[std::size_t(r.winding - 1)].tap : double(NAN);
    };
    return table<R>(net.regcontrols,
                    {c<R>("name", [](const R& r) { return r.name; }),
                     c<R>("transformer", [&net](const R& r) {
                         return r.transformer >= 0 && r.transformer < int(net.transformers.size()) ? net.transformers[std::size_t(r.transformer)].name : "";
                     }),
                     c<R>("winding", [](const R& r) { return r.winding; }), c<R>("vreg_volts", [](const R& r) { return r.vreg; }),
                     c<R>("band_volts", [](const R& r) { return r.band; }), c<R>("ptratio", [](const R& r) { return r.ptratio; }),
                     c<R>("ctprim_a", [](const R& r) { return r.ctprim; }), c<R>("r_volts", [](const R& r) { return r.r; }),
                     c<R>("x_volts", [](const R& r) { return r.x; }), c<R>("ptphase", [](const R& r) { return r.ptphase; }),
                     c<R>("maxtapchange", [](const R& r) { return r.maxtapchange; }), c<R>("tap_pu", tap),
                     c<R>("enabled", [](const R& r) { return r.enabled; })});
}

/// Added (h8): the capacitor controls (OpenDSS CapControl).
py::dict capcontrols_table(const UNetwork& net) {
    using K = UCapControl;
    static const char* kTypes[] = {"current", "voltage", "kvar", "time", "pf"};
    return table<K>(net.capcontrols,
                    {c<K>("name", [](const K& k) { return k.name; }), c<K>("element", [](const K& k) { return k.element; }),
                     c<K>("terminal", [](const K& k) { return k.terminal; }),
                     c<K>("capacitor", [&net](const K& k) {
                         return k.capacitor >= 0 && k.capacitor < int(net.capacitors.size()) ? net.capacitors[std::size_t(k.capacitor)].name : "";
                     }),
                     c<K>("type", [](const K& k) { return std::string(kTypes[int(k.type)]); }),
                     c<K>("onsetting", [](const K& k) { return k.onsetting; }), c<K>("offsetting", [](const K& k) { return k.offsetting; }),
                     c<K>("ptratio", [](const K& k) { return k.ptratio; }), c<K>("ctratio", [](const K& k) { return k.ctratio; }),
                     c<K>("delay_s", [](const K& k) { return k.delay_s; }), c<K>("delayoff_s", [](const K& k) { return k.delayoff_s; }),
                     c<K>("voltoverride", [](const K& k) { return k.voltoverride; }),
                     c<K>("vmax_volts", [](const K& k) { return k.vmax; }), c<K>("vmin_volts", [](const K& k) { return k.vmin; }),
                     c<K>("enabled", [](const K& k) { return k.enabled; })});
}

py::dict vsources_table(const UNetwork& net) {
    using S = UVsource;
    return table<S>(net.vsources, {c<S>("name", [](const S& s) { return s.name; }),
                                   c<S>("bus", [&net](const S& s) { return bus_name(net, s.bus1.bus); }),
                                   c<S>("nodes", [](const S& s) { return nodes_text(s.bus1.nodes); }),
                                   c<S>("nphases", [](const S& s) { return s.nphases; }),
                                   c<S>("basekv", [](const S& s) { return s.basekv; }), c<S>("pu", [](const S& s) { return s.pu; }),
                                   c<S>("angle_deg", [](const S& s) { return s.angle_deg; }),
                                   c<S>("r1_ohm", [](const S& s) { return s.z1_ohm.real(); }),
                                   c<S>("x1_ohm", [](const S& s) { return s.z1_ohm.imag(); }),
                                   c<S>("r0_ohm", [](const S& s) { return s.z0_ohm.real(); }),
                                   c<S>("x0_ohm", [](const S& s) { return s.z0_ohm.imag(); }),
                                   c<S>("enabled", [](const S& s) { return s.enabled; }),
                                   c<S>("id", [](const S& s) { return s.id; })});  // issue 15
}

py::dict unetwork_table(const UNetwork& net, const std::string& kind) {
    if (kind == "buses") return buses_table(net);
    if (kind == "lines") return lines_table(net);
    if (kind == "transformers") return transformers_table(net);
    if (kind == "loads") return loads_table(net);
    if (kind == "capacitors") return capacitors_table(net);
    if (kind == "regcontrols") return regcontrols_table(net);
    if (kind == "vsources") return vsources_table(net);
    if (kind == "capcontrols") return capcontrols_table(net);  // added (h8)
    throw ValidationError("unbalanced network: no table '" + kind +
                          "' (there are buses, lines, transformers, loads, capacitors, regcontrols, vsources, capcontrols)");
}

template <class T>
py::array_t<T> array(const std::vector<T>& v) {
    py::array_t<T> a(py::ssize_t(v.size()));
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

py::dict node_table(const UNetwork& net, const UNodeResults& n) {
    py::list bus;
    std::vector<double> v(n.bus.size());
    for (std::size_t k = 0; k < n.bus.size(); ++k) {
        bus.append(bus_name(net, n.bus[k]));
        v[k] = n.vm_volts[k];
    }
    py::dict d;
    d["bus"] = bus; d["phase"] = array(n.phase); d["v_volts"] = array(v); d["vm_pu"] = array(n.vm_pu); d["va_deg"] = array(n.va_deg);
    return d;
}

/// One row per element terminal conductor.
py::dict element_table(const UNetwork& net, const std::vector<UElementResult>& els) {
    py::list name, bus;
    std::vector<int> terminal, node;
    std::vector<double> p, q, ia, ideg;
    for (const UElementResult& e : els)
        for (std::size_t t = 0; t < e.terminals.size(); ++t) {
            const UTerminalResult& tr = e.terminals[t];
            for (std::size_t k = 0; k < tr.power_kva.size(); ++k) {
                name.append(e.name);
                bus.append(bus_name(net, tr.bus));
                terminal.push_back(int(t) + 1);
                node.push_back(k < tr.nodes.size() ? tr.nodes[k] : -1);
                p.push_back(tr.power_kva[k].real());
                q.push_back(tr.power_kva[k].imag());
                const cplx i = k < tr.current_a.size() ? tr.current_a[k] : cplx(NAN, NAN);
                ia.push_back(std::abs(i));
                ideg.push_back(std::arg(i) * kRad2Deg);
            }
        }
    py::dict d;
    d["element"] = name; d["terminal"] = array(terminal); d["bus"] = bus; d["node"] = array(node);
    d["p_kw"] = array(p); d["q_kvar"] = array(q); d["i_a"] = array(ia); d["i_deg"] = array(ideg);
    return d;
}

py::dict unbalance_table(const UNetwork& net, const std::vector<UUnbalance>& u) {
    py::list bus;
    std::vector<double> vuf, v0, v1, v2, vn;
    for (const UUnbalance& x : u) {
        bus.append(bus_name(net, x.bus));
        vuf.push_back(x.vuf_pct); v0.push_back(x.v0_volts); v1.push_back(x.v1_volts); v2.push_back(x.v2_volts);
        vn.push_back(x.v_neutral_volts);
    }
    py::dict d;
    d["bus"] = bus; d["vuf_pct"] = array(vuf); d["v0_volts"] = array(v0); d["v1_volts"] = array(v1); d["v2_volts"] = array(v2);
    d["v_neutral_volts"] = array(vn);
    return d;
}

py::dict result_dict(const UNetwork& net, const UPfResult& r) {
    py::dict d;
    d["converged"] = r.converged; d["iterations"] = r.iterations; d["total_iterations"] = r.total_iterations;
    d["control_iterations"] = r.control_iterations; d["method"] = std::string(to_string(r.method_used)); d["message"] = r.message;
    d["source_kw"] = r.source_kva.real(); d["source_kvar"] = r.source_kva.imag();
    d["losses_kw"] = r.losses_kva.real(); d["losses_kvar"] = r.losses_kva.imag();
    std::vector<double> pp(3, 0.0), qp(3, 0.0);
    for (const auto& s : r.source_kva_phase)
        for (std::size_t ph = 0; ph < 3; ++ph) { pp[ph] += s[ph].real(); qp[ph] += s[ph].imag(); }
    d["source_kw_phase"] = pp; d["source_kvar_phase"] = qp;
    d["node"] = node_table(net, r.node);
    d["element"] = element_table(net, r.element);
    py::list el_name, el_lp, el_lq;
    for (const UElementResult& e : r.element) { el_name.append(e.name); el_lp.append(e.losses_kva.real()); el_lq.append(e.losses_kva.imag()); }
    py::dict losses;
    losses["element"] = el_name; losses["losses_kw"] = el_lp; losses["losses_kvar"] = el_lq;
    d["losses"] = losses;
    d["unbalance"] = unbalance_table(net, r.unbalance);
    py::list tr, tt, tw, tp, tpos;
    for (const UTapResult& t : r.taps) { tr.append(t.regcontrol); tt.append(t.transformer); tw.append(t.winding); tp.append(t.tap_pu); tpos.append(t.position); }
    py::dict taps;
    taps["regcontrol"] = tr; taps["transformer"] = tt; taps["winding"] = tw; taps["tap_pu"] = tp; taps["position"] = tpos;
    d["taps"] = taps;
    py::list cc, cn, cs, cstates;  // added (h8): one row per step of a controlled capacitor
    for (const UCapState& c : r.capacitors)
        for (std::size_t k = 0; k < c.states.size(); ++k) { cc.append(c.capcontrol); cn.append(c.capacitor); cs.append(k + 1); cstates.append(c.states[k]); }
    py::dict caps;
    caps["capacitor"] = cn; caps["capcontrol"] = cc; caps["step"] = cs; caps["state"] = cstates;
    d["capacitors"] = caps;
    return d;
}

py::tuple read_result(DssReadResult&& r) { return py::make_tuple(std::move(r.net), r.notes); }

}  // namespace

namespace {

/// Added (issue 15, h5): to_unetwork and the Melaka grid as built.
void bind_to_unetwork(py::module_& m) {
    using O = ToUnbalancedOptions;
    py::class_<O>(m, "ToUnbalancedOptions")
        .def(py::init<>())
        .def_readwrite("r0_r1", &O::r0_r1).def_readwrite("x0_x1", &O::x0_x1).def_readwrite("c0_c1", &O::c0_c1)
        .def_readwrite("lv_kv_max", &O::lv_kv_max).def_readwrite("model_neutral", &O::model_neutral)
        .def_readwrite("neutral_r_ratio", &O::neutral_r_ratio).def_readwrite("customer_earth_ohm", &O::customer_earth_ohm)
        .def_readwrite("substation_earth_ohm", &O::substation_earth_ohm).def_readwrite("load_phases", &O::load_phases)
        .def_readwrite("default_load_phases", &O::default_load_phases).def_readwrite("line_phases", &O::line_phases)
        .def_readwrite("vector_groups", &O::vector_groups).def_readwrite("switch_ohm", &O::switch_ohm)
        .def_readwrite("load_vminpu", &O::load_vminpu).def_readwrite("load_vmaxpu", &O::load_vmaxpu);
    m.def("to_unetwork", &to_unetwork, py::arg("net"), py::arg("options") = O{});
    m.def(
        "melaka_unetwork",
        [](const std::string& size, std::uint64_t seed, std::uint64_t phase_seed, double imbalance,
           const std::map<Id, std::string>& rephase, double load_scale, const O& convert) {
            MelakaGridOptions go;
            go.size = parse_grid_size(size);
            go.seed = seed;
            MelakaPhaseOptions po;
            po.seed = phase_seed;
            po.imbalance = imbalance;
            po.rephase = rephase;
            po.load_scale = load_scale;
            po.convert = convert;
            MelakaUGrid u;
            {
                py::gil_scoped_release release;
                u = melaka_unetwork(generate_melaka_grid(go), po);
            }
            return py::make_tuple(std::move(u.net), u.customer_phases);
        },
        py::arg("size") = "small", py::arg("seed") = 1, py::arg("phase_seed") = 1, py::arg("imbalance") = 0.0,
        py::arg("rephase") = std::map<Id, std::string>{}, py::arg("load_scale") = 1.0, py::arg("convert") = O{});
}
}  // namespace

void bind_unbalanced(py::module_& m) {
    py::class_<UNetwork>(m, "UNetwork")
        .def(py::init<>())
        .def_readwrite("name", &UNetwork::name)
        .def("table", &unetwork_table, py::arg("kind"))
        .def("validate", &UNetwork::validate)
        .def("copy", [](const UNetwork& n) { return UNetwork(n); })
        .def("to_dss", &write_dss, py::arg("path"))
        .def("to_dss_string", &to_dss_string)
        .def("apply_loadshapes_at", &apply_loadshapes_at, py::arg("hour"))
        .def_property_readonly("base_frequency_hz", [](const UNetwork& n) { return n.settings.base_frequency_hz; })
        .def_property_readonly("voltage_bases_kv", [](const UNetwork& n) { return n.settings.voltage_bases_kv; })
        .def_property_readonly("control_mode", [](const UNetwork& n) { return n.settings.control_mode; })
        .def("__eq__", [](const UNetwork& a, const UNetwork& b) { return a == b; })
        .def("__repr__", [](const UNetwork& n) {
            return "<libgrid.UNetwork '" + n.name + "': " + std::to_string(n.buses.size()) + " buses, " + std::to_string(n.lines.size()) +
                   " lines, " + std::to_string(n.transformers.size()) + " transformers, " + std::to_string(n.loads.size()) + " loads>";
        });
    m.def(
        "read_dss",
        [](const std::string& path, bool skip_missing_redirect) {
            DssReadOptions ro;
            ro.missing_redirect_is_error = !skip_missing_redirect;
            return read_result(read_dss(path, ro));
        },
        py::arg("path"), py::arg("skip_missing_redirect") = false);
    m.def("read_dss_string",
          [](const std::string& text, const std::string& name, const std::string& base_dir) { return read_result(read_dss_string(text, name, base_dir)); },
          py::arg("text"), py::arg("name") = "<string>", py::arg("base_dir") = ".");
    m.def(
        "run_unbalanced_pf",
        [](UNetwork& net, const std::string& controls, const std::string& method, double tolerance, int max_iterations) {
            if (controls != "static" && controls != "off") throw ValidationError("controls: expected 'static' or 'off', got '" + controls + "'");
            UPfOptions opt;
            opt.controls = controls == "off" ? UControlMode::off : UControlMode::static_;
            opt.method = parse_umethod(method);
            opt.tolerance = tolerance;
            opt.max_iterations = max_iterations;
            UPfResult r;
            {
                py::gil_scoped_release release;
                r = run_unbalanced_pf(net, opt);
            }
            return result_dict(net, r);
        },
        py::arg("net"), py::arg("controls") = "static", py::arg("method") = "auto", py::arg("tolerance") = 1e-9, py::arg("max_iterations") = 100);
    // Added (h6): the compiled re-solve (UPowerFlow); it keeps the network alive.
    py::class_<UPowerFlow>(m, "UPowerFlow")
        .def(py::init([](UNetwork& net, const std::string& controls, const std::string& method, double tolerance, int max_iterations) {
                 if (controls != "static" && controls != "off") throw ValidationError("controls: expected 'static' or 'off', got '" + controls + "'");
                 UPfOptions opt;
                 opt.controls = controls == "off" ? UControlMode::off : UControlMode::static_;
                 opt.method = parse_umethod(method);
                 opt.tolerance = tolerance;
                 opt.max_iterations = max_iterations;
                 return std::make_unique<UPowerFlow>(net, opt);
             }),
             py::arg("net"), py::arg("controls") = "static", py::arg("method") = "auto", py::arg("tolerance") = 1e-9,
             py::arg("max_iterations") = 100, py::keep_alive<1, 2>())
        .def("update_loads", &UPowerFlow::update_loads)
        .def("reset_start", &UPowerFlow::reset_start)
        .def("solve", [](UPowerFlow& pf) {
            py::gil_scoped_release release;
            const USolveStats st = pf.solve();
            return std::make_pair(st.converged, st.iterations);
        })
        .def("result", [](const UPowerFlow& pf) { return result_dict(pf.network(), pf.result()); })
        .def_property_readonly("reduced", &UPowerFlow::reduced);
    bind_to_unetwork(m);
}
