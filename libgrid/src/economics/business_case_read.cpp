// libgrid economics: what the business case reads from a results file (docs/economics.md "The business
// case", "What is read"). Only through ResultsReader; every error names the file and the dataset.
#include "business_case_impl.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace libgrid::bc {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string where(const ResultsReader& r) { return "results file '" + r.path() + "'"; }

/// Column sums of a (steps x n) series, x `scale`, NaN skipped; `sign` > 0 sums positive values only,
/// < 0 the negatives (as positive numbers), 0 all.
std::vector<double> column_sums(const ResultsReader& r, const std::string& ds, std::size_t n, double scale, int sign = 0) {
    std::vector<double> sum(n, 0.0);
    if (!r.is_dataset(ds)) return sum;
    const auto shape = r.shape(ds);
    if (shape.size() != 2 || shape[1] != n) throw ValidationError(where(r) + ": dataset '" + ds + "' is not (steps x " + std::to_string(n) + ")");
    const std::size_t block = 2048;
    for (std::size_t row = 0; row < shape[0]; row += block) {
        const std::size_t m = std::min(block, shape[0] - row);
        const std::vector<double> v = r.read_rows(ds, row, m);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                const double x = v[i * n + j];
                if (std::isnan(x) || (sign > 0 && x < 0) || (sign < 0 && x > 0)) continue;
                sum[j] += (sign < 0 ? -x : x) * scale;
            }
    }
    return sum;
}

/// Column maxima of a (steps x n) series for the columns in `cols` (NaN skipped; NaN when never a number).
std::vector<double> column_max(const ResultsReader& r, const std::string& ds, std::size_t n, const std::vector<std::size_t>& cols) {
    std::vector<double> mx(cols.size(), kNaN);
    const auto shape = r.shape(ds);
    if (shape.size() != 2 || shape[1] != n) throw ValidationError(where(r) + ": dataset '" + ds + "' is not (steps x " + std::to_string(n) + ")");
    const std::size_t block = 1024;
    for (std::size_t row = 0; row < shape[0]; row += block) {
        const std::size_t m = std::min(block, shape[0] - row);
        const std::vector<double> v = r.read_rows(ds, row, m);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t c = 0; c < cols.size(); ++c) {
                const double x = v[i * n + cols[c]];
                if (!std::isnan(x) && !(x <= mx[c])) mx[c] = x;
            }
    }
    return mx;
}

std::vector<double> vec(const ResultsReader& r, const std::string& ds, std::size_t n) {
    if (!r.is_dataset(ds)) return std::vector<double>(n, 0.0);
    std::vector<double> v = r.read_vector(ds);
    if (v.size() != n) throw ValidationError(where(r) + ": dataset '" + ds + "' has " + std::to_string(v.size()) + " values, not " + std::to_string(n));
    return v;
}

std::vector<std::int64_t> customers(const ResultsReader& r, const std::string& g, std::size_t n) {
    if (!r.is_dataset(g + "/customer")) return std::vector<std::int64_t>(n, -1);
    return r.read_int_vector(g + "/customer");
}

std::string owner_of(std::int64_t customer, const std::string& kind, std::int64_t id) {
    std::string o = customer >= 0 ? std::string("c") : kind;  // (not "c" + ...: GCC 12's -Wrestrict false positive)
    o += std::to_string(customer >= 0 ? customer : id);
    return o;
}

void add(RunData& d, std::int64_t cust, const std::string& owner, const std::string& kind, double size, double size2, double e) {
    if (size > 0) d.devices.push_back({owner, cust, kind, size, size2, e});
}

/// /pv, /battery, /ev, /building.
void read_plain_devices(const ResultsReader& r, RunData& d, double kwh) {
    if (r.is_dataset("/pv/id")) {
        const auto id = r.read_int_vector("/pv/id");
        const auto c = customers(r, "/pv", id.size());
        const auto kwp = vec(r, "/pv/kwp_dc", id.size());
        const auto e = column_sums(r, "/pv/p_mw", id.size(), kwh);
        for (std::size_t i = 0; i < id.size(); ++i) add(d, c[i], owner_of(c[i], "pv", id[i]), "pv", kwp[i], 0, e[i]);
    }
    if (r.is_dataset("/battery/id")) {
        const auto id = r.read_int_vector("/battery/id");
        const auto c = customers(r, "/battery", id.size());
        const auto ekwh = vec(r, "/battery/e_kwh", id.size());
        const auto pc = vec(r, "/battery/p_charge_kw", id.size()), pd = vec(r, "/battery/p_discharge_kw", id.size());
        const auto e = column_sums(r, "/battery/p_mw", id.size(), kwh, +1);
        for (std::size_t i = 0; i < id.size(); ++i)
            add(d, c[i], owner_of(c[i], "battery", id[i]), "battery", ekwh[i], std::max(pc[i], pd[i]), e[i]);
    }
    if (r.is_dataset("/ev/id")) {  // home chargers (the scenario's ev_home builder)
        const auto id = r.read_int_vector("/ev/id");
        const auto c = customers(r, "/ev", id.size());
        const auto n = vec(r, "/ev/n_chargers", id.size()), kw = vec(r, "/ev/charger_kw", id.size());
        const auto e = column_sums(r, "/ev/p_mw", id.size(), kwh, -1);
        for (std::size_t i = 0; i < id.size(); ++i) add(d, c[i], owner_of(c[i], "ev", id[i]), "ev_home", n[i], kw[i], e[i]);
    }
    if (r.is_dataset("/building/id")) {
        const auto id = r.read_int_vector("/building/id");
        const auto c = customers(r, "/building", id.size());
        const auto a = vec(r, "/building/floor_area_m2", id.size());
        for (std::size_t i = 0; i < id.size(); ++i) add(d, c[i], owner_of(c[i], "building", id[i]), "bems", a[i], 0, 0);
    }
}

/// /home (HEMS homes with their PV, battery, charger) and /ev_site (public charging sites).
void read_composite_devices(const ResultsReader& r, RunData& d, double kwh) {
    if (r.is_dataset("/home/id")) {
        const auto id = r.read_int_vector("/home/id");
        const auto c = customers(r, "/home", id.size());
        const auto pv = vec(r, "/home/pv_kwp", id.size()), bk = vec(r, "/home/battery_kwh", id.size());
        const auto bw = vec(r, "/home/battery_kw", id.size()), ek = vec(r, "/home/ev_charger_kw", id.size());
        const auto epv = column_sums(r, "/home/pv_mw", id.size(), kwh), ebat = column_sums(r, "/home/battery_mw", id.size(), kwh, +1);
        const auto eev = column_sums(r, "/home/ev_mw", id.size(), kwh, -1);
        for (std::size_t i = 0; i < id.size(); ++i) {
            const std::string o = owner_of(c[i], "home", id[i]);
            add(d, c[i], o, "hems", 1, 0, 0);
            add(d, c[i], o, "pv", pv[i], 0, epv[i]);
            add(d, c[i], o, "battery", bk[i], bw[i], ebat[i]);
            add(d, c[i], o, "ev_home", ek[i] > 0 ? 1 : 0, ek[i], eev[i]);
        }
    }
    if (r.is_dataset("/ev_site/id")) {
        const auto id = r.read_int_vector("/ev_site/id");
        const auto n = vec(r, "/ev_site/n_chargers", id.size()), kw = vec(r, "/ev_site/charger_kw", id.size());
        const auto pv = vec(r, "/ev_site/pv_kwp", id.size()), bk = vec(r, "/ev_site/battery_kwh", id.size());
        const auto bw = vec(r, "/ev_site/battery_kw", id.size());
        const auto epv = column_sums(r, "/ev_site/pv_mw", id.size(), kwh), ebat = column_sums(r, "/ev_site/battery_mw", id.size(), kwh, +1);
        const auto eev = column_sums(r, "/ev_site/ev_mw", id.size(), kwh, -1);
        for (const double x : column_sums(r, "/ev_site/p_mw", id.size(), kwh, -1)) d.site_import_kwh += x;
        for (std::size_t i = 0; i < id.size(); ++i) {
            std::string o = "site";
            o += std::to_string(id[i]);
            add(d, -1, o, kw[i] > 43.0 ? "ev_dc" : "ev_ac_public", n[i], kw[i], eev[i]);
            add(d, -1, o, "pv", pv[i], 0, epv[i]);
            add(d, -1, o, "battery", bk[i], bw[i], ebat[i]);
        }
    }
}

/// Transformers: rated kVA (/branch/rated_kva, or on an unbalanced file the winding-1 rated phase
/// current x sqrt(3) x the HV bus's kV) and the largest loading of the run.
void read_trafos(const ResultsReader& r, RunData& d) {
    if (!r.is_dataset("/branch/kind") || !r.is_dataset("/branch/loading_percent")) return;
    const auto kind = r.read_strings("/branch/kind");
    const std::size_t n = kind.size();
    std::vector<std::size_t> cols;
    for (std::size_t b = 0; b < n; ++b)
        if (kind[b] == "trafo") cols.push_back(b);
    if (cols.empty()) return;
    std::vector<double> kva(n, kNaN);
    if (r.is_dataset("/branch/rated_kva")) {
        kva = vec(r, "/branch/rated_kva", n);
    } else if (r.is_dataset("/branch/rated_amps") && r.is_dataset("/branch/from_bus")) {
        const auto amps = vec(r, "/branch/rated_amps", n);
        const auto from = r.read_int_vector("/branch/from_bus");
        const auto bus = r.read_int_vector("/bus/id");
        const auto vn = vec(r, "/bus/vn_kv", bus.size());
        std::map<std::int64_t, double> kv;
        for (std::size_t i = 0; i < bus.size(); ++i) kv[bus[i]] = vn[i];
        for (std::size_t b : cols) kva[b] = amps[b] * std::sqrt(3.0) * kv[from[b]];
    }
    std::vector<std::string> key(n);
    if (r.is_dataset("/branch/element_id")) {
        const auto e = r.read_int_vector("/branch/element_id");
        for (std::size_t b : cols) key[b] = std::to_string(e[b]);
    } else if (r.is_dataset("/branch/name")) {
        key = r.read_strings("/branch/name");
    } else {
        for (std::size_t b : cols) key[b] = std::to_string(b);
    }
    const auto mx = column_max(r, "/branch/loading_percent", n, cols);
    for (std::size_t c = 0; c < cols.size(); ++c) d.trafos.push_back({key[cols[c]], kva[cols[c]], mx[c]});
}

/// Customer classes: /load/type, else the customers of the grid the stored scenario generates (an
/// unbalanced Melaka file has no /load/type), else "unclassified".
void read_types(const ResultsReader& r, RunData& d) {
    if (r.is_dataset("/load/type")) {
        const auto t = r.read_strings("/load/type");
        for (std::size_t i = 0; i < d.load_ids.size() && i < t.size(); ++i) d.load_type[d.load_ids[i]] = t[i].empty() ? "unclassified" : t[i];
        d.type_source = "/load/type";
        return;
    }
    for (auto id : d.load_ids) d.load_type[id] = "unclassified";
    d.type_source = "none (no /load/type, and the stored scenario does not generate its customers)";
    if (d.scenario_text.empty()) return;
    try {
        const ScenarioGrid g = scenario_grid(parse_scenario(d.scenario_text, r.path()));
        for (const Customer& c : g.customers)
            if (d.load_type.count(c.load_id)) d.load_type[c.load_id] = to_string(c.type);
        d.type_source = "the customers of the grid its stored scenario generates (the file has no /load/type)";
    } catch (const Error&) {
    }
}

}  // namespace

RunData read_run(const std::string& path) {
    const ResultsReader r(path);
    RunData d;
    d.file = path;
    if (r.has_attribute("/", "scenario")) d.scenario_text = r.attribute("/", "scenario");
    if (!r.is_dataset("/time")) throw ValidationError(where(r) + ": no dataset '/time': not the results of a run");
    const auto t = r.read_int_vector("/time");
    if (t.size() < 2) throw ValidationError(where(r) + ": '/time' has " + std::to_string(t.size()) + " steps; the business case needs at least 2");
    d.hours = double(t.size()) * double(t[1] - t[0]) / 3600.0;
    if (!(d.hours > 0)) throw ValidationError(where(r) + ": '/time' does not increase");
    if (!r.is_dataset("/load/id")) throw ValidationError(where(r) + ": no dataset '/load/id' (the customers)");
    d.load_ids = r.read_int_vector("/load/id");
    for (const char* ds : {"/bill/id", "/bill/total_rm"})
        if (!r.is_dataset(ds)) throw ValidationError(where(r) + ": no dataset '" + std::string(ds) + "': the business case needs the customers' bills (a run with meters and tariffs)");
    const auto bid = r.read_int_vector("/bill/id");
    const auto total = column_sums(r, "/bill/total_rm", bid.size(), 1.0);
    for (std::size_t i = 0; i < bid.size(); ++i) d.bill_rm[bid[i]] = total[i];
    if (r.is_dataset("/bill/full_month"))
        for (const double f : r.read_vector("/bill/full_month")) d.partial_months |= f == 0.0;
    for (const char* k : {"/summary/import_mwh", "/summary/co2_t"})
        if (!r.is_dataset(k)) throw ValidationError(where(r) + ": no dataset '" + std::string(k) + "' (the run did not finish?)");
    d.import_mwh = r.read_scalar("/summary/import_mwh");
    d.co2_t = r.read_scalar("/summary/co2_t");
    const double kwh = (double(t[1] - t[0]) / 3600.0) * 1000.0;  // MW x step -> kWh
    read_plain_devices(r, d, kwh);
    read_composite_devices(r, d, kwh);
    read_trafos(r, d);
    if (r.is_dataset("/meter/id")) d.meters = r.shape("/meter/id").at(0);
    if (r.is_dataset("/comms/concentrator/id")) d.concentrators = r.shape("/comms/concentrator/id").at(0);
    read_types(r, d);
    return d;
}

}  // namespace libgrid::bc
