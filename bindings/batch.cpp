// libgrid Python module: batches and in-process sweeps (simulation/batch.hpp, scenario/sweep.hpp).
//
//   _libgrid.run_batch(items, threads=1, progress=None)      items: Scenario, (Scenario, output) or
//                                                           {"net", "devices", "start", "step_s", "n_steps", ...}
//   _libgrid.run_sweep(base, variants, threads, output_dir, progress=None)   variants: [[(key, yaml value)]]
//   _libgrid.load_sweep_file(path)                          -> {"base", "variants", "output_dir", "workers", "name"}
//   _libgrid.summary_kpis(summary dict)                     -> the /summary KPI names and units
//
// Each returns one row per item: {"ok", "error", "summary" (as Simulation.run), "kpis" (the /summary
// scalars, by name), "units"}. The GIL is released while the batch runs; Ctrl-C (SIGINT) stops the
// running items at their next step boundary (files closed with status "stopped"), leaves the rest
// unrun and raises KeyboardInterrupt, as a single run does (run_guard.hpp).
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/scenario/sweep.hpp>
#include <libgrid/simulation/batch.hpp>
#include <libgrid/solvers/method.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <optional>
#include <thread>

namespace py = pybind11;
using namespace libgrid;

py::dict summary_to_dict(const SimulationSummary& s);  // bindings/simulation.cpp

namespace {

/// Runs `batch` (which gets the stop flag and a done callback) on its own thread while this thread,
/// GIL released, checks for Python signals every 50 ms; progress(done, total, row) under the GIL.
class BatchGuard {
public:
    BatchGuard(std::size_t total, py::object progress) : total_(total), progress_(std::move(progress)) {}

    template <class F>
    std::vector<BatchResult> run(F&& batch) {
        std::vector<BatchResult> out;
        {
            py::gil_scoped_release release;
            auto fut = std::async(std::launch::async, [&] { return batch(&stop_, [this](std::size_t i, const BatchResult& r) { on_done(i, r); }); });
            while (fut.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
                py::gil_scoped_acquire acquire;
                if (stop_.load() == 0 && PyErr_CheckSignals() != 0) {  // KeyboardInterrupt raised by the handler
                    error_.emplace();
                    stop_.store(SIGINT);
                }
            }
            out = fut.get();
        }
        if (error_) {
            py::error_already_set e = std::move(*error_);
            error_.reset();
            throw e;
        }
        return out;
    }

private:
    void on_done(std::size_t i, const BatchResult& r) {
        ++done_;
        if (progress_.is_none() || stop_.load() != 0) return;
        py::gil_scoped_acquire acquire;
        try {
            progress_(done_, total_, row(i, r));
        } catch (py::error_already_set& e) {
            if (!error_) error_.emplace(std::move(e));
            stop_.store(-1);
        }
    }

public:
    static py::dict row(std::size_t i, const BatchResult& r) {
        py::dict d, kpis, units;
        d["id"] = i;
        d["ok"] = r.ok;
        d["error"] = r.ok ? py::object(py::none()) : py::object(py::str(r.error));
        if (r.ok) {
            for (const SummaryKpi& k : summary_kpis(r.summary)) {
                kpis[py::str(k.name)] = k.value;
                units[py::str(k.name)] = k.unit;
            }
        }
        d["summary"] = r.ok ? py::object(summary_to_dict(r.summary)) : py::object(py::none());
        d["kpis"] = kpis;
        d["units"] = units;
        return d;
    }

private:
    std::size_t total_ = 0, done_ = 0;
    py::object progress_;
    std::atomic<int> stop_{0};
    std::optional<py::error_already_set> error_;
};

py::list rows(const std::vector<BatchResult>& rs) {
    py::list out;
    for (std::size_t i = 0; i < rs.size(); ++i) out.append(BatchGuard::row(i, rs[i]));
    return out;
}

/// A batch item given from Python: a scenario (built on the worker), or a network, devices and options.
struct PyItem {
    std::optional<Scenario> scenario;
    std::string output;
    BatchItem item;
};

PyItem to_item(const py::handle& h) {
    PyItem p;
    if (py::isinstance<Scenario>(h)) {
        p.scenario = h.cast<Scenario>();
    } else if (py::isinstance<py::tuple>(h) && py::len(h) == 2 && py::isinstance<Scenario>(h[py::int_(0)])) {
        p.scenario = h[py::int_(0)].cast<Scenario>();
        p.output = h[py::int_(1)].cast<std::string>();
    } else if (py::isinstance<py::dict>(h)) {
        const py::dict d = h.cast<py::dict>();
        p.item.net = d["net"].cast<Network>();
        p.item.devices = d["devices"].cast<DeviceSet>();
        SimulationOptions& o = p.item.options;
        o.start = parse_iso8601(d["start"].cast<std::string>());
        o.step_s = d.contains("step_s") ? d["step_s"].cast<std::int64_t>() : 900;
        o.n_steps = d["n_steps"].cast<std::size_t>();
        if (d.contains("seed")) o.seed = d["seed"].cast<std::uint64_t>();
        if (d.contains("output")) o.output_path = d["output"].cast<std::string>();
        if (d.contains("method")) o.method = parse_method(d["method"].cast<std::string>());
        if (d.contains("emission_t_per_mwh") && !d["emission_t_per_mwh"].is_none()) {  // issue 19: no factor, no CO2
            o.emission = EmissionFactor{};
            o.emission->t_per_mwh = d["emission_t_per_mwh"].cast<double>();
        }
        if (d.contains("default_tariff")) o.default_tariff = Tariff::by_name(d["default_tariff"].cast<std::string>(), "default_tariff");
        if (d.contains("meter_interval_s")) o.meter_interval_s = d["meter_interval_s"].cast<std::int64_t>();
        if (d.contains("float32")) o.h5.float32 = d["float32"].cast<bool>();
        if (d.contains("scenario_text")) o.scenario_text = d["scenario_text"].cast<std::string>();
    } else {
        throw py::type_error("run_batch: an item is a Scenario, (Scenario, output path) or a dict with net, devices, start, n_steps, ...");
    }
    return p;
}

BatchItem make_item(const PyItem& p) {
    if (!p.scenario) return p.item;
    if (!p.output.empty()) check_output_is_not_input(*p.scenario, p.output);
    BuiltScenario b = build_scenario(*p.scenario);
    check_run_resources(*p.scenario, b, p.output);
    b.options.output_path = p.output;
    return BatchItem{std::move(b.net), std::move(b.devices), std::move(b.options), std::move(b.weather), b.unbalanced, std::move(b.unet)};  // issue 15 (H1)
}

}  // namespace

void bind_batch(py::module_& m) {
    m.def(
        "run_batch",
        [](const py::list& items, int threads, py::object progress) {
            std::vector<PyItem> in;
            for (const py::handle& h : items) in.push_back(to_item(h));
            BatchGuard guard(in.size(), std::move(progress));
            return rows(guard.run([&](const std::atomic<int>* stop, const BatchDoneFn& done) {
                return run_batch(in.size(), [&](std::size_t i) { return make_item(in[i]); }, threads, stop, done);
            }));
        },
        py::arg("items"), py::arg("threads") = 1, py::arg("progress") = py::none(),
        "Runs independent items `threads` at a time in this process (GIL released; Ctrl-C stops them). An item is a "
        "Scenario, (Scenario, output path) or a dict {net, devices, start, n_steps, step_s, seed, output, method, ...}. "
        "Returns one dict per item: ok, error, summary, kpis, units.");
    m.def(
        "run_sweep",
        [](const Scenario& base, const std::vector<SweepVariant>& variants, int threads, const std::string& output_dir, py::object progress) {
            BatchGuard guard(variants.size(), std::move(progress));
            return rows(guard.run([&](const std::atomic<int>* stop, const BatchDoneFn& done) {
                return run_sweep(base, variants, threads, output_dir, stop, done);
            }));
        },
        py::arg("base"), py::arg("variants"), py::arg("threads") = 1, py::arg("output_dir") = "", py::arg("progress") = py::none(),
        "The variants [[(scenario key, YAML value)]] of `base` run in this process (scenario/sweep.hpp); output_dir '' writes no files.");
    m.def(
        "load_sweep_file",
        [](const std::string& path) {
            SweepFile f = load_sweep_file(path);
            py::dict d;
            d["path"] = f.path;
            d["name"] = f.name;
            d["base"] = f.base;
            d["variants"] = f.variants;
            d["output_dir"] = f.output_dir.empty() ? py::object(py::none()) : py::object(py::str(f.output_dir));
            d["workers"] = f.workers > 0 ? py::object(py::int_(f.workers)) : py::object(py::none());
            return d;
        },
        py::arg("path"), "Reads and checks a sweep file through the scenario reader (ParseError: file:line: key '...': ...).");
}
