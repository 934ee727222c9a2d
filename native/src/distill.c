/*
 * distill.c - distillation from logits (nativekl.h): validate, then per row
 * run the ISA's value pass (which folds its lanes with distill_finish.h, the
 * same code for every ISA, so the row statistics have the same bits) and,
 * for the backward, the ISA's gradient pass over the same row while it is
 * in cache.
 */
#include <float.h>

#include "checks.h"
#include "internal.h"
#include "vmath_constants.h"

#define KNOWN_FLAGS \
    (NKL_TEACHER_LOG_PROBS_AS_GIVEN | NKL_MULTIPLY_LOSS_BY_T2 | NKL_FORCE_SCALAR | NKL_FORCE_AVX2 | \
     NKL_FORCE_NEON)

/* What every distillation call checks; fills what the row loop needs. */
typedef struct plan {
    const nkl_kernels *k;
    size_t student_extent, teacher_extent;
    size_t kept;     /* rows with a non-zero weight */
    double divisor;  /* of the reduced value */
    double t2;       /* T^2 or 1 */
    int log_probs;
} plan;

/* What every call checks of the desc alone; per_row: the rows entry points
   and the forward pieces, which do not read d->reduction; the others take
   SUM, MEAN or BATCHMEAN. */
static nkl_status check_desc(const nkl_distill_desc *d, size_t size, int per_row, plan *p) {
    if (!d) return NKL_ERROR_NULL_POINTER;
    TRY(nkl_kernels_for_flags(d->flags, KNOWN_FLAGS, &p->k));
    if (!per_row && (d->reduction < NKL_REDUCTION_SUM || d->reduction > NKL_REDUCTION_BATCHMEAN))
        return NKL_ERROR_INVALID_REDUCTION;
    double t = d->temperature;
    if (!(t > 0.0 && t < INFINITY && 1.0 / t < INFINITY)) return NKL_ERROR_INVALID_TEMPERATURE;
    if (size == sizeof(float)) { /* float32's scale, log2(e)/T, must be finite and > 0 too */
        float scale = nkl_logit_scale_f32(t);
        if (!(scale > 0.0f && scale < INFINITY)) return NKL_ERROR_INVALID_TEMPERATURE;
    }
    TRY(nkl_row_extent(d->rows, d->cols, d->student_stride, size, &p->student_extent));
    TRY(nkl_row_extent(d->rows, d->cols, d->teacher_stride, size, &p->teacher_extent));
    if (d->rows > (size_t)PTRDIFF_MAX / size) return NKL_ERROR_SIZE_OVERFLOW;
    p->log_probs = (d->flags & NKL_TEACHER_LOG_PROBS_AS_GIVEN) != 0;
    p->t2 = (d->flags & NKL_MULTIPLY_LOSS_BY_T2) ? t * t : 1.0;
    return NKL_OK;
}

/* check_desc, and the input arrays. */
static nkl_status check_common(const nkl_distill_desc *d, size_t size, const void *student,
                               const void *teacher, int per_row, plan *p) {
    TRY(check_desc(d, size, per_row, p));
    if (p->student_extent > 0 && !student) return NKL_ERROR_NULL_POINTER;
    if (p->teacher_extent > 0 && !teacher) return NKL_ERROR_NULL_POINTER;
    return NKL_OK;
}

/* what a call writes per row (distill_typed.inc) */
enum { OUT_REDUCED, OUT_ROWS, OUT_PIECE };

/* ------------------------------------------------------------ entry points */

/* float32 value passes work in base 2 with 8 lanes, float64 in base e with 4 (distill_state.h) */
#define T float
#define SUF f32
#define LOGIT_UNIT NKL_LOG2E_F64
#define LANES 8
#define BASE2 1
#include "distill_typed.inc"

#define T double
#define SUF f64
#define LOGIT_UNIT 1.0
#define LANES 4
#define BASE2 0
#include "distill_typed.inc"

/* the whole call's rows (0 for a NULL desc, which the body rejects) */
#define ROWS (desc ? desc->rows : 0)

nkl_status nkl_distill_f32(const nkl_distill_desc *desc, const float *student,
                           const float *teacher, const float *row_weights, float *out) {
    return distill_f32(desc, student, teacher, row_weights, 0.0f, OUT_REDUCED, 0, ROWS, out,
                       NULL, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_f64(const nkl_distill_desc *desc, const double *student,
                           const double *teacher, const double *row_weights, double *out) {
    return distill_f64(desc, student, teacher, row_weights, 0.0, OUT_REDUCED, 0, ROWS, out,
                       NULL, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_rows_f32(const nkl_distill_desc *desc, const float *student,
                                const float *teacher, const float *row_weights,
                                float *row_losses) {
    return distill_f32(desc, student, teacher, row_weights, 0.0f, OUT_ROWS, 0, ROWS,
                       row_losses, NULL, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_rows_f64(const nkl_distill_desc *desc, const double *student,
                                const double *teacher, const double *row_weights,
                                double *row_losses) {
    return distill_f64(desc, student, teacher, row_weights, 0.0, OUT_ROWS, 0, ROWS,
                       row_losses, NULL, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_backward_f32(const nkl_distill_desc *desc, const float *student,
                                    const float *teacher, const float *row_weights,
                                    float grad_output, float *value, float *grad_student,
                                    size_t grad_student_stride, float *grad_teacher,
                                    size_t grad_teacher_stride) {
    return distill_f32(desc, student, teacher, row_weights, grad_output, OUT_REDUCED, 0, ROWS,
                       value, NULL, grad_student, grad_student_stride, grad_teacher,
                       grad_teacher_stride, 1);
}

nkl_status nkl_distill_backward_f64(const nkl_distill_desc *desc, const double *student,
                                    const double *teacher, const double *row_weights,
                                    double grad_output, double *value, double *grad_student,
                                    size_t grad_student_stride, double *grad_teacher,
                                    size_t grad_teacher_stride) {
    return distill_f64(desc, student, teacher, row_weights, grad_output, OUT_REDUCED, 0, ROWS,
                       value, NULL, grad_student, grad_student_stride, grad_teacher,
                       grad_teacher_stride, 1);
}

nkl_status nkl_distill_rows_backward_f32(const nkl_distill_desc *desc, const float *student,
                                         const float *teacher, const float *row_weights,
                                         float grad_output, float *row_losses,
                                         float *grad_student, size_t grad_student_stride,
                                         float *grad_teacher, size_t grad_teacher_stride) {
    return distill_f32(desc, student, teacher, row_weights, grad_output, OUT_ROWS, 0, ROWS,
                       row_losses, NULL, grad_student, grad_student_stride, grad_teacher,
                       grad_teacher_stride, 1);
}

nkl_status nkl_distill_rows_backward_f64(const nkl_distill_desc *desc, const double *student,
                                         const double *teacher, const double *row_weights,
                                         double grad_output, double *row_losses,
                                         double *grad_student, size_t grad_student_stride,
                                         double *grad_teacher, size_t grad_teacher_stride) {
    return distill_f64(desc, student, teacher, row_weights, grad_output, OUT_ROWS, 0, ROWS,
                       row_losses, NULL, grad_student, grad_student_stride, grad_teacher,
                       grad_teacher_stride, 1);
}

/* --------------------------------------------------------------- pieces */

nkl_status nkl_distill_partials_f32(const nkl_distill_desc *desc, const float *student,
                                    const float *teacher, const float *row_weights,
                                    size_t first_row, size_t row_count, double *row_partials) {
    return distill_f32(desc, student, teacher, row_weights, 0.0f, OUT_PIECE, first_row, row_count,
                       NULL, row_partials, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_partials_f64(const nkl_distill_desc *desc, const double *student,
                                    const double *teacher, const double *row_weights,
                                    size_t first_row, size_t row_count, double *row_partials) {
    return distill_f64(desc, student, teacher, row_weights, 0.0, OUT_PIECE, first_row, row_count,
                       NULL, row_partials, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_backward_partials_f32(const nkl_distill_desc *desc, const float *student,
                                             const float *teacher, const float *row_weights,
                                             float grad_output, size_t first_row,
                                             size_t row_count, double *row_partials,
                                             float *grad_student, size_t grad_student_stride,
                                             float *grad_teacher, size_t grad_teacher_stride) {
    return distill_f32(desc, student, teacher, row_weights, grad_output, OUT_PIECE, first_row,
                       row_count, NULL, row_partials, grad_student, grad_student_stride,
                       grad_teacher, grad_teacher_stride, 1);
}

nkl_status nkl_distill_backward_partials_f64(const nkl_distill_desc *desc, const double *student,
                                             const double *teacher, const double *row_weights,
                                             double grad_output, size_t first_row,
                                             size_t row_count, double *row_partials,
                                             double *grad_student, size_t grad_student_stride,
                                             double *grad_teacher, size_t grad_teacher_stride) {
    return distill_f64(desc, student, teacher, row_weights, grad_output, OUT_PIECE, first_row,
                       row_count, NULL, row_partials, grad_student, grad_student_stride,
                       grad_teacher, grad_teacher_stride, 1);
}

nkl_status nkl_distill_finish_f32(const nkl_distill_desc *desc, const float *row_weights,
                                  const double *row_partials, float *out) {
    return finish_f32(desc, row_weights, row_partials, out);
}

nkl_status nkl_distill_finish_f64(const nkl_distill_desc *desc, const double *row_weights,
                                  const double *row_partials, double *out) {
    return finish_f64(desc, row_weights, row_partials, out);
}
