/*
 * distill_neon.c - the distillation kernels with AArch64 NEON: kernels_scalar.c's
 * distill_lanes_scalar.inc, DISTILL_GRAD_SCALAR, nkl_distill_lane_factors and
 * nkl_distill_finish_row, the same operations lane by lane.
 *
 * The value pass's canonical lanes are 8 (float32) / 4 (float64), lane l
 * taking elements l + j H of a block (distill_state.h); on 128-bit registers
 * a set of lanes is two registers, [0] = lanes 0..H/2-1, [1] = the rest, so
 * element group j of a block loads as two registers at j H and j H + H/2.
 * Padding of a short last block is -inf, as the spec's.
 */
#if !defined(__aarch64__) && !defined(_M_ARM64)
#error "distill_neon.c is for AArch64"
#endif

#include <float.h>

#include "../distill_finish.h"
#include "vmath_neon.h"

/* ------------------------------------------------------------- float32 */

/* The lane state: maxima and the pending float sums in float (lanes 0-3 in
   [0], 4-7 in [1]), the sums in float64 (lanes 0-1, 2-3, 4-5, 6-7). */
typedef struct lanes_f32_state {
    float32x4_t student_max[2], teacher_max[2], pza[2], pzb[2], pacc[2];
    float64x2_t student_sum[4], teacher_sum[4], log_ratio_sum[4];
} lanes_f32_state;

/* DISTILL_FLUSH_PAIR: the pending float sums widened into the float64 sums. */
NKL_INLINE void flush_pair_f32(lanes_f32_state *st) {
    for (int h = 0; h < 2; h++) {
        st->student_sum[2 * h] = vaddq_f64(st->student_sum[2 * h], vcvt_f64_f32(vget_low_f32(st->pza[h])));
        st->student_sum[2 * h + 1] = vaddq_f64(st->student_sum[2 * h + 1], vcvt_high_f64_f32(st->pza[h]));
        st->teacher_sum[2 * h] = vaddq_f64(st->teacher_sum[2 * h], vcvt_f64_f32(vget_low_f32(st->pzb[h])));
        st->teacher_sum[2 * h + 1] = vaddq_f64(st->teacher_sum[2 * h + 1], vcvt_high_f64_f32(st->pzb[h]));
        st->log_ratio_sum[2 * h] = vaddq_f64(st->log_ratio_sum[2 * h], vcvt_f64_f32(vget_low_f32(st->pacc[h])));
        st->log_ratio_sum[2 * h + 1] = vaddq_f64(st->log_ratio_sum[2 * h + 1], vcvt_high_f64_f32(st->pacc[h]));
        st->pza[h] = st->pzb[h] = st->pacc[h] = F32(0.0f);
    }
}

/* The rescale of the lanes in `changed` (a float32 lane mask) for one pair
   of float64 registers q (lanes 2q, 2q + 1). */
NKL_INLINE float64x2_t lo_or_hi_f64(float32x4_t v, int high) {
    return high ? vcvt_high_f64_f32(v) : vcvt_f64_f32(vget_low_f32(v));
}
NKL_INLINE uint64x2_t mask_lo_or_hi(uint32x4_t m, int high) {
    /* a float lane mask (all ones or zeros) as double lanes: sign-extend */
    int32x4_t s = vreinterpretq_s32_u32(m);
    return vreinterpretq_u64_s64(high ? vmovl_high_s32(s) : vmovl_s32(vget_low_s32(s)));
}

static void rescale_f32(lanes_f32_state *st, const float32x4_t nma[2], const float32x4_t nmb[2],
                        const uint32x4_t changed[2]) {
    for (int h = 0; h < 2; h++) {
        /* ra = 2^(ma - nma), rb = 2^(mb - nmb) in float, then widened */
        float32x4_t ra = nkl_exp2_f32x4(vsubq_f32(st->student_max[h], nma[h]));
        float32x4_t rb = nkl_exp2_f32x4(vsubq_f32(st->teacher_max[h], nmb[h]));
        for (int half = 0; half < 2; half++) {
            int q = 2 * h + half;
            uint64x2_t m = mask_lo_or_hi(changed[h], half);
            float64x2_t rah = lo_or_hi_f64(ra, half), rbh = lo_or_hi_f64(rb, half);
            /* da = nma - ma, db = nmb - mb in float64 */
            float64x2_t da = vsubq_f64(lo_or_hi_f64(nma[h], half), lo_or_hi_f64(st->student_max[h], half));
            float64x2_t db = vsubq_f64(lo_or_hi_f64(nmb[h], half), lo_or_hi_f64(st->teacher_max[h], half));
            /* acc = rb (acc + (da - db) zb) where zb != 0 */
            float64x2_t acc = vmulq_f64(rbh, vaddq_f64(st->log_ratio_sum[q], vmulq_f64(vsubq_f64(da, db), st->teacher_sum[q])));
            uint64x2_t nz = nkl_not_u64x2(vceqq_f64(st->teacher_sum[q], F64(0.0)));
            st->log_ratio_sum[q] = vbslq_f64(vandq_u64(m, nz), acc, st->log_ratio_sum[q]);
            st->student_sum[q] = vbslq_f64(m, vmulq_f64(st->student_sum[q], rah), st->student_sum[q]);
            st->teacher_sum[q] = vbslq_f64(m, vmulq_f64(st->teacher_sum[q], rbh), st->teacher_sum[q]);
        }
        st->student_max[h] = vbslq_f32(changed[h], nma[h], st->student_max[h]);
        st->teacher_max[h] = vbslq_f32(changed[h], nmb[h], st->teacher_max[h]);
    }
}

/* One block of 32: a[j][h] = the scaled student logits 8j + 4h .. 8j + 4h + 3
   (lanes 4h..4h+3 of element group j), b likewise for the teacher. `flush`:
   the pair's pending sums widen after this block (the pair's second block,
   or the row's last). */
NKL_INLINE void block_f32(lanes_f32_state *st, float32x4_t a[4][2], float32x4_t b[4][2], const int log_probs,
                          int flush) {
    const float32x4_t head = F32((float)NKL_DISTILL_HEADROOM_BASE2);
    float32x4_t nma[2], nmb[2];
    uint32x4_t changed[2];
    for (int h = 0; h < 2; h++) {
        float32x4_t bma = nkl_max_gt_f32x4(nkl_max_gt_f32x4(a[0][h], a[1][h]), nkl_max_gt_f32x4(a[2][h], a[3][h]));
        nma[h] = vbslq_f32(vcgtq_f32(bma, st->student_max[h]), vaddq_f32(bma, head), st->student_max[h]);
        nmb[h] = st->teacher_max[h];
        if (!log_probs) {
            float32x4_t bmb = nkl_max_gt_f32x4(nkl_max_gt_f32x4(b[0][h], b[1][h]), nkl_max_gt_f32x4(b[2][h], b[3][h]));
            nmb[h] = vbslq_f32(vcgtq_f32(bmb, st->teacher_max[h]), vaddq_f32(bmb, head), st->teacher_max[h]);
        }
        changed[h] = vorrq_u32(vcgtq_f32(nma[h], st->student_max[h]), vcgtq_f32(nmb[h], st->teacher_max[h]));
    }
    if (vmaxvq_u32(vorrq_u32(changed[0], changed[1]))) {
        /* the pair's pending sums first, for every lane (the spec's PAIRS) */
        flush_pair_f32(st);
        rescale_f32(st, nma, nmb, changed);
    }
    for (int h = 0; h < 2; h++) {
        float32x4_t ea[4], eb[4], tb[4];
        for (int j = 0; j < 4; j++) {
            float32x4_t aj = vsubq_f32(a[j][h], st->student_max[h]);
            float32x4_t bj = log_probs ? b[j][h] : vsubq_f32(b[j][h], st->teacher_max[h]);
            ea[j] = nkl_exp2_f32x4(aj);
            eb[j] = nkl_exp2_f32x4(bj);
            tb[j] = nkl_zero_where_f32x4(vceqq_f32(bj, F32(-INFINITY)), vmulq_f32(eb[j], vsubq_f32(bj, aj)));
        }
        /* a lane's four terms pre-added in float (pairwise), into the pair's pending sums */
        st->pza[h] = vaddq_f32(st->pza[h], vaddq_f32(vaddq_f32(ea[0], ea[1]), vaddq_f32(ea[2], ea[3])));
        st->pzb[h] = vaddq_f32(st->pzb[h], vaddq_f32(vaddq_f32(eb[0], eb[1]), vaddq_f32(eb[2], eb[3])));
        st->pacc[h] = vaddq_f32(st->pacc[h], vaddq_f32(vaddq_f32(tb[0], tb[1]), vaddq_f32(tb[2], tb[3])));
    }
    if (flush) flush_pair_f32(st);
}

/* Loads a block of 32 in base 2 (logits times logit_scale = log2(e)/T,
   teacher log-probabilities times log2(e)); r = logits left in the row, the
   missing ones -inf (the spec's padding, which it does not scale). */
NKL_INLINE void load_block_f32(const float *s, const float *u, size_t r, float32x4_t scale, const int log_probs,
                               float32x4_t a[4][2], float32x4_t b[4][2]) {
    float32x4_t teacher_scale = log_probs ? F32(NKL_LOG2E_F32) : scale;
    if (r >= 32) {
        for (int j = 0; j < 4; j++)
            for (int h = 0; h < 2; h++) {
                a[j][h] = vmulq_f32(vld1q_f32(s + 8 * j + 4 * h), scale);
                b[j][h] = vmulq_f32(vld1q_f32(u + 8 * j + 4 * h), teacher_scale);
            }
        return;
    }
    float sb[32] = {0}, ub[32] = {0};
    memcpy(sb, s, r * sizeof(float));
    memcpy(ub, u, r * sizeof(float));
    for (int j = 0; j < 4; j++)
        for (int h = 0; h < 2; h++) {
            uint32x4_t pad = nkl_missing_f32x4(r, (size_t)(8 * j + 4 * h));
            float32x4_t sv = vmulq_f32(vld1q_f32(sb + 8 * j + 4 * h), scale);
            float32x4_t uv = vmulq_f32(vld1q_f32(ub + 8 * j + 4 * h), teacher_scale);
            a[j][h] = vbslq_f32(pad, F32(-INFINITY), sv);
            b[j][h] = vbslq_f32(pad, F32(-INFINITY), uv);
        }
}

static void lanes_f32(const float *s, const float *u, size_t cols, float logit_scale, const int log_probs,
                      nkl_distill_lanes *out) {
    lanes_f32_state st;
    for (int h = 0; h < 2; h++) {
        st.student_max[h] = st.teacher_max[h] = F32(-FLT_MAX);
        st.pza[h] = st.pzb[h] = st.pacc[h] = F32(0.0f);
    }
    for (int q = 0; q < 4; q++) st.student_sum[q] = st.teacher_sum[q] = st.log_ratio_sum[q] = F64(0.0);
    float32x4_t scale = F32(logit_scale), a[4][2], b[4][2];
    size_t blk = 0;
    for (size_t i = 0; i < cols; i += 32, blk++) {
        load_block_f32(s + i, u + i, cols - i, scale, log_probs, a, b);
        /* the spec widens after blocks 1, 3, 5, ... and after the row's last */
        block_f32(&st, a, b, log_probs, (blk & 1) || i + 32 >= cols);
    }
    float ma[8], mb[8];
    for (int h = 0; h < 2; h++) {
        vst1q_f32(ma + 4 * h, st.student_max[h]);
        vst1q_f32(mb + 4 * h, st.teacher_max[h]);
    }
    for (int l = 0; l < 8; l++) {
        out->student_max[l] = ma[l];
        out->teacher_max[l] = mb[l];
    }
    for (int q = 0; q < 4; q++) {
        vst1q_f64(out->student_sum + 2 * q, st.student_sum[q]);
        vst1q_f64(out->teacher_sum + 2 * q, st.teacher_sum[q]);
        vst1q_f64(out->log_ratio_sum + 2 * q, st.log_ratio_sum[q]);
    }
}

void nkl_distill_lanes_f32_neon(const float *s, const float *u, size_t cols, float logit_scale, int log_probs,
                                nkl_distill_lanes *st) {
    if (log_probs) lanes_f32(s, u, cols, logit_scale, 1, st);
    else lanes_f32(s, u, cols, logit_scale, 0, st);
}

/* ------------------------------------------------------------- float64 */

/* lanes 0-1 in [0], 2-3 in [1] */
typedef struct lanes_f64_state {
    float64x2_t student_max[2], teacher_max[2], student_sum[2], teacher_sum[2], log_ratio_sum[2];
} lanes_f64_state;

/* One block of 8: a[j][h] = the scaled student logits 4j + 2h, 4j + 2h + 1. */
NKL_INLINE void block_f64(lanes_f64_state *st, float64x2_t a[2][2], float64x2_t b[2][2], const int log_probs) {
    const float64x2_t head = F64(NKL_DISTILL_HEADROOM);
    float64x2_t nma[2], nmb[2];
    uint64x2_t changed[2];
    for (int h = 0; h < 2; h++) {
        float64x2_t bma = nkl_max_gt_f64x2(a[0][h], a[1][h]);
        nma[h] = vbslq_f64(vcgtq_f64(bma, st->student_max[h]), vaddq_f64(bma, head), st->student_max[h]);
        nmb[h] = st->teacher_max[h];
        if (!log_probs) {
            float64x2_t bmb = nkl_max_gt_f64x2(b[0][h], b[1][h]);
            nmb[h] = vbslq_f64(vcgtq_f64(bmb, st->teacher_max[h]), vaddq_f64(bmb, head), st->teacher_max[h]);
        }
        changed[h] = vorrq_u64(vcgtq_f64(nma[h], st->student_max[h]), vcgtq_f64(nmb[h], st->teacher_max[h]));
    }
    for (int h = 0; h < 2; h++) {
        if (!(vgetq_lane_u64(changed[h], 0) | vgetq_lane_u64(changed[h], 1))) continue;
        float64x2_t ra = nkl_exp_f64x2(vsubq_f64(st->student_max[h], nma[h]));
        float64x2_t rb = nkl_exp_f64x2(vsubq_f64(st->teacher_max[h], nmb[h]));
        float64x2_t da = vsubq_f64(nma[h], st->student_max[h]), db = vsubq_f64(nmb[h], st->teacher_max[h]);
        float64x2_t acc = vmulq_f64(rb, vaddq_f64(st->log_ratio_sum[h], vmulq_f64(vsubq_f64(da, db), st->teacher_sum[h])));
        uint64x2_t nz = nkl_not_u64x2(vceqq_f64(st->teacher_sum[h], F64(0.0)));
        st->log_ratio_sum[h] = vbslq_f64(vandq_u64(changed[h], nz), acc, st->log_ratio_sum[h]);
        st->student_sum[h] = vbslq_f64(changed[h], vmulq_f64(st->student_sum[h], ra), st->student_sum[h]);
        st->teacher_sum[h] = vbslq_f64(changed[h], vmulq_f64(st->teacher_sum[h], rb), st->teacher_sum[h]);
        st->student_max[h] = vbslq_f64(changed[h], nma[h], st->student_max[h]);
        st->teacher_max[h] = vbslq_f64(changed[h], nmb[h], st->teacher_max[h]);
    }
    for (int h = 0; h < 2; h++) {
        float64x2_t ea[2], eb[2], tb[2];
        for (int j = 0; j < 2; j++) {
            float64x2_t aj = vsubq_f64(a[j][h], st->student_max[h]);
            float64x2_t bj = log_probs ? b[j][h] : vsubq_f64(b[j][h], st->teacher_max[h]);
            ea[j] = nkl_exp_f64x2(aj);
            eb[j] = nkl_exp_f64x2(bj);
            tb[j] = nkl_zero_where_f64x2(vceqq_f64(bj, F64(-INFINITY)), vmulq_f64(eb[j], vsubq_f64(bj, aj)));
        }
        st->student_sum[h] = vaddq_f64(st->student_sum[h], vaddq_f64(ea[0], ea[1]));
        st->teacher_sum[h] = vaddq_f64(st->teacher_sum[h], vaddq_f64(eb[0], eb[1]));
        st->log_ratio_sum[h] = vaddq_f64(st->log_ratio_sum[h], vaddq_f64(tb[0], tb[1]));
    }
}

static void lanes_f64(const double *s, const double *u, size_t cols, double logit_scale, const int log_probs,
                      nkl_distill_lanes *out) {
    lanes_f64_state st;
    for (int h = 0; h < 2; h++) {
        st.student_max[h] = st.teacher_max[h] = F64(-DBL_MAX);
        st.student_sum[h] = st.teacher_sum[h] = st.log_ratio_sum[h] = F64(0.0);
    }
    float64x2_t scale = F64(logit_scale), a[2][2], b[2][2];
    for (size_t i = 0; i < cols; i += 8) {
        size_t r = cols - i;
        double sb[8], ub[8];
        const double *sp = s + i, *up = u + i;
        if (r < 8) { /* the last block, padded with -inf logits */
            for (size_t j = 0; j < 8; j++) sb[j] = ub[j] = -INFINITY;
            memcpy(sb, sp, r * sizeof(double));
            memcpy(ub, up, r * sizeof(double));
            sp = sb;
            up = ub;
        }
        for (int j = 0; j < 2; j++)
            for (int h = 0; h < 2; h++) {
                a[j][h] = vmulq_f64(vld1q_f64(sp + 4 * j + 2 * h), scale);
                b[j][h] = vld1q_f64(up + 4 * j + 2 * h);
                if (!log_probs) b[j][h] = vmulq_f64(b[j][h], scale);
            }
        block_f64(&st, a, b, log_probs);
    }
    for (int h = 0; h < 2; h++) {
        vst1q_f64(out->student_max + 2 * h, st.student_max[h]);
        vst1q_f64(out->teacher_max + 2 * h, st.teacher_max[h]);
        vst1q_f64(out->student_sum + 2 * h, st.student_sum[h]);
        vst1q_f64(out->teacher_sum + 2 * h, st.teacher_sum[h]);
        vst1q_f64(out->log_ratio_sum + 2 * h, st.log_ratio_sum[h]);
    }
}

void nkl_distill_lanes_f64_neon(const double *s, const double *u, size_t cols, double logit_scale, int log_probs,
                                nkl_distill_lanes *st) {
    if (log_probs) lanes_f64(s, u, cols, logit_scale, 1, st);
    else lanes_f64(s, u, cols, logit_scale, 0, st);
}

/* ------------------------------------------------------------- gradient pass */

/* DISTILL_GRAD_SCALAR on 4 floats; the constants are copied into registers
   once per row (gs may alias *g). */
typedef struct grad_f32_consts {
    float32x4_t student_scale, teacher_scale, student_max, student_log_sum, teacher_max, teacher_log_sum,
        teacher_mass, kl, student_factor, teacher_factor;
} grad_f32_consts;

NKL_INLINE void grad_f32x4(float32x4_t sv, float32x4_t uv, const grad_f32_consts *g, float32x4_t *gs,
                           float32x4_t *gu) {
    float32x4_t lq = vsubq_f32(vsubq_f32(vmulq_f32(sv, g->student_scale), g->student_max), g->student_log_sum);
    float32x4_t lp = vsubq_f32(vsubq_f32(vmulq_f32(uv, g->teacher_scale), g->teacher_max), g->teacher_log_sum);
    float32x4_t q = nkl_exp2_f32x4(lq), p = nkl_exp2_f32x4(lp);
    *gs = nkl_canon_nan_f32x4(vmulq_f32(vsubq_f32(vmulq_f32(q, g->teacher_mass), p), g->student_factor));
    float32x4_t gv = vmulq_f32(vmulq_f32(p, vsubq_f32(vsubq_f32(lp, lq), g->kl)), g->teacher_factor);
    *gu = nkl_canon_nan_f32x4(nkl_zero_where_f32x4(vceqq_f32(p, F32(0.0f)), gv));
}

void nkl_distill_grad_f32_neon(const float *s, const float *u, size_t cols, const nkl_distill_grad_f32 *gp,
                               float *gs, float *gu) {
    const grad_f32_consts g = {F32(gp->student_scale), F32(gp->teacher_scale), F32(gp->student_max),
                               F32(gp->student_log_sum), F32(gp->teacher_max), F32(gp->teacher_log_sum),
                               F32(gp->teacher_mass), F32(gp->kl), F32(gp->student_factor),
                               F32(gp->teacher_factor)};
    float32x4_t vs, vu;
    size_t i = 0;
    for (; i + 4 <= cols; i += 4) {
        grad_f32x4(vld1q_f32(s + i), vld1q_f32(u + i), &g, &vs, &vu);
        vst1q_f32(gs + i, vs);
        if (gu) vst1q_f32(gu + i, vu);
    }
    if (i < cols) {
        float sb[4] = {0}, ub[4] = {0}, os[4], ou[4];
        memcpy(sb, s + i, (cols - i) * sizeof(float));
        memcpy(ub, u + i, (cols - i) * sizeof(float));
        grad_f32x4(vld1q_f32(sb), vld1q_f32(ub), &g, &vs, &vu);
        vst1q_f32(os, vs);
        vst1q_f32(ou, vu);
        memcpy(gs + i, os, (cols - i) * sizeof(float));
        if (gu) memcpy(gu + i, ou, (cols - i) * sizeof(float));
    }
}

typedef struct grad_f64_consts {
    float64x2_t student_scale, teacher_scale, student_max, student_log_sum, teacher_max, teacher_log_sum,
        teacher_mass, kl, student_factor, teacher_factor;
} grad_f64_consts;

NKL_INLINE void grad_f64x2(float64x2_t sv, float64x2_t uv, const grad_f64_consts *g, float64x2_t *gs,
                           float64x2_t *gu) {
    float64x2_t lq = vsubq_f64(vsubq_f64(vmulq_f64(sv, g->student_scale), g->student_max), g->student_log_sum);
    float64x2_t lp = vsubq_f64(vsubq_f64(vmulq_f64(uv, g->teacher_scale), g->teacher_max), g->teacher_log_sum);
    float64x2_t q = nkl_exp_f64x2(lq), p = nkl_exp_f64x2(lp);
    *gs = nkl_canon_nan_f64x2(vmulq_f64(vsubq_f64(vmulq_f64(q, g->teacher_mass), p), g->student_factor));
    float64x2_t gv = vmulq_f64(vmulq_f64(p, vsubq_f64(vsubq_f64(lp, lq), g->kl)), g->teacher_factor);
    *gu = nkl_canon_nan_f64x2(nkl_zero_where_f64x2(vceqq_f64(p, F64(0.0)), gv));
}

void nkl_distill_grad_f64_neon(const double *s, const double *u, size_t cols, const nkl_distill_grad_f64 *gp,
                               double *gs, double *gu) {
    const grad_f64_consts g = {F64(gp->student_scale), F64(gp->teacher_scale), F64(gp->student_max),
                               F64(gp->student_log_sum), F64(gp->teacher_max), F64(gp->teacher_log_sum),
                               F64(gp->teacher_mass), F64(gp->kl), F64(gp->student_factor),
                               F64(gp->teacher_factor)};
    float64x2_t vs, vu;
    size_t i = 0;
    for (; i + 2 <= cols; i += 2) {
        grad_f64x2(vld1q_f64(s + i), vld1q_f64(u + i), &g, &vs, &vu);
        vst1q_f64(gs + i, vs);
        if (gu) vst1q_f64(gu + i, vu);
    }
    if (i < cols) {
        double sb[2] = {s[i], 0.0}, ub[2] = {u[i], 0.0};
        grad_f64x2(vld1q_f64(sb), vld1q_f64(ub), &g, &vs, &vu);
        gs[i] = vgetq_lane_f64(vs, 0);
        if (gu) gu[i] = vgetq_lane_f64(vu, 0);
    }
}

/* ------------------------------------------------------------- the rows' folds */

/* nkl_exp_lanes_fn: two lanes an instruction */
static void exp_lanes_neon(const double *x, double *y, int lanes) {
    for (int l = 0; l < lanes; l += 2) vst1q_f64(y + l, nkl_exp_f64x2(vld1q_f64(x + l)));
}

/* nkl_distill_lane_factors and nkl_distill_finish_row for two rows at once, one row per
   vector lane: each lane runs the spec's operations in the spec's order. */
NKL_INLINE void finish_two(nkl_distill_lanes *st, const int lanes, int log_probs, int base2) {
#define PAIR(field, l) vcombine_f64(vld1_f64(&st[0].field[l]), vld1_f64(&st[1].field[l]))
    float64x2_t ma[NKL_DISTILL_LANES], mb[NKL_DISTILL_LANES], za[NKL_DISTILL_LANES], zb[NKL_DISTILL_LANES],
        acc[NKL_DISTILL_LANES];
    for (int l = 0; l < lanes; l++) {
        ma[l] = PAIR(student_max, l);
        mb[l] = PAIR(teacher_max, l);
        za[l] = PAIR(student_sum, l);
        zb[l] = PAIR(teacher_sum, l);
        acc[l] = PAIR(log_ratio_sum, l);
    }
#undef PAIR
    /* the maxima: if (m[l] > x) x = m[l] */
    float64x2_t xa = ma[0], xb = mb[0];
    for (int l = 1; l < lanes; l++) {
        xa = nkl_max_gt_f64x2(ma[l], xa);
        xb = nkl_max_gt_f64x2(mb[l], xb);
    }
    const float64x2_t unit = F64(base2 ? NKL_LN2_HI_F64 : 1.0), zero = F64(0.0);
    float64x2_t sa = zero, sb = zero, sacc = zero;
    for (int l = 0; l < lanes; l++) {
        float64x2_t da = vsubq_f64(ma[l], xa), db = vsubq_f64(mb[l], xb);
        if (base2) {
            da = vmulq_f64(da, unit);
            db = vmulq_f64(db, unit);
        }
        float64x2_t ra = nkl_exp_f64x2(da);
        float64x2_t rb = log_probs ? F64(1.0) : nkl_exp_f64x2(db);
        float64x2_t dgrow = log_probs ? zero : vsubq_f64(xb, mb[l]);
        sa = vaddq_f64(sa, vmulq_f64(za[l], ra));
        float64x2_t grown =
            vmulq_f64(rb, vaddq_f64(acc[l], vmulq_f64(vsubq_f64(vsubq_f64(xa, ma[l]), dgrow), zb[l])));
        sacc = vaddq_f64(sacc, vbslq_f64(vceqq_f64(zb[l], zero), acc[l], grown));
        sb = vaddq_f64(sb, vmulq_f64(zb[l], rb));
    }
    float64x2_t la = nkl_log_f64x2(sa), lb, rzb, kl;
    if (log_probs) {
        lb = zero;
        rzb = sb;
        kl = vbslq_f64(vcltq_f64(sb, F64(INFINITY)), vaddq_f64(vmulq_f64(sacc, unit), vmulq_f64(la, sb)),
                       vreinterpretq_f64_u64(U64(NKL_QUIET_NAN_BITS_F64)));
    } else {
        lb = nkl_log_f64x2(sb);
        rzb = F64(1.0);
        kl = vaddq_f64(vsubq_f64(vmulq_f64(vdivq_f64(sacc, sb), unit), lb), la);
    }
    double o[6][2];
    vst1q_f64(o[0], xa);
    vst1q_f64(o[1], la);
    vst1q_f64(o[2], log_probs ? zero : xb);
    vst1q_f64(o[3], lb);
    vst1q_f64(o[4], rzb);
    vst1q_f64(o[5], kl);
    for (int i = 0; i < 2; i++) {
        nkl_distill_row row = {o[0][i], o[1][i], o[2][i], o[3][i], o[4][i], o[5][i]};
        st[i].row = row;
    }
}

void nkl_distill_finish_neon(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2) {
    size_t i = 0;
    for (; i + 2 <= n; i += 2) { /* lanes: 8 (float32) or 4 (float64), as constants */
        if (lanes == 8) finish_two(st + i, 8, log_probs, base2);
        else finish_two(st + i, 4, log_probs, base2);
    }
    nkl_distill_finish_rows(st + i, n - i, lanes, log_probs, base2, exp_lanes_neon); /* a row without a partner */
}
