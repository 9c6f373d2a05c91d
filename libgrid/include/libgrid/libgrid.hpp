// libgrid: the whole public API in one include (issue 19). Everything an application uses: the
// network model and its readers, the power flows (balanced, batch, unbalanced), the time-series
// simulation with its devices, options, KPIs and tariffs, scenarios and sweeps, the results file,
// the economics. Kernels and per-step internals (solvers/newton_kernel.hpp, solvers/sweep_kernel.hpp,
// math/output.hpp, powerflow/ustepper.hpp) are left out: include them by name if you need them.
//
// This header compiles everything (Eigen's sparse solvers among it); a translation unit that needs
// only a part includes that part's header (docs/cpp_api.md "Headers").
#pragma once

#include <libgrid/config.hpp>

// core and the network model
#include <libgrid/core/errors.hpp>
#include <libgrid/core/ids.hpp>
#include <libgrid/core/input_file.hpp>
#include <libgrid/core/thread_pool.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/model/unetwork.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/topology/topology.hpp>

// readers and writers of networks
#include <libgrid/io/case_json.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/network_io.hpp>

// power flow
#include <libgrid/math/math_model.hpp>
#include <libgrid/powerflow/batch_pf.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/solvers/solvers.hpp>

// devices, profiles and the time-series simulation
#include <libgrid/devices/battery.hpp>
#include <libgrid/devices/building.hpp>
#include <libgrid/devices/ev.hpp>
#include <libgrid/devices/pv.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/load_profiles.hpp>
#include <libgrid/profiles/weather.hpp>
#include <libgrid/simulation/batch.hpp>
#include <libgrid/simulation/comms.hpp>
#include <libgrid/simulation/device_group.hpp>
#include <libgrid/simulation/device_set.hpp>
#include <libgrid/simulation/dr.hpp>
#include <libgrid/simulation/emissions.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>
#include <libgrid/simulation/kpis.hpp>
#include <libgrid/simulation/meter.hpp>
#include <libgrid/simulation/rebill.hpp>
#include <libgrid/simulation/tariff.hpp>

// results files
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/results/results_options.hpp>

// scenarios, sweeps, hosting capacity, costs
#include <libgrid/scenario/cost_catalogue.hpp>
#include <libgrid/scenario/hosting.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/scenario/sweep.hpp>

// economics
#include <libgrid/economics/business_case.hpp>
#include <libgrid/economics/finance.hpp>
