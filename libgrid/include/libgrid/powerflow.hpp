// libgrid: the light power-flow header (issue 19). The network model (balanced and unbalanced),
// its readers and writers (MATPOWER, network JSON, OpenDSS, read_network by extension), the typed
// errors and the balanced power flow run_power_flow with its results (powerflow/powerflow.hpp) --
// without Eigen: no header below includes Eigen, so a translation unit that includes only this one
// compiles in a fraction of libgrid.hpp's time (figures in docs/units.md "Compile time"; the test
// light_header_no_eigen checks it with the compiler's dependency list). Link libgrid::libgrid as usual.
//
// Not here (they need Eigen): the math model and solvers, the unbalanced power flow
// (powerflow/unbalanced.hpp), the batch power flow, the time-series simulation. Include those by name
// or the umbrella libgrid/libgrid.hpp.
//
//   #include <libgrid/powerflow.hpp>
//   libgrid::Network net = libgrid::read_network("case9.m");
//   libgrid::PowerFlowResult r = libgrid::run_power_flow(net);
//   // r.bus_vm_pu[i], r.bus_va_deg[i]: bus net.buses[i]; r.losses_mw, r.losses_mvar
#pragma once

#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/core/ids.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/model/unetwork.hpp>
#include <libgrid/powerflow/powerflow.hpp>
