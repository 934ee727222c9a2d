/*
 * test_special_values - the special-value table of nativekl.h, for both
 * semantics (PyTorch's and masked), both log_target settings and both dtypes,
 * on the active ISA (ctest runs this once per ISA).
 *
 * Each (input, target) pair is placed at index 2 (inside the first vector)
 * and index 9 (in the tail) of a length-11 vector of ordinary values; the
 * pointwise result must match exactly (+0 means the bits of +0, NaN the bits
 * of NKL_NAN_BITS_*)
 * or, for finite expectations, the long double formula within 4 ulp of
 * |xlogy| + |t x|. The SUM must be the matching class (NaN, +-inf) or finite.
 */
#include "nkl_test.h"
#include "vmath_constants.h"

typedef enum { POS_ZERO, NEG_ZERO, IS_NAN, POS_INF, NEG_INF, FINITE } expect;

typedef struct {
    double x, t;
    uint32_t flags;
    expect e;
    const char *what;
} row;

#define LT NKL_LOG_TARGET
#define M NKL_MASKED
/* f32 and f64 differ only where the value overflows or is subnormal in one type */
static const row common[] = {
    {-0.5, 0.0, 0, POS_ZERO, "t=0, x finite -> 0"},
    {0.7, 0.0, 0, POS_ZERO, "t=0, x>0 -> +0"},
    {-INFINITY, 0.0, 0, IS_NAN, "t=0, x=-inf -> NaN (0*-inf)"},
    {INFINITY, 0.0, 0, IS_NAN, "t=0, x=+inf -> NaN"},
    {NAN, 0.0, 0, IS_NAN, "t=0, x=NaN -> NaN"},
    {-0.5, -0.0, 0, POS_ZERO, "t=-0 -> +0"},
    {-INFINITY, 0.3, 0, POS_INF, "x=-inf, t>0 -> +inf"},
    {INFINITY, 0.3, 0, NEG_INF, "x=+inf, t>0 -> -inf"},
    {NAN, 0.3, 0, IS_NAN, "x=NaN -> NaN"},
    {-0.5, NAN, 0, IS_NAN, "t=NaN -> NaN"},
    {-0.5, -0.25, 0, IS_NAN, "t<0 -> NaN"},
    {-0.5, 1.75, 0, FINITE, "t>1 is computed, not rejected"},
    {-0.5, INFINITY, 0, POS_INF, "t=+inf, x<0 -> +inf"},
    {0.0, 1.0, 0, POS_ZERO, "t=1, x=0 -> +0"},
    {1e30, 0.3, 0, FINITE, "x=1e30"},
    {-1e30, 0.3, 0, FINITE, "x=-1e30"},
    {-0.5, 0.3, 0, FINITE, "ordinary"},
    /* masked */
    {-INFINITY, 0.0, M, POS_ZERO, "masked: t=0, x=-inf -> 0"},
    {NAN, 0.0, M, POS_ZERO, "masked: t=0, x=NaN -> 0"},
    {INFINITY, -0.0, M, POS_ZERO, "masked: t=-0, x=+inf -> 0"},
    {-INFINITY, 0.3, M, POS_INF, "masked: t>0, x=-inf still +inf"},
    {-0.5, NAN, M, IS_NAN, "masked: t=NaN still NaN"},
    {-0.5, -0.25, M, IS_NAN, "masked: t<0 still NaN"},
    /* log_target */
    {-0.5, -INFINITY, LT, IS_NAN, "log: t=-inf -> NaN (0*-inf)"},
    {-INFINITY, -INFINITY, LT, IS_NAN, "log: t=x=-inf -> NaN"},
    {-0.5, INFINITY, LT, POS_INF, "log: t=+inf -> +inf"},
    {-INFINITY, -0.5, LT, POS_INF, "log: x=-inf, t finite -> +inf"},
    {INFINITY, -0.5, LT, NEG_INF, "log: x=+inf -> -inf"},
    {0.0, 0.0, LT, POS_ZERO, "log: t=0, x=0 -> 0"},
    {-0.5, NAN, LT, IS_NAN, "log: t=NaN -> NaN"},
    {NAN, -0.5, LT, IS_NAN, "log: x=NaN -> NaN"},
    {-1e30, -1.0, LT, FINITE, "log: x=-1e30"},
    {-0.5, -1.2, LT, FINITE, "log: ordinary"},
    {-0.5, -104.5, LT, FINITE, "log: exp(t) subnormal or zero in f32"},
    /* masked log_target */
    {-0.5, -INFINITY, LT | M, POS_ZERO, "masked log: t=-inf -> 0"},
    {-INFINITY, -INFINITY, LT | M, POS_ZERO, "masked log: t=x=-inf -> 0"},
    {-INFINITY, -0.5, LT | M, POS_INF, "masked log: x=-inf, t finite still +inf"},
    {-0.5, NAN, LT | M, IS_NAN, "masked log: t=NaN still NaN"},
};

/* long double reference: the formula, special values by IEEE arithmetic */
static long double reference(long double x, long double t, uint32_t flags, long double *scale) {
    if (!(flags & LT)) {
        if ((flags & M) && t == 0) { *scale = 0; return 0; }
        long double xlogy = isnan(t) ? NAN : (t == 0 ? 0.0L : t * logl(t));
        *scale = fabsl(xlogy) + fabsl(t * x);
        return xlogy - t * x;
    }
    if ((flags & M) && t == -INFINITY) { *scale = 0; return 0; }
    *scale = expl(t) * (fabsl(t) + fabsl(x));
    return expl(t) * (t - x);
}

static int classify_ok(double v, expect e, int f64) {
    switch (e) {
    case POS_ZERO: return v == 0.0 && !signbit(v);
    case NEG_ZERO: return v == 0.0 && signbit(v);
    case IS_NAN: return f64 ? canon_nan_f64(v) : canon_nan_f32((float)v);
    case POS_INF: return v == INFINITY;
    case NEG_INF: return v == -INFINITY;
    default: return isfinite(v);
    }
}

static void check_row(const row *r, int f64, expect e) {
    enum { N = 11 };
    double xs[N], ts[N];
    nkl_rng rng = {7};
    for (int i = 0; i < N; i++) {
        xs[i] = -1.0 - rng_uniform(&rng);
        ts[i] = (r->flags & LT) ? -1.0 - rng_uniform(&rng) : 0.1 + 0.2 * rng_uniform(&rng);
    }
    xs[2] = xs[9] = r->x;
    ts[2] = ts[9] = r->t;
    double out[N], sum;
    if (f64) {
        CHECK_OK(nkl_kl_div_pointwise_f64(xs, ts, N, r->flags, out));
        CHECK_OK(nkl_kl_div_f64(xs, ts, N, NKL_REDUCTION_SUM, 0, r->flags, &sum));
    } else {
        float x32[N], t32[N], o32[N], s32;
        for (int i = 0; i < N; i++) { x32[i] = (float)xs[i]; t32[i] = (float)ts[i]; }
        CHECK_OK(nkl_kl_div_pointwise_f32(x32, t32, N, r->flags, o32));
        CHECK_OK(nkl_kl_div_f32(x32, t32, N, NKL_REDUCTION_SUM, 0, r->flags, &s32));
        for (int i = 0; i < N; i++) { out[i] = o32[i]; xs[i] = x32[i]; ts[i] = t32[i]; }
        sum = s32;
    }
    double eps = f64 ? 0x1p-52 : 0x1p-23;
    for (int i = 0; i < N; i++) {
        long double scale, ref = reference(xs[i], ts[i], r->flags, &scale);
        expect ei = (i == 2 || i == 9) ? e : FINITE;
        CHECK(classify_ok(out[i], ei, f64), "%s (%s, index %d): got %a (bits %016llx)", r->what, f64 ? "f64" : "f32", i,
              out[i], (unsigned long long)test_bits_f64(out[i]));
        if (ei == FINITE && isfinite(out[i]))
            CHECK(fabsl(out[i] - ref) <= 4 * eps * scale + (f64 ? 0x1p-1074 : 0x1p-149),
                  "%s (%s, index %d): got %a, reference %La", r->what, f64 ? "f64" : "f32", i, out[i], ref);
    }
    expect es = (e == POS_ZERO || e == NEG_ZERO) ? FINITE : e;
    CHECK(classify_ok(sum, es, f64), "%s (%s): sum %a (bits %016llx)", r->what, f64 ? "f64" : "f32", sum,
          (unsigned long long)test_bits_f64(sum));
}

/* Subnormal targets are not flushed: t log t - t x is a tiny non-zero value. */
static void check_subnormal_targets(void) {
    float x32 = -0.5f, t32 = 1e-40f, o32;
    CHECK_OK(nkl_kl_div_pointwise_f32(&x32, &t32, 1, 0, &o32));
    long double scale, ref = reference(x32, t32, 0, &scale);
    CHECK(o32 != 0 && fabsl(o32 - ref) <= 2 * 0x1p-149L, "f32 subnormal target: %a vs %La", o32, ref);
    double x64 = -0.5, t64 = 1e-310, o64;
    CHECK_OK(nkl_kl_div_pointwise_f64(&x64, &t64, 1, 0, &o64));
    ref = reference(x64, t64, 0, &scale);
    CHECK(o64 != 0 && fabsl(o64 - ref) <= 2 * 0x1p-1074L, "f64 subnormal target: %a vs %La", o64, ref);
}

/* exp(t) overflow: float32 t = 100 gives +inf, float64 a finite 2.7e45 * (t - x). */
static void check_exp_overflow(void) {
    float x32 = -0.5f, t32 = 100.0f, o32;
    CHECK_OK(nkl_kl_div_pointwise_f32(&x32, &t32, 1, LT, &o32));
    CHECK(o32 == INFINITY, "f32 log_target t=100: %a", o32);
    double x64 = -0.5, t64 = 100.0, o64;
    CHECK_OK(nkl_kl_div_pointwise_f64(&x64, &t64, 1, LT, &o64));
    CHECK(isfinite(o64) && fabs(o64 / (exp(100.0) * 100.5) - 1) < 1e-15, "f64 log_target t=100: %a", o64);
    t64 = 1000.0;
    CHECK_OK(nkl_kl_div_pointwise_f64(&x64, &t64, 1, LT, &o64));
    CHECK(o64 == INFINITY, "f64 log_target t=1000: %a", o64);
}

/* Reductions: empty input, the divisors, and the 0-d convention (batch 1). */
static void check_reductions(void) {
    float x[6] = {-1.2f, -0.9f, -1.3f, -1.5f, -1.1f, -0.8f}, t[6] = {0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f};
    float s, m, b, v;
    CHECK_OK(nkl_kl_div_f32(NULL, NULL, 0, NKL_REDUCTION_SUM, 0, 0, &v));
    CHECK(v == 0.0f && !signbit(v), "empty sum %a", v);
    CHECK_OK(nkl_kl_div_f32(NULL, NULL, 0, NKL_REDUCTION_MEAN, 0, 0, &v));
    CHECK(canon_nan_f32(v), "empty mean %a", v);
    CHECK_OK(nkl_kl_div_f32(NULL, NULL, 0, NKL_REDUCTION_BATCHMEAN, 0, 0, &v));
    CHECK(canon_nan_f32(v), "empty batchmean, batch 0: %a", v);
    CHECK_OK(nkl_kl_div_f32(NULL, NULL, 0, NKL_REDUCTION_BATCHMEAN, 3, 0, &v));
    CHECK(v == 0.0f, "empty batchmean, batch 3 ([3, 0]): %a", v);
    double d;
    CHECK_OK(nkl_kl_div_f64(NULL, NULL, 0, NKL_REDUCTION_MEAN, 0, 0, &d));
    CHECK(canon_nan_f64(d), "empty f64 mean %a", d);

    double sd, md, bd, xd[6], td[6];
    for (int i = 0; i < 6; i++) { xd[i] = x[i]; td[i] = t[i]; }
    CHECK_OK(nkl_kl_div_f64(xd, td, 6, NKL_REDUCTION_SUM, 0, 0, &sd));
    CHECK_OK(nkl_kl_div_f64(xd, td, 6, NKL_REDUCTION_MEAN, 0, 0, &md));
    CHECK_OK(nkl_kl_div_f64(xd, td, 6, NKL_REDUCTION_BATCHMEAN, 2, 0, &bd));
    CHECK(md == sd / 6 && bd == sd / 2, "f64 divisors: sum %a mean %a batchmean %a", sd, md, bd);
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, &s));
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_MEAN, 0, 0, &m));
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_BATCHMEAN, 2, 0, &b));
    /* float32 results are the float64 value divided, then rounded once */
    nkl_partial p;
    CHECK_OK(nkl_kl_div_partials_f32(x, t, 6, 0, 0, 1, &p));
    double total = p.sum + p.compensation;
    CHECK(s == (float)total && m == (float)(total / 6) && b == (float)(total / 2),
          "f32 divisors: %a %a %a from %a", s, m, b, total);
    /* a 0-d input: batchmean does not divide; batch 1 divides exactly by one */
    CHECK_OK(nkl_kl_div_f32(x, t, 1, NKL_REDUCTION_BATCHMEAN, 1, 0, &v));
    CHECK_OK(nkl_kl_div_f32(x, t, 1, NKL_REDUCTION_SUM, 0, 0, &s));
    CHECK(v == s, "0-d batchmean %a vs sum %a", v, s);
    /* batch is ignored unless BATCHMEAN */
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 5, 0, &v));
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_MEAN, 0, 0, &v));
}

/* The managed code builds its NaN from NKL_QUIET_NAN_BITS_*: they must be C's NAN. */
static void check_nan_bits(void) {
    float f = NAN;
    double d = NAN;
    uint32_t fb;
    uint64_t db;
    memcpy(&fb, &f, sizeof fb);
    memcpy(&db, &d, sizeof db);
    CHECK(fb == NKL_QUIET_NAN_BITS_F32, "bits of NAN (float) %08" PRIx32 ", header %08" PRIx32, fb,
          (uint32_t)NKL_QUIET_NAN_BITS_F32);
    CHECK(db == NKL_QUIET_NAN_BITS_F64, "bits of NAN (double) %016" PRIx64 ", header %016" PRIx64, db,
          (uint64_t)NKL_QUIET_NAN_BITS_F64);
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        const row *r = &common[i];
        expect e32 = r->e;
        /* f32: exp(-104.5) rounds to 0, and 0 (t - x) = -0, as in PyTorch */
        if (r->t == -104.5) e32 = NEG_ZERO;
        check_row(r, 0, e32);
        check_row(r, 1, r->e);
    }
    check_subnormal_targets();
    check_exp_overflow();
    check_reductions();
    check_nan_bits();
    return nkl_test_finish("test_special_values");
}
