/*
 * test_grad - nkl_kl_div_backward_*: forward and backward in one pass.
 *
 *  1. PyTorch autograd (the golden cases with stored gradients, grad_output 1):
 *     grad_input and grad_target within a few ulp of the size of their terms,
 *     NaN exactly where PyTorch has NaN (d/dt at t = 0), infinities by sign.
 *  2. Central finite differences in float64 for random data and every
 *     reduction, both log_target settings.
 *  3. The value has the bits of nkl_kl_div_*; AVX2 == scalar for the value and
 *     both gradients, every length 0..257 and 100,003, with special values;
 *     grad_target NULL changes nothing else; masked semantics give exact 0s.
 *  4. Bad arguments: statuses, and nothing written.
 */
#include "nkl_test.h"

#include "golden/golden_cases.h"
#include "internal.h"

#define LT NKL_LOG_TARGET

static double *widen(const nklg_case *c, const nklg_value *v) {
    double *d = malloc((v->count ? v->count : 1) * sizeof *d);
    for (size_t i = 0; i < v->count; i++)
        d[i] = c->bits == 32 ? (double)((const float *)v->data)[i] : ((const double *)v->data)[i];
    return d;
}

/* got (a result of `bits`) matches PyTorch's want: NaN where want is any NaN,
   and then the library's NaN bit for bit; infinities by sign; else within tol. */
static int same_class_or_close(int bits, double got, double want, double tol) {
    if (isnan(want) || isnan(got)) return isnan(want) && canon_nan_of(bits, got);
    if (isinf(want) || isinf(got)) return got == want;
    return fabs(got - want) <= tol;
}

static void golden(void) {
    size_t cases = 0;
    for (size_t ci = 0; ci < NKLG_CASE_COUNT; ci++) {
        const nklg_case *c = &nklg_cases[ci];
        if (c->input.kind != NKLG_INLINE || c->target.kind != NKLG_INLINE ||
            c->grad_input.kind != NKLG_INLINE || c->grad_target.kind != NKLG_INLINE)
            continue;
        size_t n = c->numel;
        size_t batch = c->ndim == 0 ? 1 : c->shape[0];
        uint32_t flags = c->log_target ? LT : 0;
        double *x = widen(c, &c->input), *t = widen(c, &c->target);
        double *gx_want = widen(c, &c->grad_input), *gt_want = widen(c, &c->grad_target);
        double *gx = malloc(n * sizeof *gx), *gt = malloc(n * sizeof *gt);
        double eps = c->bits == 32 ? 0x1p-23 : 0x1p-52, value;
        /* the scale PyTorch applies: d(output.sum()) for none, d(output) otherwise */
        double s = c->reduction == NKL_REDUCTION_MEAN ? 1.0 / (double)n
                   : c->reduction == NKL_REDUCTION_BATCHMEAN ? 1.0 / (double)batch : 1.0;
        if (c->bits == 32) {
            float *x32 = malloc(n * 4), *t32 = malloc(n * 4), *gx32 = malloc(n * 4), *gt32 = malloc(n * 4);
            float *v32 = malloc(n * 4);
            for (size_t i = 0; i < n; i++) { x32[i] = (float)x[i]; t32[i] = (float)t[i]; }
            CHECK_OK(c->reduction == NKL_REDUCTION_NONE
                         ? nkl_kl_div_pointwise_backward_f32(x32, t32, n, flags, 1.0f, v32, gx32, gt32)
                         : nkl_kl_div_backward_f32(x32, t32, n, c->reduction, batch, flags, 1.0f, v32, gx32, gt32));
            if (c->reduction != NKL_REDUCTION_NONE) {
                float fwd;
                CHECK_OK(nkl_kl_div_f32(x32, t32, n, c->reduction, batch, flags, &fwd));
                CHECK(same_f32(fwd, v32[0]), "%s: backward value %a != forward %a", c->name, v32[0], fwd);
            }
            for (size_t i = 0; i < n; i++) { gx[i] = gx32[i]; gt[i] = gt32[i]; }
            free(x32); free(t32); free(gx32); free(gt32); free(v32);
        } else {
            double *v = malloc(n * 8);
            CHECK_OK(c->reduction == NKL_REDUCTION_NONE
                         ? nkl_kl_div_pointwise_backward_f64(x, t, n, flags, 1.0, v, gx, gt)
                         : nkl_kl_div_backward_f64(x, t, n, c->reduction, batch, flags, 1.0, v, gx, gt));
            if (c->reduction != NKL_REDUCTION_NONE) {
                CHECK_OK(nkl_kl_div_f64(x, t, n, c->reduction, batch, flags, &value));
                CHECK(same_f64(value, v[0]), "%s: backward value %a != forward %a", c->name, v[0], value);
            }
            free(v);
        }
        for (size_t i = 0; i < n; i++) {
            double e = c->log_target ? exp(t[i]) : 1.0;
            double tol_x = 4 * eps * fabs(gx_want[i]) + 1e-300;
            double size_t_ = c->log_target ? e * (fabs(t[i]) + fabs(x[i]) + 1) : fabs(log(t[i])) + 1 + fabs(x[i]);
            double tol_t = 8 * eps * size_t_ * s + 1e-300;
            CHECK(same_class_or_close(c->bits, gx[i], gx_want[i], tol_x), "%s grad_input[%zu]: %.17g vs PyTorch %.17g (x=%g t=%g)",
                  c->name, i, gx[i], gx_want[i], x[i], t[i]);
            CHECK(same_class_or_close(c->bits, gt[i], gt_want[i], tol_t), "%s grad_target[%zu]: %.17g vs PyTorch %.17g (x=%g t=%g)",
                  c->name, i, gt[i], gt_want[i], x[i], t[i]);
        }
        cases++;
        free(x); free(t); free(gx_want); free(gt_want); free(gx); free(gt);
    }
    printf("golden gradient cases checked: %zu\n", cases);
    CHECK(cases >= 100, "only %zu golden cases had inline gradients", cases);
}

/* Central differences in float64 of the reduced value, against the analytic gradients. */
static void finite_differences(void) {
    enum { N = 37 };
    nkl_rng r = {5};
    const nkl_reduction reds[] = {NKL_REDUCTION_SUM, NKL_REDUCTION_MEAN, NKL_REDUCTION_BATCHMEAN};
    for (int lt = 0; lt <= 1; lt++)
        for (int k = 0; k < 3; k++) {
            double x[N], t[N], gx[N], gt[N], v;
            for (int i = 0; i < N; i++) {
                x[i] = -0.2 - 3 * rng_uniform(&r);
                t[i] = lt ? -0.2 - 3 * rng_uniform(&r) : 0.01 + rng_uniform(&r);
            }
            uint32_t flags = lt ? LT : 0;
            double g = 1.7;
            CHECK_OK(nkl_kl_div_backward_f64(x, t, N, reds[k], 1, flags, g, &v, gx, gt));
            for (int i = 0; i < N; i++) {
                for (int which = 0; which < 2; which++) {
                    double *p = which ? &t[i] : &x[i], keep = *p, h = 1e-6 * fmax(1.0, fabs(keep)), up, down;
                    *p = keep + h;
                    CHECK_OK(nkl_kl_div_f64(x, t, N, reds[k], 1, flags, &up));
                    *p = keep - h;
                    CHECK_OK(nkl_kl_div_f64(x, t, N, reds[k], 1, flags, &down));
                    *p = keep;
                    double numeric = g * (up - down) / (2 * h), analytic = which ? gt[i] : gx[i];
                    CHECK(fabs(numeric - analytic) <= 1e-7 * fmax(1.0, fabs(analytic)),
                          "finite difference d/d%s[%d] (log_target %d, reduction %d): numeric %.12g, analytic %.12g",
                          which ? "target" : "input", i, lt, (int)reds[k], numeric, analytic);
                }
            }
        }
}

static void fill(nkl_rng *r, double *x, double *t, size_t n, int log_target) {
    static const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -0.25, 1e-40, 1e-310, 100.0, -200.0, -1000.0};
    for (size_t i = 0; i < n; i++) {
        x[i] = -0.1 - 4 * rng_uniform(r);
        t[i] = log_target ? -0.1 - 4 * rng_uniform(r) : rng_uniform(r);
        if (rng_next(r) % 11 == 0) t[i] = specials[rng_next(r) % (sizeof specials / sizeof specials[0])];
        if (rng_next(r) % 29 == 0) x[i] = specials[rng_next(r) % (sizeof specials / sizeof specials[0])];
    }
}

#define CMP_ARRAYS(SAME, a, b, n, what)                                                   \
    for (size_t i_ = 0; i_ < (n); i_++)                                                   \
        if (!SAME((a)[i_], (b)[i_])) {                                                    \
            CHECK(0, "%s n=%zu flags=%u [%zu]: %a vs %a", what, n, flags, i_, (double)(a)[i_], (double)(b)[i_]); \
            break;                                                                        \
        }

static void paths_and_forward(void) {
    nkl_isa isas[NKL_TEST_MAX_ISAS];
    int nisa = nkl_test_isas(isas);
    nkl_rng r = {77};
    size_t lens[260];
    for (size_t i = 0; i < 258; i++) lens[i] = i;
    lens[258] = 100003;
    for (size_t li = 0; li < 259; li++) {
        size_t n = lens[li];
        double *xd = malloc((n + 1) * 8), *td = malloc((n + 1) * 8);
        float *x = malloc((n + 1) * 4), *t = malloc((n + 1) * 4);
        float *gx[NKL_TEST_MAX_ISAS], *gt[NKL_TEST_MAX_ISAS], *lo[NKL_TEST_MAX_ISAS], *gx2 = malloc((n + 1) * 4);
        double *gxd[NKL_TEST_MAX_ISAS], *gtd[NKL_TEST_MAX_ISAS];
        for (int k = 0; k < NKL_TEST_MAX_ISAS; k++) {
            gx[k] = malloc((n + 1) * 4); gt[k] = malloc((n + 1) * 4); lo[k] = malloc((n + 1) * 4);
            gxd[k] = malloc((n + 1) * 8); gtd[k] = malloc((n + 1) * 8);
        }
        for (uint32_t flags = 0; flags < 4; flags++) {
            fill(&r, xd, td, n, (flags & LT) != 0);
            for (size_t i = 0; i < n; i++) { x[i] = (float)xd[i]; t[i] = (float)td[i]; }
            float v[NKL_TEST_MAX_ISAS], fwd, none[1];
            double vd[NKL_TEST_MAX_ISAS], fwdd;
            (void)none;
            for (int k = 0; k < nisa; k++) {
                uint32_t f = flags | force_flag(isas[k]);
                CHECK_OK(nkl_kl_div_backward_f32(x, t, n, NKL_REDUCTION_MEAN, 0, f, 0.75f, &v[k], gx[k], gt[k]));
                CHECK_OK(nkl_kl_div_backward_f64(xd, td, n, NKL_REDUCTION_SUM, 0, f, 0.75, &vd[k], gxd[k], gtd[k]));
                CHECK_OK(nkl_kl_div_f32(x, t, n, NKL_REDUCTION_MEAN, 0, f, &fwd));
                CHECK_OK(nkl_kl_div_f64(xd, td, n, NKL_REDUCTION_SUM, 0, f, &fwdd));
                CHECK(same_f32(v[k], fwd), "f32 value n=%zu flags=%u %s: %a vs forward %a", n, flags, nkl_isa_name(isas[k]), v[k], fwd);
                CHECK(same_f64(vd[k], fwdd), "f64 value n=%zu flags=%u %s: %a vs forward %a", n, flags, nkl_isa_name(isas[k]), vd[k], fwdd);
                /* pointwise: the terms have the bits of the forward pointwise call */
                float *fwd_none = malloc((n + 1) * 4);
                CHECK_OK(nkl_kl_div_pointwise_backward_f32(x, t, n, f, 1.0f, lo[k], gx2, NULL));
                CHECK_OK(nkl_kl_div_pointwise_f32(x, t, n, f, fwd_none));
                CMP_ARRAYS(same_f32, lo[k], fwd_none, n, "none terms vs forward");
                free(fwd_none);
            }
            for (int k = 1; k < nisa; k++) { /* each vector path against the scalar path */
                CMP_ARRAYS(same_f32, gx[0], gx[k], n, "f32 grad_input scalar vs vector");
                CMP_ARRAYS(same_f32, gt[0], gt[k], n, "f32 grad_target scalar vs vector");
                CMP_ARRAYS(same_f64, gxd[0], gxd[k], n, "f64 grad_input scalar vs vector");
                CMP_ARRAYS(same_f64, gtd[0], gtd[k], n, "f64 grad_target scalar vs vector");
                CHECK(same_f32(v[0], v[k]) && same_f64(vd[0], vd[k]), "values differ between paths (%s)",
                      nkl_isa_name(isas[k]));
            }
            /* without grad_target, grad_input is unchanged */
            CHECK_OK(nkl_kl_div_backward_f32(x, t, n, NKL_REDUCTION_MEAN, 0, flags, 0.75f, NULL, gx2, NULL));
            CMP_ARRAYS(same_f32, gx2, gx[0], n, "grad_input without grad_target");
            /* masked: zero-probability targets give exact +0 everywhere */
            if (flags & NKL_MASKED)
                for (size_t i = 0; i < n; i++) {
                    int zero = (flags & LT) ? t[i] == -INFINITY : t[i] == 0.0f;
                    if (zero && (nkl_bits_f32(gx[0][i]) != 0 || nkl_bits_f32(gt[0][i]) != 0)) {
                        CHECK(0, "masked zero target [%zu]: grads %a %a", i, gx[0][i], gt[0][i]);
                        break;
                    }
                }
            else if (!(flags & LT))
                for (size_t i = 0; i < n; i++)
                    if (t[i] == 0.0f && !canon_nan_f32(gt[0][i])) {
                        CHECK(0, "PyTorch semantics: d/dt at t = 0 must be NaN (NKL_NAN_BITS_F32), got %a", gt[0][i]);
                        break;
                    }
        }
        free(xd); free(td); free(x); free(t); free(gx2);
        for (int k = 0; k < NKL_TEST_MAX_ISAS; k++) { free(gx[k]); free(gt[k]); free(lo[k]); free(gxd[k]); free(gtd[k]); }
    }
}

static void bad_input(void) {
    float x[6] = {-1, -1, -1, -1, -1, -1}, t[6] = {.1f, .2f, .3f, .1f, .2f, .1f}, g[12], v = 5.0f;
    for (int i = 0; i < 12; i++) g[i] = 5.0f;
    CHECK(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, 1, &v, NULL, NULL) == NKL_ERROR_NULL_POINTER, "grad_input NULL");
    CHECK(nkl_kl_div_backward_f32(x, t, 6, (nkl_reduction)9, 0, 0, 1, &v, g, NULL) == NKL_ERROR_INVALID_REDUCTION, "reduction");
    CHECK(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_BATCHMEAN, 4, 0, 1, &v, g, NULL) == NKL_ERROR_INVALID_BATCH, "batch");
    CHECK(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0x40u, 1, &v, g, NULL) == NKL_ERROR_INVALID_FLAGS, "flags");
    CHECK(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, 1, &v, g, g + 3) == NKL_ERROR_OVERLAP, "grads overlap");
    CHECK(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, 1, &v, x, NULL) == NKL_ERROR_OVERLAP, "grad_input is input");
    CHECK(nkl_kl_div_pointwise_backward_f32(x, t, 6, 0, 1, g + 4, g, NULL) == NKL_ERROR_OVERLAP, "terms overlap grad");
    /* the terms of 'none' come from the pointwise backward only: value is one value */
    CHECK(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_NONE, 0, 0, 1, &v, g, NULL) == NKL_ERROR_INVALID_REDUCTION, "NONE");
    double xd[6] = {-1, -1, -1, -1, -1, -1}, td[6] = {.1, .2, .3, .1, .2, .1}, gd[6] = {5, 5, 5, 5, 5, 5}, vd = 5;
    CHECK(nkl_kl_div_backward_f64(xd, td, 6, NKL_REDUCTION_NONE, 0, 0, 1, &vd, gd, NULL) == NKL_ERROR_INVALID_REDUCTION && vd == 5 && gd[0] == 5,
          "NONE, f64");
    CHECK(nkl_kl_div_backward_f32(x, t, (size_t)PTRDIFF_MAX, NKL_REDUCTION_SUM, 0, 0, 1, &v, g, NULL) == NKL_ERROR_SIZE_OVERFLOW, "size");
    CHECK(v == 5.0f, "value written by a failing call");
    for (int i = 0; i < 6; i++) CHECK(g[i] == 5.0f, "grad written by a failing call");
    CHECK_OK(nkl_kl_div_backward_f32(NULL, NULL, 0, NKL_REDUCTION_MEAN, 0, 0, 1, &v, NULL, NULL));
    CHECK(canon_nan_f32(v), "empty mean: %a (bits %08x)", v, nkl_bits_f32(v));
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    golden();
    finite_differences();
    paths_and_forward();
    bad_input();
    return nkl_test_finish("test_grad");
}
