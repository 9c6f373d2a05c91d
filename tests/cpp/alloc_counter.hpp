// The tests' allocation counter (tests/cpp/alloc_counter.cpp): every global operator new of the
// test binary counts its calls here.
#pragma once

#include <atomic>

/// Calls of any global operator new since the start of the test binary.
extern std::atomic<long> g_operator_new_calls;

/// True when the counting operator new is the one in use (a probe new moves the counter).
bool alloc_counter_active();
