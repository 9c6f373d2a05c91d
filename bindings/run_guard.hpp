// libgrid Python module: what every run from Python shares. Ctrl-C (SIGINT) while a run goes on
// (GIL released): the run stops at the next step boundary, closes its results file with /summary
// for the steps done (status "stopped"), and KeyboardInterrupt is raised when it returns; a
// progress callback is called about 100 times per run.
#pragma once

#include <libgrid/simulation/engine.hpp>

#include <pybind11/pybind11.h>

#include <atomic>
#include <csignal>
#include <optional>

namespace libgrid::py_detail {

namespace py = pybind11;

class RunGuard {
public:
    RunGuard(SimulationOptions& opt, py::object progress) : progress_(std::move(progress)) {
        opt.stop_requested = &stop_;
        every_ = std::max<std::size_t>(1, opt.n_steps / 100);
    }

    /// Runs `sim` with the GIL released; rethrows KeyboardInterrupt (or what the progress callback raised).
    SimulationSummary run(Simulation& sim) {
        SimulationSummary s;
        {
            py::gil_scoped_release release;
            s = sim.run([this](std::size_t done, std::size_t total) { on_step(done, total); });
        }
        if (error_) {
            py::error_already_set e = std::move(*error_);
            error_.reset();
            throw e;
        }
        return s;
    }

private:
    void on_step(std::size_t done, std::size_t total) {
        if (stop_.load(std::memory_order_relaxed) != 0) return;
        const bool report = !progress_.is_none() && (done % every_ == 0 || done == total);
        if (!report && done % 16 != 0) return;
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {  // a Python signal handler raised (KeyboardInterrupt)
            error_.emplace();
            stop_.store(SIGINT);
            return;
        }
        if (report) {
            try {
                progress_(done, total);
            } catch (py::error_already_set& e) {
                error_.emplace(std::move(e));
                stop_.store(-1);
            }
        }
    }

    py::object progress_;
    std::size_t every_ = 1;
    std::atomic<int> stop_{0};
    std::optional<py::error_already_set> error_;
};

}  // namespace libgrid::py_detail
