// The tests' allocation counter (alloc_counter.cpp) counts every form of operator new, and every block
// goes back through a matching delete. With only some overloads replaced, an aligned new escaped the
// count, and under AddressSanitizer so did the nothrow one (libasan replaces it; libstdc++'s own
// routes through the counted plain new): std::stable_sort's buffer, a nothrow new freed by the
// replaced delete into free(), was then an alloc-dealloc-mismatch.
#include <doctest/doctest.h>

#include "alloc_counter.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace {

struct alignas(64) OverAligned {
    double x[8];
};

/// p, through a volatile store: the compiler may not elide the new-expression that made it.
template <class T>
T* kept(T* p) {
    static void* volatile sink;
    sink = p;
    (void)sink;
    return p;
}

/// Calls of operator new made by f.
template <class F>
long news_in(F&& f) {
    const long before = g_operator_new_calls.load();
    f();
    return g_operator_new_calls.load() - before;
}

}  // namespace

TEST_CASE("allocation counter: every operator new is counted and freed by its delete") {
    REQUIRE(alloc_counter_active());
    CHECK(news_in([] { delete kept(new int(1)); }) == 1);
    CHECK(news_in([] { delete[] kept(new int[7]); }) == 1);
    CHECK(news_in([] { ::operator delete(::operator new(0)); }) == 1);  // size 0 is a valid request
#if defined(__cpp_sized_deallocation)  // clang 14 declares the sized deletes with -fsized-deallocation only
    CHECK(news_in([] { ::operator delete(::operator new(24), std::size_t{24}); }) == 1);
    CHECK(news_in([] { ::operator delete[](::operator new[](24), std::size_t{24}); }) == 1);
#endif
    CHECK(news_in([] {
              void* p = ::operator new(16, std::nothrow);
              REQUIRE(p != nullptr);
              ::operator delete(p, std::nothrow);
          }) == 1);
    CHECK(news_in([] {
              void* p = ::operator new[](16, std::nothrow);
              REQUIRE(p != nullptr);
              ::operator delete[](p);
          }) == 1);
    CHECK(news_in([] {
              auto* o = kept(new OverAligned());
              CHECK(reinterpret_cast<std::uintptr_t>(o) % 64 == 0);
              delete o;
          }) == 1);
    CHECK(news_in([] {
              auto* o = kept(new OverAligned[3]());
              CHECK(reinterpret_cast<std::uintptr_t>(o) % 64 == 0);
              delete[] o;
          }) == 1);
    CHECK(news_in([] {
              void* p = ::operator new(100, std::align_val_t{128}, std::nothrow);
              REQUIRE(p != nullptr);
              CHECK(reinterpret_cast<std::uintptr_t>(p) % 128 == 0);
              ::operator delete(p, std::align_val_t{128}, std::nothrow);
          }) == 1);
    CHECK(news_in([] {
              void* p = ::operator new[](100, std::align_val_t{256});
              CHECK(reinterpret_cast<std::uintptr_t>(p) % 256 == 0);
#if defined(__cpp_sized_deallocation)
              ::operator delete[](p, std::size_t{100}, std::align_val_t{256});
#else
              ::operator delete[](p, std::align_val_t{256});
#endif
          }) == 1);
    CHECK(news_in([] { kept(std::make_unique<OverAligned[]>(5).get()); }) == 1);
}

TEST_CASE("allocation counter: std::stable_sort's temporary buffer (nothrow new) is counted") {
    std::vector<int> v(1000);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>((i * 7919) % 1000);
    const long n = news_in([&] { std::stable_sort(v.begin(), v.end()); });
    CHECK(std::is_sorted(v.begin(), v.end()));
    CHECK(n >= 1);  // libstdc++ takes its buffer from operator new(size, nothrow)
}
