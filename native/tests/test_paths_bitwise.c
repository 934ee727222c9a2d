/*
 * test_paths_bitwise - the vector paths (AVX2, NEON) and the scalar path return the same bits, and
 * no result depends on the address of the data.
 *
 * For every length 0..257 and 1,000,003, float32 and float64, each of the
 * four semantics (log_target x masked), on data with special values, clean
 * data, and data whose only odd values are zero-probability targets (the
 * fast paths): pointwise output, the SUM, and the
 * per-chunk partials of both paths are compared bit for bit (a NaN's bits too:
 * every NaN is NKL_NAN_BITS_*, and the data holds NaNs of both signs).
 * The data starts at offsets 0..7 elements from one allocation whose last
 * byte sits before a no-access page (offset 7 ends exactly there), so a read
 * or write past the end crashes the test.
 */
#include "nkl_test.h"

enum { MAX_OFFSET = 7 };

/* log-probabilities / probabilities with special values sprinkled in (kind 0),
   none at all (kind 1), only zero-probability targets, as masked classes
   give (kind 2), so that every fast path runs too, or a sparse few targets at
   the edges of the fast paths' ranges (kind 3: exp's |t| < 700, or 86 for
   float32, and its overflow and underflow, log's normal range), so that a
   block holding one of them among clean targets must leave the fast path, or
   every target one such edge value with x = 0 (kind 4), so that a sum of
   terms near underflow is not lost in larger ones, or clean targets spread
   over 90 binades (kind 5), so that even a short sum of float32 terms is
   inexact in float64 and the lanes' fold order shows in its bits */
static void fill(nkl_rng *r, double *x, double *t, size_t n, int log_target, int kind) {
    static const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, -0.25, 1.75,
                                      1e-310, 1e-40, 1e30, -1e30, 100.0, 1000.0};
    const size_t ns = sizeof specials / sizeof specials[0];
    double edge = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = 2.0 * rng_normal(r), b = 2.0 * rng_normal(r);
        x[i] = -log1p(exp(-a)) - 1.0;       /* a log-probability */
        t[i] = log_target ? -log1p(exp(-b)) - 1.0 : 1.0 / (1.0 + exp(-b)) * 0.3;
        if (kind == 1) continue;
        if (kind == 5) {
            double scale = ldexp(1.0, -(int)(rng_next(r) % 90));
            t[i] = log_target ? log(scale * (0.5 + rng_uniform(r))) : scale * (0.5 + rng_uniform(r));
            continue;
        }
        if (kind >= 3) {
            static const double exp_edges[] = {
                700.0, 705.0, 709.5, 709.9, 710.0, -700.0, -705.0, -720.0, -745.0, -746.0,
                0x1.5e00000000001p+9 /* just above 700 */,
                86.0, 87.5, 88.7, 89.0, -86.0, -87.5, -103.0, -104.0, -105.0}; /* float32's */
            static const double log_edges[] = {0x1p-1022, 0x1.fffffffffffffp-1023, 0x1p-1074,
                                               0x1.fffffffffffffp+1023, 0x1.0000000000001p-1022};
            const size_t ne = sizeof exp_edges / sizeof exp_edges[0];
            const size_t nl = sizeof log_edges / sizeof log_edges[0];
            if (kind == 4) { /* every target the same edge value, x = 0: nothing hides the terms */
                if (i == 0) edge = log_target ? exp_edges[rng_next(r) % ne] : log_edges[rng_next(r) % nl];
                x[i] = 0.0;
                t[i] = edge;
                continue;
            }
            if (rng_next(r) % 32 == 0)
                t[i] = log_target ? exp_edges[rng_next(r) % ne] : log_edges[rng_next(r) % nl];
            if (log_target && rng_next(r) % 256 == 0) {
                /* a run of 32 equal edge targets with x = 0: a whole block of
                   terms at the edge, whose sum no larger term hides (terms
                   near underflow are otherwise lost in the block's sum) */
                double e = exp_edges[rng_next(r) % ne];
                for (size_t k = 0; k < 32 && i < n; k++, i++) {
                    x[i] = 0.0;
                    t[i] = e;
                }
                i--; /* the loop's i++ goes on after the run */
            }
            continue;
        }
        if (kind == 2) {
            if (rng_next(r) % 8 == 0) t[i] = log_target ? -INFINITY : (rng_next(r) % 2 ? 0.0 : -0.0);
            continue;
        }
        if (rng_next(r) % 16 == 0) t[i] = specials[rng_next(r) % ns];
        if (rng_next(r) % 32 == 0) x[i] = specials[rng_next(r) % ns];
        if (rng_next(r) % 8 == 0) t[i] = log_target ? -INFINITY : 0.0; /* masked classes */
    }
}

static void check_length(nkl_rng *rng, size_t n, int *checked_vector) {
    nkl_isa isas[NKL_TEST_MAX_ISAS];
    int nisa = nkl_test_isas(isas);
    size_t cap = n + MAX_OFFSET;
    nkl_guard gx32 = guard_alloc(cap * 4), gt32 = guard_alloc(cap * 4), go32 = guard_alloc(cap * 4);
    nkl_guard gx64 = guard_alloc(cap * 8), gt64 = guard_alloc(cap * 8), go64 = guard_alloc(cap * 8);
    double *xs = malloc((n + 1) * 8), *ts = malloc((n + 1) * 8);
    float *ref32 = malloc((n + 1) * 4);
    double *ref64 = malloc((n + 1) * 8);
    size_t nchunks = nkl_chunk_count(n);
    nkl_partial *p_ref = malloc((nchunks + 1) * sizeof *p_ref), *p = malloc((nchunks + 1) * sizeof *p);

    for (uint32_t pass = 0; pass < 24; pass++) {
        uint32_t sem = pass & 3;
        int log_target = (sem & NKL_LOG_TARGET) != 0;
        fill(rng, xs, ts, n, log_target, (int)(pass / 4));
        float sum32_ref = 0;
        double sum64_ref = 0;
        for (int off = 0; off <= MAX_OFFSET; off++) {
            float *x32 = (float *)gx32.ptr + off, *t32 = (float *)gt32.ptr + off, *o32 = (float *)go32.ptr + off;
            double *x64 = (double *)gx64.ptr + off, *t64 = (double *)gt64.ptr + off, *o64 = (double *)go64.ptr + off;
            for (size_t i = 0; i < n; i++) {
                x32[i] = (float)xs[i]; t32[i] = (float)ts[i];
                x64[i] = xs[i]; t64[i] = ts[i];
            }
            for (int k = 0; k < nisa; k++) {
                uint32_t flags = sem | force_flag(isas[k]);
                int first = off == 0 && k == 0;
                if (isas[k] != NKL_ISA_SCALAR) *checked_vector = 1;
                /* pointwise */
                CHECK_OK(nkl_kl_div_pointwise_f32(x32, t32, n, flags, o32));
                if (first) memcpy(ref32, o32, n * 4);
                for (size_t i = 0; i < n; i++)
                    if (!same_f32(o32[i], ref32[i])) {
                        CHECK(0, "f32 none n=%zu sem=%u off=%d %s: [%zu] %a vs %a (x=%a t=%a)", n, sem, off,
                              nkl_isa_name(isas[k]), i, o32[i], ref32[i], x32[i], t32[i]);
                        break;
                    }
                CHECK_OK(nkl_kl_div_pointwise_f64(x64, t64, n, flags, o64));
                if (first) memcpy(ref64, o64, n * 8);
                for (size_t i = 0; i < n; i++)
                    if (!same_f64(o64[i], ref64[i])) {
                        CHECK(0, "f64 none n=%zu sem=%u off=%d %s: [%zu] %a vs %a (x=%a t=%a)", n, sem, off,
                              nkl_isa_name(isas[k]), i, o64[i], ref64[i], x64[i], t64[i]);
                        break;
                    }
                /* sums */
                float s32;
                double s64;
                CHECK_OK(nkl_kl_div_f32(x32, t32, n, NKL_REDUCTION_SUM, 0, flags, &s32));
                CHECK_OK(nkl_kl_div_f64(x64, t64, n, NKL_REDUCTION_SUM, 0, flags, &s64));
                if (first) { sum32_ref = s32; sum64_ref = s64; }
                CHECK(same_f32(s32, sum32_ref), "f32 sum n=%zu sem=%u off=%d %s: %a vs %a", n, sem, off,
                      nkl_isa_name(isas[k]), s32, sum32_ref);
                CHECK(same_f64(s64, sum64_ref), "f64 sum n=%zu sem=%u off=%d %s: %a vs %a", n, sem, off,
                      nkl_isa_name(isas[k]), s64, sum64_ref);
                /* partials, chunk by chunk, of this path against the scalar path's */
                if (off == 0 && k > 0) {
                    uint32_t scalar = sem | NKL_FORCE_SCALAR;
                    for (int d = 0; d < 2; d++) {
                        if (d == 0) {
                            CHECK_OK(nkl_kl_div_partials_f32(x32, t32, n, scalar, 0, nchunks, p_ref));
                            CHECK_OK(nkl_kl_div_partials_f32(x32, t32, n, flags, 0, nchunks, p));
                        } else {
                            CHECK_OK(nkl_kl_div_partials_f64(x64, t64, n, scalar, 0, nchunks, p_ref));
                            CHECK_OK(nkl_kl_div_partials_f64(x64, t64, n, flags, 0, nchunks, p));
                        }
                        for (size_t c = 0; c < nchunks; c++)
                            CHECK(same_f64(p[c].sum, p_ref[c].sum) &&
                                      same_f64(p[c].compensation, p_ref[c].compensation),
                                  "partial %zu n=%zu d=%d sem=%u", c, n, d, sem);
                    }
                }
            }
        }
    }
    free(xs); free(ts); free(ref32); free(ref64); free(p_ref); free(p);
    guard_free(gx32); guard_free(gt32); guard_free(go32);
    guard_free(gx64); guard_free(gt64); guard_free(go64);
}

int main(void) {
    nkl_rng rng = {42};
    int checked_vector = 0;
    for (size_t n = 0; n <= 257; n++) check_length(&rng, n, &checked_vector);
    if (!nkl_test_quick()) check_length(&rng, 1000003, &checked_vector);
    if (!checked_vector) printf("note: no vector ISA (AVX2, NEON) here; only the scalar path and addresses were compared\n");
    return nkl_test_finish("test_paths_bitwise");
}
