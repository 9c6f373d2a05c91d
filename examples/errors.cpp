// Provokes libgrid's typed errors and shows their messages. Every error derives from libgrid::Error
// (a std::runtime_error) and names where the problem is: the file and line (ParseError), or the
// component, its id and the field (ValidationError, IdError).
//
//   ex/errors tests/data/matpower/case9.m
#include "lv_feeder.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/scenario/scenario.hpp>  // parse_scenario
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

namespace {

int failures = 0;

/// Runs `provoke`, which must throw an `E` whose message contains `expect`.
template <class E>
void expect_error(const char* what, const char* type, const std::string& expect, const std::function<void()>& provoke) {
    try {
        provoke();
        std::printf("%-44s NOT RAISED\n", what);
    } catch (const E& e) {
        const bool named = std::string(e.what()).find(expect) != std::string::npos;
        std::printf("%-44s %s: %s\n", what, type, e.what());
        if (named) return;
        std::printf("  (the message does not name '%s')\n", expect.c_str());
    } catch (const libgrid::Error& e) {
        std::printf("%-44s another libgrid::Error than %s: %s\n", what, type, e.what());
    }
    ++failures;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CASE.m\n", argv[0]);
        return 2;
    }
    const std::string case_file = argv[1];

    // A line to a bus that does not exist: IdError naming the line and the field.
    expect_error<libgrid::IdError>("line to an unknown bus", "IdError", "to_bus", [&] {
        libgrid::Network net = libgrid::read_network(case_file);
        libgrid::Line l;
        l.id = 99;
        l.from_bus = net.buses.front().id;
        l.to_bus = 12345;
        net.lines.push_back(l);
        net.validate();
    });
    // A NaN load: ValidationError "load <id>: field 'p_mw': ...".
    expect_error<libgrid::ValidationError>("load with a NaN power", "ValidationError", "p_mw", [&] {
        libgrid::Network net = libgrid::read_network(case_file);
        net.loads.front().p_mw = std::nan("");
        net.validate();
    });
    // A PV system behind a customer's meter but at another bus: refused when the Simulation is built.
    expect_error<libgrid::ValidationError>("PV behind a meter at another bus", "ValidationError", "customer's bus", [] {
        libgrid::SimulationOptions opt;
        libgrid::DeviceSet dev = example::lv_devices(opt.n_steps);
        dev.pv.front().bus = 3;  // its customer (load 16) is at bus 6
        libgrid::Simulation sim(example::lv_feeder(), dev, opt);
    });
    // A step that does not divide an hour.
    expect_error<libgrid::ValidationError>("a 7 s step", "ValidationError", "step_s", [] {
        libgrid::SimulationOptions opt;
        opt.step_s = 7;
        libgrid::Simulation sim(example::lv_feeder(), example::lv_devices(opt.n_steps), opt);
    });
    // A battery set point for a battery that does not exist.
    expect_error<libgrid::IdError>("set point of an unknown battery", "IdError", "42", [] {
        libgrid::SimulationOptions opt;
        opt.n_steps = 4;
        libgrid::Simulation sim(example::lv_feeder(), example::lv_devices(opt.n_steps), opt);
        sim.set_battery_power(42, -1.0);
    });
    // A scenario with a misspelt key: ParseError "FILE:LINE: ..." with a "did you mean" hint.
    expect_error<libgrid::ParseError>("scenario with a misspelt key", "ParseError", "my.yaml:3", [] {
        libgrid::parse_scenario("name: x\nhorizon:\n  stpe: 15min\n", "my.yaml");
    });
    // A file that is not there: ParseError "FILE:0: ..." (line 0: the file as a whole).
    expect_error<libgrid::ParseError>("a missing case file", "ParseError", "/nonexistent/case.m:0", [] {
        libgrid::read_network("/nonexistent/case.m");
    });
    std::printf("%s\n", failures == 0 ? "every error raised as expected" : "some errors were not as expected");
    return failures == 0 ? 0 : 1;
}
