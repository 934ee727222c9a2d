/*
 * kernels.h - the kernel table that dispatch.c picks (one per ISA) and how a call
 * chooses it.
 */
#ifndef NKL_KERNELS_H
#define NKL_KERNELS_H

#include <stdint.h>

#include "distill_state.h"
#include "nativekl.h"

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
/* The value pass of one row: fills st's ma, mb, za, zb and acc. */
typedef void (*nkl_distill_lanes_f32_fn)(const float *s, const float *u, size_t cols, float logit_scale,
                                         int log_probs, nkl_distill_lanes *st);
typedef void (*nkl_distill_lanes_f64_fn)(const double *s, const double *u, size_t cols,
                                         double logit_scale, int log_probs, nkl_distill_lanes *st);
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
void nkl_distill_lanes_f32_avx2(const float *s, const float *u, size_t cols, float logit_scale,
                                int log_probs, nkl_distill_lanes *st);
void nkl_distill_lanes_f64_avx2(const double *s, const double *u, size_t cols, double logit_scale,
                                int log_probs, nkl_distill_lanes *st);
void nkl_distill_finish_avx2(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2);
void nkl_distill_grad_f32_avx2(const float *s, const float *u, size_t cols,
                               const nkl_distill_grad_f32 *g, float *gs, float *gu);
void nkl_distill_grad_f64_avx2(const double *s, const double *u, size_t cols,
                               const nkl_distill_grad_f64 *g, double *gs, double *gu);
#endif
#if defined(NKL_HAVE_NEON)
extern const nkl_kernels nkl_kernels_neon;
/* arm/distill_neon.c */
void nkl_distill_lanes_f32_neon(const float *s, const float *u, size_t cols, float logit_scale,
                                int log_probs, nkl_distill_lanes *st);
void nkl_distill_lanes_f64_neon(const double *s, const double *u, size_t cols, double logit_scale,
                                int log_probs, nkl_distill_lanes *st);
void nkl_distill_finish_neon(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2);
void nkl_distill_grad_f32_neon(const float *s, const float *u, size_t cols,
                               const nkl_distill_grad_f32 *g, float *gs, float *gu);
void nkl_distill_grad_f64_neon(const double *s, const double *u, size_t cols,
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

#endif
