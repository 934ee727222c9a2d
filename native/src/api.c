/*
 * api.c - the public entry points: validate every argument, pick the
 * kernels, run them in the canonical chunk order (canonical_sum.h).
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
    case NKL_ERROR_INVALID_CHUNK_RANGE: return "the chunk or row range does not match the data's chunks or rows";
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

/* nkl_total(sum_f32(...)), bit for bit. In one chunk that is 0.0 + the
   chunk's sum: a float32 partial's compensation is +0 (nkl_fold_f32_lanes),
   so TwoSum into {0, 0} changes nothing but -0 into +0, which the + 0.0 does
   too. A small call's time is one dependency chain: this spares it TwoSum's
   seven adds (N = 6: 21 -> 17 ns with divide, below). */
static double total_f32(const nkl_kernels *k, const float *x, const float *t, size_t n,
                        uint32_t semantics) {
    if (n == 0) return 0.0; /* no chunk */
    if (n <= NKL_CHUNK_ELEMENTS) return 0.0 + k->chunk_f32(x, t, n, semantics).sum;
    return nkl_total(sum_f32(k, x, t, n, semantics));
}

/* v / d; d == 1 (sum) skips the division's latency: v / 1.0 is v for every
   v, a NaN staying a NaN (made canonical after). */
static double divide(double v, double d) { return d == 1.0 ? v : v / d; }

/* ---------------------------------------------------------- kl_div */

/* What nkl_kl_div_* checks, for elements of size bytes: picks the kernels
   and the divisor. */
static nkl_status kl_div_checks(const void *input, const void *target, size_t n, size_t size,
                                nkl_reduction reduction, size_t batch, uint32_t flags,
                                const void *out, const nkl_kernels **k, double *d) {
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, k));
    TRY(nkl_divisor(reduction, n, batch, d));
    TRY(nkl_check_array(input, n, size));
    TRY(nkl_check_array(target, n, size));
    return nkl_check_array(out, 1, size);
}

nkl_status nkl_kl_div_f32(const float *input, const float *target, size_t n,
                          nkl_reduction reduction, size_t batch, uint32_t flags, float *out) {
    const nkl_kernels *k;
    double d;
    TRY(kl_div_checks(input, target, n, sizeof(float), reduction, batch, flags, out, &k, &d));
    *out = nkl_canon_nan_f32((float)divide(total_f32(k, input, target, n, flags & NKL_FLAG_SEMANTICS), d));
    return NKL_OK;
}

nkl_status nkl_kl_div_f64(const double *input, const double *target, size_t n,
                          nkl_reduction reduction, size_t batch, uint32_t flags, double *out) {
    const nkl_kernels *k;
    double d;
    TRY(kl_div_checks(input, target, n, sizeof(double), reduction, batch, flags, out, &k, &d));
    *out = nkl_canon_nan_f64(divide(nkl_total(sum_f64(k, input, target, n, flags & NKL_FLAG_SEMANTICS)), d));
    return NKL_OK;
}

/* -------------------------------------------------------- pointwise */

/* What nkl_kl_div_pointwise_* checks: out may be exactly input or target. */
static nkl_status pointwise_checks(const void *input, const void *target, size_t n, size_t size,
                                   uint32_t flags, const void *out, const nkl_kernels **k) {
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, k));
    TRY(nkl_check_array(input, n, size));
    TRY(nkl_check_array(target, n, size));
    TRY(nkl_check_array(out, n, size));
    if (nkl_partly_overlap(out, n * size, input, n * size) ||
        nkl_partly_overlap(out, n * size, target, n * size))
        return NKL_ERROR_OVERLAP;
    return NKL_OK;
}

nkl_status nkl_kl_div_pointwise_f32(const float *input, const float *target, size_t n,
                                    uint32_t flags, float *out) {
    const nkl_kernels *k;
    TRY(pointwise_checks(input, target, n, sizeof(float), flags, out, &k));
    k->pointwise_f32(input, target, n, flags & NKL_FLAG_SEMANTICS, out);
    return NKL_OK;
}

nkl_status nkl_kl_div_pointwise_f64(const double *input, const double *target, size_t n,
                                    uint32_t flags, double *out) {
    const nkl_kernels *k;
    TRY(pointwise_checks(input, target, n, sizeof(double), flags, out, &k));
    k->pointwise_f64(input, target, n, flags & NKL_FLAG_SEMANTICS, out);
    return NKL_OK;
}

/* ------------------------------------------------------------- rows */

/* What nkl_kl_div_rows_* checks. */
static nkl_status rows_checks(const void *input, size_t input_stride, const void *target,
                              size_t target_stride, size_t rows, size_t cols, size_t size,
                              uint32_t flags, const void *out, const nkl_kernels **k) {
    size_t xe, te;
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, k));
    TRY(nkl_row_extent(rows, cols, input_stride, size, &xe));
    TRY(nkl_row_extent(rows, cols, target_stride, size, &te));
    TRY(nkl_check_array(input, xe, size));
    TRY(nkl_check_array(target, te, size));
    TRY(nkl_check_array(out, rows, size));
    if (nkl_overlap(out, rows * size, input, xe * size) ||
        nkl_overlap(out, rows * size, target, te * size))
        return NKL_ERROR_OVERLAP;
    return NKL_OK;
}

/* Empty rows sum to +0, and their pointers are not offset: input and target
   may be NULL when cols == 0. */
nkl_status nkl_kl_div_rows_f32(const float *input, size_t input_stride, const float *target,
                               size_t target_stride, size_t rows, size_t cols, uint32_t flags,
                               float *out) {
    const nkl_kernels *k;
    TRY(rows_checks(input, input_stride, target, target_stride, rows, cols, sizeof(float), flags,
                    out, &k));
    for (size_t r = 0; r < rows; r++)
        out[r] = cols == 0 ? 0.0f
                           : nkl_canon_nan_f32((float)total_f32(
                                 k, input + r * input_stride, target + r * target_stride, cols,
                                 flags & NKL_FLAG_SEMANTICS));
    return NKL_OK;
}

nkl_status nkl_kl_div_rows_f64(const double *input, size_t input_stride, const double *target,
                               size_t target_stride, size_t rows, size_t cols, uint32_t flags,
                               double *out) {
    const nkl_kernels *k;
    TRY(rows_checks(input, input_stride, target, target_stride, rows, cols, sizeof(double), flags,
                    out, &k));
    for (size_t r = 0; r < rows; r++)
        out[r] = cols == 0 ? 0.0
                           : nkl_canon_nan_f64(nkl_total(
                                 sum_f64(k, input + r * input_stride, target + r * target_stride,
                                         cols, flags & NKL_FLAG_SEMANTICS)));
    return NKL_OK;
}

/* -------------------------------------------------- forward + backward */

size_t nkl_chunk_count(size_t n) {
    return n / NKL_CHUNK_ELEMENTS + (n % NKL_CHUNK_ELEMENTS != 0);
}

#define T float
#define SUF f32
#include "kl_div_backward.inc"

#define T double
#define SUF f64
#include "kl_div_backward.inc"

/* -------------------------------------------------------- chunk API */

/* What nkl_kl_div_partials_* checks. */
static nkl_status partials_checks(const void *input, const void *target, size_t n, size_t size,
                                  uint32_t flags, size_t first_chunk, size_t chunk_count,
                                  const nkl_partial *partials, const nkl_kernels **k) {
    TRY(nkl_kernels_for_flags(flags, KNOWN_FLAGS, k));
    TRY(nkl_check_array(input, n, size));
    TRY(nkl_check_array(target, n, size));
    size_t total = nkl_chunk_count(n);
    if (first_chunk > total || chunk_count > total - first_chunk)
        return NKL_ERROR_INVALID_CHUNK_RANGE;
    return nkl_check_array(partials, chunk_count, sizeof(nkl_partial));
}

nkl_status nkl_kl_div_partials_f32(const float *input, const float *target, size_t n,
                                   uint32_t flags, size_t first_chunk, size_t chunk_count,
                                   nkl_partial *partials) {
    const nkl_kernels *k;
    TRY(partials_checks(input, target, n, sizeof(float), flags, first_chunk, chunk_count,
                        partials, &k));
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
    const nkl_kernels *k;
    TRY(partials_checks(input, target, n, sizeof(double), flags, first_chunk, chunk_count,
                        partials, &k));
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
