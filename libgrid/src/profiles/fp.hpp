// libgrid profiles (private): keep floating-point expressions exactly as written in this translation
// unit. Include LAST (after every other header) in each profiles_*.cpp.
//
// "Same seed -> same numbers on every platform" needs every a*b+c to round twice, as written: a fused
// multiply-add (FMA) rounds once and gives other bits. GCC contracts a*b+c into FMA by default in C++
// (even with -std=c++20) whenever the target has FMA (-march=native, -march=x86-64-v3, ARM64); Clang
// does within expressions. These pragmas switch contraction off for the code that follows. (The
// build could also pass -ffp-contract=off; -ffast-math must never be used.)
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#endif
