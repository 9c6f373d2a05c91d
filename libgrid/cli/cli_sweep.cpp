// `libgrid sweep SWEEP.yaml`: the variants of a sweep file run in this process (scenario/sweep.hpp:
// the scenario reader checks them, run_batch runs them on --workers threads); the KPI table is
// printed and written to <output dir>/sweep.csv, as Python's `libgrid.sweep` writes it. Only
// `--scheduler ADDRESS` (a Dask cluster) hands the sweep to the Python package.
#include "cli.hpp"

#include <libgrid/scenario/sweep.hpp>
#include <libgrid/simulation/kpis.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace libgrid::cli {

/// Directory holding the `libgrid` Python package: $LIBGRID_PYTHONPATH, else next to this program
/// (build tree: <build>/python), else where `cmake --install` put it (<prefix>/<python dir>, see
/// bindings/CMakeLists.txt), else "": the interpreter's own path (e.g. a pip install) must have it.
std::string python_package_dir(const char* argv0) {
    if (const char* e = std::getenv("LIBGRID_PYTHONPATH")) return e;
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) exe = std::filesystem::absolute(argv0);
    const auto dir = exe.parent_path();
    std::vector<std::filesystem::path> cands = {dir / "python"};
#ifdef LIBGRID_PYTHON_INSTALL_DIR
    cands.push_back(dir.parent_path() / LIBGRID_PYTHON_INSTALL_DIR);  // relative to the prefix, or absolute
#endif
    for (const auto& cand : cands)
        if (std::filesystem::exists(cand / "libgrid" / "__init__.py")) return cand.string();
    return "";
}

namespace {

/// A Dask sweep: `/usr/bin/python3 -m libgrid.sweep ARGS` replaces this process.
[[noreturn]] void exec_python_sweep(const char* argv0, const std::vector<std::string>& argv) {
    const std::string pkg = python_package_dir(argv0);
    std::vector<std::string> args = {"/usr/bin/python3", "-m", "libgrid.sweep"};
    args.insert(args.end(), argv.begin(), argv.end());
    const char* old = std::getenv("PYTHONPATH");
    if (!pkg.empty()) {
        const std::string pp = pkg + (old && *old ? std::string(":") + old : std::string());
        setenv("PYTHONPATH", pp.c_str(), 1);
    }
    std::vector<char*> cargs;
    for (std::string& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    std::fflush(stdout);
    execv(cargs[0], cargs.data());
    throw Error("cannot run /usr/bin/python3 for the Dask sweep (--scheduler)");
}

/// A double as Python's repr writes it (what pandas' to_csv writes): shortest round trip, "1.0" for
/// whole numbers, exponent form below 1e-4 and from 1e16 ("1e-05", "1e+16").
std::string py_repr(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
    const std::string sci(buf, r.ptr);  // "-1.2345e-05"
    const std::size_t e = sci.find('e');
    const int exp = std::atoi(sci.c_str() + e + 1);
    if (exp < -4 || exp >= 16) {
        std::string mant = sci.substr(0, e);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
        return mant + eb;
    }
    r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed);
    std::string s(buf, r.ptr);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
}

std::string g6(double x) {
    if (std::isnan(x)) return "NaN";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}

/// One column of the table: its printed and CSV cells.
struct Column {
    std::string name;
    std::vector<std::string> shown, csv;
};

/// Variant key columns typed as Python's yaml reads the values: whole numbers, numbers, words.
Column key_column(const std::string& key, const std::vector<SweepVariant>& variants) {
    std::vector<const std::string*> v(variants.size(), nullptr);
    for (std::size_t i = 0; i < variants.size(); ++i)
        for (const auto& [k, x] : variants[i])
            if (sweep_key(k) == key) v[i] = &x;
    auto is_int = [](const std::string& s) {
        long long n = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), n);
        return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
    };
    auto is_num = [](const std::string& s) {
        char* end = nullptr;
        std::strtod(s.c_str(), &end);
        return !s.empty() && end == s.c_str() + s.size() && s.find_first_of("xXnN") == std::string::npos;
    };
    bool all_int = true, all_num = true;
    for (const std::string* x : v) {
        if (x) all_int = all_int && is_int(*x), all_num = all_num && is_num(*x);
    }
    Column c{key, {}, {}};
    for (const std::string* x : v) {
        if (!x) {
            c.shown.push_back(all_int ? "<NA>" : all_num ? "NaN" : "None");
            c.csv.emplace_back();
        } else if (all_int) {
            c.shown.push_back(*x);
            c.csv.push_back(*x);
        } else if (all_num) {
            const double d = std::strtod(x->c_str(), nullptr);
            c.shown.push_back(g6(d));
            c.csv.push_back(py_repr(d));
        } else {
            c.shown.push_back(*x);
            c.csv.push_back(*x);
        }
    }
    return c;
}

/// The table: variant keys (shortcuts written out), every scalar KPI of /summary, output, error.
std::vector<Column> sweep_table(const std::vector<SweepVariant>& variants, const std::vector<BatchResult>& rows,
                                const std::string& out_dir) {
    std::vector<std::string> keys;
    for (const SweepVariant& v : variants)
        for (const auto& kv : v)
            if (std::find(keys.begin(), keys.end(), sweep_key(kv.first)) == keys.end()) keys.push_back(sweep_key(kv.first));
    std::vector<Column> cols;
    for (const std::string& k : keys) cols.push_back(key_column(k, variants));
    // by name: an unbalanced run writes KPIs a balanced one does not (max_vuf_percent, ...; issue 15)
    std::vector<std::map<std::string, double>> by_name(rows.size());
    std::set<std::string> name_set;
    for (const SummaryKpi& k : summary_kpis(SimulationSummary{})) name_set.insert(k.name);
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].ok)
            for (const SummaryKpi& k : summary_kpis(rows[i].summary)) by_name[i][k.name] = k.value, name_set.insert(k.name);
    for (const std::string& n : name_set) {
        Column c{std::find(keys.begin(), keys.end(), n) != keys.end() ? "summary." + n : n, {}, {}};
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto it = by_name[i].find(n);
            const double x = it != by_name[i].end() ? it->second : std::nan("");
            c.shown.push_back(g6(x));
            c.csv.push_back(std::isnan(x) ? "" : py_repr(x));
        }
        cols.push_back(std::move(c));
    }
    Column out{"output", {}, {}}, err{"error", {}, {}};
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::string o = rows[i].ok && !out_dir.empty() ? sweep_output(out_dir, i) : "";
        out.shown.push_back(o.empty() ? "None" : o);
        out.csv.push_back(o);
        err.shown.push_back(rows[i].ok ? "None" : rows[i].error);
        err.csv.push_back(rows[i].ok ? "" : rows[i].error);
    }
    cols.push_back(std::move(out));
    cols.push_back(std::move(err));
    return cols;
}

/// A CSV field as Python's csv module writes it (QUOTE_MINIMAL).
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
}

void write_csv(const std::string& path, const std::vector<Column>& cols, std::size_t n) {
    std::ofstream f(path);
    if (!f) throw Error(path + ": cannot open for writing");
    f << "variant";
    for (const Column& c : cols) f << ',' << csv_field(c.name);
    f << '\n';
    for (std::size_t i = 0; i < n; ++i) {
        f << i;
        for (const Column& c : cols) f << ',' << csv_field(c.csv[i]);
        f << '\n';
    }
    if (!f.flush()) throw Error(path + ": write failed");
}

/// The KPIs the printed table shows by default (the CSV has every KPI): the planner's first questions.
const std::vector<std::string>& default_table_kpis() {
    static const std::vector<std::string> k = {"peak_import_mw", "import_mwh", "losses_mwh", "min_vm_pu", "max_vm_pu",
                                               "max_trafo_loading_percent", "voltage_violation_hours",
                                               "overloaded_branch_steps", "pv_mwh", "ev_not_delivered_mwh", "co2_t", "bills_rm"};
    return k;
}

/// The unit of a /summary KPI ("" for counts and names that are not KPIs).
std::string unit_of_kpi(const std::string& name) {
    for (const KpiInfo& k : summary_kpis())  // the catalogue: the unbalanced runs' KPIs too (issue 15)
        if (k.name == name || "summary." + std::string(k.name) == name) return k.unit;
    return "";
}

/// --columns: every name a KPI of /summary (checked before the sweep runs).
void check_columns(const std::string& wanted) {
    if (wanted.empty() || wanted == "all") return;
    std::vector<SummaryKpi> kpis;  // the catalogue: the unbalanced runs' KPIs too (issue 15)
    for (const KpiInfo& k : summary_kpis()) kpis.push_back({k.name, 0.0, k.unit});
    for (std::size_t p = 0; p <= wanted.size();) {
        const std::size_t q = std::min(wanted.find(',', p), wanted.size());
        const std::string nm = wanted.substr(p, q - p);
        if (!nm.empty() && std::none_of(kpis.begin(), kpis.end(), [&](const SummaryKpi& k) { return k.name == nm; })) {
            std::string known;
            for (const SummaryKpi& k : kpis) known += (known.empty() ? "" : ", ") + k.name;
            throw CLI::ValidationError("--columns: no KPI '" + nm + "' (known: " + known + "; or 'all')");
        }
        p = q + 1;
    }
}

/// A table cell: 4 significant digits without an exponent between 1e-3 and 1e7, whole numbers as
/// such; other text unchanged.
std::string table_cell(const std::string& shown) {
    char* end = nullptr;
    const double x = std::strtod(shown.c_str(), &end);
    if (shown.empty() || end != shown.c_str() + shown.size() || !std::isfinite(x)) return shown;
    const double ax = std::abs(x);
    char buf[48];
    if (x == std::floor(x) && ax < 1e9) std::snprintf(buf, sizeof buf, "%.0f", x);
    else if (ax < 1e-3 || ax >= 1e7) std::snprintf(buf, sizeof buf, "%.3e", x);
    else std::snprintf(buf, sizeof buf, "%.*f", std::max(0, 3 - int(std::floor(std::log10(ax)))), x);
    return buf;
}

/// The columns to print: the variant keys, the KPIs asked for (--columns; default_table_kpis), the
/// error column when a variant failed. An unknown name in --columns is an error naming the known ones.
std::vector<const Column*> table_columns(const std::vector<Column>& cols, std::size_t n_keys, const std::string& wanted) {
    std::vector<const Column*> shown;
    for (std::size_t j = 0; j < n_keys; ++j) shown.push_back(&cols[j]);
    auto find = [&](const std::string& name) -> const Column* {
        for (std::size_t j = n_keys; j < cols.size(); ++j)
            if (cols[j].name == name || cols[j].name == "summary." + name) return &cols[j];
        return nullptr;
    };
    std::vector<std::string> names;
    if (wanted == "all") {
        for (std::size_t j = n_keys; j < cols.size(); ++j)
            if (cols[j].name != "output" && cols[j].name != "error") names.push_back(cols[j].name);
    } else if (wanted.empty()) {
        names = default_table_kpis();
    } else {
        for (std::size_t p = 0; p <= wanted.size();) {
            const std::size_t q = std::min(wanted.find(',', p), wanted.size());
            if (q > p) names.push_back(wanted.substr(p, q - p));
            p = q + 1;
        }
        for (const std::string& nm : names)
            if (!find(nm)) {
                std::string known;
                for (std::size_t j = n_keys; j < cols.size(); ++j) known += (known.empty() ? "" : ", ") + cols[j].name;
                throw Error("sweep --columns: no KPI '" + nm + "' (known: " + known + ", or 'all')");
            }
    }
    for (const std::string& nm : names)
        if (const Column* c = find(nm)) shown.push_back(c);
    const Column* err = find("error");
    if (err && std::any_of(err->csv.begin(), err->csv.end(), [](const std::string& e) { return !e.empty(); })) shown.push_back(err);
    return shown;
}

/// The table: one row per variant, right-aligned columns (`variant`, the keys, the KPIs); wider
/// than `width` characters, it is printed in blocks of columns, each repeating the variant column.
void print_table(const std::vector<Column>& cols, std::size_t n, std::size_t n_keys, const std::string& wanted, std::size_t width) {
    const std::vector<const Column*> shown = table_columns(cols, n_keys, wanted);
    std::vector<std::vector<std::string>> cells;
    std::vector<std::size_t> w;
    for (std::size_t j = 0; j < shown.size(); ++j) {
        const Column* c = shown[j];
        cells.emplace_back();
        std::size_t x = c->name.size();
        for (const std::string& v : c->shown) {
            cells.back().push_back(c->name == "error" ? (v == "None" ? "" : v) : j < n_keys ? v : table_cell(v));
            x = std::max(x, c->name == "error" ? std::size_t(5) : cells.back().back().size());
        }
        w.push_back(x);
    }
    const std::size_t iw = std::max(std::string("variant").size(), std::to_string(n).size());
    auto pad = [](const std::string& s, std::size_t k) { return std::string(k > s.size() ? k - s.size() : 0, ' ') + s; };
    for (std::size_t j0 = 0; j0 < shown.size();) {
        std::size_t j1 = j0, used = iw;
        while (j1 < shown.size() && (j1 == j0 || used + 2 + w[j1] <= width)) used += 2 + w[j1++];
        if (j0 > 0) std::printf("\n");
        std::string line = pad("variant", iw), units = pad("", iw);
        for (std::size_t j = j0; j < j1; ++j) {
            line += "  " + pad(shown[j]->name, w[j]);
            const std::string u = unit_of_kpi(shown[j]->name);
            units += "  " + pad(u.empty() ? "" : "[" + u + "]", w[j]);
        }
        std::printf("%s\n", line.c_str());
        if (units.find_first_not_of(' ') != std::string::npos) std::printf("%s\n", units.c_str());
        for (std::size_t i = 0; i < n; ++i) {
            line = pad(std::to_string(i), iw);
            for (std::size_t j = j0; j < j1; ++j)
                line += "  " + (shown[j]->name == "error" ? cells[j][i] : pad(cells[j][i], w[j]));
            std::printf("%s\n", line.c_str());
        }
        j0 = j1;
    }
}

/// The terminal's width ($COLUMNS), else 120.
std::size_t table_width() {
    if (const char* c = std::getenv("COLUMNS")) {
        const long v = std::strtol(c, nullptr, 10);
        if (v >= 40) return std::size_t(v);
    }
    return 120;
}

struct SweepArgs {
    std::string file, scheduler, output_dir, columns;
    std::size_t width = 0;
    int workers = 0;
    bool serial = false, quiet = false;
};

void run_sweep_command(const SweepArgs& a) {
    const auto t0 = std::chrono::steady_clock::now();
    const SweepFile f = load_sweep_file(a.file);  // checks every variant before anything runs
    const int threads = a.serial ? 1 : a.workers > 0 ? a.workers : f.workers > 0 ? f.workers : 2;
    const std::string out = std::filesystem::absolute(
        !a.output_dir.empty() ? a.output_dir : !f.output_dir.empty() ? f.output_dir : f.name + "_results").lexically_normal().string();
    std::size_t done = 0;
    auto progress = [&](std::size_t i, const BatchResult& r) {
        if (a.quiet) return;
        std::fprintf(stderr, "[%zu/%zu] variant %zu %s\n", ++done, f.variants.size(), i, r.ok ? "ok" : ("FAILED: " + r.error).c_str());
    };
    install_stop_handlers();
    const std::vector<BatchResult> rows = run_sweep(f.base, f.variants, threads, out, &g_stop, progress);
    const std::vector<Column> cols = sweep_table(f.variants, rows, out);
    const std::string csv = (std::filesystem::path(out) / "sweep.csv").string();
    write_csv(csv, cols, rows.size());
    std::size_t n_keys = 0;
    while (n_keys < cols.size() && std::any_of(f.variants.begin(), f.variants.end(), [&](const SweepVariant& v) {
               return std::any_of(v.begin(), v.end(), [&](const auto& kv) { return sweep_key(kv.first) == cols[n_keys].name; });
           }))
        ++n_keys;
    print_table(cols, rows.size(), n_keys, a.columns, a.width ? a.width : table_width());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n%zu variants in %.1f s; table: %s\n", rows.size(), s, csv.c_str());
    std::fflush(stdout);
    if (const int sig = g_stop.load(); sig != 0) throw ExitStatus{128 + sig, "sweep stopped by signal " + std::to_string(sig)};
    std::string failed;
    std::size_t nf = 0;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (!rows[i].ok) failed += (nf++ ? ", " : "") + std::to_string(i);
    if (nf)
        throw ExitStatus{1, "sweep: " + std::to_string(nf) + " of " + std::to_string(rows.size()) + " variants failed (ids " + failed +
                                "; see the 'error' column)"};
}

}  // namespace

void add_sweep(CLI::App& app, const char* argv0) {
    auto* sw = app.add_subcommand("sweep", "Run the variants of a sweep file in this process (threads), or on a Dask cluster "
                                           "with --scheduler; print the KPI table and write <output dir>/sweep.csv (docs/sweeps.md)");
    static SweepArgs a;
    static std::string argv0_s;
    argv0_s = argv0;
    sw->add_option("SWEEP", a.file, "sweep file (YAML): base scenario + grid/variants")->required();
    sw->add_option("--workers,-w", a.workers, "variants run at a time, one thread each (default: the file's 'workers', else 2)");
    sw->add_option("--scheduler", a.scheduler, "run on this Dask scheduler (e.g. tcp://10.0.0.5:8786): needs Python with libgrid and distributed");
    sw->add_option("--output-dir,-o", a.output_dir, "results directory: variant_<id>.h5 and sweep.csv (default: the file's 'output_dir', else <sweep name>_results)");
    sw->add_flag("--serial", a.serial, "one variant after another");
    sw->add_flag("-q,--quiet", a.quiet, "no per-variant progress lines");
    sw->add_option("--columns,-c", a.columns,
                   "KPIs of the printed table, comma-separated (e.g. peak_import_mw,co2_t), or 'all' (default: peak import, "
                   "import, losses, voltages, transformer loading, violations, overloads, PV, EV not delivered, CO2, bills); "
                   "sweep.csv has every KPI");
    sw->add_option("--width", a.width, "wrap the printed table at this many characters (default: $COLUMNS, else 120)");
    sw->callback([sw] {
        require_at_least(sw, "--workers", a.workers, 1);
        check_columns(a.columns);
        if (!a.scheduler.empty() && a.serial) throw CLI::ValidationError("--scheduler and --serial exclude each other");
        if (!a.scheduler.empty()) {
            std::vector<std::string> args = {a.file, "--scheduler", a.scheduler};
            if (a.workers > 0) args.insert(args.end(), {"--workers", std::to_string(a.workers)});
            if (!a.output_dir.empty()) args.insert(args.end(), {"--output-dir", a.output_dir});
            if (a.quiet) args.push_back("--quiet");
            if (!a.columns.empty()) args.insert(args.end(), {"--columns", a.columns});
            if (a.width) args.insert(args.end(), {"--width", std::to_string(a.width)});
            exec_python_sweep(argv0_s.c_str(), args);
        }
        run_sweep_command(a);
    });
}

}  // namespace libgrid::cli
