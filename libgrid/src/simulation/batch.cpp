// libgrid: batch of independent runs on a thread pool.
#include <libgrid/simulation/batch.hpp>
#include <libgrid/simulation/kpis.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/core/thread_pool.hpp>
#include <libgrid/results/hdf5_results.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

namespace libgrid {

std::vector<BatchResult> run_batch(const std::vector<BatchItem>& items, int threads) {
    std::vector<BatchResult> out(items.size());
    ThreadPool pool(threads);
    pool.for_each(
        items.size(),
        [&](std::size_t i) {
            try {
                SimulationOptions opt = items[i].options;
                opt.threads = 1;
                if (items[i].unbalanced) {
                    Simulation sim(items[i].unet, items[i].devices, opt);
                    out[i].summary = sim.run();
                } else {
                    Simulation sim(items[i].net, items[i].devices, opt);
                    out[i].summary = sim.run();
                }
                out[i].ok = true;
            } catch (const std::exception& e) {
                out[i].error = e.what();
            }
        },
        1);
    return out;
}

namespace {

void run_made_item(std::size_t i, const std::function<BatchItem(std::size_t)>& make, const std::atomic<int>* stop,
                   BatchResult& out) {
    try {
        BatchItem item = make(i);
        item.options.threads = 1;
        if (stop) item.options.stop_requested = stop;
        if (item.unbalanced) {
            Simulation sim(std::move(item.unet), std::move(item.devices), item.options);
            out.summary = sim.run();
        } else {
            Simulation sim(std::move(item.net), std::move(item.devices), item.options);
            out.summary = sim.run();
        }
        out.ok = true;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
}

}  // namespace

std::vector<BatchResult> run_batch(std::size_t n, const std::function<BatchItem(std::size_t)>& make, int threads,
                                   const std::atomic<int>* stop, const BatchDoneFn& done) {
    std::vector<BatchResult> out(n);
    std::atomic<std::size_t> next{0};
    std::mutex done_mu;
    auto worker = [&] {
        for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
            if (stop && stop->load() != 0) out[i].error = "not run: the batch was stopped";
            else run_made_item(i, make, stop, out[i]);
            if (done) {
                std::lock_guard<std::mutex> lock(done_mu);
                done(i, out[i]);
            }
        }
    };
    const std::size_t nt = std::min<std::size_t>(std::size_t(std::max(1, threads)), std::max<std::size_t>(n, 1));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < nt; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    return out;
}

std::vector<SummaryKpi> summary_kpis(const SimulationSummary& s) {
    std::vector<SummaryKpi> k;
    for (const KpiInfo& info : summary_kpis())  // the KPI table (simulation/kpis.hpp), /summary's part
        if (kpi_written(info, s)) k.push_back({info.name, info.get(s), info.unit});
    std::sort(k.begin(), k.end(), [](const SummaryKpi& a, const SummaryKpi& b) { return a.name < b.name; });
    return k;
}

void write_pf_batch_h5(const std::string& path, const Network& net, const PfBatchResult& r, const PfBatchH5Options& options) {
    const std::size_t n = r.n_scenarios;
    std::vector<const PfBatchArray*> chosen;
    const bool all = options.arrays.size() == 1 && options.arrays[0] == "all";
    if (all)
        for (const PfBatchArray& a : r.arrays) chosen.push_back(&a);
    for (const std::string& name : all ? std::vector<std::string>{} : options.arrays.empty() ? kPfBatchDefaultArrays : options.arrays) {
        const std::size_t slash = name.find('/');
        if (slash == std::string::npos) throw ValidationError("write_pf_batch_h5: array '" + name + "': expected 'group/name'");
        chosen.push_back(&r.array(name.substr(0, slash), name.substr(slash + 1)));
    }
    H5WriterOptions h5 = options.h5;
    h5.chunk_rows = std::max<std::size_t>(1, std::min(h5.chunk_rows, n));  // one chunk for a small batch
    ResultsWriter w(path, h5);
    w.set_attribute("/", "kind", "pf_batch");
    w.set_attribute("/", "method", to_string(r.method_used));
    std::vector<std::int64_t> scen(n);
    for (std::size_t s = 0; s < n; ++s) scen[s] = std::int64_t(s);
    w.write_int_vector("/scenario", scen);
    std::vector<double> vn;
    for (const Bus& b : net.buses) vn.push_back(b.vn_kv);
    w.write_vector("/bus/vn_kv", vn, "kV");
    for (const auto& entry : r.ids) {
        const std::string& group = entry.first;  // a named reference: clang < 16 cannot capture a structured binding
        const auto& ids = entry.second;
        if (!ids.empty() && std::any_of(chosen.begin(), chosen.end(), [&](const PfBatchArray* a) { return a->group == group; }))
            w.write_ids(group, std::vector<std::int64_t>(ids.begin(), ids.end()));
    }
    for (const PfBatchArray* ap : chosen) {
        const PfBatchArray& a = *ap;
        const std::size_t width = r.group_ids(a.group).size();
        if (width == 0) continue;
        const int h = w.add_series(a.group, a.name, width, a.unit);
        for (std::size_t s = 0; s < n; ++s) w.append(h, a.values.data() + s * width);
    }
    const int hc = w.add_int_series("solver", "converged", 1);
    const int hi = w.add_int_series("solver", "iterations", 1);
    const int hm = w.add_series("solver", "max_mismatch_pu", 1, "p.u.");
    const int hl = w.add_series("solver", "losses_mw", 1, "MW");
    for (std::size_t s = 0; s < n; ++s) {
        const std::int64_t c = r.converged[s], it = r.iterations[s];
        w.append(hc, &c);
        w.append(hi, &it);
        w.append(hm, &r.max_mismatch[s]);
        w.append(hl, &r.losses_mw[s]);
    }
    w.close();
}

}  // namespace libgrid
