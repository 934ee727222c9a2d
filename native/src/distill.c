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

/* per_row: the rows entry points, which do not read d->reduction; the
   others take SUM, MEAN or BATCHMEAN. */
static nkl_status check_common(const nkl_distill_desc *d, size_t size, const void *student,
                               const void *teacher, int per_row, plan *p) {
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
    if (p->student_extent > 0 && !student) return NKL_ERROR_NULL_POINTER;
    if (p->teacher_extent > 0 && !teacher) return NKL_ERROR_NULL_POINTER;
    if (d->rows > (size_t)PTRDIFF_MAX / size) return NKL_ERROR_SIZE_OVERFLOW;
    p->log_probs = (d->flags & NKL_TEACHER_LOG_PROBS_AS_GIVEN) != 0;
    p->t2 = (d->flags & NKL_MULTIPLY_LOSS_BY_T2) ? t * t : 1.0;
    return NKL_OK;
}

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

nkl_status nkl_distill_f32(const nkl_distill_desc *desc, const float *student,
                           const float *teacher, const float *row_weights, float *out) {
    return distill_f32(desc, student, teacher, row_weights, 0.0f, 0, out, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_f64(const nkl_distill_desc *desc, const double *student,
                           const double *teacher, const double *row_weights, double *out) {
    return distill_f64(desc, student, teacher, row_weights, 0.0, 0, out, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_rows_f32(const nkl_distill_desc *desc, const float *student,
                                const float *teacher, const float *row_weights,
                                float *row_losses) {
    return distill_f32(desc, student, teacher, row_weights, 0.0f, 1, row_losses, NULL, 0, NULL, 0,
                       0);
}

nkl_status nkl_distill_rows_f64(const nkl_distill_desc *desc, const double *student,
                                const double *teacher, const double *row_weights,
                                double *row_losses) {
    return distill_f64(desc, student, teacher, row_weights, 0.0, 1, row_losses, NULL, 0, NULL, 0,
                       0);
}

nkl_status nkl_distill_backward_f32(const nkl_distill_desc *desc, const float *student,
                                    const float *teacher, const float *row_weights,
                                    float grad_output, float *value, float *grad_student,
                                    size_t grad_student_stride, float *grad_teacher,
                                    size_t grad_teacher_stride) {
    return distill_f32(desc, student, teacher, row_weights, grad_output, 0, value, grad_student,
                       grad_student_stride, grad_teacher, grad_teacher_stride, 1);
}

nkl_status nkl_distill_backward_f64(const nkl_distill_desc *desc, const double *student,
                                    const double *teacher, const double *row_weights,
                                    double grad_output, double *value, double *grad_student,
                                    size_t grad_student_stride, double *grad_teacher,
                                    size_t grad_teacher_stride) {
    return distill_f64(desc, student, teacher, row_weights, grad_output, 0, value, grad_student,
                       grad_student_stride, grad_teacher, grad_teacher_stride, 1);
}

nkl_status nkl_distill_rows_backward_f32(const nkl_distill_desc *desc, const float *student,
                                         const float *teacher, const float *row_weights,
                                         float grad_output, float *row_losses,
                                         float *grad_student, size_t grad_student_stride,
                                         float *grad_teacher, size_t grad_teacher_stride) {
    return distill_f32(desc, student, teacher, row_weights, grad_output, 1, row_losses,
                       grad_student, grad_student_stride, grad_teacher, grad_teacher_stride, 1);
}

nkl_status nkl_distill_rows_backward_f64(const nkl_distill_desc *desc, const double *student,
                                         const double *teacher, const double *row_weights,
                                         double grad_output, double *row_losses,
                                         double *grad_student, size_t grad_student_stride,
                                         double *grad_teacher, size_t grad_teacher_stride) {
    return distill_f64(desc, student, teacher, row_weights, grad_output, 1, row_losses,
                       grad_student, grad_student_stride, grad_teacher, grad_teacher_stride, 1);
}
