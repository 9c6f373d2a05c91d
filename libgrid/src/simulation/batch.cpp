// libgrid: batch of independent runs on a thread pool.
#include <libgrid/simulation/batch.hpp>
#include <libgrid/core/thread_pool.hpp>

#include <exception>

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

}  // namespace libgrid
