// libgrid profiles (private): deterministic elementary functions.
//
// std::exp / std::log / std::sin ... come from the platform's libm, whose last bit differs between
// glibc, musl, macOS and MSVC. The profiles layer promises "same seed -> same numbers, bit for bit,
// on any platform", so every transcendental function on its path is computed here from IEEE-754
// operations that are exactly rounded everywhere (+ - * /, sqrt, floor, frexp, ldexp).
// Accuracy is a few ulp (ample for weather and load models); determinism is the point.
//
// The results are the same on every platform as long as the compiler neither fuses a*b+c into an
// FMA nor reassociates: every profiles_*.cpp includes profiles_fp.hpp last (contraction off for GCC,
// Clang and MSVC), and the library must never be built with -ffast-math.
#pragma once

#include <cstddef>

namespace libgrid::detmath {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kDegToRad = kPi / 180.0;
inline constexpr double kRadToDeg = 180.0 / kPi;

double exp(double x);
double log(double x);            ///< natural logarithm; log(0) = -inf, log(x<0) = NaN
double pow(double x, double y);  ///< x > 0 (x == 0 gives 0 for y > 0); computed as exp(y log x)
void sincos(double x, double& s, double& c);
double sin(double x);
double cos(double x);
double atan(double x);
double atan2(double y, double x);
double acos(double x);  ///< argument clamped to [-1, 1]
double asin(double x);  ///< argument clamped to [-1, 1]

// Block forms: the same operations as the scalar functions above, in the same order, written without
// branches on GCC/Clang vector types so that a block of values is computed a few lanes at a time.
// Every lane gives the scalar function's value bit for bit (tests/cpp/profiles/test_detmath_block.cpp).
// Values outside the stated domain are computed by the scalar function.

/// y[i] = log(x[i]); the block path covers positive normal finite x.
void log_block(const double* x, double* y, std::size_t n);
/// sincos(x[i], s[i], c[i]); the block path covers 0 <= x <= 1e6.
void sincos_block(const double* x, double* s, double* c, std::size_t n);
/// The 2-lane (SSE2) forms whatever the processor has, for the tests (log_block and sincos_block
/// take the 4-lane AVX2 ones where the processor has AVX2).
void log_block_2(const double* x, double* y, std::size_t n);
void sincos_block_2(const double* x, double* s, double* c, std::size_t n);

}  // namespace libgrid::detmath
