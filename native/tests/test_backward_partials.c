/*
 * test_backward_partials - nkl_kl_div_backward_partials_* in any split
 * gives the one-call backward's bits.
 *
 * For every reduction, flag combination and split (groups of chunks in
 * reverse order, each group on a different ISA via the force flags), the
 * gradients are bitwise those of nkl_kl_div_backward_* and
 * nkl_partials_finish gives its value; and the bad-input rules: chunk
 * range, NULLs, overlap (checked on the whole arrays), NONE refused,
 * nothing written on error.
 */
#include "nkl_test.h"

#define CHUNK NKL_CHUNK_ELEMENTS

static void make_data(nkl_rng *r, double *x, double *t, size_t n, uint32_t flags) {
    for (size_t i = 0; i < n; i++) {
        x[i] = -1.0 - 3.0 * rng_uniform(r);
        t[i] = (flags & NKL_LOG_TARGET) ? -1.0 - 3.0 * rng_uniform(r) : rng_uniform(r);
        if (rng_next(r) % 10 == 0) t[i] = (flags & NKL_LOG_TARGET) ? -INFINITY : 0.0;
        if ((flags & NKL_MASKED) && t[i] == 0.0 && rng_next(r) % 2) x[i] = -INFINITY;
        if (rng_next(r) % 1000 == 0) x[i] = NAN;
    }
}

/* The group boundaries of a split of [0, count) into groups of sizes[] (cycled). */
static size_t split_bounds(size_t count, const size_t *sizes, size_t nsizes, size_t *bounds) {
    size_t nb = 0, at = 0;
    while (at < count) {
        bounds[nb++] = at;
        size_t s = sizes[nb % nsizes];
        at += s < count - at ? s : count - at;
    }
    bounds[nb] = count;
    return nb;
}

#define DEFINE_CHECK(T, SUF, SAME)                                                                  \
    static void check_##SUF(const T *x, const T *t, size_t n, uint32_t flags, nkl_reduction red,     \
                            size_t batch, T go, const size_t *sizes, size_t nsizes, int want_gt) {   \
        size_t count = nkl_chunk_count(n), bounds[512];                                              \
        T *gx1 = malloc((n + 1) * sizeof(T)), *gt1 = malloc((n + 1) * sizeof(T));                    \
        T *gx2 = malloc((n + 1) * sizeof(T)), *gt2 = malloc((n + 1) * sizeof(T));                    \
        nkl_partial *p = malloc((count + 1) * sizeof *p);                                           \
        memset(gx2, 0x5a, (n + 1) * sizeof(T));                                                     \
        memset(gt2, 0x5a, (n + 1) * sizeof(T));                                                     \
        T whole;                                                                                    \
        CHECK_OK(nkl_kl_div_backward_##SUF(x, t, n, red, batch, flags, go, &whole, gx1,              \
                                           want_gt ? gt1 : NULL));                                  \
        nkl_isa isas[NKL_TEST_MAX_ISAS];                                                            \
        int nisa = nkl_test_isas(isas);                                                             \
        size_t nb = split_bounds(count, sizes, nsizes, bounds);                                     \
        for (size_t g = nb; g-- > 0;) {                                                             \
            uint32_t f = flags | force_flag(isas[g % (size_t)nisa]);                                 \
            CHECK_OK(nkl_kl_div_backward_partials_##SUF(x, t, n, red, batch, f, go, bounds[g],      \
                                                         bounds[g + 1] - bounds[g], p + bounds[g],  \
                                                         gx2, want_gt ? gt2 : NULL));               \
        }                                                                                           \
        double v;                                                                                   \
        CHECK_OK(nkl_partials_finish(p, count, n, red, batch, &v));                                 \
        CHECK(SAME((T)v, whole), #SUF " n=%zu flags=%u red=%d: value %a vs %a", n, flags, (int)red, \
              (double)(T)v, (double)whole);                                                         \
        CHECK(memcmp(gx1, gx2, n * sizeof(T)) == 0, #SUF " n=%zu flags=%u red=%d: grad_input", n,    \
              flags, (int)red);                                                                     \
        if (want_gt)                                                                                \
            CHECK(memcmp(gt1, gt2, n * sizeof(T)) == 0, #SUF " n=%zu flags=%u red=%d: grad_target", \
                  n, flags, (int)red);                                                              \
        else                                                                                        \
            CHECK(((unsigned char *)gt2)[0] == 0x5a, #SUF " grad_target written while NULL");       \
        CHECK(((unsigned char *)(gx2 + n))[0] == 0x5a, #SUF " n=%zu: wrote past n", n);               \
        free(gx1); free(gt1); free(gx2); free(gt2); free(p);                                        \
    }

DEFINE_CHECK(float, f32, same_f32)
DEFINE_CHECK(double, f64, same_f64)

static void check_n(nkl_rng *r, size_t n) {
    static const size_t one[] = {1}, two[] = {1, 2}, uneven[] = {3, 1, 5, 2}, all[] = {1u << 30};
    const size_t *splits[] = {one, two, uneven, all};
    const size_t nsplits[] = {1, 2, 4, 1};
    double *xd = malloc((n + 1) * 8), *td = malloc((n + 1) * 8);
    float *x = malloc((n + 1) * 4), *t = malloc((n + 1) * 4);
    const nkl_reduction reds[] = {NKL_REDUCTION_SUM, NKL_REDUCTION_MEAN, NKL_REDUCTION_BATCHMEAN};
    for (uint32_t flags = 0; flags < 4; flags++) {
        make_data(r, xd, td, n, flags);
        for (size_t i = 0; i < n; i++) { x[i] = (float)xd[i]; t[i] = (float)td[i]; }
        size_t batch = n % 7 == 0 ? 7 : 1;
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < 4; s++) {
                check_f32(x, t, n, flags, reds[k], batch, k == 1 ? 0.75f : 3.0f, splits[s], nsplits[s],
                          s != 1);
                check_f64(xd, td, n, flags, reds[k], batch, k == 1 ? 0.75 : 3.0, splits[s], nsplits[s],
                          s != 2);
            }
    }
    free(x); free(t); free(xd); free(td);
}

static void check_bad_input(void) {
    enum { N = 2 * CHUNK + 5 };
    float *x = calloc(N, 4), *t = calloc(N, 4), *gx = malloc(N * 4), *gt = malloc(N * 4);
    nkl_partial p[4];
    for (size_t i = 0; i < N; i++) { x[i] = -1.0f; t[i] = 0.5f; }
    memset(gx, 0x5a, N * 4);
    memset(p, 0x5a, sizeof p);
    const nkl_reduction SUM = NKL_REDUCTION_SUM;
#define EXPECT(st, call) CHECK((call) == (st), "%s: expected %d", #call, (int)(st))
    /* chunk range: 3 chunks */
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 3, 1, p, gx, gt));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 1, 3, p, gx, gt));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, SIZE_MAX, 2, p, gx, gt));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 2, SIZE_MAX, p, gx, gt));
    EXPECT(NKL_OK, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 3, 0, NULL, gx, gt));
    /* NULLs */
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_kl_div_backward_partials_f32(NULL, t, N, SUM, 0, 0, 1.0f, 0, 1, p, gx, gt));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_kl_div_backward_partials_f32(x, NULL, N, SUM, 0, 0, 1.0f, 0, 1, p, gx, gt));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, NULL, gx, gt));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, p, NULL, gt));
    EXPECT(NKL_OK, nkl_kl_div_backward_partials_f32(NULL, NULL, 0, SUM, 0, 0, 1.0f, 0, 0, NULL, NULL, NULL));
    /* reductions */
    EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_kl_div_backward_partials_f32(x, t, N, NKL_REDUCTION_NONE, 0, 0, 1.0f, 0, 1, p, gx, gt));
    EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_kl_div_backward_partials_f64((double *)x, (double *)t, N / 2, NKL_REDUCTION_NONE, 0, 0, 1.0, 0, 1, p, (double *)gx, NULL));
    EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_kl_div_backward_partials_f32(x, t, N, (nkl_reduction)99, 0, 0, 1.0f, 0, 1, p, gx, gt));
    EXPECT(NKL_ERROR_INVALID_BATCH, nkl_kl_div_backward_partials_f32(x, t, N, NKL_REDUCTION_BATCHMEAN, 2, 0, 1.0f, 0, 1, p, gx, gt));
    EXPECT(NKL_ERROR_INVALID_FLAGS, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0x80000000u, 1.0f, 0, 1, p, gx, gt));
    /* overlap, on the whole arrays even where the chunk range is elsewhere */
    EXPECT(NKL_ERROR_OVERLAP, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, p, x, gt));
    EXPECT(NKL_ERROR_OVERLAP, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, p, gx, gx + N - 1));
    EXPECT(NKL_ERROR_OVERLAP, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, p, gx, t + N - 1));
    EXPECT(NKL_ERROR_OVERLAP, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, (nkl_partial *)(gx + N - 2), gx, gt));
    EXPECT(NKL_ERROR_OVERLAP, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 0, 1, (nkl_partial *)x, gx, gt));
    /* nothing written by any failed call above */
    unsigned char *b = (unsigned char *)gx;
    int untouched = 1;
    for (size_t i = 0; i < N * 4; i++) untouched &= b[i] == 0x5a;
    CHECK(untouched, "grad_input written by a failed call");
    CHECK(((unsigned char *)p)[0] == 0x5a, "partials written by a failed call");
    /* only the chunk's elements are written */
    EXPECT(NKL_OK, nkl_kl_div_backward_partials_f32(x, t, N, SUM, 0, 0, 1.0f, 1, 1, p, gx, NULL));
    CHECK(b[CHUNK * 4 - 1] == 0x5a && b[2 * CHUNK * 4] == 0x5a && b[CHUNK * 4] != 0x5a,
          "chunk 1 wrote outside [CHUNK, 2 CHUNK)");
#undef EXPECT
    free(x); free(t); free(gx); free(gt);
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    nkl_rng r = {4321};
    const size_t ns[] = {0, 1, 17, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 7 * CHUNK + 77, 1000003};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        if (ns[i] < 1000000 || !nkl_test_quick()) check_n(&r, ns[i]);
    check_bad_input();
    return nkl_test_finish("test_backward_partials");
}
