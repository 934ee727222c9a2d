/*
 * distill_state.h - a distillation row's state between the passes: the value pass's lanes,
 * the row's statistics, the gradient pass's constants.
 */
#ifndef NKL_DISTILL_STATE_H
#define NKL_DISTILL_STATE_H

#include <stddef.h>

#include "compiler.h"
#include "vmath_constants.h"

/*
 * Distillation, one row (distill.c holds the API; the kernels are per ISA).
 * The value pass leaves per-lane state (nkl_distill_lanes; the kernels'
 * locals use the short names in parentheses): a running maximum of each
 * stream, student_max (ma) and teacher_max (mb) (student a = s/T; teacher
 * b = u/T, or none for log-probabilities) and, in float64, student_sum (za)
 * = sum exp(a - ma), teacher_sum (zb) = sum p (exp(b - mb) or exp(l)) and
 * log_ratio_sum (acc) = sum p * ((b - mb) - (a - ma)) (or p * (l - (a -
 * ma))), a term whose teacher logit is -inf counting 0 (one whose p only
 * underflows counts 0 (b - a): NaN under a -inf student logit, as PyTorch's
 * 0 * -inf). float32 works in base 2: a = s
 * log2(e)/T (the logit scale, nkl_logit_scale_f32), b likewise (or
 * l log2(e)), exp becomes exp2 (no ln 2 reduction), and the maxima and acc
 * are in units of ln 2 until nkl_distill_finish_row multiplies them back;
 * float64 works in base e.
 * Canonical order (kernels_scalar.c is the spec): float32
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
/* The value pass's scale of a logit, rounded once to the type: log2(e)/T
   for float32 (base 2), 1/T for float64. The one place it is computed. */
NKL_INLINE float nkl_logit_scale_f32(double temperature) {
    return (float)(NKL_LOG2E_F64 / temperature);
}
NKL_INLINE double nkl_logit_scale_f64(double temperature) { return 1.0 / temperature; }

/* A row's statistics, with a and b the scaled student and teacher logits:
     log-sum-exp(a) = student_max + student_log_sum,
     log-sum-exp(b) = teacher_max + teacher_log_sum (logits; 0 and 0 for
     log-probabilities), teacher_mass = sum p (1 for logits), kl = KL_r.
   The maxima are in the value pass's units (times ln 2 in base 2); the log
   sums and kl are natural. */
typedef struct nkl_distill_row {
    double student_max, student_log_sum, teacher_max, teacher_log_sum, teacher_mass, kl;
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
    /* per lane: the reference points (a running maximum plus headroom) of the
       scaled student and teacher logits, and the sums over the lane's
       classes: sum exp(a - student_max), sum p, and sum p ((b - teacher_max)
       - (a - student_max)) */
    double student_max[NKL_DISTILL_LANES], teacher_max[NKL_DISTILL_LANES];
    double student_sum[NKL_DISTILL_LANES], teacher_sum[NKL_DISTILL_LANES];
    double log_ratio_sum[NKL_DISTILL_LANES];
    /* the row maxima (of the lanes') and each lane's factor to them:
       student_rescale[l] = exp(student_max[l] - row_student_max), likewise
       the teacher's, in float64 (base 2: exp((student_max[l] -
       row_student_max) ln 2)) */
    double row_student_max, row_teacher_max;
    double student_rescale[NKL_DISTILL_LANES], teacher_rescale[NKL_DISTILL_LANES];
    nkl_distill_row row; /* the fold of the above (distill_finish.h) */
} nkl_distill_lanes;


/* The gradient pass of one row, elementwise, with the row's statistics
   (nkl_distill_row) and a = s student_scale, b = u teacher_scale:
     lq = (a - student_max) - student_log_sum, q = exp(lq),
     lp = (b - teacher_max) - teacher_log_sum, p = exp(lp),
     gs = (q teacher_mass - p) student_factor,
     gu = p == 0 ? 0 : (p ((lp - lq) - kl)) teacher_factor.
   Logits: teacher_scale = the logit scale, teacher_mass = 1.
   Log-probabilities: teacher_scale = 1, teacher_max = teacher_log_sum = 0
   (so lp = l exactly), teacher_mass = sum p, kl = -1 (so the factor is
   (l - lq) + 1). float32 works in the value pass's base 2: both scales are
   the logit scale, log2(e)/T (the teacher's log2(e) for log-probabilities),
   the log sums and kl times log2(e), exp2 for exp, and teacher_factor
   times ln 2; the maxima are the value pass's own, so both passes see the
   same rounded a and b. */
typedef struct nkl_distill_grad_f32 {
    float student_scale, teacher_scale, student_max, student_log_sum, teacher_max,
        teacher_log_sum, teacher_mass, kl, student_factor, teacher_factor;
} nkl_distill_grad_f32;
typedef struct nkl_distill_grad_f64 {
    double student_scale, teacher_scale, student_max, student_log_sum, teacher_max,
        teacher_log_sum, teacher_mass, kl, student_factor, teacher_factor;
} nkl_distill_grad_f64;

#endif
