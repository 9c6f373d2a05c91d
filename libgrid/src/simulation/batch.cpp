// libgrid: batch of independent runs on a thread pool.
#include <libgrid/simulation/batch.hpp>
#include <libgrid/simulation/kpis.hpp>
#include <libgrid/core/thread_pool.hpp>

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
                Simulation sim(items[i].net, items[i].devices, opt);
                out[i].summary = sim.run();
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
        Simulation sim(std::move(item.net), std::move(item.devices), item.options);
        out.summary = sim.run();
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
        if (info.in_file) k.push_back({info.name, info.get(s), info.unit});
    std::sort(k.begin(), k.end(), [](const SummaryKpi& a, const SummaryKpi& b) { return a.name < b.name; });
    return k;
}

}  // namespace libgrid
