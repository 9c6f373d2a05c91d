// libgrid: persistent thread pool with fixed ranges (see thread_pool.hpp).
#include <libgrid/core/thread_pool.hpp>

namespace libgrid {

ThreadPool::ThreadPool(int threads) : n_(threads < 1 ? 1 : threads) {
    for (int i = 1; i < n_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::run_ranges(std::size_t n, std::function<void(std::size_t, std::size_t)>& range) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        job_ = &range;
        job_n_ = n;
        pending_ = n_ - 1;
        ++generation_;
    }
    start_cv_.notify_all();
    range(0, n / std::size_t(n_));  // this thread takes the first range
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return pending_ == 0; });
    job_ = nullptr;
}

void ThreadPool::worker(int index) {
    unsigned long seen = 0;
    for (;;) {
        std::function<void(std::size_t, std::size_t)>* job;
        std::size_t n;
        {
            std::unique_lock<std::mutex> lk(mu_);
            start_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            job = job_;
            n = job_n_;
        }
        const std::size_t a = n * std::size_t(index) / std::size_t(n_), b = n * std::size_t(index + 1) / std::size_t(n_);
        (*job)(a, b);
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (--pending_ == 0) done_cv_.notify_one();
        }
    }
}

}  // namespace libgrid
