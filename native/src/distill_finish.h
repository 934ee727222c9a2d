/*
 * distill_finish.h - folds a distillation row's lanes into its statistics.
 * Included by every ISA's kernel file, so the fold is the same code, in the
 * same order, everywhere (fma() is exactly rounded whether it compiles to an
 * instruction or a libm call).
 */
#ifndef NKL_DISTILL_FINISH_H
#define NKL_DISTILL_FINISH_H

#include "vmath_scalar.h"

/*
 * Folds the value pass's lanes (H of them) into the row: the global maxima,
 * each lane's sums rescaled to them in lane order (the rescale of
 * distill_state.h), then
 *   logits:     KL = acc / zb - log zb + log za
 *   log-probs:  KL = acc + log(za) zb     (NaN if the teacher's mass is +inf)
 * (acc times ln 2 first where the lanes work in base 2).
 */
NKL_INLINE nkl_distill_row nkl_distill_finish_row(const nkl_distill_lanes *st, int lanes, int log_probs,
                                                   int base2) {
    double ma = st->row_student_max, mb = st->row_teacher_max;
    double za = 0.0, zb = 0.0, acc = 0.0;
    for (int l = 0; l < lanes; l++) {
        double rb = log_probs ? 1.0 : st->teacher_rescale[l];
        double db = log_probs ? 0.0 : mb - st->teacher_max[l];
        za += st->student_sum[l] * st->student_rescale[l];
        acc += st->teacher_sum[l] != 0.0
                   ? rb * (st->log_ratio_sum[l] + ((ma - st->student_max[l]) - db) * st->teacher_sum[l])
                   : st->log_ratio_sum[l];
        zb += st->teacher_sum[l] * rb;
    }
    /* base2 (float32): a, b, their maxima and acc are in units of ln 2
       (logits scaled by log2(e)/T, terms 2^x); za and zb are the same sums
       either way. acc takes the factor ln 2 here; ma and mb stay in the
       lanes' units for the gradient pass, which works in them too. */
    double unit = base2 ? NKL_LN2_HI_F64 : 1.0;
    nkl_distill_row row;
    row.student_max = ma;
    row.student_log_sum = nkl_log_f64(za);
    if (log_probs) {
        row.teacher_max = 0.0;
        row.teacher_log_sum = 0.0;
        row.teacher_mass = zb;
        row.kl = zb < INFINITY ? acc * unit + row.student_log_sum * zb : NAN;
    } else {
        row.teacher_max = mb;
        row.teacher_log_sum = nkl_log_f64(zb);
        row.teacher_mass = 1.0;
        row.kl = ((acc / zb) * unit - row.teacher_log_sum) + row.student_log_sum;
    }
    return row;
}

/* y[l] = exp(x[l]) for l < lanes (a multiple of 4), with vmath_scalar.h's
   bits: nkl_exp_lanes_scalar, or a vector kernel's own exp, several lanes an
   instruction. */
typedef void (*nkl_exp_lanes_fn)(const double *x, double *y, int lanes);

NKL_INLINE void nkl_exp_lanes_scalar(const double *x, double *y, int lanes) {
    for (int l = 0; l < lanes; l++) y[l] = nkl_exp_f64(x[l]);
}

/*
 * The lanes' row maxima and each lane's factors to them (the rescale of
 * distill_state.h): row_student_max = max over the lanes of student_max
 * (if (m > x) x = m, in lane order), student_rescale[l] = exp(student_max[l]
 * - row_student_max) (base 2: the difference times ln 2 first), likewise
 * the teacher's. exp_lanes: a constant, inlined.
 */
NKL_INLINE void nkl_distill_lane_factors(nkl_distill_lanes *st, int lanes, int base2, nkl_exp_lanes_fn exp_lanes) {
    double ma = st->student_max[0], mb = st->teacher_max[0];
    for (int l = 1; l < lanes; l++) {
        if (st->student_max[l] > ma) ma = st->student_max[l];
        if (st->teacher_max[l] > mb) mb = st->teacher_max[l];
    }
    st->row_student_max = ma;
    st->row_teacher_max = mb;
    double da[NKL_DISTILL_LANES], db[NKL_DISTILL_LANES];
    for (int l = 0; l < lanes; l++) {
        da[l] = st->student_max[l] - ma;
        db[l] = st->teacher_max[l] - mb;
        if (base2) {
            da[l] *= NKL_LN2_HI_F64;
            db[l] *= NKL_LN2_HI_F64;
        }
    }
    exp_lanes(da, st->student_rescale, lanes);
    exp_lanes(db, st->teacher_rescale, lanes);
}

/* The fold of n rows, one by one: the spec's distill_finish (kernels_scalar.c),
   and the rows a vector kernel's groups leave over. */
NKL_INLINE void nkl_distill_finish_rows(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2,
                                        nkl_exp_lanes_fn exp_lanes) {
    for (size_t i = 0; i < n; i++) {
        nkl_distill_lane_factors(&st[i], lanes, base2, exp_lanes);
        st[i].row = nkl_distill_finish_row(&st[i], lanes, log_probs, base2);
    }
}

#endif
