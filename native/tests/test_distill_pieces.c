/*
 * test_distill_pieces.c - the distillation pieces (nkl_distill_partials_*,
 * nkl_distill_backward_partials_*, nkl_distill_finish_*): every split of the
 * rows (ranges of 1, 3, 64, uneven, empty ones) gives, bit for bit, the
 * one-call value, row losses and gradients, on every ISA (force flags), for
 * both types, every reduction and option, strides and weights with zeros;
 * and bad arguments give their status and write nothing.
 */
#include "nkl_test.h"

static double get(int bits, const void *p, size_t i) {
    return bits == 32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}
static void put(int bits, void *p, size_t i, double v) {
    if (bits == 32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}
static int same(int bits, double a, double b) {
    return bits == 32 ? same_f32((float)a, (float)b) : same_f64(a, b);
}

/* the typed entry points behind one signature (bits 32 or 64) */
static nkl_status one_call(int bits, const nkl_distill_desc *d, const void *s, const void *u,
                           const void *w, void *value, void *gs, size_t gss, void *gu, size_t gus,
                           int backward) {
    if (bits == 32)
        return backward ? nkl_distill_backward_f32(d, s, u, w, 0.75f, value, gs, gss, gu, gus)
                        : nkl_distill_f32(d, s, u, w, value);
    return backward ? nkl_distill_backward_f64(d, s, u, w, 0.75, value, gs, gss, gu, gus)
                    : nkl_distill_f64(d, s, u, w, value);
}
static nkl_status rows_call(int bits, const nkl_distill_desc *d, const void *s, const void *u,
                            const void *w, void *losses) {
    return bits == 32 ? nkl_distill_rows_f32(d, s, u, w, losses) : nkl_distill_rows_f64(d, s, u, w, losses);
}
static nkl_status piece(int bits, const nkl_distill_desc *d, const void *s, const void *u,
                        const void *w, size_t first, size_t count, double *part, void *gs, size_t gss,
                        void *gu, size_t gus, int backward) {
    if (bits == 32)
        return backward ? nkl_distill_backward_partials_f32(d, s, u, w, 0.75f, first, count, part, gs, gss, gu, gus)
                        : nkl_distill_partials_f32(d, s, u, w, first, count, part);
    return backward ? nkl_distill_backward_partials_f64(d, s, u, w, 0.75, first, count, part, gs, gss, gu, gus)
                    : nkl_distill_partials_f64(d, s, u, w, first, count, part);
}
static nkl_status finish(int bits, const nkl_distill_desc *d, const void *w, const double *part, void *out) {
    return bits == 32 ? nkl_distill_finish_f32(d, w, part, out) : nkl_distill_finish_f64(d, w, part, out);
}

/* The split of [0, rows) number `split`: fixed sizes 1, 3, 64, then uneven
   cuts with an empty range. Returns the number of ranges (at most 64 + 2). */
static size_t split_rows(size_t rows, int split, size_t *first, size_t *count) {
    size_t n = 0;
    if (split < 3) {
        size_t size = split == 0 ? 1 : split == 1 ? 3 : 64;
        for (size_t r = 0; r < rows; r += size) {
            first[n] = r;
            count[n++] = rows - r < size ? rows - r : size;
        }
        return n;
    }
    size_t cuts[] = {0, 0, rows / 3, rows / 3 + 1 < rows ? rows / 3 + 1 : rows, rows, rows};
    for (int i = 0; i + 1 < 6; i++) {
        first[n] = cuts[i];
        count[n++] = cuts[i + 1] - cuts[i];
    }
    return n;
}

static void splits_are_bitwise(void) {
    static const size_t shapes[][2] = {{1, 1000}, {64, 100}, {7, 33}, {5, 0}, {0, 10}, {13, 17}, {70, 9}};
    nkl_isa isas[NKL_TEST_MAX_ISAS];
    int nisa = nkl_test_isas(isas);
    nkl_rng rng = {17};
    for (int bits = 32; bits <= 64; bits += 32) {
        size_t sz = (size_t)bits / 8;
        for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
            for (int variant = 0; variant < 4; variant++) {
                /* quick (valgrind, emulators: ~50x slower): dense and both-strided+weights only */
                if (nkl_test_quick() && (variant == 1 || variant == 2)) continue;
                size_t rows = shapes[sh][0], cols = shapes[sh][1];
                size_t ss = cols + (variant & 1) * 3, us = cols + (variant & 2), gss = cols + 1, gus = cols + 2;
                size_t ns = rows * ss + 1, nu = rows * us + 1, ngs = rows * gss + 1, ngu = rows * gus + 1;
                void *s = malloc(ns * sz), *u = malloc(nu * sz), *w = malloc((rows + 1) * sz);
                for (size_t i = 0; i < ns; i++) put(bits, s, i, 3 * rng_normal(&rng));
                for (size_t i = 0; i < nu; i++) put(bits, u, i, 3 * rng_normal(&rng));
                if (rows > 3 && cols > 0) put(bits, s, ss + 1, NAN); /* a NaN row: NaN in order */
                for (size_t r = 0; r <= rows; r++) put(bits, w, r, r % 4 == 2 ? 0 : 0.5 + rng_uniform(&rng));
                void *gs[2], *gu[2], *value[2], *losses = malloc((rows + 1) * sz);
                double *part = malloc((rows + 1) * sizeof(double)), *bpart = malloc((rows + 1) * sizeof(double));
                for (int k = 0; k < 2; k++) {
                    gs[k] = malloc(ngs * sz);
                    gu[k] = malloc(ngu * sz);
                    value[k] = malloc(sz);
                }
                size_t first[80], count[80];
                for (int ia = 0; ia < nisa; ia++) {
                    for (int opt = 0; opt < 8; opt++) {
                        if (nkl_test_quick() && opt != 0 && opt != 7) continue; /* no option, every option */
                        nkl_distill_desc d = {rows, cols, ss, us, opt & 1 ? 0.7 : 1.0, NKL_REDUCTION_SUM,
                                              force_flag(isas[ia]) | (opt & 2 ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0) |
                                                  (opt & 4 ? NKL_MULTIPLY_LOSS_BY_T2 : 0)};
                        const void *wt = variant >= 2 ? w : NULL;
                        CHECK_OK(rows_call(bits, &d, s, u, wt, losses));
                        for (int red = NKL_REDUCTION_SUM; red <= NKL_REDUCTION_BATCHMEAN; red++) {
                            d.reduction = red;
                            for (int backward = 0; backward < 2; backward++) {
                                for (size_t i = 0; i < ngs; i++) put(bits, gs[0], i, 7), put(bits, gs[1], i, 7);
                                for (size_t i = 0; i < ngu; i++) put(bits, gu[0], i, 7), put(bits, gu[1], i, 7);
                                CHECK_OK(one_call(bits, &d, s, u, wt, value[0], gs[0], gss, gu[0], gus, backward));
                                for (int split = 0; split < 4; split++) {
                                    size_t n = split_rows(rows, split, first, count);
                                    for (size_t i = 0; i <= rows; i++) part[i] = -1;
                                    /* backward pieces in reverse order: order must not matter */
                                    for (size_t k = 0; k < n; k++) {
                                        size_t j = backward ? n - 1 - k : k;
                                        CHECK_OK(piece(bits, &d, s, u, wt, first[j], count[j], part + first[j], gs[1],
                                                       gss, gu[1], gus, backward));
                                    }
                                    CHECK(part[rows] == -1, "a piece wrote past its range");
                                    CHECK_OK(finish(bits, &d, wt, part, value[1]));
                                    const char *what = backward ? "backward" : "forward";
                                    CHECK(same(bits, get(bits, value[0], 0), get(bits, value[1], 0)),
                                          "f%d [%zu,%zu] v%d isa %d opt %d red %d %s split %d: value %a vs %a", bits,
                                          rows, cols, variant, ia, opt, red, what, split, get(bits, value[0], 0),
                                          get(bits, value[1], 0));
                                    for (size_t r = 0; r < rows; r++)
                                        CHECK(same(bits, get(bits, losses, r), bits == 32 ? (double)(float)part[r] : part[r]),
                                              "f%d [%zu,%zu] opt %d split %d: partial %zu %a, row loss %a", bits, rows,
                                              cols, opt, split, r, part[r], get(bits, losses, r));
                                    if (!backward) continue;
                                    for (size_t i = 0; i < ngs; i++)
                                        CHECK(same(bits, get(bits, gs[0], i), get(bits, gs[1], i)),
                                              "f%d [%zu,%zu] opt %d red %d split %d: grad_student %zu %a vs %a", bits,
                                              rows, cols, opt, red, split, i, get(bits, gs[0], i), get(bits, gs[1], i));
                                    for (size_t i = 0; i < ngu; i++)
                                        CHECK(same(bits, get(bits, gu[0], i), get(bits, gu[1], i)),
                                              "f%d [%zu,%zu] opt %d red %d split %d: grad_teacher %zu %a vs %a", bits,
                                              rows, cols, opt, red, split, i, get(bits, gu[0], i), get(bits, gu[1], i));
                                    /* the backward pieces' partials are the forward pieces'; without
                                       partials (NULL) the gradients are the same */
                                    for (size_t i = 0; i < ngs; i++) put(bits, gs[1], i, 7);
                                    CHECK_OK(piece(bits, &d, s, u, wt, 0, rows, bpart, gs[1], gss, NULL, 0, 1));
                                    for (size_t r = 0; r < rows; r++)
                                        CHECK(same_f64(part[r], bpart[r]), "f%d backward partial %zu", bits, r);
                                    for (size_t i = 0; i < ngs; i++) put(bits, gs[1], i, 7);
                                    CHECK_OK(piece(bits, &d, s, u, wt, 0, rows, NULL, gs[1], gss, NULL, 0, 1));
                                    for (size_t i = 0; i < ngs; i++)
                                        CHECK(same(bits, get(bits, gs[0], i), get(bits, gs[1], i)),
                                              "f%d no partials: grad_student %zu", bits, i);
                                }
                            }
                        }
                    }
                }
                for (int k = 0; k < 2; k++) free(gs[k]), free(gu[k]), free(value[k]);
                free(s); free(u); free(w); free(losses); free(part); free(bpart);
            }
        }
    }
}

static void bad_arguments(void) {
    /* gs is double-aligned: a test writes row partials into it */
    double gs_storage[6];
    float s[12] = {0}, u[12] = {0}, w[3] = {1, 0, 2}, *gs = (float *)(void *)gs_storage, gu[12], out[1];
    double part[4];
    nkl_distill_desc ok = {3, 4, 4, 4, 1.0, NKL_REDUCTION_BATCHMEAN, 0}, d;
#define EXPECT(status, expr)                                                                      \
    do {                                                                                          \
        for (int i_ = 0; i_ < 4; i_++) part[i_] = 7;                                              \
        for (int i_ = 0; i_ < 12; i_++) gs[i_] = 7, gu[i_] = 7;                                   \
        out[0] = 7;                                                                               \
        nkl_status st_ = (expr);                                                                  \
        CHECK(st_ == (status), "%s -> %d, expected %d", #expr, (int)st_, (int)(status));          \
        int same_ = out[0] == 7;                                                                  \
        for (int i_ = 0; i_ < 4; i_++) same_ &= part[i_] == 7;                                    \
        for (int i_ = 0; i_ < 12; i_++) same_ &= gs[i_] == 7 && gu[i_] == 7;                      \
        CHECK(same_, "%s wrote an output", #expr);                                                \
    } while (0)
    /* ranges */
    d = ok;
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_distill_partials_f32(&d, s, u, w, 4, 0, part));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_distill_partials_f32(&d, s, u, w, 2, 2, part));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_distill_partials_f32(&d, s, u, w, 1, SIZE_MAX, part));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_distill_partials_f32(&d, s, u, w, SIZE_MAX, 2, part));
    EXPECT(NKL_ERROR_INVALID_CHUNK_RANGE,
           nkl_distill_backward_partials_f32(&d, s, u, w, 1, 0, 4, part, gs, 4, gu, 4));
    CHECK_OK(nkl_distill_partials_f32(&d, s, u, w, 3, 0, NULL)); /* an empty range at the end */
    CHECK_OK(nkl_distill_backward_partials_f32(&d, s, u, w, 1, 1, 0, NULL, NULL, 4, NULL, 4));
    /* NULLs */
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_partials_f32(NULL, s, u, w, 0, 1, part));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_partials_f32(&d, s, u, w, 0, 1, NULL));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_partials_f32(&d, NULL, u, w, 0, 1, part));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_partials_f32(&d, s, NULL, w, 0, 1, part));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_backward_partials_f32(&d, s, u, w, 1, 0, 1, part, NULL, 4, gu, 4));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_finish_f32(NULL, w, part, out));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_finish_f32(&d, w, NULL, out));
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_finish_f32(&d, w, part, NULL));
    /* overlaps: with the inputs, with each other */
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_partials_f32(&d, s, u, w, 0, 2, (double *)(void *)(s + 2)));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_partials_f32(&d, s, u, w, 0, 1, (double *)(void *)w));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_backward_partials_f32(&d, s, u, w, 1, 1, 1, part, u, 4, gu, 4));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_backward_partials_f32(&d, s, u, w, 1, 0, 2, part, gs, 4, gs + 7, 4));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_backward_partials_f32(&d, s, u, w, 1, 1, 2, (double *)(void *)(gs + 6), gs, 4, gu, 4));
    /* the range's rows only: partials beside another range's rows do not overlap */
    CHECK_OK(nkl_distill_backward_partials_f32(&d, s, u, w, 1, 2, 1, (double *)(void *)gs, gs, 4, NULL, 4));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_finish_f32(&d, w, (const double *)(const void *)out, out));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_finish_f32(&d, w, part, w + 1));
    /* reductions: the forward pieces do not read it; the backward pieces and the finish do */
    for (int32_t r = -1; r <= 4; r++) {
        d = ok; d.reduction = r;
        int valid = r >= NKL_REDUCTION_SUM && r <= NKL_REDUCTION_BATCHMEAN;
        CHECK_OK(nkl_distill_partials_f32(&d, s, u, w, 0, 3, part));
        if (valid) continue;
        EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_distill_backward_partials_f32(&d, s, u, w, 1, 0, 3, part, gs, 4, gu, 4));
        EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_distill_finish_f32(&d, w, part, out));
    }
    /* the whole call's checks: weights of all rows, strides, temperature, flags */
    float bad_w[3] = {1, 1, -1};
    d = ok;
    EXPECT(NKL_ERROR_INVALID_WEIGHT, nkl_distill_partials_f32(&d, s, u, bad_w, 0, 1, part));
    EXPECT(NKL_ERROR_INVALID_WEIGHT, nkl_distill_backward_partials_f32(&d, s, u, bad_w, 1, 0, 1, part, gs, 4, gu, 4));
    EXPECT(NKL_ERROR_INVALID_WEIGHT, nkl_distill_finish_f32(&d, bad_w, part, out));
    EXPECT(NKL_ERROR_INVALID_STRIDE, nkl_distill_backward_partials_f32(&d, s, u, w, 1, 0, 1, part, gs, 3, gu, 4));
    d.temperature = 0;
    EXPECT(NKL_ERROR_INVALID_TEMPERATURE, nkl_distill_partials_f32(&d, s, u, w, 0, 1, part));
    EXPECT(NKL_ERROR_INVALID_TEMPERATURE, nkl_distill_finish_f32(&d, w, part, out));
    d = ok; d.flags = 0x80;
    EXPECT(NKL_ERROR_INVALID_FLAGS, nkl_distill_partials_f32(&d, s, u, w, 0, 1, part));
    EXPECT(NKL_ERROR_INVALID_FLAGS, nkl_distill_finish_f32(&d, w, part, out));
    /* float64: the same body; a range check and a finish */
    double s64[12] = {0}, u64[12] = {0}, o64 = 7;
    d = ok;
    CHECK(nkl_distill_partials_f64(&d, s64, u64, NULL, 1, 3, part) == NKL_ERROR_INVALID_CHUNK_RANGE, "f64 range");
    CHECK(nkl_distill_finish_f64(&d, NULL, NULL, &o64) == NKL_ERROR_NULL_POINTER && o64 == 7, "f64 finish NULL");
    /* no rows: the finish needs no partials; BATCHMEAN of nothing is NaN */
    d = ok; d.rows = 0;
    CHECK_OK(nkl_distill_finish_f32(&d, NULL, NULL, out));
    CHECK(canon_nan_f32(out[0]), "no rows, batchmean: %g", out[0]);
#undef EXPECT
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    bad_arguments();
    splits_are_bitwise();
    return nkl_test_finish("test_distill_pieces");
}
