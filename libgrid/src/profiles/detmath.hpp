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

}  // namespace libgrid::detmath
