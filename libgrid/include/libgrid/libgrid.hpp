// libgrid: the whole public API in one include.
#pragma once

#include <libgrid/config.hpp>
#include <libgrid/errors.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/powerflow/math_model.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/powerflow/solvers.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/io/input_file.hpp>
