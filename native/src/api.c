/*
 * api.c - the public entry points: validate every argument, pick the
 * kernels, run them in the canonical chunk order (internal.h).
 * Nothing is written to an output before all checks have passed.
 */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#endif
#include <stdlib.h>
#if defined(_WIN32)
#include <malloc.h>
#endif

#include "checks.h"
#include "internal.h"

#define KNOWN_FLAGS (NKL_LOG_TARGET | NKL_MASKED | NKL_FORCE_SCALAR | NKL_FORCE_AVX2 | NKL_FORCE_NEON)

uint32_t nkl_version(void) { return NKL_VERSION; }
const char *nkl_version_string(void) { return NKL_VERSION_STRING; }

const char *nkl_status_string(nkl_status status) {
    switch (status) {
    case NKL_OK: return "success";
    case NKL_ERROR_NULL_POINTER: return "a pointer is NULL while its length is greater than 0";
    case NKL_ERROR_SIZE_OVERFLOW: return "a length times the element size overflows ptrdiff_t";
    case NKL_ERROR_INVALID_REDUCTION: return "the reduction is unknown or not allowed here";
    case NKL_ERROR_INVALID_FLAGS: return "the flags hold an unknown bit or two NKL_FORCE_* bits";
    case NKL_ERROR_INVALID_BATCH:
        return "batchmean needs a batch size > 0 that divides the element count";
    case NKL_ERROR_OVERLAP: return "the output partly overlaps an input";
    case NKL_ERROR_INVALID_CHUNK_RANGE: return "the chunk range does not match the data's chunks";
    case NKL_ERROR_INVALID_STRIDE: return "a row stride is smaller than the row length";
    case NKL_ERROR_ISA_UNAVAILABLE: return "the requested instruction set is unknown or unavailable";
    case NKL_ERROR_INVALID_ALIGNMENT:
        return "the alignment is not a power of two of at least sizeof(void*)";
    case NKL_ERROR_OUT_OF_MEMORY: return "out of memory";
    case NKL_ERROR_INVALID_TEMPERATURE:
        return "the temperature is not finite and > 0, or its reciprocal is not";
    case NKL_ERROR_INVALID_WEIGHT: return "a row weight is negative, infinite or NaN";
    case NKL_ERROR_INVALID_ENVIRONMENT:
        return "the environment variable NKL_ISA is not auto, scalar, avx2 or neon (unset it to detect the CPU)";
    }
    return "unknown status code";
}

/* ------------------------------------------------- chunked reductions */

/* Elements of the chunk starting at off (the last chunk may be shorter). */
static size_t chunk_len(size_t n, size_t off) {
    return n - off < NKL_CHUNK_ELEMENTS ? n - off : NKL_CHUNK_ELEMENTS;
}

static nkl_partial sum_f32(const nkl_kernels *k, const float *x, const float *t, size_t n,
                           uint32_t semantics) {
    nkl_partial acc = {0.0, 0.0};
    for (size_t off = 0; off < n; off += NKL_CHUNK_ELEMENTS) {
        size_t len = chunk_len(n, off);
        nkl_combine(&acc, k->chunk_f32(x + off, t + off, len, semantics));
    }
    return acc;
}

static nkl_partial sum_f64(const nkl_kernels *k, const double *x, const double *t, size_t n,
                           uint32_t semantics) {
    nkl_partial acc = {0.0, 0.0};
    for (size_t off = 0; off < n; off += NKL_CHUNK_ELEMENTS) {
        size_t len = chunk_len(n, off);
        nkl_combine(&acc, k->chunk_f64(x + off, t + off, len, semantics));
    }
    return acc;
}

/* ---------------------------------------------------------- kl_div */

#define KL_DIV_CHECKS(T)                                                                 \
    const nkl_kernels *k;                                                                \
    double d;                                                                            \
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, &k));                                  \
    TRY(nkl_divisor(reduction, n, batch, &d));                                           \
    TRY(nkl_check_array(input, n, sizeof(T)));                                           \
    TRY(nkl_check_array(target, n, sizeof(T)));                                          \
    TRY(nkl_check_array(out, 1, sizeof(T)));

nkl_status nkl_kl_div_f32(const float *input, const float *target, size_t n,
                          nkl_reduction reduction, size_t batch, uint32_t flags, float *out) {
    KL_DIV_CHECKS(float)
    *out = nkl_canon_nan_f32(
        (float)(nkl_total(sum_f32(k, input, target, n, flags & NKL_FLAG_SEMANTICS)) / d));
    return NKL_OK;
}

nkl_status nkl_kl_div_f64(const double *input, const double *target, size_t n,
                          nkl_reduction reduction, size_t batch, uint32_t flags, double *out) {
    KL_DIV_CHECKS(double)
    *out = nkl_canon_nan_f64(
        nkl_total(sum_f64(k, input, target, n, flags & NKL_FLAG_SEMANTICS)) / d);
    return NKL_OK;
}

/* -------------------------------------------------------- pointwise */

#define POINTWISE_CHECKS(T)                                                              \
    const nkl_kernels *k;                                                                \
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, &k));                                  \
    TRY(nkl_check_array(input, n, sizeof(T)));                                           \
    TRY(nkl_check_array(target, n, sizeof(T)));                                          \
    TRY(nkl_check_array(out, n, sizeof(T)));                                             \
    if (nkl_partly_overlap(out, n * sizeof(T), input, n * sizeof(T)) ||                  \
        nkl_partly_overlap(out, n * sizeof(T), target, n * sizeof(T)))                   \
        return NKL_ERROR_OVERLAP;

nkl_status nkl_kl_div_pointwise_f32(const float *input, const float *target, size_t n,
                                    uint32_t flags, float *out) {
    POINTWISE_CHECKS(float)
    k->pointwise_f32(input, target, n, flags & NKL_FLAG_SEMANTICS, out);
    return NKL_OK;
}

nkl_status nkl_kl_div_pointwise_f64(const double *input, const double *target, size_t n,
                                    uint32_t flags, double *out) {
    POINTWISE_CHECKS(double)
    k->pointwise_f64(input, target, n, flags & NKL_FLAG_SEMANTICS, out);
    return NKL_OK;
}

/* ------------------------------------------------------------- rows */

#define ROWS_CHECKS(T)                                                                   \
    const nkl_kernels *k;                                                                \
    size_t xe, te;                                                                       \
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, &k));                                  \
    TRY(nkl_row_extent(rows, cols, input_stride, sizeof(T), &xe));                       \
    TRY(nkl_row_extent(rows, cols, target_stride, sizeof(T), &te));                      \
    TRY(nkl_check_array(input, xe, sizeof(T)));                                          \
    TRY(nkl_check_array(target, te, sizeof(T)));                                         \
    TRY(nkl_check_array(out, rows, sizeof(T)));                                          \
    if (nkl_overlap(out, rows * sizeof(T), input, xe * sizeof(T)) ||                     \
        nkl_overlap(out, rows * sizeof(T), target, te * sizeof(T)))                      \
        return NKL_ERROR_OVERLAP;                                                        \
    if (cols == 0) { /* empty rows sum to +0; a NULL input must not be offset (UB) */    \
        for (size_t r = 0; r < rows; r++) out[r] = 0;                                    \
        return NKL_OK;                                                                   \
    }

nkl_status nkl_kl_div_rows_f32(const float *input, size_t input_stride, const float *target,
                               size_t target_stride, size_t rows, size_t cols, uint32_t flags,
                               float *out) {
    ROWS_CHECKS(float)
    for (size_t r = 0; r < rows; r++)
        out[r] = nkl_canon_nan_f32((float)nkl_total(sum_f32(
            k, input + r * input_stride, target + r * target_stride, cols, flags & NKL_FLAG_SEMANTICS)));
    return NKL_OK;
}

nkl_status nkl_kl_div_rows_f64(const double *input, size_t input_stride, const double *target,
                               size_t target_stride, size_t rows, size_t cols, uint32_t flags,
                               double *out) {
    ROWS_CHECKS(double)
    for (size_t r = 0; r < rows; r++)
        out[r] = nkl_canon_nan_f64(nkl_total(sum_f64(
            k, input + r * input_stride, target + r * target_stride, cols, flags & NKL_FLAG_SEMANTICS)));
    return NKL_OK;
}

/* -------------------------------------------------- forward + backward */

#define T float
#define SUF f32
#include "kl_div_backward.inc"

#define T double
#define SUF f64
#include "kl_div_backward.inc"

/* -------------------------------------------------------- chunk API */

size_t nkl_chunk_count(size_t n) {
    return n / NKL_CHUNK_ELEMENTS + (n % NKL_CHUNK_ELEMENTS != 0);
}

#define PARTIALS_CHECKS(T)                                                               \
    const nkl_kernels *k;                                                                \
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, &k));                                  \
    TRY(nkl_check_array(input, n, sizeof(T)));                                           \
    TRY(nkl_check_array(target, n, sizeof(T)));                                          \
    size_t total = nkl_chunk_count(n);                                                   \
    if (first_chunk > total || chunk_count > total - first_chunk)                        \
        return NKL_ERROR_INVALID_CHUNK_RANGE;                                            \
    TRY(nkl_check_array(partials, chunk_count, sizeof(nkl_partial)));

nkl_status nkl_kl_div_partials_f32(const float *input, const float *target, size_t n,
                                   uint32_t flags, size_t first_chunk, size_t chunk_count,
                                   nkl_partial *partials) {
    PARTIALS_CHECKS(float)
    for (size_t c = 0; c < chunk_count; c++) {
        size_t off = (first_chunk + c) * NKL_CHUNK_ELEMENTS;
        size_t len = chunk_len(n, off);
        partials[c] = nkl_canon_nan_partial(
            k->chunk_f32(input + off, target + off, len, flags & NKL_FLAG_SEMANTICS));
    }
    return NKL_OK;
}

nkl_status nkl_kl_div_partials_f64(const double *input, const double *target, size_t n,
                                   uint32_t flags, size_t first_chunk, size_t chunk_count,
                                   nkl_partial *partials) {
    PARTIALS_CHECKS(double)
    for (size_t c = 0; c < chunk_count; c++) {
        size_t off = (first_chunk + c) * NKL_CHUNK_ELEMENTS;
        size_t len = chunk_len(n, off);
        partials[c] = nkl_canon_nan_partial(
            k->chunk_f64(input + off, target + off, len, flags & NKL_FLAG_SEMANTICS));
    }
    return NKL_OK;
}

nkl_status nkl_partials_finish(const nkl_partial *partials, size_t count, size_t n,
                               nkl_reduction reduction, size_t batch, double *out) {
    double d;
    TRY(nkl_divisor(reduction, n, batch, &d));
    if (count != nkl_chunk_count(n)) return NKL_ERROR_INVALID_CHUNK_RANGE;
    TRY(nkl_check_array(partials, count, sizeof(nkl_partial)));
    if (!out) return NKL_ERROR_NULL_POINTER;
    nkl_partial acc = {0.0, 0.0};
    for (size_t c = 0; c < count; c++) nkl_combine(&acc, partials[c]);
    *out = nkl_canon_nan_f64(nkl_total(acc) / d);
    return NKL_OK;
}

/* ----------------------------------------------------------- memory */

nkl_status nkl_alloc(size_t size, size_t alignment, void **out) {
    if (!out) return NKL_ERROR_NULL_POINTER;
    *out = NULL;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return NKL_ERROR_INVALID_ALIGNMENT;
    if (size > (size_t)PTRDIFF_MAX - alignment) return NKL_ERROR_SIZE_OVERFLOW;
    if (size == 0) size = 1;
#if defined(_WIN32)
    *out = _aligned_malloc(size, alignment);
#else
    if (posix_memalign(out, alignment, size) != 0) *out = NULL;
#endif
    return *out ? NKL_OK : NKL_ERROR_OUT_OF_MEMORY;
}

void nkl_free(void *ptr) {
#if defined(_WIN32)
    _aligned_free(ptr);
#else
    free(ptr);
#endif
}
