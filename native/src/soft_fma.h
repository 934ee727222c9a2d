/*
 * soft_fma.h - correctly rounded fma and fmaf in portable C, for toolchains whose libm is not
 * (mingw-w64's fmaf differs from the hardware instruction on ~18% of random inputs, its fma on
 * ~0.05%), so that the scalar path gives the same bits on every platform.
 *
 * Round to nearest, ties to even, is assumed (the library never changes the rounding mode).
 * Integer and double arithmetic only: no compiler builtins, so MSVC compiles it as is.
 *
 * nkl_soft_fmaf: x*y is exact in double (24 + 24 significant bits) and so is the TwoSum of it
 * and z; the pair (s, e) is then rounded to double with round-to-odd (s moved one ulp towards
 * e when e != 0 and s is even), and that double to float. Rounding to odd at 53 bits and then to
 * nearest at 24 bits (or fewer, for a subnormal float) is rounding to nearest once: a float's
 * midpoint is a double, and an odd double is never one.
 *
 * nkl_soft_fma: the significands as integers; their 106-bit product and z are aligned in 128
 * bits (the bits shifted out kept as a sticky bit, which cannot change the rounding since the
 * result keeps at least 60 bits above it), added or subtracted, and rounded once to 53 bits, or
 * to the subnormal grid, so there is no second rounding anywhere.
 */
#ifndef NKL_SOFT_FMA_H
#define NKL_SOFT_FMA_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t nkl_sf_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }
static inline double nkl_sf_double(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }

static inline float nkl_soft_fmaf(float x, float y, float z) {
    double p = (double)x * (double)y; /* exact */
    double zd = (double)z;
    double s = p + zd;
    if (!(s - s == 0.0)) return (float)s; /* inf or NaN: as the inputs say */
    /* TwoSum: p + zd == s + e exactly (no overflow: |s| < 2^257). */
    double bv = s - p, av = s - bv;
    double e = (p - av) + (zd - bv);
    if (e != 0.0) {
        uint64_t u = nkl_sf_bits(s);
        if ((u & 1) == 0) {
            /* s != 0 here (s == 0 means p == -zd exactly, e == 0). One ulp away from zero when
               e has the sign of s, towards it otherwise. */
            u = ((e > 0.0) == (s > 0.0)) ? u + 1 : u - 1;
            s = nkl_sf_double(u);
        }
    }
    return (float)s;
}

/* ---- 128-bit unsigned arithmetic, portable ---- */
typedef struct { uint64_t hi, lo; } nkl_u128;

static inline nkl_u128 nkl_u128_mul64(uint64_t a, uint64_t b) {
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    nkl_u128 r;
    r.lo = (mid << 32) | (p00 & 0xffffffffu);
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

static inline nkl_u128 nkl_u128_shl(nkl_u128 v, int n) { /* 0 <= n < 128 */
    nkl_u128 r;
    if (n == 0) return v;
    if (n >= 64) { r.hi = v.lo << (n - 64); r.lo = 0; }
    else { r.hi = (v.hi << n) | (v.lo >> (64 - n)); r.lo = v.lo << n; }
    return r;
}

static inline nkl_u128 nkl_u128_shr(nkl_u128 v, int n) { /* n >= 0; 0 for n >= 128 */
    nkl_u128 r;
    if (n == 0) return v;
    if (n >= 128) { r.hi = 0; r.lo = 0; }
    else if (n >= 64) { r.hi = 0; r.lo = v.hi >> (n - 64); }
    else { r.hi = v.hi >> n; r.lo = (v.lo >> n) | (v.hi << (64 - n)); }
    return r;
}

/* v >> n, with a 1 in the lowest bit when any bit shifted out was set. */
static inline nkl_u128 nkl_u128_shr_sticky(nkl_u128 v, int n) {
    nkl_u128 r = nkl_u128_shr(v, n);
    nkl_u128 back = n >= 128 ? r : nkl_u128_shl(r, n);
    if (back.hi != v.hi || back.lo != v.lo) r.lo |= 1;
    return r;
}

static inline int nkl_u128_lt(nkl_u128 a, nkl_u128 b) {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

static inline nkl_u128 nkl_u128_add(nkl_u128 a, nkl_u128 b) {
    nkl_u128 r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}

static inline nkl_u128 nkl_u128_sub(nkl_u128 a, nkl_u128 b) { /* a >= b */
    nkl_u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}

static inline int nkl_u64_top_bit(uint64_t v) { /* v != 0 */
    int n = 0;
    if (v >> 32) { v >>= 32; n += 32; }
    if (v >> 16) { v >>= 16; n += 16; }
    if (v >> 8) { v >>= 8; n += 8; }
    if (v >> 4) { v >>= 4; n += 4; }
    if (v >> 2) { v >>= 2; n += 2; }
    if (v >> 1) n += 1;
    return n;
}

static inline int nkl_u128_top_bit(nkl_u128 v) { /* v != 0 */
    return v.hi ? 64 + nkl_u64_top_bit(v.hi) : nkl_u64_top_bit(v.lo);
}

/* A finite nonzero double as m * 2^e, m an integer (< 2^53). */
static inline uint64_t nkl_sf_split(double d, int *e) {
    uint64_t u = nkl_sf_bits(d);
    int biased = (int)((u >> 52) & 0x7ff);
    uint64_t m = u & ((UINT64_C(1) << 52) - 1);
    if (biased == 0) { *e = -1074; return m; }
    *e = biased - 1075;
    return m | (UINT64_C(1) << 52);
}

/* m: the top set bit at position 125 or lower (so a sum of two such does not carry out). */
static inline nkl_u128 nkl_sf_at125(nkl_u128 m, int *e) {
    int shift = 125 - nkl_u128_top_bit(m);
    *e -= shift;
    return nkl_u128_shl(m, shift);
}

static inline double nkl_soft_fma(double x, double y, double z) {
    /* Infinities and NaNs in x or y, a zero factor (exact signed zero product), or a NaN z:
       the plain expression has the IEEE result. */
    if (!(x - x == 0.0) || !(y - y == 0.0) || x == 0.0 || y == 0.0 || z != z) return x * y + z;
    if (!(z - z == 0.0)) return z; /* finite x*y + infinite z, even where x*y would overflow */
    if (z == 0.0) return x * y;    /* x*y + 0 rounded once; keeps the sign of a tiny product */

    int ex, ey, ez;
    uint64_t mx = nkl_sf_split(x, &ex), my = nkl_sf_split(y, &ey), mz = nkl_sf_split(z, &ez);
    int neg_p = (nkl_sf_bits(x) ^ nkl_sf_bits(y)) >> 63 != 0;
    int neg_z = nkl_sf_bits(z) >> 63 != 0;

    int ea = ex + ey, eb = ez;
    nkl_u128 a = nkl_u128_mul64(mx, my), b;
    b.hi = 0;
    b.lo = mz;
    a = nkl_sf_at125(a, &ea);
    b = nkl_sf_at125(b, &eb);
    /* Align the smaller exponent to the larger. At most 106 + 53 significant bits are in
       play, so a shift of up to 72 (a) or 20 (b) loses nothing; a longer one loses bits far
       below the 53 kept, and their sticky bit decides only ties that cannot occur. */
    if (ea >= eb) { b = nkl_u128_shr_sticky(b, ea - eb > 200 ? 200 : ea - eb); eb = ea; }
    else { a = nkl_u128_shr_sticky(a, eb - ea > 200 ? 200 : eb - ea); ea = eb; }

    nkl_u128 r;
    int neg;
    if (neg_p == neg_z) { r = nkl_u128_add(a, b); neg = neg_p; }
    else if (nkl_u128_lt(a, b)) { r = nkl_u128_sub(b, a); neg = neg_z; }
    else { r = nkl_u128_sub(a, b); neg = neg_p; }
    if (r.hi == 0 && r.lo == 0) return 0.0; /* exact cancellation: +0 when rounding to nearest */

    /* Value = r * 2^ea, r's top bit t, so it lies in [2^(t+ea), 2^(t+ea+1)). */
    int t = nkl_u128_top_bit(r);
    int big_e = t + ea;
    uint64_t sign = neg ? UINT64_C(1) << 63 : 0;
    if (big_e > 1023) return nkl_sf_double(sign | UINT64_C(0x7ff0000000000000));
    /* The weight of the last kept bit: 2^(big_e - 52) for a normal result, 2^-1074 below. */
    int lsb = big_e >= -1022 ? big_e - 52 : -1074;
    int shift = lsb - ea; /* bits of r below the last kept one */
    uint64_t q;
    if (shift <= 0) {
        q = nkl_u128_shl(r, -shift).lo; /* exact (only after a large cancellation) */
    } else {
        nkl_u128 qq = nkl_u128_shr(r, shift);
        q = qq.lo;
        if (shift <= 128) {
            nkl_u128 one = {0, 1};
            nkl_u128 rem = shift == 128 ? r : nkl_u128_sub(r, nkl_u128_shl(qq, shift));
            nkl_u128 half = nkl_u128_shl(one, shift - 1);
            if (nkl_u128_lt(half, rem) || (rem.hi == half.hi && rem.lo == half.lo && (q & 1))) q++;
        } /* shift > 128: r < 2^127 is under half an ulp of 2^-1074: rounds to zero */
    }
    /* q in [2^52, 2^53] for a normal result (2^53: the rounding carried into the exponent,
       up to infinity), in [0, 2^52] below (2^52: rounded up to the least normal). Adding it
       to the exponent field below the hidden bit assembles both. */
    uint64_t base = big_e >= -1022 ? (uint64_t)(big_e + 1022) << 52 : 0;
    return nkl_sf_double(sign | (base + q));
}

#endif
