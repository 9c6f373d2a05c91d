// libgrid: a small persistent thread pool for the per-step device loops. Work is split into fixed
// contiguous ranges, one per thread, so every element is computed by the same code with the same
// inputs whatever the thread count: results are identical bit for bit at any number of threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace libgrid {

/// Thread safety (docs/threads.md): for_each is called by one thread at a time (the pool's owner,
/// e.g. one Simulation); its workers run fn concurrently on disjoint ranges. Several pools (several
/// simulations) may run at once.
class ThreadPool {
public:
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    int size() const { return n_; }

    /// Calls fn(i) for i in [0, n). Runs serially when there is one thread or little work.
    template <class F>
    void for_each(std::size_t n, F&& fn, std::size_t min_parallel = 256) {
        if (n_ <= 1 || n < min_parallel) {
            for (std::size_t i = 0; i < n; ++i) fn(i);
            return;
        }
        std::function<void(std::size_t, std::size_t)> range = [&fn](std::size_t a, std::size_t b) {
            for (std::size_t i = a; i < b; ++i) fn(i);
        };
        run_ranges(n, range);
    }

private:
    void run_ranges(std::size_t n, std::function<void(std::size_t, std::size_t)>& range);
    void worker(int index);

    int n_ = 1;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::condition_variable start_cv_, done_cv_;
    std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
    std::size_t job_n_ = 0;
    unsigned long generation_ = 0;
    int pending_ = 0;
    bool stop_ = false;
};

}  // namespace libgrid
