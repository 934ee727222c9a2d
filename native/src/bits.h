/*
 * bits.h - bit casts between floats and integers, and the one NaN the library
 * writes.
 */
#ifndef NKL_BITS_H
#define NKL_BITS_H

#include <stdint.h>
#include <string.h>

#include "compiler.h"
#include "nativekl.h"

NKL_INLINE uint32_t nkl_bits_f32(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
NKL_INLINE float nkl_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
NKL_INLINE uint64_t nkl_bits_f64(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }
NKL_INLINE double nkl_f64_from_bits(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }

/*
 * nkl_canon_nan_f32, nkl_canon_nan_f64 - v, or NKL_NAN_BITS_F32/_F64 (the
 * positive quiet NaN) where v is any NaN. Every value the library writes goes
 * through one of these (or nkl_canon_nan_ps/_pd, x86/vmath_avx2.h) last: a NaN's
 * sign and payload come from whichever operand the hardware propagated (an
 * input's NaN, or x86's negative default NaN for 0 * inf, 0 / 0, inf - inf),
 * so they differ between the scalar and vector orders of operations.
 */
NKL_INLINE float nkl_canon_nan_f32(float v) {
    return v != v ? nkl_f32_from_bits(NKL_NAN_BITS_F32) : v;
}
NKL_INLINE double nkl_canon_nan_f64(double v) {
    return v != v ? nkl_f64_from_bits(NKL_NAN_BITS_F64) : v;
}
NKL_INLINE nkl_partial nkl_canon_nan_partial(nkl_partial p) {
    p.sum = nkl_canon_nan_f64(p.sum);
    p.compensation = nkl_canon_nan_f64(p.compensation);
    return p;
}

#endif
