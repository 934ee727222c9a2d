/*
 * test_distill.c - distillation from logits (nkl_distill_*): against a
 * long double reference (random shapes, strides, temperatures, both teacher
 * modes, weights, every reduction), PyTorch's golden cases, extreme and
 * masked logits, central finite differences of the gradients in float64,
 * scalar == AVX2 / NEON bit for bit, and argument checks that write nothing.
 */
#include <float.h>

#include "nkl_test.h"
#include "internal.h" /* the kernel tables: row statistics compared in float64 */
#include "vmath_constants.h"
#include "golden/golden_distill.h"

typedef long double ld;

/* ------------------------------------------------------------ reference */

typedef struct ref_row {
    ld kl;  /* KL_r */
    ld tol; /* error scale: sum p (|log p| + |log q| + 1) + |la| + |lb| */
} ref_row;

/*
 * One row in long double from the scaled logits a (student) and b (teacher
 * logits, or log-probabilities when log_probs), exactly as the kernel sees
 * them. Writes log q and log p (cols values each).
 */
static ref_row ref_row_stats(const ld *a, const ld *b, size_t cols, int log_probs, ld *lq, ld *lp) {
    ld ma = -INFINITY, mb = -INFINITY, za = 0, zb = 0;
    for (size_t c = 0; c < cols; c++) {
        if (a[c] > ma) ma = a[c];
        if (b[c] > mb) mb = b[c];
    }
    for (size_t c = 0; c < cols; c++) {
        za += expl(a[c] - ma);
        zb += expl(b[c] - mb);
    }
    ld la = logl(za), lb = logl(zb);
    ref_row r = {0, 1};
    for (size_t c = 0; c < cols; c++) {
        lq[c] = a[c] == -INFINITY ? -INFINITY : (a[c] - ma) - la;
        lp[c] = log_probs ? b[c] : (b[c] == -INFINITY ? -INFINITY : (b[c] - mb) - lb);
        ld p = expl(lp[c]);
        if (p == 0) continue;
        r.kl += p * (lp[c] - lq[c]);
        r.tol += p * (fabsl(lp[c]) + fabsl(lq[c]) + 1);
    }
    r.tol += fabsl(la) + (log_probs ? 0 : fabsl(lb));
    return r;
}

/* x (1 + |log x|), 0 for x = 0: the error scale of exp(log x) */
static ld mag(ld x, ld log_x) { return x == 0 ? 0 : x * (1 + fabsl(log_x)); }

/* ------------------------------------------------------------ one call, either type */

typedef struct call {
    int bits;
    nkl_distill_desc d;
    const void *s, *u, *w; /* arrays of the call's type */
} call;

/* Reduction NONE in c->d stands for the rows entry points (value: rows values). */
static nkl_status run(const call *c, void *value, double grad_output, void *gs, size_t gs_stride,
                      void *gu, size_t gu_stride, int backward) {
    if (c->d.reduction == NKL_REDUCTION_NONE) {
        if (c->bits == 32) {
            if (!backward) return nkl_distill_rows_f32(&c->d, c->s, c->u, c->w, value);
            return nkl_distill_rows_backward_f32(&c->d, c->s, c->u, c->w, (float)grad_output, value,
                                                 gs, gs_stride, gu, gu_stride);
        }
        if (!backward) return nkl_distill_rows_f64(&c->d, c->s, c->u, c->w, value);
        return nkl_distill_rows_backward_f64(&c->d, c->s, c->u, c->w, grad_output, value, gs,
                                             gs_stride, gu, gu_stride);
    }
    if (c->bits == 32) {
        if (!backward) return nkl_distill_f32(&c->d, c->s, c->u, c->w, value);
        return nkl_distill_backward_f32(&c->d, c->s, c->u, c->w, (float)grad_output, value, gs,
                                        gs_stride, gu, gu_stride);
    }
    if (!backward) return nkl_distill_f64(&c->d, c->s, c->u, c->w, value);
    return nkl_distill_backward_f64(&c->d, c->s, c->u, c->w, grad_output, value, gs, gs_stride,
                                    gu, gu_stride);
}

static double get(int bits, const void *p, size_t i) {
    return bits == 32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}
static void put(int bits, void *p, size_t i, double v) {
    if (bits == 32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}
static double payload_nan(void) {
    uint64_t b = 0x7ff8000000000000ull | (0x1a5ull << 29) | 0x7a5ull;
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}
static int same(int bits, double a, double b) {
    return bits == 32 ? same_f32((float)a, (float)b) : same_f64(a, b);
}

/*
 * A logit scaled exactly as the kernel scales it, in natural units: float64
 * s (1/T rounded); float32, which works in base 2 (internal.h), the float
 * s (log2(e)/T rounded), times ln 2 in long double. A teacher's
 * log-probability l: l itself, or (float)(l log2(e)) ln 2.
 */
static ld scaled(int bits, double v, double t, int log_prob) {
    if (bits == 64) return log_prob ? (ld)v : (ld)(v * (1.0 / t));
    float scale = log_prob ? NKL_LOG2E_F32 : (float)(NKL_LOG2E_F64 / t);
    return (ld)((float)v * scale) * 0.693147180559945309417232121458176568L;
}

/*
 * Checks value and gradients of one call against the reference, with
 * tolerances k eps (sum of the terms' magnitudes). The reference uses the
 * logits scaled exactly as the kernel scales them (scaled()).
 */
static void check_against_reference(const call *c, const char *what) {
    size_t rows = c->d.rows, cols = c->d.cols, sz = c->bits / 8;
    int log_probs = (c->d.flags & NKL_TEACHER_LOG_PROBS_AS_GIVEN) != 0;
    double eps = c->bits == 32 ? 0x1p-23 : 0x1p-52, k = 16;
    double t = c->d.temperature, t2 = (c->d.flags & NKL_MULTIPLY_LOSS_BY_T2) ? t * t : 1;
    ld *a = malloc((cols + 1) * sizeof(ld)), *b = malloc((cols + 1) * sizeof(ld));
    ld *lq = malloc((cols + 1) * sizeof(ld)), *lp = malloc((cols + 1) * sizeof(ld));
    ref_row *rr = malloc((rows + 1) * sizeof(ref_row));
    size_t kept = 0;
    ld total = 0, total_tol = 0;
    for (size_t r = 0; r < rows; r++) {
        double w = c->w ? get(c->bits, c->w, r) : 1;
        rr[r].kl = 0;
        rr[r].tol = 0;
        if (w == 0) continue;
        kept++;
        for (size_t j = 0; j < cols; j++) {
            double sv = get(c->bits, c->s, r * c->d.student_stride + j);
            double uv = get(c->bits, c->u, r * c->d.teacher_stride + j);
            a[j] = scaled(c->bits, sv, t, 0);
            b[j] = scaled(c->bits, uv, t, log_probs);
        }
        rr[r] = ref_row_stats(a, b, cols, log_probs, lq, lp);
        total += w * t2 * rr[r].kl;
        total_tol += w * t2 * rr[r].tol;
    }
    ld divisor = 1;
    if (c->d.reduction == NKL_REDUCTION_MEAN) divisor = (ld)kept * cols;
    if (c->d.reduction == NKL_REDUCTION_BATCHMEAN) divisor = (ld)kept;

    /* value alone, and value + gradients */
    size_t nv = c->d.reduction == NKL_REDUCTION_NONE ? rows : 1;
    size_t gstride = cols + 3;
    void *v1 = calloc(nv + 1, sz), *v2 = calloc(nv + 1, sz);
    void *gs = calloc(rows * gstride + 1, sz), *gu = calloc(rows * gstride + 1, sz);
    double gout = 0.75;
    CHECK_OK(run(c, v1, 0, NULL, 0, NULL, 0, 0));
    CHECK_OK(run(c, v2, gout, gs, gstride, gu, gstride, 1));
    for (size_t i = 0; i < nv; i++)
        CHECK(same(c->bits, get(c->bits, v1, i), get(c->bits, v2, i)),
              "%s: value differs with gradients at %zu", what, i);
    if (c->d.reduction == NKL_REDUCTION_NONE) {
        for (size_t r = 0; r < rows; r++) {
            double w = c->w ? get(c->bits, c->w, r) : 1;
            double want = (double)(w * t2 * rr[r].kl), got = get(c->bits, v1, r);
            double tol = k * eps * (double)(w * t2 * rr[r].tol) + (c->bits == 32 ? fabs(want) * eps : 0);
            CHECK_LD_REF(fabs(got - want) <= tol, "%s: row %zu: %.9g, reference %.9g (tol %.3g)", what, r,
                  got, want, tol);
        }
    } else {
        double want = (double)(total / divisor), got = get(c->bits, v1, 0);
        double tol = k * eps * (double)(total_tol / divisor) + (c->bits == 32 ? fabs(want) * eps : 0);
        if (isnan(want)) CHECK(canon_nan_of(c->bits, got), "%s: %.9g, reference NaN (NKL_NAN_BITS)", what, got);
        else CHECK_LD_REF(fabs(got - want) <= tol, "%s: %.9g, reference %.9g (tol %.3g)", what, got, want, tol);
    }

    /* gradients, element by element */
    for (size_t r = 0; r < rows; r++) {
        double w = c->w ? get(c->bits, c->w, r) : 1;
        if (w == 0) {
            for (size_t j = 0; j < cols; j++) {
                CHECK(get(c->bits, gs, r * gstride + j) == 0 && !signbit(get(c->bits, gs, r * gstride + j)),
                      "%s: ignored row %zu: grad_student not +0", what, r);
                CHECK(get(c->bits, gu, r * gstride + j) == 0, "%s: ignored row %zu: grad_teacher", what, r);
            }
            continue;
        }
        for (size_t j = 0; j < cols; j++) {
            double sv = get(c->bits, c->s, r * c->d.student_stride + j);
            double uv = get(c->bits, c->u, r * c->d.teacher_stride + j);
            a[j] = scaled(c->bits, sv, t, 0);
            b[j] = scaled(c->bits, uv, t, log_probs);
        }
        ref_row st = ref_row_stats(a, b, cols, log_probs, lq, lp);
        ld g = (ld)gout * w * t2 / divisor, mass = 0;
        /* what underflow in the data's type may lose: a few of its smallest subnormals */
        ld tiny = (c->bits == 32 ? 0x1p-146L : 0x1p-1071L) * (1 + fabsl(g) / t);
        for (size_t j = 0; j < cols; j++) mass += expl(lp[j]);
        for (size_t j = 0; j < cols; j++) {
            ld q = expl(lq[j]), p = expl(lp[j]);
            ld want_s = g / t * (q * mass - p);
            ld want_u = p == 0 ? 0 : log_probs ? g * p * ((lp[j] - lq[j]) + 1) : g / t * p * ((lp[j] - lq[j]) - st.kl);
            /* q sum p: the float64 lanes' sum of p may be off by cols / 4 eps (recursive summation) */
            ld tol_s = k * eps * fabsl(g / t) * (mag(q, lq[j]) + mag(p, lp[j]) + q * mass * (c->bits == 64 ? 1 + cols / 4.0L : 1));
            ld fac = p == 0 ? 0 : p * (1 + fabsl(lp[j]) + fabsl(lq[j]) + fabsl(st.kl) + st.tol);
            ld tol_u = p == 0 ? 0 : k * eps * fabsl(log_probs ? g : g / t) * fac * (1 + fabsl(lp[j] - lq[j]) + fabsl(st.kl));
            double got_s = get(c->bits, gs, r * gstride + j), got_u = get(c->bits, gu, r * gstride + j);
            CHECK_LD_REF(fabsl(got_s - want_s) <= tol_s + tiny, "%s: grad_student[%zu][%zu] %.9g, reference %.9Lg",
                  what, r, j, got_s, want_s);
            CHECK_LD_REF(fabsl(got_u - want_u) <= tol_u + tiny * (1 + (p == 0 ? 0 : fabsl(lp[j] - lq[j])) + fabsl(st.kl)), "%s: grad_teacher[%zu][%zu] %.9g, reference %.9Lg",
                  what, r, j, got_u, want_u);
        }
        /* the padding between rows is never written */
        for (size_t j = cols; j < gstride && r + 1 < rows; j++)
            CHECK(get(c->bits, gs, r * gstride + j) == 0, "%s: padding written", what);
    }
    free(a); free(b); free(lq); free(lp); free(rr); free(v1); free(v2); free(gs); free(gu);
}

/* Fills logits: scale * N(0, 1) (teacher log-probabilities: log_softmax of that). */
static void fill(int bits, void *p, size_t rows, size_t cols, size_t stride, double scale, int log_probs,
                 nkl_rng *rng) {
    for (size_t i = 0; i < rows * stride; i++) put(bits, p, i, NAN); /* padding: must not be read */
    for (size_t r = 0; r < rows; r++) {
        double m = -INFINITY, z = 0;
        for (size_t j = 0; j < cols; j++) {
            double v = scale * rng_normal(rng);
            put(bits, p, r * stride + j, v);
            if (v > m) m = v;
        }
        if (!log_probs) continue;
        for (size_t j = 0; j < cols; j++) z += exp(get(bits, p, r * stride + j) - m);
        for (size_t j = 0; j < cols; j++) put(bits, p, r * stride + j, get(bits, p, r * stride + j) - m - log(z));
    }
}

static void random_cases(void) {
    nkl_rng rng = {42};
    static const size_t col_list[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 255, 256, 257, 1000, 32000};
    static const double temps[] = {1, 2, 4, 0.5, 3.7, 0.3};
    int n = 0;
    for (int bits = 32; bits <= 64; bits += 32) {
        for (size_t ci = 0; ci < sizeof col_list / sizeof *col_list; ci++) {
            size_t cols = col_list[ci];
            if (cols >= 32000 && nkl_test_quick()) continue; /* minutes under valgrind */
            size_t rows_list[] = {1, 3, cols >= 32000 || (cols >= 1000 && nkl_test_quick()) ? 4 : 64};
            for (int ri = 0; ri < 3; ri++, n++) {
                size_t rows = rows_list[ri];
                size_t ss = cols + (size_t)(n % 3), ts = cols + (size_t)(n % 5 == 0 ? 7 : 0);
                size_t sz = (size_t)bits / 8;
                void *s = malloc(rows * ss * sz + 8), *u = malloc(rows * ts * sz + 8), *w = malloc(rows * sz + 8);
                int log_probs = n % 4 == 3;
                double scale = n % 7 == 0 ? 30 : 3;
                fill(bits, s, rows, cols, ss, scale, 0, &rng);
                fill(bits, u, rows, cols, ts, scale, log_probs, &rng);
                for (size_t r = 0; r < rows; r++) put(bits, w, r, (r % 3 == 1) ? 0 : 0.5 + rng_uniform(&rng));
                call c = {bits, {rows, cols, ss, ts, temps[n % 6], NKL_REDUCTION_NONE, 0}, s, u, NULL};
                if (log_probs) c.d.flags |= NKL_TEACHER_LOG_PROBS_AS_GIVEN;
                if (n % 2) c.d.flags |= NKL_MULTIPLY_LOSS_BY_T2;
                char what[160];
                for (int red = 0; red <= 3; red++) {
                    c.d.reduction = red;
                    c.w = (red + n) % 2 ? w : NULL;
                    snprintf(what, sizeof what, "f%d %zux%zu T=%g lp=%d red=%d w=%d", bits, rows, cols,
                             c.d.temperature, log_probs, red, c.w != NULL);
                    check_against_reference(&c, what);
                }
                free(s); free(u); free(w);
            }
        }
    }
}

/* -------------------------------------------------------- golden (PyTorch) */

static void golden_cases(void) {
    for (int i = 0; i < NKLG_DISTILL_COUNT; i++) {
        const nklg_distill *g = &nklg_distill_cases[i];
        size_t n = g->rows * g->cols, sz = (size_t)g->bits / 8;
        call c = {g->bits, {g->rows, g->cols, g->cols, g->cols, g->temperature, NKL_REDUCTION_BATCHMEAN,
                            NKL_MULTIPLY_LOSS_BY_T2}, g->student, g->teacher, NULL};
        void *v = calloc(1, 8), *gs = calloc(n, sz), *gu = calloc(n, sz);
        CHECK_OK(run(&c, v, 1.0, gs, g->cols, gu, g->cols, 1));
        double eps = g->bits == 32 ? 0x1p-23 : 0x1p-52;
        double got = get(g->bits, v, 0);
        CHECK(fabs(got - g->loss) <= 16 * eps * (1 + fabs(g->loss)), "%s: loss %.9g, PyTorch %.9g", g->name,
              got, g->loss);
        ld a[16], b[16], lq[16], lp[16];
        for (size_t r = 0; r < g->rows; r++) {
            for (size_t j = 0; j < g->cols; j++) {
                a[j] = get(g->bits, g->student, r * g->cols + j) / g->temperature;
                b[j] = get(g->bits, g->teacher, r * g->cols + j) / g->temperature;
            }
            ref_row st = ref_row_stats(a, b, g->cols, 0, lq, lp);
            /* compare-and-assign, not fmax: GCC 12.2 for aarch64 stops with an
               internal compiler error on this fmax loop at -O3 (same result:
               both skip a NaN) */
            double big_s = 0, big_u = 0;
            for (size_t j = 0; j < g->cols; j++) {
                double as = fabs(get(g->bits, g->grad_student, r * g->cols + j));
                double au = fabs(get(g->bits, g->grad_teacher, r * g->cols + j));
                if (as > big_s) big_s = as;
                if (au > big_u) big_u = au;
            }
            for (size_t j = 0; j < g->cols; j++) {
                size_t e = r * g->cols + j;
                double ws = get(g->bits, g->grad_student, e), wu = get(g->bits, g->grad_teacher, e);
                CHECK(fabs(get(g->bits, gs, e) - ws) <= 32 * eps * big_s, "%s: grad_student[%zu] %.9g, PyTorch %.9g",
                      g->name, e, get(g->bits, gs, e), ws);
                /* the factor (log p - log q - KL) cancels: its terms' size counts */
                double scale = (double)(expl(lp[j]) * (1 + fabsl(lp[j]) + fabsl(lq[j]) + fabsl(st.kl)));
                scale *= g->temperature / (double)g->rows;
                CHECK(fabs(get(g->bits, gu, e) - wu) <= 32 * eps * (big_u + scale), "%s: grad_teacher[%zu] %.17g, PyTorch %.17g (max %.3g)",
                      g->name, e, get(g->bits, gu, e), wu, big_u);
            }
        }
        free(v); free(gs); free(gu);
    }
}

/* ------------------------------------------------- extreme and masked logits */

static void extreme_cases(void) {
    nkl_rng rng = {7};
    for (int bits = 32; bits <= 64; bits += 32) {
        size_t sz = (size_t)bits / 8;
        for (int si = 0; si < 3; si++) {
            double scale = si == 0 ? 100 : si == 1 ? 1000 : 3e4;
            for (size_t cols = 5; cols <= 1000; cols = cols * 7 + 3) {
                size_t rows = 4;
                void *s = malloc(rows * cols * sz), *u = malloc(rows * cols * sz);
                fill(bits, s, rows, cols, cols, scale, 0, &rng);
                fill(bits, u, rows, cols, cols, scale, 0, &rng);
                call c = {bits, {rows, cols, cols, cols, 2, NKL_REDUCTION_NONE, 0}, s, u, NULL};
                char what[96];
                snprintf(what, sizeof what, "f%d extreme x%g %zux%zu", bits, scale, rows, cols);
                check_against_reference(&c, what);
                void *v = calloc(rows, sz);
                CHECK_OK(run(&c, v, 0, NULL, 0, NULL, 0, 0));
                for (size_t r = 0; r < rows; r++)
                    CHECK(isfinite(get(bits, v, r)) && get(bits, v, r) >= -1e-3 * scale,
                          "%s: row %zu not finite: %g", what, r, get(bits, v, r));
                /* identical student and teacher shifted by a large constant: KL = 0 */
                for (size_t i = 0; i < rows * cols; i++) put(bits, u, i, get(bits, s, i) + 1024);
                CHECK_OK(run(&c, v, 0, NULL, 0, NULL, 0, 0));
                for (size_t r = 0; r < rows; r++)
                    CHECK(fabs(get(bits, v, r)) <= 64 * (bits == 32 ? 0x1p-23 : 0x1p-52) * (1 + log((double)cols)),
                          "%s: shifted copy: KL %g, not ~0", what, get(bits, v, r));
                free(s); free(u); free(v);
            }
        }
    }
}

/* Masked classes (-inf logits) give the KL of the remaining classes. */
static void masked_cases(void) {
    nkl_rng rng = {9};
    for (int bits = 32; bits <= 64; bits += 32) {
        size_t sz = (size_t)bits / 8;
        for (size_t cols = 2; cols <= 300; cols += 37) {
            void *s = malloc(cols * sz), *u = malloc(cols * sz), *s2 = malloc(cols * sz), *u2 = malloc(cols * sz);
            fill(bits, s, 1, cols, cols, 3, 0, &rng);
            fill(bits, u, 1, cols, cols, 3, 0, &rng);
            size_t kept = 0;
            for (size_t j = 0; j < cols; j++) {
                if (j % 3 == 1) { /* masked in both */
                    put(bits, s, j, -INFINITY);
                    put(bits, u, j, -INFINITY);
                } else if (j % 5 == 2) { /* masked in the teacher only: q > 0, p = 0 */
                    put(bits, u, j, -INFINITY);
                    put(bits, s2, kept, get(bits, s, j));
                    put(bits, u2, kept++, -INFINITY);
                } else {
                    put(bits, s2, kept, get(bits, s, j));
                    put(bits, u2, kept++, get(bits, u, j));
                }
            }
            call c = {bits, {1, cols, cols, cols, 1.5, NKL_REDUCTION_SUM, 0}, s, u, NULL};
            call c2 = {bits, {1, kept, kept, kept, 1.5, NKL_REDUCTION_SUM, 0}, s2, u2, NULL};
            double v[2] = {0, 0}, v2[2] = {0, 0};
            char what[64];
            snprintf(what, sizeof what, "f%d masked cols=%zu", bits, cols);
            check_against_reference(&c, what);
            CHECK_OK(run(&c, v, 0, NULL, 0, NULL, 0, 0));
            CHECK_OK(run(&c2, v2, 0, NULL, 0, NULL, 0, 0));
            double a = get(bits, v, 0), b = get(bits, v2, 0);
            CHECK(isfinite(a) && fabs(a - b) <= 1e-4 * (1 + fabs(b)), "%s: %g, without the masked classes %g", what, a, b);
            free(s); free(u); free(s2); free(u2);
        }
    }
}

/* Special rows: NaN / +inf logits, all -inf, -inf student where p > 0, cols 0, no kept rows. */
static void special_cases(void) {
    float s[4] = {1, 2, 3, 4}, u[4] = {4, 3, 2, 1}, v[4];
    nkl_distill_desc d = {1, 4, 4, 4, 1, NKL_REDUCTION_SUM, 0};
    float sv[4];
    memcpy(sv, s, sizeof s);
    sv[2] = NAN;
    CHECK_OK(nkl_distill_f32(&d, sv, u, NULL, v));
    CHECK(canon_nan_f32(v[0]), "NaN student logit: %g", v[0]);
    sv[2] = INFINITY;
    CHECK_OK(nkl_distill_f32(&d, sv, u, NULL, v));
    CHECK(canon_nan_f32(v[0]), "+inf student logit: %g", v[0]);
    CHECK_OK(nkl_distill_f32(&d, s, sv, NULL, v));
    CHECK(canon_nan_f32(v[0]), "+inf teacher logit: %g", v[0]);
    float ninf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    CHECK_OK(nkl_distill_f32(&d, ninf, u, NULL, v));
    CHECK(canon_nan_f32(v[0]), "all -inf student: %g", v[0]);
    CHECK_OK(nkl_distill_f32(&d, s, ninf, NULL, v));
    CHECK(canon_nan_f32(v[0]), "all -inf teacher: %g", v[0]);
    sv[2] = -INFINITY;
    CHECK_OK(nkl_distill_f32(&d, sv, u, NULL, v));
    CHECK(v[0] == INFINITY, "-inf student where p > 0: %g", v[0]);
    d.cols = 0;
    CHECK_OK(nkl_distill_f32(&d, s, u, NULL, v));
    CHECK(v[0] == 0, "cols 0, sum: %g", v[0]);
    d.reduction = NKL_REDUCTION_MEAN;
    CHECK_OK(nkl_distill_f32(&d, s, u, NULL, v));
    CHECK(canon_nan_f32(v[0]), "cols 0, mean: %g", v[0]);
    d.cols = 4;
    d.reduction = NKL_REDUCTION_BATCHMEAN;
    float w0 = 0;
    CHECK_OK(nkl_distill_f32(&d, s, u, &w0, v));
    CHECK(canon_nan_f32(v[0]), "no kept row, batchmean: %g", v[0]);
    d.reduction = NKL_REDUCTION_SUM;
    float nan_row[4] = {NAN, NAN, NAN, NAN};
    CHECK_OK(nkl_distill_f32(&d, nan_row, nan_row, &w0, v));
    CHECK(v[0] == 0 && !signbit(v[0]), "ignored NaN row: %g", v[0]);
    /* identical rows: KL 0 up to rounding, never far below */
    CHECK_OK(nkl_distill_f32(&d, s, s, NULL, v));
    CHECK(fabsf(v[0]) <= 1e-6f, "identical rows: %g", v[0]);
    /* teacher log-probabilities with a -inf class contribute 0 there */
    float lp[4] = {logf(0.5f), -INFINITY, logf(0.25f), logf(0.25f)};
    d.flags = NKL_TEACHER_LOG_PROBS_AS_GIVEN;
    CHECK_OK(nkl_distill_f32(&d, s, lp, NULL, v));
    CHECK(isfinite(v[0]), "log-probs with -inf: %g", v[0]);
}

/*
 * A student logit of -inf where the teacher's probability underflows to 0:
 * PyTorch's composite gives NaN (its pointwise kl_div is xlogy(p, p) - p *
 * log q = 0 - 0 * -inf; log_target: exp(l) (l - log q) = 0 * inf), wherever
 * the class lies relative to the teacher's large logit, so every position
 * must give NaN on every ISA (the value pass once gave 0 where the large
 * logit came first in the class's lane and block, NaN elsewhere). A teacher
 * logit of -inf there masks the class in both: the KL of the others.
 */
static void student_neg_inf_where_p_underflows(void) {
    nkl_isa isas[2] = {NKL_ISA_SCALAR, NKL_ISA_AVX2};
    for (int bits = 32; bits <= 64; bits += 32) {
        size_t sz = (size_t)bits / 8;
        for (size_t cols = 33; cols <= 70; cols += 37) {
            void *s = malloc(cols * sz), *u = malloc(cols * sz), *v = malloc(sz);
            for (int lp = 0; lp < 2; lp++) {
                size_t bigs[3] = {0, cols / 2, cols - 1};
                for (int bi = 0; bi < 3; bi++) {
                    for (size_t c = 0; c < cols; c++) {
                        if (c == bigs[bi]) continue;
                        for (int masked = 0; masked < 2; masked++) {
                            for (size_t i = 0; i < cols; i++) {
                                put(bits, s, i, 0);
                                /* logits: 1000 above the rest, whose p is e^-1000 = 0; log-probs: log 1
                                   and -1000 */
                                put(bits, u, i, i == bigs[bi] ? (lp ? 0 : 1000) : (lp ? -1000 : 0));
                            }
                            put(bits, s, c, -INFINITY);
                            if (masked) put(bits, u, c, -INFINITY);
                            for (int k = 0; k < 2; k++) {
                                if (!nkl_isa_supported(isas[k])) continue;
                                call cl = {bits, {1, cols, cols, cols, 1, NKL_REDUCTION_SUM,
                                                  (lp ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0) |
                                                      (k ? NKL_FORCE_AVX2 : NKL_FORCE_SCALAR)},
                                           s, u, NULL};
                                CHECK_OK(run(&cl, v, 0, NULL, 0, NULL, 0, 0));
                                double got = get(bits, v, 0);
                                /* masked: only the large logit's class has p = 1; log q = -log(cols - 1)
                                   there (logits) */
                                double want = log((double)(cols - 1));
                                if (masked)
                                    CHECK(fabs(got - want) <= 1e-5 * want,
                                          "f%d %s %s cols %zu: large teacher at %zu, masked in both at %zu: %g, want %g",
                                          bits, lp ? "log-probs" : "logits", nkl_isa_name(isas[k]), cols, bigs[bi], c,
                                          got, want);
                                else
                                    CHECK(canon_nan_of(bits, got),
                                          "f%d %s %s cols %zu: large teacher at %zu, student -inf at %zu: %g, PyTorch "
                                          "NaN (0 * -inf)",
                                          bits, lp ? "log-probs" : "logits", nkl_isa_name(isas[k]), cols, bigs[bi], c,
                                          got);
                            }
                        }
                    }
                }
            }
            free(s); free(u); free(v);
        }
    }
}

/* ------------------------------------------------------ finite differences */

static double loss64(nkl_distill_desc *d, const double *s, const double *u, const double *w) {
    double v;
    nkl_distill_desc one = *d;
    CHECK_OK(nkl_distill_f64(&one, s, u, w, &v));
    return v;
}

static void finite_differences(void) {
    nkl_rng rng = {11};
    for (int mode = 0; mode < 4; mode++) {
        size_t rows = 3, cols = 11;
        double s[33], u[33], w[3] = {1, 0.5, 2}, gs[33], gu[33], v;
        fill(64, s, rows, cols, cols, 2, 0, &rng);
        fill(64, u, rows, cols, cols, 2, mode & 1, &rng);
        nkl_distill_desc d = {rows, cols, cols, cols, mode & 2 ? 2.5 : 1, NKL_REDUCTION_BATCHMEAN,
                              (mode & 1 ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0) | NKL_MULTIPLY_LOSS_BY_T2};
        CHECK_OK(nkl_distill_backward_f64(&d, s, u, w, 1.0, &v, gs, cols, gu, cols));
        for (size_t i = 0; i < rows * cols; i++) {
            for (int which = 0; which < 2; which++) {
                double *x = which ? u : s, keep = x[i], h = 1e-5 * fmax(1, fabs(keep));
                x[i] = keep + h;
                double fp = loss64(&d, s, u, w);
                x[i] = keep - h;
                double fm = loss64(&d, s, u, w);
                x[i] = keep;
                double fd = (fp - fm) / (2 * h), an = which ? gu[i] : gs[i];
                CHECK(fabs(fd - an) <= 1e-7 * (1 + fabs(an)), "finite difference mode %d d/d%s[%zu]: %.12g, analytic %.12g",
                      mode, which ? "teacher" : "student", i, fd, an);
            }
        }
    }
}

/* ---------------------------------------------- scalar == AVX2, NEON */

static void bitwise_paths(void) {
    nkl_isa vec = nkl_test_vector_isa(); /* AVX2 or NEON */
    if (vec == NKL_ISA_AUTO) return;
    nkl_rng rng = {5};
    for (int bits = 32; bits <= 64; bits += 32) {
        size_t sz = (size_t)bits / 8;
        for (size_t cols = 0; cols <= 140; cols += (cols < 40 ? 1 : 13)) {
            for (int variant = 0; variant < 6; variant++) {
                size_t rows = 3, off = (size_t)variant % 3, n = rows * cols + off;
                /* misaligned by off elements, ending at a no-access page */
                nkl_guard gsb = guard_alloc(n * sz), gub = guard_alloc(n * sz);
                char *s = (char *)gsb.ptr + off * sz, *u = (char *)gub.ptr + off * sz;
                fill(bits, s, rows, cols, cols, variant == 5 ? 300 : 3, variant == 4, &rng);
                fill(bits, u, rows, cols, cols, variant == 5 ? 300 : 3, variant == 4, &rng);
                for (size_t i = 0; i < rows * cols; i++) { /* sprinkle specials */
                    uint64_t z = rng_next(&rng) % 41;
                    if (z == 0) put(bits, u, i, -INFINITY);
                    if (z == 1) put(bits, s, i, -INFINITY);
                    if (z == 2 && variant == 3) put(bits, s, i, NAN);
                    /* NaNs whose payload has low bits set (float32: 0x7fc001a5): a
                       fast path that let a NaN through to integer exponent
                       arithmetic would turn them into numbers */
                    if (z == 4 && variant == 3) put(bits, s, i, payload_nan());
                    if (z == 5 && variant == 3) put(bits, u, i, payload_nan());
                    if (z == 3) put(bits, u, i, (double)(rng_next(&rng) % 2 ? 80 : -80));
                }
                nkl_distill_desc d = {rows, cols, cols, cols, variant == 2 ? 0.7 : 1.3, NKL_REDUCTION_NONE,
                                      (variant == 4 ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0)};
                for (int red = 0; red <= 3; red++) {
                    d.reduction = red;
                    double vals[2][4], gsv[2][512], guv[2][512];
                    for (int p = 0; p < 2; p++) {
                        nkl_distill_desc dp = d;
                        dp.flags |= p ? force_flag(vec) : NKL_FORCE_SCALAR;
                        call c = {bits, dp, s, u, NULL};
                        void *v = calloc(rows + 1, sz), *gs = calloc(n + 1, sz), *gu = calloc(n + 1, sz);
                        CHECK_OK(run(&c, v, 0.5, gs, cols, gu, cols, 1));
                        for (size_t i = 0; i < rows; i++) vals[p][i] = get(bits, v, i);
                        for (size_t i = 0; i < rows * cols; i++) {
                            gsv[p][i] = get(bits, gs, i);
                            guv[p][i] = get(bits, gu, i);
                        }
                        free(v); free(gs); free(gu);
                    }
                    size_t nv = red == NKL_REDUCTION_NONE ? rows : 1;
                    for (size_t i = 0; i < nv; i++)
                        CHECK(same(bits, vals[0][i], vals[1][i]), "f%d cols %zu variant %d red %d: value %zu: %a vs %a",
                              bits, cols, variant, red, i, vals[0][i], vals[1][i]);
                    for (size_t i = 0; i < rows * cols; i++) {
                        CHECK(same(bits, gsv[0][i], gsv[1][i]), "f%d cols %zu variant %d: grad_student %zu: %a vs %a",
                              bits, cols, variant, i, gsv[0][i], gsv[1][i]);
                        CHECK(same(bits, guv[0][i], guv[1][i]), "f%d cols %zu variant %d: grad_teacher %zu: %a vs %a",
                              bits, cols, variant, i, guv[0][i], guv[1][i]);
                    }
                }
                guard_free(gsb);
                guard_free(gub);
            }
        }
    }
}

/* One NaN logit (with payload bits) among clean ones, at every position of a
   block and in either stream: the vector fast paths' range checks (min/max
   trees, which can hide a NaN) must still give the scalar path's bits. */
static void nan_in_fast_path(void) {
    nkl_isa vec = nkl_test_vector_isa();
    if (vec == NKL_ISA_AUTO) return;
    nkl_rng rng = {9};
    for (int bits = 32; bits <= 64; bits += 32) {
        size_t sz = (size_t)bits / 8, cols = 96, rows = 2;
        for (int lp = 0; lp < 2; lp++) {
            for (size_t pos = 0; pos < 64; pos++) {
                for (int in_teacher = 0; in_teacher < 2; in_teacher++) {
                    void *s = malloc(rows * cols * sz), *u = malloc(rows * cols * sz);
                    fill(bits, s, rows, cols, cols, 3, 0, &rng);
                    fill(bits, u, rows, cols, cols, 3, lp, &rng);
                    put(bits, in_teacher ? u : s, cols + pos, payload_nan()); /* row 1 */
                    nkl_distill_desc d = {rows, cols, cols, cols, 1.3, NKL_REDUCTION_NONE, lp ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0};
                    double vals[2][2], g[2][2][2 * 96];
                    for (int p = 0; p < 2; p++) {
                        nkl_distill_desc dp = d;
                        dp.flags |= p ? force_flag(vec) : NKL_FORCE_SCALAR;
                        call c = {bits, dp, s, u, NULL};
                        void *v = calloc(rows, sz), *gs = calloc(rows * cols, sz), *gu = calloc(rows * cols, sz);
                        CHECK_OK(run(&c, v, 0.5, gs, cols, gu, cols, 1));
                        for (size_t i = 0; i < rows; i++) vals[p][i] = get(bits, v, i);
                        for (size_t i = 0; i < rows * cols; i++) {
                            g[p][0][i] = get(bits, gs, i);
                            g[p][1][i] = get(bits, gu, i);
                        }
                        free(v); free(gs); free(gu);
                    }
                    CHECK(canon_nan_of(bits, vals[1][1]), "f%d NaN at %zu: row loss %g", bits, pos, vals[1][1]);
                    for (size_t i = 0; i < rows; i++)
                        CHECK(same(bits, vals[0][i], vals[1][i]), "f%d lp %d NaN %s at %zu: value %zu: %a vs %a", bits, lp,
                              in_teacher ? "teacher" : "student", pos, i, vals[0][i], vals[1][i]);
                    for (int k = 0; k < 2; k++)
                        for (size_t i = 0; i < rows * cols; i++)
                            CHECK(same(bits, g[0][k][i], g[1][k][i]), "f%d lp %d NaN %s at %zu: grad_%s %zu: %a vs %a", bits,
                                  lp, in_teacher ? "teacher" : "student", pos, k ? "teacher" : "student", i, g[0][k][i],
                                  g[1][k][i]);
                    free(s);
                    free(u);
                }
            }
        }
    }
}

/* The gradient pass's exp2 arguments swept across the edges of the vector
   fast paths (AVX2: k = round(x) in [-125, 2]; the exps' own range, [-125,
   127] and beyond) in steps of 1/64, through both teacher forms: float32
   log-probabilities l give lp = l log2(e) in [-130, 130], teacher logits
   lp in [-130, 0]; the student's lq crosses -125.5 too. Every vector path
   must give the scalar path's bits. */
static void grad_range_edges(void) {
    nkl_isa vec = nkl_test_vector_isa();
    if (vec == NKL_ISA_AUTO) return;
    enum { COLS = 40, ROWS = 2 * 260 * 64 / COLS };
    size_t n = (size_t)ROWS * COLS;
    float *s = malloc(n * sizeof *s), *u = malloc(n * sizeof *u), *g[2][2];
    CHECK(s && u, "out of memory");
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 2; k++) g[p][k] = malloc(n * sizeof(float));
    for (int lp = 0; lp < 2; lp++) {
        for (size_t i = 0; i < n; i++) {
            size_t r = i / COLS, c = i % COLS;
            double x = -130.0 + (double)(i % (260 * 64)) / 64.0; /* the exp2 argument */
            /* logits: column 0 holds the row's maximum, 0, so that lp of the
               others is near x (which is then <= 0) */
            u[i] = lp ? (float)(x / NKL_LOG2E_F64) : c == 0 ? 0.0f : (float)(-fabs(x) / NKL_LOG2E_F64);
            /* the student's column 0 at 20, 53.75 or 87.5, the others in [0, 3]:
               lq of the others near -27, -75 and across -125.5 (-126 to -122) */
            s[i] = c == 0 ? (float)(20.0 + 33.75 * (double)(r % 3)) : (float)((double)(i % 7) * 0.5);
        }
        nkl_distill_desc d = {ROWS, COLS, COLS, COLS, 1.0, NKL_REDUCTION_SUM, lp ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0};
        float v[2];
        for (int p = 0; p < 2; p++) {
            d.flags = (lp ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0) | (p ? force_flag(vec) : NKL_FORCE_SCALAR);
            CHECK_OK(nkl_distill_backward_f32(&d, s, u, NULL, 1.0f, &v[p], g[p][0], COLS, g[p][1], COLS));
        }
        /* without grad_teacher: the same grad_student (the vector loops skip its stores) */
        d.flags = (lp ? NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0) | force_flag(vec);
        CHECK_OK(nkl_distill_backward_f32(&d, s, u, NULL, 1.0f, &v[1], g[1][1], COLS, NULL, 0));
        for (size_t i = 0; i < n; i++)
            CHECK(same(32, g[1][0][i], g[1][1][i]), "lp %d: grad_student %zu without grad_teacher: %a vs %a", lp, i,
                  g[1][0][i], g[1][1][i]);
        CHECK_OK(nkl_distill_backward_f32(&d, s, u, NULL, 1.0f, &v[1], g[1][0], COLS, g[1][1], COLS));
        CHECK(same(32, v[0], v[1]), "lp %d: value %a vs %a", lp, v[0], v[1]);
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < n; i++)
                CHECK(same(32, g[0][k][i], g[1][k][i]), "lp %d: grad_%s %zu (x %g): %a vs %a", lp,
                      k ? "teacher" : "student", i, -130.0 + (double)(i % (260 * 64)) / 64.0, g[0][k][i], g[1][k][i]);
    }
    free(s); free(u);
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 2; k++) free(g[p][k]);
}

/* The row statistics the value pass leaves (float64, before any rounding to
   the data type) agree bit for bit between the kernels: a difference in the
   lanes' fold order would rarely show in a float32 output. The folds run in
   groups of rows (AVX2: four at a time, NEON: two, one per vector lane, and the rest
   one by one), so every group size 1..9 is compared. */
static void row_statistics_bitwise(void) {
    if (nkl_test_vector_isa() == NKL_ISA_AUTO) return;
    const nkl_kernels *sk = nkl_kernels_for_isa(NKL_ISA_SCALAR), *vk = nkl_kernels_for_isa(nkl_test_vector_isa());
    nkl_rng rng = {13};
    static float sf[1100], uf[1100];
    static double sd[1100], ud[1100];
    enum { RING = 9 }; /* the finish takes groups of rows: every group size 1..9 */
    for (int bits = 32; bits <= 64; bits += 32) {
        for (int lp = 0; lp < 2; lp++) {
            nkl_distill_lanes a[RING], b[RING], fa[RING], fb[RING];
            size_t n = 0;
            for (size_t cols = 1; cols <= 1100; cols += (cols < 70 ? 1 : 97)) {
                fill(bits, bits == 32 ? (void *)sf : (void *)sd, 1, cols, cols, 3, 0, &rng);
                fill(bits, bits == 32 ? (void *)uf : (void *)ud, 1, cols, cols, 3, lp, &rng);
                size_t slot = n % RING;
                if (bits == 32) {
                    sk->distill_lanes_f32(sf, uf, cols, 0.7f, lp, &a[slot]);
                    vk->distill_lanes_f32(sf, uf, cols, 0.7f, lp, &b[slot]);
                } else {
                    sk->distill_lanes_f64(sd, ud, cols, 0.7, lp, &a[slot]);
                    vk->distill_lanes_f64(sd, ud, cols, 0.7, lp, &b[slot]);
                }
                n++;
                size_t g = n < RING ? n : (n % RING) + 1; /* group sizes cycle through 1..9 */
                memcpy(fa, a, sizeof a);
                memcpy(fb, b, sizeof b);
                int lanes = bits == 32 ? 8 : 4, base2 = bits == 32;
                sk->distill_finish(fa, g, lanes, lp, base2);
                vk->distill_finish(fb, g, lanes, lp, base2);
                for (size_t i = 0; i < g; i++) {
                    double x[6] = {fa[i].row.student_max, fa[i].row.student_log_sum, fa[i].row.teacher_max, fa[i].row.teacher_log_sum, fa[i].row.teacher_mass, fa[i].row.kl};
                    double y[6] = {fb[i].row.student_max, fb[i].row.student_log_sum, fb[i].row.teacher_max, fb[i].row.teacher_log_sum, fb[i].row.teacher_mass, fb[i].row.kl};
                    for (int f = 0; f < 6; f++)
                        CHECK(same_f64(x[f], y[f]), "f%d cols %zu lp %d group %zu row %zu: row statistic %d: %a vs %a",
                              bits, cols, lp, g, i, f, x[f], y[f]);
                }
            }
        }
    }
}

/* ------------------------------------------------------ argument checks */

static void bad_arguments(void) {
    float s[12] = {0}, u[12] = {0}, w[3] = {1, 1, 1}, out[4] = {7, 7, 7, 7}, gs[12], gu[12];
    nkl_distill_desc ok = {3, 4, 4, 4, 2, NKL_REDUCTION_SUM, 0}, d;
#define EXPECT(status, expr)                                                              \
    do {                                                                                  \
        out[0] = 7;                                                                       \
        nkl_status st_ = (expr);                                                          \
        CHECK(st_ == (status), "%s -> %d, expected %d", #expr, (int)st_, (int)(status));  \
        CHECK(out[0] == 7, "%s wrote its output", #expr);                                 \
    } while (0)
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_f32(NULL, s, u, NULL, out));
    d = ok; EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_f32(&d, NULL, u, NULL, out));
    d = ok; EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_f32(&d, s, NULL, NULL, out));
    d = ok; EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_f32(&d, s, u, NULL, NULL));
    d = ok; EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, NULL, 4, NULL, 0));
    d = ok; d.flags = NKL_LOG_TARGET; EXPECT(NKL_ERROR_INVALID_FLAGS, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.flags = 0x80; EXPECT(NKL_ERROR_INVALID_FLAGS, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.flags = NKL_FORCE_SCALAR | NKL_FORCE_AVX2; EXPECT(NKL_ERROR_INVALID_FLAGS, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.reduction = 4; EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.reduction = -1; EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_distill_f32(&d, s, u, NULL, out));
    double bad_t[] = {0, -1, NAN, INFINITY, -INFINITY, 1e-320, 1e-45};
    for (size_t i = 0; i < sizeof bad_t / sizeof *bad_t; i++) {
        d = ok; d.temperature = bad_t[i];
        EXPECT(NKL_ERROR_INVALID_TEMPERATURE, nkl_distill_f32(&d, s, u, NULL, out));
    }
    d = ok; d.temperature = 1e-300; /* fine in float64, 1/T overflows float */
    EXPECT(NKL_ERROR_INVALID_TEMPERATURE, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.student_stride = 3; EXPECT(NKL_ERROR_INVALID_STRIDE, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.teacher_stride = 0; EXPECT(NKL_ERROR_INVALID_STRIDE, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; EXPECT(NKL_ERROR_INVALID_STRIDE, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, gs, 3, NULL, 0));
    d = ok; EXPECT(NKL_ERROR_INVALID_STRIDE, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, gs, 4, gu, 2));
    d = ok; d.rows = SIZE_MAX / 2; EXPECT(NKL_ERROR_SIZE_OVERFLOW, nkl_distill_f32(&d, s, u, NULL, out));
    d = ok; d.cols = SIZE_MAX / 2; d.student_stride = d.teacher_stride = d.cols;
    EXPECT(NKL_ERROR_SIZE_OVERFLOW, nkl_distill_f32(&d, s, u, NULL, out));
    float bad_w[][3] = {{1, -1, 1}, {1, NAN, 1}, {INFINITY, 1, 1}};
    for (int i = 0; i < 3; i++) {
        d = ok;
        EXPECT(NKL_ERROR_INVALID_WEIGHT, nkl_distill_f32(&d, s, u, bad_w[i], out));
    }
    /* one loss per row comes from the rows entry points only, so that out and
       value always hold one value */
    d = ok; d.reduction = NKL_REDUCTION_NONE;
    EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_distill_f32(&d, s, u, NULL, out));
    EXPECT(NKL_ERROR_INVALID_REDUCTION, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, gs, 4, NULL, 0));
    double out64 = 7, s64[12] = {0}, u64[12] = {0};
    CHECK(nkl_distill_f64(&d, s64, u64, NULL, &out64) == NKL_ERROR_INVALID_REDUCTION && out64 == 7,
          "nkl_distill_f64 with NONE");
    /* the rows entry points do not read the reduction */
    for (int32_t r = -1; r <= 4; r++) {
        d = ok; d.reduction = r;
        float rl[3] = {7, 7, 7};
        CHECK_OK(nkl_distill_rows_f32(&d, s, u, NULL, rl));
        CHECK(rl[0] == 0 && rl[1] == 0 && rl[2] == 0, "rows, reduction %d: %g %g %g", (int)r, rl[0], rl[1], rl[2]);
        CHECK_OK(nkl_distill_rows_backward_f32(&d, s, u, NULL, 1, rl, gs, 4, NULL, 0));
    }
    d = ok;
    EXPECT(NKL_ERROR_NULL_POINTER, nkl_distill_rows_f32(&d, s, u, NULL, NULL));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_rows_f32(&d, s, u, NULL, s + 2));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_rows_f32(&d, s, u, w, w));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_rows_backward_f32(&d, s, u, NULL, 1, gs + 9, gs, 4, NULL, 0));
    d = ok;
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, u, 4, NULL, 0));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, gs, 4, gs + 1, 4));
    EXPECT(NKL_ERROR_OVERLAP, nkl_distill_backward_f32(&d, s, u, NULL, 1, gs + 11, gs, 4, NULL, 0));
    /* nothing written to the gradients on error either */
    for (int i = 0; i < 12; i++) gs[i] = 7;
    d = ok; d.temperature = 0;
    EXPECT(NKL_ERROR_INVALID_TEMPERATURE, nkl_distill_backward_f32(&d, s, u, NULL, 1, out, gs, 4, NULL, 0));
    int untouched = 1;
    for (int i = 0; i < 12; i++) untouched &= gs[i] == 7;
    CHECK(untouched, "gradients written on error");
    /* empty shapes are fine with NULL arrays */
    d = ok; d.rows = 0; CHECK_OK(nkl_distill_f32(&d, NULL, NULL, NULL, out));
    CHECK(out[0] == 0, "no rows, sum: %g", out[0]);
    d = ok; d.rows = 0; CHECK_OK(nkl_distill_backward_f32(&d, NULL, NULL, NULL, 1, NULL, NULL, 4, NULL, 0));
#undef EXPECT
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    bad_arguments();
    special_cases();
    student_neg_inf_where_p_underflows();
    golden_cases();
    finite_differences();
    masked_cases();
    extreme_cases();
    random_cases();
    bitwise_paths();
    nan_in_fast_path();
    grad_range_edges();
    row_statistics_bitwise();
    return nkl_test_finish("test_distill");
}
