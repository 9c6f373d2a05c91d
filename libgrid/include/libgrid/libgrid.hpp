// libgrid: the whole public API in one include.
#pragma once

#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/batch_pf.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/core/input_file.hpp>
