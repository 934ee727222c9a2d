/*
 * test_nan_bits - every NaN the library writes or returns has one bit
 * pattern, the positive quiet NaN of nativekl.h (NKL_NAN_BITS_F32 =
 * 0x7fc00000, NKL_NAN_BITS_F64 = 0x7ff8000000000000): every entry point
 * (kl_div with each reduction, rows, backward's value and both gradients,
 * partials and their finish, distillation's loss, row losses and both
 * gradients), float32 and float64, on the active ISA (ctest runs this once per
 * ISA) and on each ISA forced, whatever NaN the inputs held (either sign, a
 * payload, signalling) and however the NaN arose (0 * inf, inf - inf, 0 / 0,
 * log of t < 0). Each case places its odd pair at the start, the middle and
 * the end of vectors whose lengths cover the vector body and the tails.
 *
 * Every output element is checked (a NaN must have the library's bits), and
 * the cases the header documents as NaN must be NaN, so no check is vacuous.
 */
#include "nkl_test.h"

#define LT NKL_LOG_TARGET
#define M NKL_MASKED

/* The NaNs inputs may hold. */
static float nan_f32(int kind) {
    static const uint32_t bits[] = {0x7fc00000u, 0xffc00000u, 0x7fc001a5u, 0xffc001a5u, 0x7f800001u};
    float f;
    memcpy(&f, &bits[kind], sizeof f);
    return f;
}
static double nan_f64(int kind) {
    static const uint64_t bits[] = {0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff80034a00007a5ull,
                                    0xfff80034a00007a5ull, 0x7ff0000000000001ull};
    double d;
    memcpy(&d, &bits[kind], sizeof d);
    return d;
}
enum { NAN_KINDS = 5 };
/* A stand-in for "a NaN input" in the case table: replaced by each kind. */
#define IN_NAN 12345.0

/* An odd (x, t) pair and whether its pointwise term is NaN (nativekl.h's table). */
typedef struct {
    double x, t;
    uint32_t flags;
    int term_nan;
    const char *what;
} pair;

static const pair pairs[] = {
    {-0.5, IN_NAN, 0, 1, "t NaN"},
    {IN_NAN, 0.3, 0, 1, "x NaN"},
    {IN_NAN, IN_NAN, 0, 1, "x and t NaN"},
    {-0.5, -0.25, 0, 1, "t < 0"},
    {-INFINITY, 0.0, 0, 1, "t = 0, x = -inf"},
    {INFINITY, 0.0, 0, 1, "t = 0, x = +inf"},
    {IN_NAN, 0.0, 0, 1, "t = 0, x NaN"},
    {-0.5, 0.0, 0, 0, "t = 0 (d/dt NaN)"},
    {-0.5, INFINITY, 0, 0, "t = +inf (d/dt NaN)"},
    {-0.5, IN_NAN, M, 1, "masked, t NaN"},
    {-0.5, -0.25, M, 1, "masked, t < 0"},
    {-0.5, -INFINITY, LT, 1, "log_target, t = -inf"},
    {-INFINITY, -INFINITY, LT, 1, "log_target, t = x = -inf"},
    {-0.5, IN_NAN, LT, 1, "log_target, t NaN"},
    {IN_NAN, -0.5, LT, 1, "log_target, x NaN"},
    {IN_NAN, -0.5, LT | M, 1, "masked log_target, x NaN"},
    {INFINITY, INFINITY, LT, 1, "log_target, t = x = +inf (inf * NaN)"},
    /* no NaN term, but NaN gradients with grad_output 0 or inf (inf * 0) */
    {INFINITY, 0.3, 0, 0, "x = +inf, t normal"},
    {-INFINITY, 0.3, 0, 0, "x = -inf, t normal"},
    {INFINITY, -0.5, LT, 0, "log_target, x = +inf"},
    {-INFINITY, -0.5, LT, 0, "log_target, x = -inf"},
    {-0.5, 0.3, 0, 0, "ordinary"},
    {-0.5, -0.5, LT, 0, "log_target, ordinary"},
};

static const size_t lengths[] = {1, 5, 8, 13, 16, 17, 37, 40};

static int checked_nan_outputs = 0;

/* Every NaN among v[0..n) must be the library's; returns how many NaNs. */
static size_t check_f32(const float *v, size_t n, const char *what, const char *ctx, size_t at) {
    size_t nans = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) continue;
        nans++;
        CHECK(canon_nan_f32(v[i]), "%s: %s [%zu] (odd pair at %zu) has bits %08x, not %08x", ctx, what, i, at,
              test_bits_f32(v[i]), NKL_NAN_BITS_F32);
    }
    checked_nan_outputs += (int)nans;
    return nans;
}
static size_t check_f64(const double *v, size_t n, const char *what, const char *ctx, size_t at) {
    size_t nans = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) continue;
        nans++;
        CHECK(canon_nan_f64(v[i]), "%s: %s [%zu] (odd pair at %zu) has bits %016llx, not %016llx", ctx, what, i,
              at, (unsigned long long)test_bits_f64(v[i]), (unsigned long long)NKL_NAN_BITS_F64);
    }
    checked_nan_outputs += (int)nans;
    return nans;
}

/* The partials' fields, as doubles. */
static size_t check_partials(const nkl_partial *p, size_t count, const char *ctx, size_t at) {
    size_t nans = 0;
    for (size_t c = 0; c < count; c++) {
        nans += check_f64(&p[c].sum, 1, "partial sum", ctx, at);
        nans += check_f64(&p[c].compensation, 1, "partial compensation", ctx, at);
    }
    return nans;
}

/*
 * The elementwise entry points for one type. T the type, S f32/f64, NANF its
 * NaN maker, CHECKV its check.
 */
#define KL_CASE(T, S, NANF, CHECKV)                                                                   \
    static void kl_case_##S(const pair *c, int nan_kind, size_t n, size_t at, uint32_t isa_flag,     \
                            float grad_output) {                                                      \
        char ctx[160];                                                                                \
        snprintf(ctx, sizeof ctx, #S " %s (NaN kind %d) n=%zu isa_flag=%#x g=%g", c->what, nan_kind, n, \
                 isa_flag, (double)grad_output);                                                      \
        T *x = malloc(2 * n * sizeof(T)), *t = malloc(2 * n * sizeof(T));                             \
        T *out = malloc(2 * n * sizeof(T)), *gx = malloc(2 * n * sizeof(T)), *gt = malloc(2 * n * sizeof(T)); \
        int lt = (c->flags & LT) != 0;                                                                \
        for (size_t i = 0; i < 2 * n; i++) { /* two rows of n for the rows API */                     \
            x[i] = (T)(-1.0 - 0.01 * (double)(i % 7));                                                \
            t[i] = (T)(lt ? -1.5 - 0.01 * (double)(i % 5) : 0.2 + 0.01 * (double)(i % 5));           \
        }                                                                                             \
        /* the odd pair at `at` of row 1 (elements n..2n); row 0 is ordinary */                      \
        T *x1 = x + n, *t1 = t + n;                                                                   \
        x1[at] = c->x == IN_NAN ? NANF(nan_kind) : (T)c->x;                                           \
        t1[at] = c->t == IN_NAN ? NANF((nan_kind + 1) % NAN_KINDS) : (T)c->t;                         \
        uint32_t flags = c->flags | isa_flag;                                                         \
        /* pointwise */                                                                               \
        CHECK_OK(nkl_kl_div_pointwise_##S(x1, t1, n, flags, out));                                    \
        size_t nans = CHECKV(out, n, "pointwise", ctx, at);                                           \
        if (c->term_nan) CHECK(nans >= 1 && isnan(out[at]), "%s: pointwise term not NaN", ctx);       \
        /* reductions */                                                                              \
        static const nkl_reduction reds[] = {NKL_REDUCTION_SUM, NKL_REDUCTION_MEAN, NKL_REDUCTION_BATCHMEAN}; \
        for (int r = 0; r < 3; r++) {                                                                 \
            T v;                                                                                      \
            CHECK_OK(nkl_kl_div_##S(x1, t1, n, reds[r], n, flags, &v));                               \
            CHECKV(&v, 1, "reduced", ctx, at);                                                        \
            if (c->term_nan) CHECK(isnan(v), "%s: reduction %d not NaN", ctx, (int)reds[r]);          \
        }                                                                                             \
        /* rows: row 0 ordinary, row 1 with the pair */                                              \
        T rows_out[2];                                                                                \
        CHECK_OK(nkl_kl_div_rows_##S(x, n, t, n, 2, n, flags, rows_out));                             \
        CHECKV(rows_out, 2, "rows", ctx, at);                                                         \
        CHECK(!isnan(rows_out[0]), "%s: ordinary row NaN", ctx);                                      \
        if (c->term_nan) CHECK(isnan(rows_out[1]), "%s: row with a NaN term not NaN", ctx);           \
        /* backward: values or value, and both gradients */                                          \
        for (int r = -1; r < 3; r++) {                                                                \
            nkl_reduction red = r < 0 ? NKL_REDUCTION_NONE : reds[r];                                 \
            T value;                                                                                  \
            T *vp = r < 0 ? out : &value;                                                             \
            CHECK_OK(r < 0 ? nkl_kl_div_pointwise_backward_##S(x1, t1, n, flags, (T)grad_output, vp, gx, gt)\
                           : nkl_kl_div_backward_##S(x1, t1, n, red, n, flags, (T)grad_output, vp, gx, gt));\
            if (grad_output != grad_output) /* every gradient NaN */                                 \
                CHECK(isnan(gx[0]) && isnan(gt[n - 1]), "%s: NaN grad_output, gradients not NaN", ctx); \
            CHECKV(vp, r < 0 ? n : 1, "backward value", ctx, at);                                     \
            CHECKV(gx, n, "grad_input", ctx, at);                                                     \
            size_t gnans = CHECKV(gt, n, "grad_target", ctx, at);                                     \
            if (c->term_nan) CHECK(isnan(vp[r < 0 ? at : 0]), "%s: backward value not NaN", ctx);     \
            if (!(c->flags & M) && !lt && (c->t == 0.0 || c->t == INFINITY || c->t == IN_NAN))       \
                CHECK(gnans >= 1 && isnan(gt[at]), "%s: d/dt not NaN", ctx);                          \
        }                                                                                             \
        /* partials of row 1 alone, and their finish */                                              \
        nkl_partial p[1];                                                                             \
        CHECK_OK(nkl_kl_div_partials_##S(x1, t1, n, flags, 0, 1, p));                                 \
        check_partials(p, 1, ctx, at);                                                                \
        if (c->term_nan) CHECK(isnan(p[0].sum), "%s: partial not NaN", ctx);                          \
        double fin;                                                                                   \
        CHECK_OK(nkl_partials_finish(p, 1, n, NKL_REDUCTION_MEAN, 0, &fin));                          \
        check_f64(&fin, 1, "partials_finish", ctx, at);                                               \
        free(x); free(t); free(out); free(gx); free(gt);                                              \
    }

KL_CASE(float, f32, nan_f32, check_f32)
KL_CASE(double, f64, nan_f64, check_f64)

/* +inf and -inf terms in one sum: each term finite or infinite, the sum inf - inf. */
#define INF_MINUS_INF(T, S, CHECKV)                                                                  \
    static void inf_minus_inf_##S(uint32_t isa_flag) {                                               \
        for (size_t n = 2; n <= 40; n += 3) {                                                          \
            T *x = malloc(n * sizeof(T)), *t = malloc(n * sizeof(T)), *gx = malloc(n * sizeof(T));    \
            for (size_t i = 0; i < n; i++) { x[i] = (T)-1.0; t[i] = (T)0.25; }                        \
            x[0] = (T)-INFINITY; /* term +inf */                                                      \
            x[n - 1] = (T)INFINITY; /* term -inf */                                                   \
            char ctx[80];                                                                             \
            snprintf(ctx, sizeof ctx, #S " inf - inf n=%zu isa_flag=%#x", n, isa_flag);               \
            T v;                                                                                      \
            CHECK_OK(nkl_kl_div_##S(x, t, n, NKL_REDUCTION_SUM, 0, isa_flag, &v));                     \
            CHECK(isnan(v), "%s: sum %g", ctx, (double)v);                                            \
            CHECKV(&v, 1, "sum", ctx, 0);                                                             \
            CHECK_OK(nkl_kl_div_rows_##S(x, n, t, n, 1, n, isa_flag, &v));                             \
            CHECKV(&v, 1, "rows", ctx, 0);                                                            \
            CHECK_OK(nkl_kl_div_backward_##S(x, t, n, NKL_REDUCTION_MEAN, 0, isa_flag, (T)1, &v, gx, NULL)); \
            CHECK(isnan(v), "%s: backward value %g", ctx, (double)v);                                 \
            CHECKV(&v, 1, "backward value", ctx, 0);                                                  \
            nkl_partial p;                                                                            \
            CHECK_OK(nkl_kl_div_partials_##S(x, t, n, isa_flag, 0, 1, &p));                           \
            check_partials(&p, 1, ctx, 0);                                                            \
            free(x); free(t); free(gx);                                                               \
        }                                                                                             \
    }

INF_MINUS_INF(float, f32, check_f32)
INF_MINUS_INF(double, f64, check_f64)

/* A chunk whose sum overflows to +inf: the compensation becomes inf - inf. */
static void overflowing_partials(uint32_t isa_flag) {
    size_t n = 64;
    double *x = malloc(n * 8), *t = malloc(n * 8);
    for (size_t i = 0; i < n; i++) { x[i] = -1e308; t[i] = 1.0; } /* terms 1e308 */
    nkl_partial p;
    CHECK_OK(nkl_kl_div_partials_f64(x, t, n, isa_flag, 0, 1, &p));
    CHECK(p.sum == INFINITY, "overflowing partial: sum %a", p.sum);
    check_partials(&p, 1, "f64 overflowing partial", 0);
    double v;
    CHECK_OK(nkl_kl_div_f64(x, t, n, NKL_REDUCTION_SUM, 0, isa_flag, &v));
    CHECK(v == INFINITY, "overflowing sum: %a", v);
    free(x); free(t);
}

/* Empty input: MEAN is 0 / 0, BATCHMEAN with batch 0 too. */
static void empty(uint32_t isa_flag) {
    float v32 = 1;
    double v64 = 1;
    CHECK_OK(nkl_kl_div_f32(NULL, NULL, 0, NKL_REDUCTION_MEAN, 0, isa_flag, &v32));
    CHECK(canon_nan_f32(v32), "empty f32 mean: bits %08x", test_bits_f32(v32));
    CHECK_OK(nkl_kl_div_f64(NULL, NULL, 0, NKL_REDUCTION_BATCHMEAN, 0, isa_flag, &v64));
    CHECK(canon_nan_f64(v64), "empty f64 batchmean: bits %016llx", (unsigned long long)test_bits_f64(v64));
    CHECK_OK(nkl_kl_div_backward_f32(NULL, NULL, 0, NKL_REDUCTION_MEAN, 0, isa_flag, 1.0f, &v32, NULL, NULL));
    CHECK(canon_nan_f32(v32), "empty f32 backward mean: bits %08x", test_bits_f32(v32));
    CHECK_OK(nkl_kl_div_backward_f64(NULL, NULL, 0, NKL_REDUCTION_BATCHMEAN, 0, isa_flag, 1.0, &v64, NULL, NULL));
    CHECK(canon_nan_f64(v64), "empty f64 backward batchmean: bits %016llx", (unsigned long long)test_bits_f64(v64));
    v64 = 1;
    CHECK_OK(nkl_partials_finish(NULL, 0, 0, NKL_REDUCTION_MEAN, 0, &v64));
    CHECK(canon_nan_f64(v64), "empty partials_finish mean: bits %016llx", (unsigned long long)test_bits_f64(v64));
}

/* ------------------------------------------------------------ distillation */

/* An odd logit for a distillation row. */
typedef struct {
    int in_teacher;
    double value; /* IN_NAN: each NaN kind */
    uint32_t flags;
    const char *what;
} odd_logit;

static const odd_logit odd_logits[] = {
    {0, IN_NAN, 0, "NaN student logit"},
    {1, IN_NAN, 0, "NaN teacher logit"},
    {0, INFINITY, 0, "+inf student logit"},
    {1, INFINITY, 0, "+inf teacher logit"},
    {0, IN_NAN, NKL_TEACHER_LOG_PROBS_AS_GIVEN, "NaN student logit, teacher log-probs"},
    {1, IN_NAN, NKL_TEACHER_LOG_PROBS_AS_GIVEN, "NaN teacher log-prob"},
    {1, INFINITY, NKL_TEACHER_LOG_PROBS_AS_GIVEN, "+inf teacher log-prob"},
    {0, IN_NAN, NKL_MULTIPLY_LOSS_BY_T2, "NaN student logit, T^2"},
};

static const size_t distill_cols[] = {1, 3, 8, 31, 33, 70};

#define DISTILL_CASE(T, S, NANF, CHECKV)                                                              \
    static void distill_case_##S(const odd_logit *o, int nan_kind, size_t cols, size_t at, uint32_t isa_flag) { \
        enum { ROWS = 3 };                                                                            \
        char ctx[160];                                                                                \
        snprintf(ctx, sizeof ctx, #S " %s (NaN kind %d) cols=%zu isa_flag=%#x", o->what, nan_kind, cols, isa_flag); \
        size_t n = ROWS * cols;                                                                       \
        T *s = malloc(n * sizeof(T)), *u = malloc(n * sizeof(T));                                     \
        T *gs = malloc(n * sizeof(T)), *gu = malloc(n * sizeof(T)), vals[ROWS];                       \
        int lp = (o->flags & NKL_TEACHER_LOG_PROBS_AS_GIVEN) != 0;                                             \
        for (size_t r = 0; r < ROWS; r++)                                                             \
            for (size_t c = 0; c < cols; c++) {                                                       \
                s[r * cols + c] = (T)(0.5 * (double)((c * 7 + r) % 5) - 1.0);                         \
                u[r * cols + c] = (T)(lp ? -log((double)cols) : 0.25 * (double)((c * 3 + r) % 7));    \
            }                                                                                         \
        T bad = o->value == IN_NAN ? NANF(nan_kind) : (T)o->value;                                    \
        (o->in_teacher ? u : s)[1 * cols + at] = bad; /* row 1 only */                               \
        static const int32_t reds[] = {NKL_REDUCTION_NONE, NKL_REDUCTION_SUM, NKL_REDUCTION_MEAN,     \
                                       NKL_REDUCTION_BATCHMEAN};                                      \
        for (int r = 0; r < 4; r++) {                                                                 \
            nkl_distill_desc d = {ROWS, cols, cols, cols, 1.5, reds[r], o->flags | isa_flag};         \
            size_t nv = reds[r] == NKL_REDUCTION_NONE ? ROWS : 1;                                     \
            CHECK_OK(nv > 1 ? nkl_distill_rows_##S(&d, s, u, NULL, vals) : nkl_distill_##S(&d, s, u, NULL, vals));\
            CHECKV(vals, nv, "loss", ctx, at);                                                        \
            CHECK(isnan(vals[nv == 1 ? 0 : 1]), "%s: reduction %d: loss not NaN", ctx, (int)reds[r]); \
            if (nv > 1) CHECK(!isnan(vals[0]) && !isnan(vals[2]), "%s: ordinary rows NaN", ctx);     \
            static const double gos[] = {1.0, -0.75, 0.0, INFINITY, NAN};                          \
            for (int g = 0; g < 5; g++) {                                                             \
                T value;                                                                              \
                T *vp = nv == 1 ? &value : vals;                                                      \
                CHECK_OK(nv > 1 ? nkl_distill_rows_backward_##S(&d, s, u, NULL, (T)gos[g], vp, gs, cols, gu, cols)\
                                : nkl_distill_backward_##S(&d, s, u, NULL, (T)gos[g], vp, gs, cols, gu, cols));\
                CHECKV(vp, nv, "backward loss", ctx, at);                                             \
                size_t ns = CHECKV(gs, n, "grad_student", ctx, at);                                   \
                size_t nu = CHECKV(gu, n, "grad_teacher", ctx, at);                                   \
                CHECK(ns + nu >= 1, "%s: no NaN gradient", ctx);                                      \
            }                                                                                         \
        }                                                                                             \
        free(s); free(u); free(gs); free(gu);                                                         \
    }

DISTILL_CASE(float, f32, nan_f32, check_f32)
DISTILL_CASE(double, f64, nan_f64, check_f64)

/* Losses that are 0 / 0: no kept row (BATCHMEAN, MEAN), cols == 0 (MEAN). */
static void distill_empty(uint32_t isa_flag) {
    float s[4] = {1, 2, 3, 4}, u[4] = {4, 3, 2, 1}, w0 = 0, v32;
    double sd[4] = {1, 2, 3, 4}, ud[4] = {4, 3, 2, 1}, wd0 = 0, v64;
    nkl_distill_desc d = {1, 4, 4, 4, 1.0, NKL_REDUCTION_BATCHMEAN, isa_flag};
    CHECK_OK(nkl_distill_f32(&d, s, u, &w0, &v32));
    CHECK(canon_nan_f32(v32), "f32 no kept row batchmean: bits %08x", test_bits_f32(v32));
    d.reduction = NKL_REDUCTION_MEAN;
    CHECK_OK(nkl_distill_f64(&d, sd, ud, &wd0, &v64));
    CHECK(canon_nan_f64(v64), "f64 no kept row mean: bits %016llx", (unsigned long long)test_bits_f64(v64));
    d.cols = 0;
    CHECK_OK(nkl_distill_f32(&d, s, u, NULL, &v32));
    CHECK(canon_nan_f32(v32), "f32 cols 0 mean: bits %08x", test_bits_f32(v32));
    CHECK_OK(nkl_distill_backward_f64(&d, sd, ud, NULL, 1.0, &v64, NULL, 0, NULL, 0));
    CHECK(canon_nan_f64(v64), "f64 cols 0 backward mean: bits %016llx", (unsigned long long)test_bits_f64(v64));
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    nkl_isa isas[NKL_TEST_MAX_ISAS];
    int nisa = nkl_test_isas(isas);
    uint32_t isa_flags[NKL_TEST_MAX_ISAS + 1] = {0}; /* the active ISA, then each forced */
    for (int k = 0; k < nisa; k++) isa_flags[k + 1] = force_flag(isas[k]);
    for (int k = 0; k <= nisa; k++) {
        uint32_t f = isa_flags[k];
        for (size_t c = 0; c < sizeof pairs / sizeof pairs[0]; c++) {
            int has_nan = pairs[c].x == IN_NAN || pairs[c].t == IN_NAN;
            for (int kind = 0; kind < (has_nan ? NAN_KINDS : 1); kind++)
                for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
                    size_t n = lengths[li];
                    size_t ats[3] = {0, n / 2, n - 1};
                    /* grad_output: ordinary, and 0, +-inf and NaN, which make NaN gradients
                       of their own (0 inf) */
                    static const float gos[] = {1.0f, -0.75f, 0.0f, INFINITY, -INFINITY, NAN};
                    for (int a = 0; a < 3; a++)
                        for (int g = 0; g < 6; g++) {
                            if (g >= 2 && (li % 3 != 0 || kind > 1)) continue; /* a sample suffices */
                            kl_case_f32(&pairs[c], kind, n, ats[a], f, gos[g]);
                            kl_case_f64(&pairs[c], kind, n, ats[a], f, gos[g]);
                        }
                }
        }
        inf_minus_inf_f32(f);
        inf_minus_inf_f64(f);
        overflowing_partials(f);
        empty(f);
        for (size_t o = 0; o < sizeof odd_logits / sizeof odd_logits[0]; o++) {
            int has_nan = odd_logits[o].value == IN_NAN;
            for (int kind = 0; kind < (has_nan ? NAN_KINDS : 1); kind++)
                for (size_t ci = 0; ci < sizeof distill_cols / sizeof distill_cols[0]; ci++) {
                    size_t cols = distill_cols[ci];
                    size_t ats[3] = {0, cols / 2, cols - 1};
                    for (int a = 0; a < 3; a++) {
                        distill_case_f32(&odd_logits[o], kind, cols, ats[a], f);
                        distill_case_f64(&odd_logits[o], kind, cols, ats[a], f);
                    }
                }
        }
        distill_empty(f);
    }
    printf("test_nan_bits: %d NaN outputs checked bit for bit\n", checked_nan_outputs);
    CHECK(checked_nan_outputs > 1000, "too few NaN outputs: %d", checked_nan_outputs);
    return nkl_test_finish("test_nan_bits");
}
