/*
 * checks.h - the argument checks that api.c and distill.c share. Every
 * entry point runs all of its checks before it writes any output.
 */
#ifndef NKL_CHECKS_H
#define NKL_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "nativekl.h"

/* Returns the status of expr from the calling function unless it is NKL_OK. */
#define TRY(expr)                                  \
    do {                                           \
        nkl_status s_ = (expr);                    \
        if (s_ != NKL_OK) return s_;               \
    } while (0)

/* n elements of size bytes at p: p may be NULL only when n is 0, and the
   bytes must fit in ptrdiff_t (so that pointer differences stay defined). */
static inline nkl_status nkl_check_array(const void *p, size_t n, size_t size) {
    if (n > 0 && !p) return NKL_ERROR_NULL_POINTER;
    if (n > (size_t)PTRDIFF_MAX / size) return NKL_ERROR_SIZE_OVERFLOW;
    return NKL_OK;
}

/* Elements spanned by rows of cols at a stride (0 when there are none). */
static inline nkl_status nkl_row_extent(size_t rows, size_t cols, size_t stride, size_t size,
                                        size_t *extent) {
    if (stride < cols) return NKL_ERROR_INVALID_STRIDE;
    size_t max = (size_t)PTRDIFF_MAX / size;
    *extent = 0;
    if (rows == 0 || cols == 0) return NKL_OK;
    if (cols > max || (stride > 0 && rows - 1 > (max - cols) / stride))
        return NKL_ERROR_SIZE_OVERFLOW;
    *extent = (rows - 1) * stride + cols;
    return NKL_OK;
}

/* Do the byte ranges [a, a + na) and [b, b + nb) share a byte? */
static inline int nkl_overlap(const void *a, size_t na, const void *b, size_t nb) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return na > 0 && nb > 0 && pa < pb + nb && pb < pa + na;
}

/* The same, but an output that starts where the input starts is allowed:
   kl_div's pointwise terms may be computed in place. */
static inline int nkl_partly_overlap(const void *a, size_t na, const void *b, size_t nb) {
    return a != b && nkl_overlap(a, na, b, nb);
}

/*
 * The divisor rule: what a reduced sum of `elements` terms is divided by.
 * sum: 1; mean: the element count; batchmean: the batch size, which must
 * divide the element count (and be > 0 unless there are no elements).
 * kl_div passes its n and batch; distillation the kept rows' elements and
 * the kept rows (rows of weight 0 count in neither). NKL_REDUCTION_NONE has
 * no divisor: NKL_ERROR_INVALID_REDUCTION, as for an unknown value.
 */
static inline nkl_status nkl_divisor(nkl_reduction reduction, size_t elements, size_t batch,
                                     double *divisor) {
    switch (reduction) {
    case NKL_REDUCTION_SUM: *divisor = 1.0; return NKL_OK;
    case NKL_REDUCTION_MEAN: *divisor = (double)elements; return NKL_OK;
    case NKL_REDUCTION_BATCHMEAN:
        if (elements > 0 && (batch == 0 || elements % batch != 0)) return NKL_ERROR_INVALID_BATCH;
        *divisor = (double)batch;
        return NKL_OK;
    default: return NKL_ERROR_INVALID_REDUCTION;
    }
}

#endif
