/*
 * test_chunks - splitting a reduction never changes its bits.
 *
 * Partials computed chunk by chunk, in any grouping, in any order, even with
 * some chunks on the scalar path and others on AVX2, finish to the same bits
 * as one nkl_kl_div_* call, for SUM, MEAN and BATCHMEAN. The rows API gives,
 * per row, the bits of a SUM call on that row, at any stride.
 */
#include "nkl_test.h"

#define CHUNK NKL_CHUNK_ELEMENTS

static void make_data(nkl_rng *r, float *x, float *t, size_t n, uint32_t flags) {
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(-1.0 - 3.0 * rng_uniform(r));
        t[i] = (flags & NKL_LOG_TARGET) ? (float)(-1.0 - 3.0 * rng_uniform(r)) : (float)rng_uniform(r);
        if (rng_next(r) % 10 == 0) t[i] = (flags & NKL_LOG_TARGET) ? -INFINITY : 0.0f;
        if ((flags & NKL_MASKED) && t[i] == 0.0f && rng_next(r) % 2) x[i] = -INFINITY;
    }
}

/* Splits [0, count) into groups whose sizes come from `sizes` (cycled), and
   computes them in reverse order, alternating the ISA. */
static void partials_split(const float *x, const float *t, size_t n, uint32_t flags,
                           const size_t *sizes, size_t nsizes, nkl_partial *p) {
    size_t count = nkl_chunk_count(n), bounds[4096], nb = 0, at = 0;
    while (at < count) {
        bounds[nb++] = at;
        size_t s = sizes[nb % nsizes];
        at += s < count - at ? s : count - at;
    }
    bounds[nb] = count;
    nkl_isa isas[NKL_TEST_MAX_ISAS];
    int nisa = nkl_test_isas(isas);
    for (size_t g = nb; g-- > 0;) {
        uint32_t f = flags | force_flag(isas[g % (size_t)nisa]);
        CHECK_OK(nkl_kl_div_partials_f32(x, t, n, f, bounds[g], bounds[g + 1] - bounds[g], p + bounds[g]));
    }
}

static void check_n(nkl_rng *r, size_t n) {
    static const size_t one[] = {1}, two[] = {1, 2}, uneven[] = {3, 1, 5, 2}, all[] = {1u << 30};
    const size_t *splits[] = {one, two, uneven, all};
    const size_t nsplits[] = {1, 2, 4, 1};
    float *x = malloc((n + 1) * 4), *t = malloc((n + 1) * 4);
    double *xd = malloc((n + 1) * 8), *td = malloc((n + 1) * 8);
    size_t count = nkl_chunk_count(n);
    nkl_partial *p = malloc((count + 1) * sizeof *p);
    for (uint32_t flags = 0; flags < 4; flags++) {
        make_data(r, x, t, n, flags);
        size_t batch = n % 7 == 0 ? 7 : 1;
        const nkl_reduction reds[] = {NKL_REDUCTION_SUM, NKL_REDUCTION_MEAN, NKL_REDUCTION_BATCHMEAN};
        for (int s = 0; s < 4; s++) {
            partials_split(x, t, n, flags, splits[s], nsplits[s], p);
            for (int k = 0; k < 3; k++) {
                float whole;
                double v;
                CHECK_OK(nkl_kl_div_f32(x, t, n, reds[k], batch, flags, &whole));
                CHECK_OK(nkl_partials_finish(p, count, n, reds[k], batch, &v));
                CHECK(same_f32((float)v, whole), "n=%zu flags=%u split=%d red=%d: %a vs %a", n, flags, s,
                      (int)reds[k], (float)v, whole);
            }
        }
        /* float64 data: one split is enough to show the same machinery */
        for (size_t i = 0; i < n; i++) { xd[i] = x[i]; td[i] = t[i]; }
        double whole, v;
        for (size_t c = 0; c < count; c++)
            CHECK_OK(nkl_kl_div_partials_f64(xd, td, n, flags, count - 1 - c, 1, p + count - 1 - c));
        CHECK_OK(nkl_kl_div_f64(xd, td, n, NKL_REDUCTION_MEAN, 0, flags, &whole));
        CHECK_OK(nkl_partials_finish(p, count, n, NKL_REDUCTION_MEAN, 0, &v));
        CHECK(same_f64(v, whole), "f64 n=%zu flags=%u: %a vs %a", n, flags, v, whole);
    }
    free(x); free(t); free(xd); free(td); free(p);
}

static void check_rows(nkl_rng *r) {
    const size_t rows = 9, cols_list[] = {0, 1, 7, 16, 33, 1000, CHUNK + 5};
    for (size_t ci = 0; ci < sizeof cols_list / sizeof cols_list[0]; ci++) {
        size_t cols = cols_list[ci], sx = cols + 3, st = cols + 11;
        float *x = malloc((rows * sx + 1) * 4), *t = malloc((rows * st + 1) * 4), out[9];
        double *xd = malloc((rows * sx + 1) * 8), *td = malloc((rows * st + 1) * 8), outd[9];
        for (size_t i = 0; i < rows * sx; i++) x[i] = (float)(-1.0 - rng_uniform(r));
        for (size_t i = 0; i < rows * st; i++) t[i] = (float)rng_uniform(r);
        for (size_t i = 0; i < rows * sx; i++) xd[i] = x[i];
        for (size_t i = 0; i < rows * st; i++) td[i] = t[i];
        CHECK_OK(nkl_kl_div_rows_f32(x, sx, t, st, rows, cols, 0, out));
        CHECK_OK(nkl_kl_div_rows_f64(xd, sx, td, st, rows, cols, 0, outd));
        for (size_t row = 0; row < rows; row++) {
            float s;
            double sd;
            CHECK_OK(nkl_kl_div_f32(x + row * sx, t + row * st, cols, NKL_REDUCTION_SUM, 0, 0, &s));
            CHECK_OK(nkl_kl_div_f64(xd + row * sx, td + row * st, cols, NKL_REDUCTION_SUM, 0, 0, &sd));
            CHECK(same_f32(out[row], s), "rows f32 cols=%zu row %zu: %a vs %a", cols, row, out[row], s);
            CHECK(same_f64(outd[row], sd), "rows f64 cols=%zu row %zu: %a vs %a", cols, row, outd[row], sd);
        }
        free(x); free(t); free(xd); free(td);
    }
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    nkl_rng r = {1234};
    const size_t ns[] = {0, 1, 17, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 7 * CHUNK + 77, 1000003};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        if (ns[i] < 1000000 || !nkl_test_quick()) check_n(&r, ns[i]);
    check_rows(&r);
    return nkl_test_finish("test_chunks");
}
