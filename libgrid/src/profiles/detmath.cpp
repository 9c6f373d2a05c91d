// libgrid profiles (private): deterministic elementary functions. See profiles_detmath.hpp.
// Range reductions follow the classic Cody-Waite scheme (constants as in fdlibm); the kernels are
// truncated Taylor / atanh series evaluated by Horner's rule, far past the point where the next
// term drops below half an ulp for the reduced argument.
#include "detmath.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

#if defined(__GNUC__) || defined(__clang__)
#define LIBGRID_DM_INLINE inline __attribute__((always_inline))  // the kernels inline into the AVX2 block forms
#else
#define LIBGRID_DM_INLINE inline
#endif

// The block forms' vector helpers are internal (anonymous namespace): no ABI crosses a boundary.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif


namespace libgrid::detmath {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ln 2 split so that k * kLn2Hi is exact for |k| < 2^20.
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;

// pi/2 split into three parts of 33 bits (fdlibm's pio2_1, pio2_2, pio2_3 and the tail).
constexpr double kPio2_1 = 1.57079632673412561417e+00;
constexpr double kPio2_2 = 6.07710050630396597660e-11;
constexpr double kPio2_3 = 2.02226624871116645580e-21;
constexpr double kPio2_3t = 8.47842766036889956997e-32;
constexpr double kTwoOverPi = 6.36619772367581382433e-01;

constexpr double kPio2 = 1.57079632679489655800e+00;
constexpr double kPio4 = 7.85398163397448278999e-01;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kTanPi8 = 4.14213562373095034e-01;  // tan(pi/8) = sqrt(2) - 1

// Round to nearest integer, ties away from zero, with plain arithmetic.
double round_half_away(double x) { return x >= 0.0 ? std::floor(x + 0.5) : -std::floor(-x + 0.5); }

// sin(r) and cos(r) for |r| <= pi/4 (+ a little). Templates: the scalar functions and the block forms
// (on vector types) evaluate the very same expressions.
template <class T>
LIBGRID_DM_INLINE T sin_kernel(T r) {
    const T r2 = r * r;
    // r - r^3/3! + ... - r^19/19!
    T p = T{} - 1.0 / 121645100408832000.0;  // -1/19! (0 - c is exact)
    p = p * r2 + 1.0 / 355687428096000.0;    // 1/17!
    p = p * r2 - 1.0 / 1307674368000.0;      // -1/15!
    p = p * r2 + 1.0 / 6227020800.0;         // 1/13!
    p = p * r2 - 1.0 / 39916800.0;           // -1/11!
    p = p * r2 + 1.0 / 362880.0;             // 1/9!
    p = p * r2 - 1.0 / 5040.0;               // -1/7!
    p = p * r2 + 1.0 / 120.0;                // 1/5!
    p = p * r2 - 1.0 / 6.0;                  // -1/3!
    const T r3 = r2 * r;
    return r + r3 * p;
}

template <class T>
LIBGRID_DM_INLINE T cos_kernel(T r) {
    const T r2 = r * r;
    // 1 - r^2/2! + ... + r^20/20!
    T p = T{} + 1.0 / 2432902008176640000.0;  // 1/20!
    p = p * r2 - 1.0 / 6402373705728000.0;   // -1/18!
    p = p * r2 + 1.0 / 20922789888000.0;     // 1/16!
    p = p * r2 - 1.0 / 87178291200.0;        // -1/14!
    p = p * r2 + 1.0 / 479001600.0;          // 1/12!
    p = p * r2 - 1.0 / 3628800.0;            // -1/10!
    p = p * r2 + 1.0 / 40320.0;              // 1/8!
    p = p * r2 - 1.0 / 720.0;                // -1/6!
    p = p * r2 + 1.0 / 24.0;                 // 1/4!
    const T r4 = r2 * r2;
    const T half_r2 = 0.5 * r2;
    const T w = 1.0 - half_r2;
    return w + ((1.0 - w) - half_r2) + r4 * p;
}

// log(m 2^e) for m in [sqrt(1/2), sqrt(2)), e as a double.
template <class T>
LIBGRID_DM_INLINE T log_kernel(T m, T de) {
    // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716
    const T f = m - 1.0;
    const T s = f / (m + 1.0);
    const T s2 = s * s;
    T p = T{} + 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    // log(m) = f - s*f + 2 s^3 p  (since 2s = f - s f exactly in real arithmetic)
    const T s3 = s2 * s;
    const T log_m = (f - s * f) + 2.0 * s3 * p;
    return de * kLn2Hi + (log_m + de * kLn2Lo);
}

// atan(z) for |z| <= 0.2 (odd series to z^31).
double atan_kernel(double z) {
    const double z2 = z * z;
    double p = -1.0 / 31.0;
    p = p * z2 + 1.0 / 29.0;
    p = p * z2 - 1.0 / 27.0;
    p = p * z2 + 1.0 / 25.0;
    p = p * z2 - 1.0 / 23.0;
    p = p * z2 + 1.0 / 21.0;
    p = p * z2 - 1.0 / 19.0;
    p = p * z2 + 1.0 / 17.0;
    p = p * z2 - 1.0 / 15.0;
    p = p * z2 + 1.0 / 13.0;
    p = p * z2 - 1.0 / 11.0;
    p = p * z2 + 1.0 / 9.0;
    p = p * z2 - 1.0 / 7.0;
    p = p * z2 + 1.0 / 5.0;
    p = p * z2 - 1.0 / 3.0;
    const double z3 = z2 * z;
    return z + z3 * p;
}

}  // namespace

double exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893384) return kInf;
    if (x < -745.1332191019412) return 0.0;
    const double k = round_half_away(x * kInvLn2);
    const double hi = x - k * kLn2Hi;
    const double lo = k * kLn2Lo;
    const double r = hi - lo;  // |r| <= 0.3466
    // e^r = 1 + r + r^2/2! + ... + r^14/14!
    double p = 1.0 / 87178291200.0;  // 1/14!
    p = p * r + 1.0 / 6227020800.0;  // 1/13!
    p = p * r + 1.0 / 479001600.0;   // 1/12!
    p = p * r + 1.0 / 39916800.0;    // 1/11!
    p = p * r + 1.0 / 3628800.0;     // 1/10!
    p = p * r + 1.0 / 362880.0;      // 1/9!
    p = p * r + 1.0 / 40320.0;       // 1/8!
    p = p * r + 1.0 / 5040.0;        // 1/7!
    p = p * r + 1.0 / 720.0;         // 1/6!
    p = p * r + 1.0 / 120.0;         // 1/5!
    p = p * r + 1.0 / 24.0;          // 1/4!
    p = p * r + 1.0 / 6.0;           // 1/3!
    p = p * r + 0.5;                 // 1/2!
    const double r2 = r * r;
    const double e_r = 1.0 + (r + r2 * p);
    return std::ldexp(e_r, static_cast<int>(k));
}

double log(double x) {
    if (x != x) return x;
    if (x < 0.0) return kNaN;
    if (x == 0.0) return -kInf;
    if (x == kInf) return kInf;
    int e = 0;
    double m = std::frexp(x, &e);  // x = m 2^e, m in [0.5, 1)
    if (m < kSqrtHalf) {
        m *= 2.0;
        e -= 1;
    }
    return log_kernel(m, static_cast<double>(e));
}

double pow(double x, double y) {
    if (x == 0.0) return y > 0.0 ? 0.0 : (y == 0.0 ? 1.0 : kInf);
    if (y == 0.0) return 1.0;
    if (y == 1.0) return x;
    return exp(y * log(x));
}

void sincos(double x, double& s, double& c) {
    if (!(x - x == 0.0)) {  // inf or NaN
        s = c = kNaN;
        return;
    }
    if (x > 1.0e6 || x < -1.0e6) x = std::fmod(x, 2.0 * kPi);  // exact op; never hit by the models
    const double k = round_half_away(x * kTwoOverPi);
    double r = x - k * kPio2_1;
    r -= k * kPio2_2;
    r -= k * kPio2_3;
    r -= k * kPio2_3t;
    const double sr = sin_kernel(r);
    const double cr = cos_kernel(r);
    const long q = static_cast<long>(k) & 3L;
    switch (q) {
        case 0: s = sr; c = cr; break;
        case 1: s = cr; c = -sr; break;
        case 2: s = -sr; c = -cr; break;
        default: s = -cr; c = sr; break;
    }
}

double sin(double x) {
    double s = 0.0, c = 0.0;
    sincos(x, s, c);
    return s;
}

double cos(double x) {
    double s = 0.0, c = 0.0;
    sincos(x, s, c);
    return c;
}

double atan(double x) {
    if (x != x) return x;
    const bool neg = x < 0.0;
    double a = neg ? -x : x;
    double offset = 0.0;
    if (a > 1.0) {  // atan(a) = pi/2 - atan(1/a)
        if (a == kInf) return neg ? -kPio2 : kPio2;
        a = 1.0 / a;
        offset = kPio2;
    }
    // now a in [0, 1]
    double base = 0.0;
    if (a > kTanPi8) {  // atan(a) = pi/4 + atan((a - 1)/(a + 1)), |.| <= tan(pi/8)
        a = (a - 1.0) / (a + 1.0);
        base = kPio4;
    }
    // halve once more: atan(a) = 2 atan(a / (1 + sqrt(1 + a^2))), |.| <= 0.199
    const double z = a / (1.0 + std::sqrt(1.0 + a * a));
    double r = base + 2.0 * atan_kernel(z);
    if (offset != 0.0) r = offset - r;
    return neg ? -r : r;
}

double atan2(double y, double x) {
    if (x != x || y != y) return kNaN;
    if (x == 0.0) {
        if (y > 0.0) return kPio2;
        if (y < 0.0) return -kPio2;
        return std::signbit(x) ? (std::signbit(y) ? -kPi : kPi) : y;
    }
    const double ax = x < 0.0 ? -x : x;
    const double ay = y < 0.0 ? -y : y;
    // the angle of (ax, ay) in [0, pi/2], computed from the smaller ratio
    double t = ay <= ax ? atan(ay / ax) : kPio2 - atan(ax / ay);
    if (x < 0.0) t = kPi - t;
    return (y < 0.0 || (y == 0.0 && std::signbit(y))) ? -t : t;
}

double acos(double x) {
    if (x != x) return x;
    if (x >= 1.0) return 0.0;
    if (x <= -1.0) return kPi;
    return atan2(std::sqrt((1.0 - x) * (1.0 + x)), x);
}

double asin(double x) {
    if (x != x) return x;
    if (x >= 1.0) return kPio2;
    if (x <= -1.0) return -kPio2;
    return atan2(x, std::sqrt((1.0 - x) * (1.0 + x)));
}

// ---- block forms ------------------------------------------------------------------------------------
// A few lanes at a time on GCC/Clang vector types: 4 with AVX2 where the processor has it (chosen at run
// time), else 2 (SSE2, every x86-64); the remainder and values outside the block domain go through
// the scalar functions. The lane arithmetic is the scalar code's, the same IEEE operations in the same
// order whatever the lane count (no FMA: fp.hpp): log's frexp becomes exponent-field arithmetic (exact
// for normal numbers), the rounding of round_half_away(y) = floor(y + 0.5) for y >= 0 the 2^52 trick
// (exact below 2^52).
#if defined(__GNUC__) || defined(__clang__)
namespace {
#define LIBGRID_INLINE inline __attribute__((always_inline))
constexpr double kTwo52 = 4503599627370496.0;  // 2^52

template <class VD, class VI>
struct Lanes {
    static constexpr std::size_t n = sizeof(VD) / sizeof(double);

    static LIBGRID_INLINE VD load(const double* p) {
        VD v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }
    static LIBGRID_INLINE void store(double* p, VD v) { std::memcpy(p, &v, sizeof v); }

    /// floor(y) for 0 <= y < 2^52, exactly.
    static LIBGRID_INLINE VD floor_nonneg(VD y) {
        const VD t = (y + kTwo52) - kTwo52;  // y rounded to nearest
        return t > y ? t - 1.0 : t;
    }

    static LIBGRID_INLINE void log(const double* x, double* y) {
        const VI bits = __builtin_bit_cast(VI, load(x));
        // frexp: x = m 2^e, m in [0.5, 1); the biased exponent field as a double (exact)
        VD m = __builtin_bit_cast(VD, (bits & 0x000FFFFFFFFFFFFFLL) | 0x3FE0000000000000LL);
        VD e = __builtin_bit_cast(VD, ((bits >> 52) & 0x7FF) | 0x4330000000000000LL) - (kTwo52 + 1022.0);
        const VI small = m < kSqrtHalf;
        m = small ? m * 2.0 : m;
        e = small ? e - 1.0 : e;
        store(y, log_kernel(m, e));
    }

    static LIBGRID_INLINE void sincos(const double* xp, double* sp, double* cp) {
        const VD x = load(xp);
        const VD k = floor_nonneg(x * kTwoOverPi + 0.5);
        VD r = x - k * kPio2_1;
        r -= k * kPio2_2;
        r -= k * kPio2_3;
        r -= k * kPio2_3t;
        const VD sr = sin_kernel(r);
        const VD cr = cos_kernel(r);
        const VI q = __builtin_bit_cast(VI, k + kTwo52) & 3;  // k mod 4 (k an integer below 2^52)
        store(sp, q == 0 ? sr : q == 1 ? cr : q == 2 ? -sr : -cr);
        store(cp, q == 0 ? cr : q == 1 ? -sr : q == 2 ? -cr : sr);
    }
};

LIBGRID_INLINE bool log_ok(double x) { return x >= 0x1.0p-1022 && x < kInf; }
LIBGRID_INLINE bool sincos_ok(double x) { return x >= 0.0 && x <= 1.0e6; }  // the scalar reduction, without its fmod

template <class L>
LIBGRID_INLINE void log_block_lanes(const double* x, double* y, std::size_t n) {
    std::size_t i = 0;
    for (; i + L::n <= n; i += L::n) {
        bool ok = true;
        for (std::size_t j = 0; j < L::n; ++j) ok = ok && log_ok(x[i + j]);
        if (ok) L::log(x + i, y + i);
        else
            for (std::size_t j = i; j < i + L::n; ++j) y[j] = log(x[j]);
    }
    for (; i < n; ++i) y[i] = log(x[i]);
}

template <class L>
LIBGRID_INLINE void sincos_block_lanes(const double* x, double* s, double* c, std::size_t n) {
    std::size_t i = 0;
    for (; i + L::n <= n; i += L::n) {
        bool ok = true;
        for (std::size_t j = 0; j < L::n; ++j) ok = ok && sincos_ok(x[i + j]);
        if (ok) L::sincos(x + i, s + i, c + i);
        else
            for (std::size_t j = i; j < i + L::n; ++j) sincos(x[j], s[j], c[j]);
    }
    for (; i < n; ++i) sincos(x[i], s[i], c[i]);
}

using L2 = Lanes<double __attribute__((vector_size(16))), std::int64_t __attribute__((vector_size(16)))>;

#if defined(__x86_64__)
using L4 = Lanes<double __attribute__((vector_size(32))), std::int64_t __attribute__((vector_size(32)))>;
__attribute__((target("avx2"))) void log_block_4(const double* x, double* y, std::size_t n) { log_block_lanes<L4>(x, y, n); }
__attribute__((target("avx2"))) void sincos_block_4(const double* x, double* s, double* c, std::size_t n) {
    sincos_block_lanes<L4>(x, s, c, n);
}
bool have_avx2() {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
#endif
#undef LIBGRID_INLINE
}  // namespace

void log_block_2(const double* x, double* y, std::size_t n) { log_block_lanes<L2>(x, y, n); }
void sincos_block_2(const double* x, double* s, double* c, std::size_t n) { sincos_block_lanes<L2>(x, s, c, n); }

void log_block(const double* x, double* y, std::size_t n) {
#if defined(__x86_64__)
    if (have_avx2()) return log_block_4(x, y, n);
#endif
    log_block_2(x, y, n);
}

void sincos_block(const double* x, double* s, double* c, std::size_t n) {
#if defined(__x86_64__)
    if (have_avx2()) return sincos_block_4(x, s, c, n);
#endif
    sincos_block_2(x, s, c, n);
}
#else
void log_block(const double* x, double* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = log(x[i]);
}
void sincos_block(const double* x, double* s, double* c, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) sincos(x[i], s[i], c[i]);
}
void log_block_2(const double* x, double* y, std::size_t n) { log_block(x, y, n); }
void sincos_block_2(const double* x, double* s, double* c, std::size_t n) { sincos_block(x, s, c, n); }
#endif

}  // namespace libgrid::detmath
