/*
 * bench_distill.c - nkl_distill_f32 / nkl_distill_backward_f32 against a
 * plain-C composite of the same computation (log_softmax, softmax, then the
 * kl_div sum, as three passes with libm expf/logf and temporaries: what the
 * PyTorch composite does without its dispatch overhead), measured in the same
 * run, interleaved. Single thread, float32, teacher logits, T = 2, batchmean
 * with T^2. Reports ns per call (median of rounds) and per element.
 *
 * Usage: bench_distill [--quick]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nativekl.h"
#include "nkl_clock.h"

static double now_s(void) { return nkl_now_s(); }

static volatile float g_sink;

typedef struct job {
    size_t rows, cols;
    const float *s, *u;
    float *gs, *gu, *tmp_a, *tmp_b;
    uint32_t force;
} job;

static void lib_fwd(const job *j) {
    nkl_distill_desc d = {j->rows, j->cols, j->cols, j->cols, 2.0, NKL_REDUCTION_BATCHMEAN, NKL_MULTIPLY_LOSS_BY_T2 | j->force};
    float v;
    nkl_distill_f32(&d, j->s, j->u, NULL, &v);
    g_sink = v;
}

static void lib_bwd(const job *j) {
    nkl_distill_desc d = {j->rows, j->cols, j->cols, j->cols, 2.0, NKL_REDUCTION_BATCHMEAN, NKL_MULTIPLY_LOSS_BY_T2 | j->force};
    float v;
    nkl_distill_backward_f32(&d, j->s, j->u, NULL, 1.0f, &v, j->gs, j->cols, j->gu, j->cols);
    g_sink = v;
}

/* log_softmax(s/T) into a, softmax(u/T) into b, then sum b (log b - a): three passes */
static void composite_fwd(const job *j) {
    double total = 0;
    for (size_t r = 0; r < j->rows; r++) {
        const float *s = j->s + r * j->cols, *u = j->u + r * j->cols;
        float *a = j->tmp_a + r * j->cols, *b = j->tmp_b + r * j->cols;
        float ms = -INFINITY, mu = -INFINITY, zs = 0, zu = 0;
        for (size_t c = 0; c < j->cols; c++) {
            if (s[c] * 0.5f > ms) ms = s[c] * 0.5f;
            if (u[c] * 0.5f > mu) mu = u[c] * 0.5f;
        }
        for (size_t c = 0; c < j->cols; c++) {
            zs += expf(s[c] * 0.5f - ms);
            zu += expf(u[c] * 0.5f - mu);
        }
        float ls = logf(zs);
        for (size_t c = 0; c < j->cols; c++) {
            a[c] = s[c] * 0.5f - ms - ls;
            b[c] = expf(u[c] * 0.5f - mu) / zu;
        }
        for (size_t c = 0; c < j->cols; c++)
            if (b[c] > 0) total += b[c] * (logf(b[c]) - a[c]);
    }
    g_sink = (float)(total / (double)j->rows * 4.0);
}

static double time_call(void (*fn)(const job *), const job *j, double min_s) {
    size_t reps = 1;
    for (;;) {
        double t0 = now_s();
        for (size_t i = 0; i < reps; i++) fn(j);
        double dt = now_s() - t0;
        if (dt >= min_s) return dt / (double)reps;
        reps *= 2;
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    static const size_t shapes[][2] = {{1, 1}, {1, 1000}, {64, 1000}, {32, 32000}};
    int rounds = quick ? 3 : 9;
    double min_s = quick ? 0.01 : 0.05;
    printf("bench_distill: float32, T=2, batchmean*T^2, teacher logits, %d rounds (median), ns per call\n", rounds);
    printf("%-10s %12s %12s %12s %12s %12s %9s %9s\n", "shape", "composite", "fwd avx2", "fwd scalar",
           "fwd+bwd", "fwd ns/el", "comp/fwd", "comp/f+b");
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        size_t rows = shapes[k][0], cols = shapes[k][1], n = rows * cols;
        float *s = malloc(n * sizeof(float)), *u = malloc(n * sizeof(float));
        float *gs = malloc(n * sizeof(float)), *gu = malloc(n * sizeof(float));
        float *ta = malloc(n * sizeof(float)), *tb = malloc(n * sizeof(float));
        unsigned x = 12345;
        for (size_t i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            s[i] = 6.0f * ((float)(x >> 8) / 16777216.0f - 0.5f);
            x = x * 1664525u + 1013904223u;
            u[i] = 6.0f * ((float)(x >> 8) / 16777216.0f - 0.5f);
        }
        job j = {rows, cols, s, u, gs, gu, ta, tb, 0};
        job js = j;
        js.force = NKL_FORCE_SCALAR;
        double tc[16], tf[16], ts[16], tb2[16];
        for (int r = 0; r < rounds; r++) { /* interleaved: the machine's speed drifts */
            tc[r] = time_call(composite_fwd, &j, min_s);
            tf[r] = time_call(lib_fwd, &j, min_s);
            ts[r] = time_call(lib_fwd, &js, min_s);
            tb2[r] = time_call(lib_bwd, &j, min_s);
        }
        qsort(tc, (size_t)rounds, sizeof(double), cmp);
        qsort(tf, (size_t)rounds, sizeof(double), cmp);
        qsort(ts, (size_t)rounds, sizeof(double), cmp);
        qsort(tb2, (size_t)rounds, sizeof(double), cmp);
        double c = tc[rounds / 2] * 1e9, f = tf[rounds / 2] * 1e9, sc = ts[rounds / 2] * 1e9, b = tb2[rounds / 2] * 1e9;
        char name[32];
        snprintf(name, sizeof name, "[%zu,%zu]", rows, cols);
        printf("%-10s %12.0f %12.0f %12.0f %12.0f %12.3f %9.2f %9.2f\n", name, c, f, sc, b, f / (double)n, c / f,
               c / b);
        free(s); free(u); free(gs); free(gu); free(ta); free(tb);
    }
    return 0;
}
