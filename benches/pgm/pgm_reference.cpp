// power-grid-model (PGM) on libgrid's pgm_bench grids: the reference voltages and PGM's batch time.
//
// Reads an mg-case-json network (/work/shared/cases/pgm_bench/<grid>.input.json) and its scenario CSV,
// maps them back to PGM's input structs (the inverse of the mapping in that folder's README), runs PGM's
// symmetric power flow through its C++ core (MainModel, as PGM's tests/benchmark_cpp does) on the base
// case and as a batch over the scenarios, and
//   --ref-out FILE   writes node u_pu / u_angle of the base case and the --ref-scenarios to a CSV
//                    (tests/data/pgm_bench/<grid>.pgm_voltages.csv);
//   --repeat N       times the batch (all scenarios, PGM's output written into its result buffers),
//                    Newton-Raphson and iterative current, sequential and threaded, and prints ms per
//                    scenario (wall and process CPU time; min and median of N runs).
// This file contains no PGM code: it includes PGM's headers (MPL-2.0) from -DPGM_DIR. Built only when
// the top-level CMake is given -DLIBGRID_PGM_DIR (benches/pgm/README.md): PGM 1.13 needs C++23 (std::format,
// std::views::zip, std::ranges::to), so clang 19 with libc++; g++ 12's libstdc++ has none of the three.
#include <power_grid_model/auxiliary/meta_data_gen.hpp>
#include <power_grid_model/main_model.hpp>
#include <power_grid_model/math_solver/math_solver.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgm = power_grid_model;
using json = nlohmann::json;

namespace {

[[noreturn]] void fail(std::string const& what) { throw std::runtime_error(what); }

double num(json const& o, char const* key, double dflt = std::numeric_limits<double>::quiet_NaN()) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return dflt;
    if (!it->is_number()) fail(std::string("field '") + key + "' is not a number");
    return it->get<double>();
}

pgm::IntS status(json const& o) { return o.value("in_service", true) ? 1 : 0; }

struct Input {
    std::vector<pgm::NodeInput> node;
    std::vector<pgm::LineInput> line;
    std::vector<pgm::TransformerInput> transformer;
    std::vector<pgm::SymLoadGenInput> sym_load;
    std::vector<pgm::ShuntInput> shunt;
    std::vector<pgm::SourceInput> source;
    double f_hz = 50.0;

    pgm::ConstDataset dataset() const {
        pgm::ConstDataset d{false, 1, "input", pgm::meta_data::meta_data_gen::meta_data};
        d.add_buffer("node", std::ssize(node), std::ssize(node), nullptr, node.data());
        d.add_buffer("line", std::ssize(line), std::ssize(line), nullptr, line.data());
        d.add_buffer("transformer", std::ssize(transformer), std::ssize(transformer), nullptr, transformer.data());
        d.add_buffer("sym_load", std::ssize(sym_load), std::ssize(sym_load), nullptr, sym_load.data());
        d.add_buffer("shunt", std::ssize(shunt), std::ssize(shunt), nullptr, shunt.data());
        d.add_buffer("source", std::ssize(source), std::ssize(source), nullptr, source.data());
        return d;
    }
};

/// PGM winding types and clock from pgm_winding ("YNd5", "Dyn11"); else from shift_degree, wye_n both.
void set_winding(pgm::TransformerInput& t, json const& o) {
    using W = pgm::WindingType;
    double const shift = num(o, "shift_degree", 0.0);
    t.clock = static_cast<pgm::IntS>(std::lround(std::fmod(shift / 30.0 + 1200.0, 12.0)));
    t.winding_from = W::wye_n;
    t.winding_to = W::wye_n;
    std::string const w = o.value("pgm_winding", std::string{});
    if (w.empty()) return;
    std::size_t i = 0;
    auto side = [&](bool upper) {
        char const y = upper ? 'Y' : 'y', d = upper ? 'D' : 'd', z = upper ? 'Z' : 'z';
        char const c = w.at(i++);
        bool const n = i < w.size() && (w[i] == 'N' || w[i] == 'n');
        if (n) ++i;
        if (c == y) return n ? W::wye_n : W::wye;
        if (c == d) return W::delta;
        if (c == z) return n ? W::zigzag_n : W::zigzag;
        fail("pgm_winding '" + w + "' not understood");
    };
    t.winding_from = side(true);
    t.winding_to = side(false);
    if (std::stoi(w.substr(i)) != t.clock) fail("pgm_winding '" + w + "' disagrees with shift_degree");
}

pgm::TransformerInput transformer(json const& o) {
    pgm::TransformerInput t{};
    t.id = o.at("id").get<pgm::ID>();
    t.from_node = o.at("hv_bus").get<pgm::ID>();
    t.to_node = o.at("lv_bus").get<pgm::ID>();
    t.from_status = t.to_status = status(o);
    double const sn = num(o, "sn_mva") * 1e6;
    t.u1 = num(o, "vn_hv_kv") * 1e3;
    t.u2 = num(o, "vn_lv_kv") * 1e3;
    t.sn = sn;
    t.uk = num(o, "vk_percent") / 100.0;
    t.pk = num(o, "vkr_percent") / 100.0 * sn;  // README: vkr_percent = 100 pk / sn
    t.i0 = num(o, "i0_percent") / 100.0;
    t.p0 = num(o, "pfe_kw") * 1e3;
    set_winding(t, o);
    if (o.value("tap_side", std::string("hv")) != "hv") fail("transformer tap_side must be hv");
    t.tap_side = pgm::BranchSide::from;
    t.tap_pos = static_cast<pgm::IntS>(std::lround(num(o, "tap_pos", 0.0)));
    t.tap_nom = static_cast<pgm::IntS>(std::lround(num(o, "tap_neutral", 0.0)));
    double const step = num(o, "tap_step_percent", 0.0);
    // README: tap_step_percent = d tap_size / u1 * 100, d = +1 if PGM's tap_max > tap_min.
    t.tap_size = num(o, "pgm_tap_size_v", std::abs(step) / 100.0 * t.u1);
    double lo = num(o, "tap_min", t.tap_nom), hi = num(o, "tap_max", t.tap_nom);
    if (step < 0.0) std::swap(lo, hi);
    t.tap_min = static_cast<pgm::IntS>(std::lround(num(o, "pgm_tap_min", lo)));
    t.tap_max = static_cast<pgm::IntS>(std::lround(num(o, "pgm_tap_max", hi)));
    return t;
}

pgm::LineInput line(json const& o, double f_hz) {
    pgm::LineInput l{};
    l.id = o.at("id").get<pgm::ID>();
    l.from_node = o.at("from_bus").get<pgm::ID>();
    l.to_node = o.at("to_bus").get<pgm::ID>();
    l.from_status = l.to_status = status(o);
    double const len = num(o, "length_km"), par = num(o, "parallel", 1.0);
    l.r1 = num(o, "r_ohm_per_km") * len / par;
    l.x1 = num(o, "x_ohm_per_km") * len / par;
    double const c_nf = num(o, "c_nf_per_km", 0.0) * len * par;
    l.c1 = c_nf * 1e-9;
    // g_us_per_km = tan1 * 2 pi f c1 * 1e6 (README)
    l.tan1 = c_nf > 0.0 ? num(o, "g_us_per_km", 0.0) * len * par * 1e-6 / (2.0 * std::numbers::pi * f_hz * l.c1) : 0.0;
    l.i_n = num(o, "max_i_ka", 1e6) * 1e3 * par;
    return l;
}

pgm::SymLoadGenInput load(json const& o) {
    pgm::SymLoadGenInput s{};
    s.id = o.at("id").get<pgm::ID>();
    s.node = o.at("bus").get<pgm::ID>();
    s.status = status(o);
    double const zp = num(o, "const_z_p_percent", 0.0), zq = num(o, "const_z_q_percent", 0.0);
    double const ip = num(o, "const_i_p_percent", 0.0), iq = num(o, "const_i_q_percent", 0.0);
    if (zp == 100.0 && zq == 100.0 && ip == 0.0 && iq == 0.0) s.type = pgm::LoadGenType::const_y;
    else if (ip == 100.0 && iq == 100.0 && zp == 0.0 && zq == 0.0) s.type = pgm::LoadGenType::const_i;
    else if (zp == 0.0 && zq == 0.0 && ip == 0.0 && iq == 0.0) s.type = pgm::LoadGenType::const_pq;
    else fail("load " + std::to_string(s.id) + ": PGM has no mixed ZIP load");
    double const scaling = num(o, "scaling", 1.0);
    s.p_specified = num(o, "p_mw") * scaling * 1e6;  // an asym_load is its three phases summed (README)
    s.q_specified = num(o, "q_mvar") * scaling * 1e6;
    return s;
}

Input read_input(std::string const& path) {
    std::ifstream f(path);
    if (!f) fail("cannot open " + path);
    json const j = json::parse(f);
    Input in;
    in.f_hz = num(j, "f_hz", 50.0);
    if (j.value("trafo_model", std::string("t")) != "pi") fail(path + ": trafo_model must be pi (PGM's model)");
    std::map<pgm::ID, double> vn_kv;
    for (json const& b : j.at("buses")) {
        in.node.push_back({.id = b.at("id").get<pgm::ID>(), .u_rated = num(b, "vn_kv") * 1e3});
        vn_kv[in.node.back().id] = num(b, "vn_kv");
    }
    for (json const& o : j.at("lines")) in.line.push_back(line(o, in.f_hz));
    for (json const& o : j.at("transformers")) in.transformer.push_back(transformer(o));
    for (json const& o : j.at("loads")) in.sym_load.push_back(load(o));
    for (json const& o : j.value("shunts", json::array())) {
        double const v2 = std::pow(vn_kv.at(o.at("bus").get<pgm::ID>()) * 1e3, 2.0);
        double const steps = num(o, "step", 1.0);
        pgm::ShuntInput s{};
        s.id = o.at("id").get<pgm::ID>();
        s.node = o.at("bus").get<pgm::ID>();
        s.status = status(o);
        s.g1 = num(o, "p_mw") * 1e6 * steps / v2;
        s.b1 = -num(o, "q_mvar") * 1e6 * steps / v2;  // q consumed > 0: inductive, b < 0
        s.g0 = num(o, "pgm_g0_s", s.g1);
        s.b0 = num(o, "pgm_b0_s", s.b1);
        in.shunt.push_back(s);
    }
    for (json const& o : j.at("ext_grids")) {
        pgm::SourceInput s{};
        s.id = o.at("id").get<pgm::ID>();
        s.node = o.at("bus").get<pgm::ID>();
        s.status = status(o);
        s.u_ref = num(o, "vm_pu");
        s.u_ref_angle = num(o, "va_degree", 0.0) * std::numbers::pi / 180.0;
        double const sk = num(o, "sk_mva", std::numeric_limits<double>::infinity());
        s.sk = std::isfinite(sk) ? sk * 1e6 : 1e40;  // PGM has no ideal slack: a vanishing impedance
        s.rx_ratio = num(o, "rx_ratio", 0.1);
        in.source.push_back(s);
    }
    return in;
}

/// Scenario CSV: scenario, then load_<id>_p_mw, load_<id>_q_mvar for every load. One SymLoadGenUpdate
/// per load per scenario (status unchanged), in W / var.
struct Batch {
    std::vector<pgm::SymLoadGenUpdate> sym_load;
    pgm::Idx size = 0;
    pgm::ConstDataset dataset() const {
        pgm::ConstDataset d{true, size, "update", pgm::meta_data::meta_data_gen::meta_data};
        d.add_buffer("sym_load", std::ssize(sym_load) / size, std::ssize(sym_load), nullptr, sym_load.data());
        return d;
    }
};

Batch read_scenarios(std::string const& path, Input const& in) {
    std::ifstream f(path);
    if (!f) fail("cannot open " + path);
    std::string line;
    std::getline(f, line);
    std::vector<pgm::ID> col_id;
    std::vector<bool> col_q;
    {
        std::stringstream ss(line);
        std::string h;
        std::getline(ss, h, ',');
        while (std::getline(ss, h, ',')) {
            // load_<id>_p_mw / load_<id>_q_mvar
            std::size_t const a = h.find('_'), b = h.find('_', a + 1);
            col_id.push_back(std::stoll(h.substr(a + 1, b - a - 1)));
            col_q.push_back(h.substr(b + 1) == "q_mvar");
        }
    }
    std::map<pgm::ID, std::size_t> pos;
    for (std::size_t k = 0; k < in.sym_load.size(); ++k) pos[in.sym_load[k].id] = k;
    Batch b;
    while (std::getline(f, line)) {
        if (line.empty()) continue;
        std::vector<pgm::SymLoadGenUpdate> row(in.sym_load.size());
        for (std::size_t k = 0; k < row.size(); ++k) row[k].id = in.sym_load[k].id;  // status stays na
        char const* p = line.c_str();
        char* end = nullptr;
        std::strtol(p, &end, 10);
        for (std::size_t c = 0; c < col_id.size(); ++c) {
            if (*end != ',') fail(path + ": short row");
            double const v = std::strtod(end + 1, &end) * 1e6;
            auto& u = row.at(pos.at(col_id[c]));
            (col_q[c] ? u.q_specified : u.p_specified) = v;
        }
        b.sym_load.insert(b.sym_load.end(), row.begin(), row.end());
        ++b.size;
    }
    return b;
}

/// PGM's symmetric output buffers for `batch` scenarios (all components, or nodes only).
struct Output {
    std::vector<pgm::NodeOutput<pgm::symmetric_t>> node;
    std::vector<pgm::BranchOutput<pgm::symmetric_t>> line, transformer;
    std::vector<pgm::ApplianceOutput<pgm::symmetric_t>> sym_load, shunt, source;
    pgm::Idx batch = 1;
    bool all = true;
    Output(Input const& in, pgm::Idx n, bool all_components) : batch{n}, all{all_components} {
        node.resize(in.node.size() * n);
        if (!all) return;
        line.resize(in.line.size() * n);
        transformer.resize(in.transformer.size() * n);
        sym_load.resize(in.sym_load.size() * n);
        shunt.resize(in.shunt.size() * n);
        source.resize(in.source.size() * n);
    }
    template <class V> void add(pgm::MutableDataset& d, char const* name, V& v) {
        d.add_buffer(name, std::ssize(v) / batch, std::ssize(v), nullptr, v.data());
    }
    pgm::MutableDataset dataset() {
        pgm::MutableDataset d{true, batch, "sym_output", pgm::meta_data::meta_data_gen::meta_data};
        add(d, "node", node);
        if (!all) return d;
        add(d, "line", line);
        add(d, "transformer", transformer);
        add(d, "sym_load", sym_load);
        add(d, "shunt", shunt);
        add(d, "source", source);
        return d;
    }
};

pgm::MathSolverDispatcher const& dispatcher() {
    static constexpr pgm::MathSolverDispatcher d{pgm::math_solver::math_solver_tag<pgm::MathSolver>{}};
    return d;
}

pgm::MainModelOptions options(pgm::CalculationMethod method, double tol, pgm::Idx max_iter, pgm::Idx threading) {
    return {.calculation_type = pgm::CalculationType::power_flow,
            .calculation_symmetry = pgm::CalculationSymmetry::symmetric,
            .calculation_method = method,
            .err_tol = tol,
            .max_iter = max_iter,
            .threading = threading};
}

char const* name(pgm::CalculationMethod m) {
    return m == pgm::CalculationMethod::newton_raphson ? "newton_raphson" : "iterative_current";
}

/// Solves the base case and scenarios `which` (-1 = base) to a tight tolerance; one row per node.
void write_reference(pgm::MainModel& model, Input const& in, Batch const& batch, std::vector<int> const& which,
                     std::string const& grid, std::string const& path) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) fail("cannot write " + path);
    std::fprintf(f,
                 "# Produced by power-grid-model (commit 3394561, v1.13, MPL-2.0) through benches/pgm/pgm_reference; "
                 "data only, no PGM code.\n# grid %s: symmetric newton_raphson, err_tol 1e-12; scenario -1 = base case, "
                 "else a row of %s.scenarios.csv. u_angle_rad as PGM reports it (radians).\n"
                 "scenario,node_id,u_pu,u_angle_rad\n",
                 grid.c_str(), grid.c_str());
    auto const opt = options(pgm::CalculationMethod::newton_raphson, 1e-12, 50, -1);
    for (int s : which) {
        Output out(in, 1, true);
        if (s < 0) {
            pgm::ConstDataset const none{true, 0, "update", pgm::meta_data::meta_data_gen::meta_data};
            model.calculate(opt, out.dataset(), none);
        } else {
            Batch one;
            one.size = 1;
            std::size_t const n = in.sym_load.size();
            one.sym_load.assign(batch.sym_load.begin() + s * n, batch.sym_load.begin() + (s + 1) * n);
            model.calculate(opt, out.dataset(), one.dataset());
        }
        for (auto const& v : out.node) std::fprintf(f, "%d,%lld,%.17g,%.17g\n", s, static_cast<long long>(v.id), v.u_pu, v.u_angle);
    }
    std::fclose(f);
}

double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Times model.calculate over the whole batch, `repeat` times; prints ms per scenario.
void time_batch(pgm::MainModel& model, Input const& in, Batch const& batch, pgm::CalculationMethod method,
                pgm::Idx threading, bool all, int repeat, std::string const& grid, Output const* check) {
    Output out(in, batch.size, all);
    auto const opt = options(method, 1e-8, method == pgm::CalculationMethod::newton_raphson ? 20 : 100, threading);
    std::vector<double> wall, cpu;
    for (int r = 0; r < repeat; ++r) {
        double const c0 = cpu_seconds();
        auto const t0 = std::chrono::steady_clock::now();
        model.calculate(opt, out.dataset(), batch.dataset());
        auto const t1 = std::chrono::steady_clock::now();
        cpu.push_back((cpu_seconds() - c0) * 1e3 / static_cast<double>(batch.size));
        wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / static_cast<double>(batch.size));
    }
    double dmax = 0.0;
    if (check)
        for (std::size_t i = 0; i < out.node.size(); ++i) dmax = std::max(dmax, std::abs(out.node[i].u_pu - check->node[i].u_pu));
    std::printf("%-12s %-18s threading %2lld  outputs %-5s  wall ms/scenario min %.4f median %.4f  cpu ms/scenario "
                "min %.4f median %.4f  (%lld scenarios x %d)%s",
                grid.c_str(), name(method), static_cast<long long>(threading), all ? "all" : "node",
                *std::min_element(wall.begin(), wall.end()), median(wall), *std::min_element(cpu.begin(), cpu.end()),
                median(cpu), static_cast<long long>(batch.size), repeat, check ? "" : "\n");
    if (check) std::printf("  max |du| vs NR %.2e\n", dmax);
}

std::vector<int> parse_list(std::string const& s) {
    std::vector<int> v;
    std::stringstream ss(s);
    std::string t;
    while (std::getline(ss, t, ',')) v.push_back(std::stoi(t));
    return v;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 3) {
        std::cerr << "usage: pgm_reference GRID.input.json GRID.scenarios.csv [--ref-out FILE] [--ref-scenarios "
                     "-1,0,99,199] [--repeat N] [--threads N] [--iterative-current]\n";
        return 2;
    }
    std::string ref_out, ref_list = "-1,0,99,199";
    int repeat = 0;
    pgm::Idx threads = 2;
    bool iterative = false;
    for (int i = 3; i < argc; ++i) {
        std::string const a = argv[i];
        auto next = [&]() -> std::string { if (i + 1 >= argc) fail(a + " needs a value"); return argv[++i]; };
        if (a == "--ref-out") ref_out = next();
        else if (a == "--ref-scenarios") ref_list = next();
        else if (a == "--repeat") repeat = std::stoi(next());
        else if (a == "--threads") threads = std::stoll(next());
        else if (a == "--iterative-current") iterative = true;
        else fail("unknown option " + a);
    }
    std::string grid = argv[1];
    grid = grid.substr(grid.find_last_of('/') + 1);
    grid = grid.substr(0, grid.find('.'));
    Input const in = read_input(argv[1]);
    Batch const batch = read_scenarios(argv[2], in);
    pgm::MainModel model{in.f_hz, in.dataset(), dispatcher()};
    std::printf("%s: %zu nodes, %zu lines, %zu transformers, %zu loads, %lld scenarios\n", grid.c_str(), in.node.size(),
                in.line.size(), in.transformer.size(), in.sym_load.size(), static_cast<long long>(batch.size));
    if (!ref_out.empty()) write_reference(model, in, batch, parse_list(ref_list), grid, ref_out);
    if (repeat <= 0) return 0;
    using M = pgm::CalculationMethod;
    Output nr(in, batch.size, false);
    model.calculate(options(M::newton_raphson, 1e-12, 50, -1), nr.dataset(), batch.dataset());
    std::vector<M> methods{M::newton_raphson};
    if (iterative) methods.push_back(M::iterative_current);
    for (M m : methods)
        for (pgm::Idx th : {pgm::Idx{-1}, threads})
            for (bool all : {true, false}) time_batch(model, in, batch, m, th, all, repeat, grid, &nr);
    return 0;
} catch (std::exception const& e) {
    std::cerr << "pgm_reference: " << e.what() << '\n';
    return 1;
}
