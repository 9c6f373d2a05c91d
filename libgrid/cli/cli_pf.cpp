// `libgrid pf CASE`: one power flow, a readable summary or JSON.
#include "cli.hpp"

#include <libgrid/core/input_file.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace libgrid::cli {
namespace {

nlohmann::json column(const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr));
    return a;
}

nlohmann::json result_json(const Network& net, const PowerFlowResult& r) {
    nlohmann::json j;
    j["converged"] = r.converged;
    j["iterations"] = r.iterations;
    j["solve_time_s"] = r.solve_time_s;
    j["method"] = to_string(r.method_used);
    j["losses_mw"] = r.losses_mw;
    std::vector<Id> ids;
    for (const Bus& b : net.buses) ids.push_back(b.id);
    j["bus"] = {{"id", ids}, {"vm_pu", column(r.bus_vm_pu)}, {"va_deg", column(r.bus_va_deg)},
                {"p_mw", column(r.bus_p_mw)}, {"q_mvar", column(r.bus_q_mvar)},
                {"energized", std::vector<bool>(r.bus_energized.begin(), r.bus_energized.end())},
                {"voltage_violation", std::vector<bool>(r.bus_voltage_violation.begin(), r.bus_voltage_violation.end())}};
    std::vector<Id> gbus, gid;
    for (const Gen& g : net.gens) {
        gbus.push_back(g.bus);
        gid.push_back(g.id);
    }
    j["gen"] = {{"id", gid}, {"bus", gbus}, {"p_mw", column(r.gen_p_mw)}, {"q_mvar", column(r.gen_q_mvar)}};
    std::vector<Id> eid, ebus;
    for (const ExtGrid& e : net.ext_grids) {
        eid.push_back(e.id);
        ebus.push_back(e.bus);
    }
    j["ext_grid"] = {{"id", eid}, {"bus", ebus}, {"p_mw", column(r.ext_grid_p_mw)}, {"q_mvar", column(r.ext_grid_q_mvar)}};
    // `branch`: MATPOWER branches, then lines, then transformers (from = HV side), each with kind.
    std::vector<Id> bid, bf, bt;
    std::vector<std::string> kind;
    std::vector<double> pf, qf, pt, qt, loading;
    for (std::size_t k = 0; k < net.branches.size(); ++k) {
        bid.push_back(net.branches[k].id);
        bf.push_back(net.branches[k].from_bus);
        bt.push_back(net.branches[k].to_bus);
        kind.push_back("branch");
        pf.push_back(r.branch_p_from_mw[k]);
        qf.push_back(r.branch_q_from_mvar[k]);
        pt.push_back(r.branch_p_to_mw[k]);
        qt.push_back(r.branch_q_to_mvar[k]);
        loading.push_back(r.branch_loading_percent[k]);
    }
    for (std::size_t k = 0; k < net.lines.size(); ++k) {
        bid.push_back(net.lines[k].id);
        bf.push_back(net.lines[k].from_bus);
        bt.push_back(net.lines[k].to_bus);
        kind.push_back("line");
        pf.push_back(r.line_p_from_mw[k]);
        qf.push_back(r.line_q_from_mvar[k]);
        pt.push_back(r.line_p_to_mw[k]);
        qt.push_back(r.line_q_to_mvar[k]);
        loading.push_back(r.line_loading_percent[k]);
    }
    for (std::size_t k = 0; k < net.transformers.size(); ++k) {
        bid.push_back(net.transformers[k].id);
        bf.push_back(net.transformers[k].hv_bus);
        bt.push_back(net.transformers[k].lv_bus);
        kind.push_back("transformer");
        pf.push_back(r.trafo_p_hv_mw[k]);
        qf.push_back(r.trafo_q_hv_mvar[k]);
        pt.push_back(r.trafo_p_lv_mw[k]);
        qt.push_back(r.trafo_q_lv_mvar[k]);
        loading.push_back(r.trafo_loading_percent[k]);
    }
    j["branch"] = {{"id", bid}, {"kind", kind}, {"from", bf}, {"to", bt}, {"p_from_mw", column(pf)}, {"q_from_mvar", column(qf)},
                   {"p_to_mw", column(pt)}, {"q_to_mvar", column(qt)}, {"loading_percent", column(loading)}};
    if (!net.lines.empty()) {
        std::vector<Id> lid;
        for (const Line& l : net.lines) lid.push_back(l.id);
        j["line"] = {{"id", lid}, {"i_from_ka", column(r.line_i_from_ka)}, {"i_to_ka", column(r.line_i_to_ka)},
                     {"pl_mw", column(r.line_pl_mw)}, {"ql_mvar", column(r.line_ql_mvar)}, {"loading_percent", column(r.line_loading_percent)}};
    }
    if (!net.transformers.empty()) {
        std::vector<Id> tid;
        for (const Transformer& t : net.transformers) tid.push_back(t.id);
        j["trafo"] = {{"id", tid}, {"i_hv_ka", column(r.trafo_i_hv_ka)}, {"i_lv_ka", column(r.trafo_i_lv_ka)},
                      {"pl_mw", column(r.trafo_pl_mw)}, {"ql_mvar", column(r.trafo_ql_mvar)},
                      {"loading_percent", column(r.trafo_loading_percent)}, {"tap_pos", r.trafo_tap_pos}};
    }
    if (!net.forming.empty()) {  // grid-forming sources and the islands' frequency (docs/microgrid.md)
        std::vector<Id> fid, fbus;
        for (const FormingSource& f : net.forming) {
            fid.push_back(f.id);
            fbus.push_back(f.bus);
        }
        j["forming"] = {{"id", fid}, {"bus", fbus}, {"p_mw", column(r.forming_p_mw)}, {"q_mvar", column(r.forming_q_mvar)},
                        {"p_limit", r.forming_p_limit}, {"q_limit", r.forming_q_limit}};
        nlohmann::json isl = nlohmann::json::array();
        for (const IslandResult& is : r.islands)
            isl.push_back({{"bus", is.bus}, {"n_buses", is.n_buses}, {"droop", is.droop}, {"collapsed", is.collapsed},
                           {"frequency_hz", std::isfinite(is.frequency_hz) ? nlohmann::json(is.frequency_hz) : nlohmann::json()},
                           {"forming_p_mw", is.forming_p_mw}, {"cause", is.cause}});
        j["island"] = isl;
    }
    if (!r.message.empty()) j["message"] = r.message;
    j["deenergized_buses"] = r.deenergized_buses;  // in-service buses no source feeds (NaN voltages)
    return j;
}

void print_summary(const std::string& path, const Network& net, const PowerFlowResult& r) {
    int energised = 0, violations = 0;
    double vmin = kInf, vmax = -kInf;
    Id at_min = -1, at_max = -1;
    for (std::size_t b = 0; b < net.buses.size(); ++b) {
        if (!r.bus_energized[b]) continue;
        ++energised;
        violations += r.bus_voltage_violation[b];
        if (r.bus_vm_pu[b] < vmin) { vmin = r.bus_vm_pu[b]; at_min = net.buses[b].id; }
        if (r.bus_vm_pu[b] > vmax) { vmax = r.bus_vm_pu[b]; at_max = net.buses[b].id; }
    }
    double load = 0, gen = 0;
    for (std::size_t b = 0; b < net.buses.size(); ++b)
        if (r.bus_energized[b]) (r.bus_p_mw[b] < 0 ? load : gen) += r.bus_p_mw[b];
    double max_loading = 0;
    for (double x : r.line_loading_percent) max_loading = std::max(max_loading, x);
    for (double x : r.trafo_loading_percent) max_loading = std::max(max_loading, x);
    for (double x : r.branch_loading_percent) if (std::isfinite(x)) max_loading = std::max(max_loading, x);
    std::printf("libgrid power flow: %s (%s)\n", path.c_str(), net.name.c_str());
    std::printf("  method            %s\n", to_string(r.method_used).c_str());
    std::printf("  converged         %s in %d iterations (%.3f ms)\n", r.converged ? "yes" : "NO", r.iterations, r.solve_time_s * 1e3);
    std::printf("  buses             %zu (%d energised, %zu de-energised)\n", net.buses.size(), energised, net.buses.size() - energised);
    std::printf("  branches          %zu MATPOWER, %zu lines, %zu transformers\n", net.branches.size(), net.lines.size(), net.transformers.size());
    std::printf("  losses            %.6f MW, %.6f MVAr\n", r.losses_mw, r.losses_mvar);
    std::printf("  voltage           min %.6f p.u. (bus %lld), max %.6f p.u. (bus %lld)\n", vmin, (long long)at_min, vmax, (long long)at_max);
    std::printf("  band violations   %d buses\n", violations);
    std::printf("  max loading       %.2f %%\n", max_loading);
    for (const IslandResult& is : r.islands)
        if (is.droop && !is.collapsed)
            std::printf("  droop island      bus %lld (%d buses): %.6f Hz, forming sources %.6f MW\n", (long long)is.bus, is.n_buses,
                        is.frequency_hz, is.forming_p_mw);
    if (!r.message.empty()) std::printf("  note              %s\n", r.message.c_str());
}

}  // namespace

void warn_deenergized(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return;
    std::string first;
    for (std::size_t i = 0; i < ids.size() && i < 5; ++i) first += (i ? ", " : "") + std::to_string(ids[i]);
    if (ids.size() > 5) first += ", ...";
    std::fprintf(stderr,
                 "libgrid: warning: %zu bus%s de-energised: no ext grid, slack bus or generator in %s island, so %s NaN "
                 "voltage (docs/distribution.md, \"Switches, islands\"); e.g. bus %s\n",
                 ids.size(), ids.size() == 1 ? "" : "es", ids.size() == 1 ? "its" : "their", ids.size() == 1 ? "it has" : "they have",
                 first.c_str());
}

namespace {

/// Added (issue 15, h5): `libgrid pf NETWORK --unbalanced`.
void run_pf_unbalanced_cli(const std::string& path, const std::string& method, const std::string& json_out, const std::string& controls,
                           double tol, int max_it, bool no_neutral, const std::string& load_phases) {
    if (!json_out.empty() && json_out != "-" && same_file(json_out, path))
        throw ValidationError("--json '" + json_out + "' is the network file itself: refusing to overwrite an input; choose another file");
    ToUnbalancedOptions conv;
    conv.model_neutral = !no_neutral;
    std::stringstream ss(load_phases);
    for (std::string item; std::getline(ss, item, ',');) {
        const auto eq = item.find('=');
        char* end = nullptr;
        const long long id = eq == std::string::npos ? 0 : std::strtoll(item.c_str(), &end, 10);
        if (eq == std::string::npos || end != item.c_str() + eq)
            throw ValidationError("--load-phases: expected ID=PHASES, got '" + item + "'");
        conv.load_phases[Id(id)] = item.substr(eq + 1);
    }
    DssPfArgs a{path, controls, method, json_out, ""};
    a.tolerance_pu = tol;
    a.max_iterations = max_it;
    run_pf_converted(read_network(path), a, conv);
}

}  // namespace

void add_pf(CLI::App& app) {
    auto* cmd = app.add_subcommand("pf", "Run one power flow on a MATPOWER case (.m), a libgrid network (.json) or, unbalanced, an OpenDSS script (.dss)");
    static std::string path, method = "nr", linear = "default", json_out, controls, at;
    static bool qlim = false, flat = false, skip_missing = false;
    static bool unbalanced = false, no_neutral = false;  // added (issue 15, h5)
    static std::string load_phases;
    static double tol = 1e-8;
    static int max_it = 30;
    cmd->add_option("CASE", path, "network file")->required();
    cmd->add_option("--method", method, "nr | fdxb | dc | sweep | auto; .dss: auto (default) | fixed_point | nr | sweep")->capture_default_str();
    cmd->add_option("--linear-solver", linear, "sparselu | klu")->capture_default_str();
    cmd->add_flag("--enforce-q-limits", qlim, "switch PV buses to PQ at violated reactive limits");
    cmd->add_flag("--flat-start", flat, "start from 1 p.u., 0 degrees");
    cmd->add_option("--tolerance", tol, "mismatch tolerance, p.u. (.dss: largest voltage change between iterations, p.u.; default 1e-9)")->capture_default_str();
    cmd->add_option("--max-iterations", max_it, "iteration limit")->capture_default_str();
    cmd->add_option("--json", json_out, "write the results as JSON to PATH, or - for stdout");
    cmd->add_option("--controls", controls, ".dss only: static | off (regulator and capacitor controls; default: the script's controlmode)");
    cmd->add_flag("--skip-missing-redirect", skip_missing, ".dss only: a Redirect/Compile of a file that does not exist is a note, not an error (EPRI's Run_IEEE123Bus.DSS redirects a plotting script it does not ship)");
    cmd->add_option("--at", at, ".dss only: HH:MM, set the loads from their load shapes at this time of day before solving");
    cmd->add_flag("--unbalanced", unbalanced, ".json/.m: solve the network as a three-phase four-wire one (to_unetwork, docs/unbalanced.md)");
    cmd->add_flag("--no-neutral", no_neutral, "with --unbalanced: LV lines three-wire, the neutral not modelled");
    cmd->add_option("--load-phases", load_phases, "with --unbalanced: ID=PHASES,... (a, b, c, ab, bc, ca, abc; default abc), e.g. 3=a,4=b");
    cmd->callback([cmd] {
        require_at_least(cmd, "--tolerance", tol, 0.0, /*strict=*/true);
        if (unbalanced && !is_dss_path(path)) {
            run_pf_unbalanced_cli(path, cmd->count("--method") ? method : std::string(), json_out, controls,
                                  cmd->count("--tolerance") ? tol : 0.0, cmd->count("--max-iterations") ? max_it : 0, no_neutral, load_phases);
            return;
        }
        if (no_neutral || !load_phases.empty()) throw ValidationError("--no-neutral and --load-phases apply with --unbalanced only");
        require_at_least(cmd, "--max-iterations", max_it, 1);
        if (is_dss_path(path)) {
            if (!json_out.empty() && json_out != "-" && same_file(json_out, path))
                throw ValidationError("--json '" + json_out + "' is the network file itself: refusing to overwrite an input; choose another file");
            for (const char* o : {"--linear-solver", "--enforce-q-limits", "--flat-start"})
                if (cmd->count(o)) throw ValidationError(std::string(o) + " applies to balanced networks, not to OpenDSS scripts (.dss)");
            DssPfArgs a{path, controls, cmd->count("--method") ? method : std::string(), json_out, at};
            if (cmd->count("--tolerance")) a.tolerance_pu = tol;
            if (cmd->count("--max-iterations")) a.max_iterations = max_it;
            a.skip_missing_redirect = skip_missing;
            run_pf_dss(a);
            return;
        }
        if (cmd->count("--controls") || cmd->count("--at") || skip_missing)
            throw ValidationError("--controls, --at and --skip-missing-redirect apply to OpenDSS scripts (.dss) only; " + path + " is not one");
        if (!json_out.empty() && json_out != "-" && same_file(json_out, path))
            throw ValidationError("--json '" + json_out + "' is the network file itself: refusing to overwrite an input; choose another file");
        const Network net = read_network(path);
        PowerFlowOptions opt;
        opt.method = parse_method(method);
        opt.linear_solver = parse_linear_solver(linear);
        opt.enforce_q_limits = qlim;
        opt.flat_start = flat;
        opt.tolerance = tol;
        opt.max_iterations = max_it;
        const PowerFlowResult r = run_power_flow(net, opt);
        warn_deenergized(r.deenergized_buses);
        if (json_out.empty()) {
            print_summary(path, net, r);
        } else {
            const std::string text = result_json(net, r).dump(1);
            if (json_out == "-") {
                std::cout << text << "\n";
            } else {
                std::ofstream f(json_out);
                if (!f) throw Error(json_out + ": cannot open for writing");
                f << text << "\n";
            }
        }
        if (!r.converged) throw Error(path + ": power flow " + r.message);
    });
}

}  // namespace libgrid::cli
