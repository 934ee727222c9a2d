/*
 * internal.h - what the library's source files share and the public header
 * does not show: the kernel table that dispatch picks, and the canonical
 * summation that makes every path return the same bits.
 */
#ifndef NKL_INTERNAL_H
#define NKL_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nativekl.h"

#if defined(_MSC_VER)
#  define NKL_INLINE static __forceinline
#  define NKL_LIKELY(x) (x)
#else
#  define NKL_INLINE static inline __attribute__((always_inline))
#  define NKL_LIKELY(x) __builtin_expect(!!(x), 1)
#endif

/* Pastes a and b after expanding them: the template includes (*.inc) name
   their functions NKL_CAT(name_, SUF). */
#define NKL_CAT_(a, b) a##b
#define NKL_CAT(a, b) NKL_CAT_(a, b)

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
#define NKL_FLAG_SEMANTICS (NKL_LOG_TARGET | NKL_MASKED)

/* Calls CALL(log_target, masked) with the flags' semantics as constants, so
   that each kernel is compiled once per combination with no branch inside. */
#define SEMANTICS_SWITCH(flags, CALL)                                     \
    switch ((flags) & NKL_FLAG_SEMANTICS) {                               \
    case 0: CALL(0, 0); break;                                            \
    case NKL_MASKED: CALL(0, 1); break;                                   \
    case NKL_LOG_TARGET: CALL(1, 0); break;                               \
    default: CALL(1, 1); break;                                           \
    }

typedef void (*nkl_pointwise_f32_fn)(const float *x, const float *t, size_t n, uint32_t flags,
                                     float *out);
typedef void (*nkl_pointwise_f64_fn)(const double *x, const double *t, size_t n, uint32_t flags,
                                     double *out);
/* len <= NKL_CHUNK_ELEMENTS; flags holds only NKL_FLAG_SEMANTICS bits. */
typedef nkl_partial (*nkl_chunk_f32_fn)(const float *x, const float *t, size_t len,
                                        uint32_t flags);
typedef nkl_partial (*nkl_chunk_f64_fn)(const double *x, const double *t, size_t len,
                                        uint32_t flags);
/* Forward and backward for one chunk: writes the gradients (gt may be NULL)
   and, if lo is not NULL, the pointwise terms; returns the terms' partial. */
typedef nkl_partial (*nkl_grad_f32_fn)(const float *x, const float *t, size_t len, uint32_t flags,
                                       float s, float *lo, float *gx, float *gt);
typedef nkl_partial (*nkl_grad_f64_fn)(const double *x, const double *t, size_t len,
                                       uint32_t flags, double s, double *lo, double *gx,
                                       double *gt);
/*
 * Distillation, one row (distill.c holds the API; the kernels are per ISA).
 * The value pass leaves per-lane state: a running maximum of each stream
 * (student a = s/T; teacher b = u/T, or none for log-probabilities) and, in
 * float64, za = sum exp(a - ma), zb = sum p (exp(b - mb) or exp(l)) and
 * acc = sum p * ((b - mb) - (a - ma)) (or p * (l - (a - ma))), terms with
 * p == 0 counting 0. float32 works in base 2: a = s log2(e)/T (the lanes'
 * inv_t is that scale), b likewise (or l log2(e)), exp becomes exp2 (no
 * ln 2 reduction), and the maxima and acc are in units of ln 2 until
 * nkl_distill_finish_row multiplies them back; float64 works in base e. Canonical order (kernels_scalar.c is the spec): float32
 * uses 8 lanes and blocks of 32 (lane j takes elements j, j + 8, j + 16 and
 * j + 24 of each block), float64 4 lanes and blocks of 8 (elements j and
 * j + 4); a block first raises the lane reference points (rescaling that
 * lane's sums), then adds its terms, a lane's elements pre-added in the
 * data's type as a pairwise tree (fewer float32 -> float64 conversions: the
 * widening was a quarter of the value pass); float32 adds a pair of blocks'
 * pre-added sums in float before widening them (kernels_scalar.c PAIRS).
 * A short last block is padded with -inf logits. The kernels' distill_finish
 * folds the lanes of a group of rows into their statistics
 * (distill_finish.h nkl_distill_finish_row, row by row in the spec).
 */
/* A row's statistics: lse(a) = ma + la, lse(b) = mb + lb (logits), zb =
   sum p, kl = KL_r; ma and mb in the value pass's units (times ln 2 in base
   2), la, lb and kl natural. */
typedef struct nkl_distill_row {
    double ma, la, mb, lb, zb, kl;
} nkl_distill_row;

#define NKL_DISTILL_LANES 8
/* Rows whose value passes run before their folds (distill.c), which then
   run side by side: each fold is a latency chain of ~160 cycles. */
#define NKL_DISTILL_GROUP 4
/* A lane's reference point is its maximum plus this: logits a little above
   the maximum so far then need no rescale (a rescale per block otherwise, at
   the start of every row). exp(-4) costs no precision in either type.
   float32's base 2 takes 8 (2^-8 = e^-5.5: 4 gave e^-2.8, and at [64, 1000]
   four times the rescales of float64's 4, each a mispredicted branch). */
#define NKL_DISTILL_HEADROOM 4.0
#define NKL_DISTILL_HEADROOM_BASE2 8.0
typedef struct nkl_distill_lanes {
    double ma[NKL_DISTILL_LANES], mb[NKL_DISTILL_LANES];
    double za[NKL_DISTILL_LANES], zb[NKL_DISTILL_LANES], acc[NKL_DISTILL_LANES];
    /* the row maxima (of the lanes') and each lane's factor to them:
       ra[l] = exp(ma[l] - max_a), rb[l] = exp(mb[l] - max_b), in float64
       (base 2: exp((ma[l] - max_a) ln 2), likewise) */
    double max_a, max_b, ra[NKL_DISTILL_LANES], rb[NKL_DISTILL_LANES];
    nkl_distill_row row; /* the fold of the above (distill_finish.h) */
} nkl_distill_lanes;


/* The gradient pass of one row, elementwise with a = s ia, b = u ib:
     lq = (a - ma) - la, q = exp(lq), lp = (b - mb) - lb, p = exp(lp),
     gs = (q zb - p) cs,  gu = p == 0 ? 0 : (p ((lp - lq) - kl)) cu.
   Logits: ib = 1/T, zb = 1. Log-probabilities: ib = 1, mb = lb = 0 (so
   lp = l exactly), zb = sum p, kl = -1 (so the factor is (l - lq) + 1).
   float32 works in the value pass's base 2: ia = ib = log2(e)/T (ib =
   log2(e) for log-probabilities), la, lb and kl times log2(e), exp2 for
   exp, and cu times ln 2; ma and mb are the value pass's own, so both
   passes see the same rounded a and b. */
typedef struct nkl_distill_grad_f32 {
    float ia, ib, ma, la, mb, lb, zb, kl, cs, cu;
} nkl_distill_grad_f32;
typedef struct nkl_distill_grad_f64 {
    double ia, ib, ma, la, mb, lb, zb, kl, cs, cu;
} nkl_distill_grad_f64;

/* The value pass of one row: fills st's ma, mb, za, zb and acc. */
typedef void (*nkl_distill_lanes_f32_fn)(const float *s, const float *u, size_t cols, float inv_t,
                                         int log_probs, nkl_distill_lanes *st);
typedef void (*nkl_distill_lanes_f64_fn)(const double *s, const double *u, size_t cols,
                                         double inv_t, int log_probs, nkl_distill_lanes *st);
/* The rest of n rows' value passes (lanes 8 for float32, 4 for float64;
   base2 for float32): each st[i].row (max_a, max_b, ra and rb as scratch). */
typedef void (*nkl_distill_finish_fn)(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2);
/* gu may be NULL (no teacher gradient). */
typedef void (*nkl_distill_grad_f32_fn)(const float *s, const float *u, size_t cols,
                                        const nkl_distill_grad_f32 *g, float *gs, float *gu);
typedef void (*nkl_distill_grad_f64_fn)(const double *s, const double *u, size_t cols,
                                        const nkl_distill_grad_f64 *g, double *gs, double *gu);

typedef void (*nkl_map_f32_fn)(const float *in, size_t n, float *out);
typedef void (*nkl_map_f64_fn)(const double *in, size_t n, double *out);

typedef struct nkl_kernels {
    nkl_isa isa;
    nkl_pointwise_f32_fn pointwise_f32;
    nkl_pointwise_f64_fn pointwise_f64;
    nkl_chunk_f32_fn chunk_f32;
    nkl_chunk_f64_fn chunk_f64;
    nkl_grad_f32_fn grad_f32;
    nkl_grad_f64_fn grad_f64;
    nkl_distill_lanes_f32_fn distill_lanes_f32;
    nkl_distill_lanes_f64_fn distill_lanes_f64;
    nkl_distill_finish_fn distill_finish;
    nkl_distill_grad_f32_fn distill_grad_f32;
    nkl_distill_grad_f64_fn distill_grad_f64;
    /* The vector math on its own, for the ulp sweeps. */
    nkl_map_f32_fn log_f32, exp_f32, exp2_f32;
    nkl_map_f64_fn log_f64, exp_f64;
} nkl_kernels;

extern const nkl_kernels nkl_kernels_scalar;
#if defined(NKL_HAVE_X86)
extern const nkl_kernels nkl_kernels_avx2;
int nkl_cpu_has_avx2_fma(void);
/* x86/distill_avx2.c */
void nkl_distill_lanes_f32_avx2(const float *s, const float *u, size_t cols, float inv_t,
                                int log_probs, nkl_distill_lanes *st);
void nkl_distill_lanes_f64_avx2(const double *s, const double *u, size_t cols, double inv_t,
                                int log_probs, nkl_distill_lanes *st);
void nkl_distill_finish_avx2(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2);
void nkl_distill_grad_f32_avx2(const float *s, const float *u, size_t cols,
                               const nkl_distill_grad_f32 *g, float *gs, float *gu);
void nkl_distill_grad_f64_avx2(const double *s, const double *u, size_t cols,
                               const nkl_distill_grad_f64 *g, double *gs, double *gu);
#endif

/* The table for an explicit ISA, or NULL if this CPU/OS cannot run it. */
const nkl_kernels *nkl_kernels_for_isa(nkl_isa isa);
/* The table calls use when no NKL_FORCE_* flag is given; NULL while NKL_ISA
   holds an unknown value (the call returns NKL_ERROR_INVALID_ENVIRONMENT). */
const nkl_kernels *nkl_active_kernels(void);
/* The table a call with these flags runs: the active one, or the one an
   NKL_FORCE_* flag names. NKL_ERROR_INVALID_FLAGS for a bit outside
   known_flags or two NKL_FORCE_* bits, NKL_ERROR_ISA_UNAVAILABLE for a forced
   ISA this CPU/OS cannot run, NKL_ERROR_INVALID_ENVIRONMENT for an unknown
   NKL_ISA value (dispatch.c). */
nkl_status nkl_kernels_for_flags(uint32_t flags, uint32_t known_flags, const nkl_kernels **k);

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
