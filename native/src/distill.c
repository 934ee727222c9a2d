/*
 * distill.c - distillation from logits (nativekl.h): validate, then per row
 * run the ISA's value pass (which folds its lanes with distill_finish.h, the
 * same code for every ISA, so the row statistics have the same bits) and,
 * for the backward, the ISA's gradient pass over the same row while it is
 * in cache.
 */
#include <float.h>

#include "internal.h"
#include "vmath_constants.h"

#define KNOWN_FLAGS (NKL_TEACHER_LOG_PROBS | NKL_SCALE_T2 | NKL_FORCE_SCALAR | NKL_FORCE_AVX2)

#define TRY(expr)                                  \
    do {                                           \
        nkl_status s_ = (expr);                    \
        if (s_ != NKL_OK) return s_;               \
    } while (0)

/* ------------------------------------------------------------ checks */

/* Elements spanned by rows of cols at a stride (0 when there are none). */
static nkl_status extent(size_t rows, size_t cols, size_t stride, size_t size, size_t *out) {
    size_t max = (size_t)PTRDIFF_MAX / size;
    if (stride < cols) return NKL_ERROR_INVALID_STRIDE;
    *out = 0;
    if (rows == 0 || cols == 0) return NKL_OK;
    if (cols > max || (rows - 1 > (max - cols) / stride)) return NKL_ERROR_SIZE_OVERFLOW;
    *out = (rows - 1) * stride + cols;
    return NKL_OK;
}

/* Do the byte ranges [a, a + na) and [b, b + nb) share a byte? */
static int overlap(const void *a, size_t na, const void *b, size_t nb) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return na > 0 && nb > 0 && pa < pb + nb && pb < pa + na;
}

/* What every distillation call checks; fills what the row loop needs. */
typedef struct plan {
    const nkl_kernels *k;
    size_t student_extent, teacher_extent;
    size_t kept;     /* rows with a non-zero weight */
    double divisor;  /* of the reduced value */
    double t2;       /* T^2 or 1 */
    int log_probs;
} plan;

#define CHECK_WEIGHTS(T)                                                                 \
    static nkl_status check_weights_##T(const T *w, size_t rows, size_t *kept) {         \
        *kept = rows;                                                                    \
        if (!w) return NKL_OK;                                                           \
        *kept = 0;                                                                       \
        for (size_t r = 0; r < rows; r++) {                                              \
            if (!(w[r] >= 0 && w[r] < (T)INFINITY)) return NKL_ERROR_INVALID_WEIGHT;     \
            *kept += w[r] != 0;                                                          \
        }                                                                                \
        return NKL_OK;                                                                   \
    }
CHECK_WEIGHTS(float)
CHECK_WEIGHTS(double)

static nkl_status check_common(const nkl_distill_desc *d, size_t size, const void *student,
                               const void *teacher, plan *p) {
    if (!d) return NKL_ERROR_NULL_POINTER;
    if (d->flags & ~KNOWN_FLAGS) return NKL_ERROR_INVALID_FLAGS;
    switch (d->flags & (NKL_FORCE_SCALAR | NKL_FORCE_AVX2)) {
    case 0:
        p->k = nkl_active_kernels();
        if (!p->k) return NKL_ERROR_INVALID_ENVIRONMENT;
        break;
    case NKL_FORCE_SCALAR: p->k = nkl_kernels_for_isa(NKL_ISA_SCALAR); break;
    case NKL_FORCE_AVX2: p->k = nkl_kernels_for_isa(NKL_ISA_AVX2); break;
    default: return NKL_ERROR_INVALID_FLAGS;
    }
    if (!p->k) return NKL_ERROR_ISA_UNAVAILABLE;
    if (d->reduction < NKL_REDUCTION_NONE || d->reduction > NKL_REDUCTION_BATCHMEAN)
        return NKL_ERROR_INVALID_REDUCTION;
    double t = d->temperature;
    if (!(t > 0.0 && t < INFINITY && 1.0 / t < INFINITY)) return NKL_ERROR_INVALID_TEMPERATURE;
    if (size == sizeof(float)) { /* float32 scales logits by log2(e)/T (internal.h) */
        float scale = (float)(NKL_LOG2E_F64 / t);
        if (!(scale > 0.0f && scale < INFINITY)) return NKL_ERROR_INVALID_TEMPERATURE;
    }
    TRY(extent(d->rows, d->cols, d->student_stride, size, &p->student_extent));
    TRY(extent(d->rows, d->cols, d->teacher_stride, size, &p->teacher_extent));
    if (p->student_extent > 0 && !student) return NKL_ERROR_NULL_POINTER;
    if (p->teacher_extent > 0 && !teacher) return NKL_ERROR_NULL_POINTER;
    if (d->rows > (size_t)PTRDIFF_MAX / size) return NKL_ERROR_SIZE_OVERFLOW;
    p->log_probs = (d->flags & NKL_TEACHER_LOG_PROBS) != 0;
    p->t2 = (d->flags & NKL_SCALE_T2) ? t * t : 1.0;
    return NKL_OK;
}

/* The divisor of the reduction, once the kept rows are known. */
static void set_divisor(const nkl_distill_desc *d, plan *p) {
    switch (d->reduction) {
    case NKL_REDUCTION_MEAN: p->divisor = (double)p->kept * (double)d->cols; break;
    case NKL_REDUCTION_BATCHMEAN: p->divisor = (double)p->kept; break;
    default: p->divisor = 1.0; break;
    }
}

/* ------------------------------------------------------------ entry points */

/*
 * One body for both types: T the data type, SUFFIX f32/f64. Rows of weight
 * 0 are skipped entirely.
 */
#define DISTILL(T, SUFFIX, LANES_UNIT, LANES, BASE2)                                                             \
    static nkl_status distill_##SUFFIX(const nkl_distill_desc *d, const T *student,                \
                                       const T *teacher, const T *w, T grad_output, T *value,      \
                                       T *gs, size_t gs_stride, T *gu, size_t gu_stride,           \
                                       int backward) {                                             \
        plan p;                                                                                    \
        TRY(check_common(d, sizeof(T), student, teacher, &p));                                  \
        size_t rows = d->rows, cols = d->cols, bytes = sizeof(T);                                  \
        size_t nv = d->reduction == NKL_REDUCTION_NONE ? rows : 1;                                 \
        size_t gs_extent = 0, gu_extent = 0;                                                       \
        if (!backward && !value && nv > 0) return NKL_ERROR_NULL_POINTER;                          \
        if (backward) {                                                                            \
            TRY(extent(rows, cols, gs_stride, bytes, &gs_extent));                                 \
            if (gu) TRY(extent(rows, cols, gu_stride, bytes, &gu_extent));                         \
            if (gs_extent > 0 && !gs) return NKL_ERROR_NULL_POINTER;                               \
        }                                                                                          \
        TRY(check_weights_##T(w, rows, &p.kept));                                                  \
        set_divisor(d, &p);                                                                        \
        const void *outs[3] = {value, gs, gu};                                                     \
        size_t out_bytes[3] = {value ? nv * bytes : 0, gs_extent * bytes, gu_extent * bytes};      \
        for (int o = 0; o < 3; o++) {                                                              \
            if (overlap(outs[o], out_bytes[o], student, p.student_extent * bytes) ||               \
                overlap(outs[o], out_bytes[o], teacher, p.teacher_extent * bytes) ||               \
                overlap(outs[o], out_bytes[o], w, w ? rows * bytes : 0))                           \
                return NKL_ERROR_OVERLAP;                                                          \
            for (int q = 0; q < o; q++)                                                            \
                if (overlap(outs[o], out_bytes[o], outs[q], out_bytes[q])) return NKL_ERROR_OVERLAP; \
        }                                                                                          \
        /* checks done: from here on, outputs are written */                                       \
        double t = d->temperature;                                                                 \
        T lanes_scale = (T)(LANES_UNIT / t); /* the value pass's scale of the logits */            \
        nkl_partial total = {0.0, 0.0};                                                            \
        for (size_t r0 = 0; r0 < rows; r0 += NKL_DISTILL_GROUP) {                                  \
            size_t r1 = rows - r0 < NKL_DISTILL_GROUP ? rows : r0 + NKL_DISTILL_GROUP;             \
            /* the group's value passes, then their folds side by side (a latency chain each) */   \
            nkl_distill_lanes st[NKL_DISTILL_GROUP];                                               \
            size_t kept = 0;                                                                       \
            for (size_t r = r0; r < r1; r++) {                                                     \
                if ((w && w[r] == 0) || cols == 0) continue;                                       \
                p.k->distill_lanes_##SUFFIX(student + r * d->student_stride,                       \
                                            teacher + r * d->teacher_stride, cols, lanes_scale,    \
                                            p.log_probs, &st[kept++]);                             \
            }                                                                                      \
            p.k->distill_finish(st, kept, LANES, p.log_probs, BASE2);                              \
            kept = 0;                                                                              \
            for (size_t r = r0; r < r1; r++) {                                                     \
                double wr = w ? (double)w[r] : 1.0;                                                \
                /* no row pointer when cols == 0: the arrays may be NULL, which must not be offset */ \
                T *gsr = backward && cols > 0 ? gs + r * gs_stride : NULL;                         \
                T *gur = backward && gu && cols > 0 ? gu + r * gu_stride : NULL;                   \
                if (wr == 0.0 || cols == 0) {                                                      \
                    if (d->reduction == NKL_REDUCTION_NONE && value) value[r] = (T)0;              \
                    for (size_t c = 0; gsr && c < cols; c++) gsr[c] = (T)0;                        \
                    for (size_t c = 0; gur && c < cols; c++) gur[c] = (T)0;                        \
                    continue;                                                                      \
                }                                                                                  \
                const T *s = student + r * d->student_stride, *u = teacher + r * d->teacher_stride; \
                nkl_distill_row row = st[kept++].row;                                              \
                double loss = wr * row.kl * p.t2;                                                  \
                if (d->reduction == NKL_REDUCTION_NONE) {                                          \
                    if (value) value[r] = nkl_canon_nan_##SUFFIX((T)loss);                         \
                } else {                                                                           \
                    nkl_two_sum(&total.sum, &total.compensation, loss);                            \
                }                                                                                  \
                if (backward) {                                                                    \
                    double g = (double)grad_output * wr * p.t2 / p.divisor;                        \
                    /* in the value pass's units (internal.h): logs times LANES_UNIT */           \
                    nkl_distill_grad_##SUFFIX gr;                                                  \
                    gr.ia = lanes_scale;                                                           \
                    gr.ib = p.log_probs ? (T)LANES_UNIT : lanes_scale;                             \
                    gr.ma = (T)row.ma;                                                             \
                    gr.la = (T)(row.la * LANES_UNIT);                                              \
                    gr.mb = (T)row.mb;                                                             \
                    gr.lb = (T)(row.lb * LANES_UNIT);                                              \
                    gr.zb = (T)row.zb;                                                             \
                    gr.kl = p.log_probs ? (T)-LANES_UNIT : (T)(row.kl * LANES_UNIT);               \
                    gr.cs = (T)(g / t);                                                            \
                    gr.cu = p.log_probs ? (T)(g / LANES_UNIT) : (T)(g / t / LANES_UNIT);           \
                    p.k->distill_grad_##SUFFIX(s, u, cols, &gr, gsr, gur);                         \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        if (d->reduction != NKL_REDUCTION_NONE && value)                                           \
            *value = nkl_canon_nan_##SUFFIX((T)(nkl_total(total) / p.divisor));                    \
        return NKL_OK;                                                                             \
    }

/* float32 value passes work in base 2 with 8 lanes, float64 in base e with 4 (internal.h) */
DISTILL(float, f32, NKL_LOG2E_F64, 8, 1)
DISTILL(double, f64, 1.0, 4, 0)

nkl_status nkl_distill_f32(const nkl_distill_desc *desc, const float *student,
                           const float *teacher, const float *row_weights, float *out) {
    return distill_f32(desc, student, teacher, row_weights, 0.0f, out, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_f64(const nkl_distill_desc *desc, const double *student,
                           const double *teacher, const double *row_weights, double *out) {
    return distill_f64(desc, student, teacher, row_weights, 0.0, out, NULL, 0, NULL, 0, 0);
}

nkl_status nkl_distill_backward_f32(const nkl_distill_desc *desc, const float *student,
                                    const float *teacher, const float *row_weights,
                                    float grad_output, float *value, float *grad_student,
                                    size_t grad_student_stride, float *grad_teacher,
                                    size_t grad_teacher_stride) {
    return distill_f32(desc, student, teacher, row_weights, grad_output, value, grad_student,
                       grad_student_stride, grad_teacher, grad_teacher_stride, 1);
}

nkl_status nkl_distill_backward_f64(const nkl_distill_desc *desc, const double *student,
                                    const double *teacher, const double *row_weights,
                                    double grad_output, double *value, double *grad_student,
                                    size_t grad_student_stride, double *grad_teacher,
                                    size_t grad_teacher_stride) {
    return distill_f64(desc, student, teacher, row_weights, grad_output, value, grad_student,
                       grad_student_stride, grad_teacher, grad_teacher_stride, 1);
}
