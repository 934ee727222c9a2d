/*
 * canonical_sum.h - the canonical summation order that makes every path (every ISA, and
 * the managed code: Managed/CanonicalSum.cs) return the same bits.
 */
#ifndef NKL_CANONICAL_SUM_H
#define NKL_CANONICAL_SUM_H

#include <math.h>

#include "compiler.h"
#include "nativekl.h"

/*
 * Canonical order. A reduction cuts the data into chunks of
 * NKL_CHUNK_ELEMENTS from index 0, and each chunk into blocks of
 * NKL_BLOCK = 16 elements. Inside a block, terms are pre-added in a fixed
 * pattern, then added into float64 lanes:
 *   float32: lane j (0..7) += (double)(L[j] + L[j + 8])          (float add)
 *   float64: lane j (0..3) += (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12]),
 *            compensated per lane with nkl_two_sum.
 * A last block shorter than 16 uses +0 for the missing terms, exactly as
 * masked vector loads do. The float32 lanes fold by a fixed tree
 * (nkl_fold_f32_lanes); the float64 lanes fold in lane order with
 * nkl_two_sum (nkl_fold_f64_lanes); partials combine in chunk order with
 * nkl_two_sum. The pre-adds
 * cost at most 1 ulp of |L| per term, so the error stays a few ulp of
 * sum |L| whatever the length.
 */
#define NKL_BLOCK 16
#define NKL_LANES_F32 8
#define NKL_LANES_F64 4
/*
 * nkl_two_sum - s + v into (s, c): s takes the rounded sum, c gathers its
 * exact rounding error (Knuth's TwoSum; no branch, so vector lanes run the
 * same code). Once s is infinite or NaN, c is meaningless: see nkl_total.
 */
NKL_INLINE void nkl_two_sum(double *s, double *c, double v) {
    double sum = *s + v;
    double vv = sum - *s;
    double err = (*s - (sum - vv)) + (v - vv);
    *s = sum;
    *c += err;
}

/* Folds the float64 lanes' sums and compensations in lane order. */
NKL_INLINE nkl_partial nkl_fold_f64_lanes(const double *sum, const double *comp) {
    nkl_partial p = {0.0, 0.0};
    for (int j = 0; j < NKL_LANES_F64; j++) {
        nkl_two_sum(&p.sum, &p.compensation, sum[j]);
        p.compensation += comp[j];
    }
    return p;
}

/* The float32 lanes (float64 sums of float32 terms): a fixed tree,
   ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), as SIMD folds it. */
NKL_INLINE nkl_partial nkl_fold_f32_lanes(const double *a) {
    double v0 = a[0] + a[4], v1 = a[1] + a[5], v2 = a[2] + a[6], v3 = a[3] + a[7];
    nkl_partial p = {(v0 + v2) + (v1 + v3), 0.0};
    return p;
}

/* Adds partial p into the running (s, c), in chunk order. */
NKL_INLINE void nkl_combine(nkl_partial *acc, nkl_partial p) {
    nkl_two_sum(&acc->sum, &acc->compensation, p.sum);
    acc->compensation += p.compensation;
}

/* The value a combined partial stands for; an infinite or NaN sum as is. */
NKL_INLINE double nkl_total(nkl_partial acc) {
    return isfinite(acc.sum) ? acc.sum + acc.compensation : acc.sum;
}

#endif
