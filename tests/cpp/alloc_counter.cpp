// Allocation counter for the tests: replacements of every global operator new and operator delete
// (plain, array, nothrow, sized, align_val_t, and their combinations: 8 news and 12 deletes) that
// count every call of a new in g_operator_new_calls and allocate with malloc / aligned_alloc.
//
// Every overload is replaced, consistently, so that whatever new a piece of code uses (the standard
// library's std::stable_sort buffer comes from the nothrow new, over-aligned types from the
// align_val_t one) is freed by a matching delete of ours into free(). Replacing only some of them
// mixes allocators: under AddressSanitizer that is an alloc-dealloc-mismatch (a nothrow new of the
// sanitizer runtime freed by our delete), and in a plain build it only works by luck. With all of
// them replaced the counter stays active under ASan, which still checks every block (it intercepts
// malloc and free); only its new-vs-free mismatch check is lost, for this test binary.
//
// They are strong definitions. Weak ones lose to the sanitizer runtime's own (weak) operator new when
// clang links ASan statically into the executable, and the counter then silently counts nothing; with
// g++ (libasan is a shared library) the executable's definitions win either way. A second replacement
// elsewhere in the test binary is a link error, not a silent choice. The tests that use the counter
// still check that it counts (alloc_counter_active()) and say so (WARN) rather than assert on a
// counter that is not running.
#include "alloc_counter.hpp"

#include <cstddef>
#include <cstdlib>
#include <new>

std::atomic<long> g_operator_new_calls{0};

namespace {

void* counted_alloc(std::size_t n) noexcept {
    g_operator_new_calls.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
        if (void* p = std::malloc(n ? n : 1)) return p;
        std::new_handler h = std::get_new_handler();
        if (!h) return nullptr;
        try {
            h();
        } catch (...) {
            return nullptr;
        }
    }
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) noexcept {
    g_operator_new_calls.fetch_add(1, std::memory_order_relaxed);
    std::size_t a = static_cast<std::size_t>(al);
    if (a < sizeof(void*)) a = sizeof(void*);
    // aligned_alloc wants a size that is a multiple of the alignment
    const std::size_t size = n == 0 ? a : (n + a - 1) / a * a;
    if (size < n) return nullptr;  // overflow
    for (;;) {
        if (void* p = std::aligned_alloc(a, size)) return p;
        std::new_handler h = std::get_new_handler();
        if (!h) return nullptr;
        try {
            h();
        } catch (...) {
            return nullptr;
        }
    }
}

void* or_throw(void* p) {
    if (!p) throw std::bad_alloc();
    return p;
}

}  // namespace

bool alloc_counter_active() {
    const long before = g_operator_new_calls.load();
    int* volatile probe = new int(1);
    delete probe;
    return g_operator_new_calls.load() > before;
}

// ---- new: 4 throwing, 4 nothrow ----
void* operator new(std::size_t n) { return or_throw(counted_alloc(n)); }
void* operator new[](std::size_t n) { return or_throw(counted_alloc(n)); }
void* operator new(std::size_t n, std::align_val_t a) {
    return or_throw(counted_aligned_alloc(n, a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return or_throw(counted_aligned_alloc(n, a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_aligned_alloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_aligned_alloc(n, a);
}

// ---- delete: plain, sized, aligned, sized + aligned, nothrow, aligned + nothrow; each also [] ----
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
