/*
 * bench_ab.c - two builds of libnativekl timed against each other in one
 * process: the cost (or gain) of a change, as a ratio B/A per call.
 *
 * Both shared libraries are loaded with dlopen(RTLD_LOCAL), so their
 * identical symbol names do not clash, and each entry point of each is timed
 * in interleaved rounds (bench_kl's measure_set: A, B, A, B, ...; one timing
 * repeats the call until it lasts >= --min-ms), so that a slow phase of a
 * shared or virtualised machine hits both alike. The figure is the median
 * over rounds of the round's B/A ratio, with the median ns per element of
 * each; the fastest B over the fastest A is printed too (on a machine busy
 * with other work, the minima are the least disturbed figures). Every pair is also checked to return the same bits in every output,
 * so a ratio is never that of two different computations: a value that
 * differs fails the run; NaNs whose bits differ are reported apart (the
 * builds may disagree on the NaN pattern and nothing else).
 *
 * Calls (float32 and float64, on the active ISA and with NKL_FORCE_SCALAR):
 * kl_div with reduction none (a store per element) and sum, the backward with
 * reduction none (three stores per element: values, grad_input, grad_target)
 * and sum, and distillation's backward (two stores per element) and forward,
 * [rows, 1000] with T = 2. Data as bench_kl: rows of 1000 classes of
 * log_softmax / softmax with 10 masked classes per row (exact zero targets).
 *
 * Usage: bench_ab A.so B.so [--quick] [--n N[,N...]] [--reps K] [--min-ms X]
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nativekl.h"

#if defined(__GNUC__)
#  define CLOBBER() __asm__ volatile("" ::: "memory")
#else
#  define CLOBBER() ((void)0)
#endif

#define ROW 1000
#define MAX_REPS 64

/* ------------------------------------------------------------ the libraries */

typedef struct lib {
    const char *path;
    const char *(*status_string)(nkl_status);
    nkl_status (*kl_f32)(const float *, const float *, size_t, nkl_reduction, size_t, uint32_t, float *);
    nkl_status (*kl_f64)(const double *, const double *, size_t, nkl_reduction, size_t, uint32_t, double *);
    nkl_status (*pw_f32)(const float *, const float *, size_t, uint32_t, float *);
    nkl_status (*pw_f64)(const double *, const double *, size_t, uint32_t, double *);
    nkl_status (*pwbwd_f32)(const float *, const float *, size_t, uint32_t, float, float *, float *, float *);
    nkl_status (*pwbwd_f64)(const double *, const double *, size_t, uint32_t, double, double *, double *,
                            double *);
    nkl_status (*bwd_f32)(const float *, const float *, size_t, nkl_reduction, size_t, uint32_t, float, float *,
                          float *, float *);
    nkl_status (*bwd_f64)(const double *, const double *, size_t, nkl_reduction, size_t, uint32_t, double,
                          double *, double *, double *);
    nkl_status (*dist_f32)(const nkl_distill_desc *, const float *, const float *, const float *, float *);
    nkl_status (*dist_f64)(const nkl_distill_desc *, const double *, const double *, const double *, double *);
    nkl_status (*dbwd_f32)(const nkl_distill_desc *, const float *, const float *, const float *, float, float *,
                           float *, size_t, float *, size_t);
    nkl_status (*dbwd_f64)(const nkl_distill_desc *, const double *, const double *, const double *, double,
                           double *, double *, size_t, double *, size_t);
} lib;

static void *sym(void *h, const char *path, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "%s: no symbol %s\n", path, name);
        exit(2);
    }
    return p;
}

static lib load(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        exit(2);
    }
    lib l = {path, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    /* POSIX dlsym returns void *; the cast to a function pointer is the documented use */
    *(void **)&l.status_string = sym(h, path, "nkl_status_string");
    *(void **)&l.kl_f32 = sym(h, path, "nkl_kl_div_f32");
    *(void **)&l.kl_f64 = sym(h, path, "nkl_kl_div_f64");
    *(void **)&l.pw_f32 = sym(h, path, "nkl_kl_div_pointwise_f32");
    *(void **)&l.pw_f64 = sym(h, path, "nkl_kl_div_pointwise_f64");
    *(void **)&l.pwbwd_f32 = sym(h, path, "nkl_kl_div_pointwise_backward_f32");
    *(void **)&l.pwbwd_f64 = sym(h, path, "nkl_kl_div_pointwise_backward_f64");
    *(void **)&l.bwd_f32 = sym(h, path, "nkl_kl_div_backward_f32");
    *(void **)&l.bwd_f64 = sym(h, path, "nkl_kl_div_backward_f64");
    *(void **)&l.dist_f32 = sym(h, path, "nkl_distill_f32");
    *(void **)&l.dist_f64 = sym(h, path, "nkl_distill_f64");
    *(void **)&l.dbwd_f32 = sym(h, path, "nkl_distill_backward_f32");
    *(void **)&l.dbwd_f64 = sym(h, path, "nkl_distill_backward_f64");
    return l;
}

/* ------------------------------------------------------------------ calls */

enum { KL_NONE, KL_SUM, BWD_NONE, BWD_SUM, DIST_BWD, DIST_FWD, CALLS };
static const char *call_names[CALLS] = {"kl_div none", "kl_div sum", "backward none", "backward sum",
                                        "distill backward", "distill forward"};

typedef struct job {
    const lib *l;
    int call, f64;
    uint32_t force;
    size_t n;
    const void *x, *t;  /* kl: input, target; distill: student, teacher logits */
    void *o1, *o2, *o3; /* outputs, n each */
    double scalar_out;  /* a reduced value, for the bit check */
} job;

static void fail(const job *j, nkl_status st) {
    fprintf(stderr, "%s: %s failed: %s\n", j->l->path, call_names[j->call], j->l->status_string(st));
    exit(1);
}

static void run(job *j) {
    nkl_status st = NKL_OK;
    size_t n = j->n;
    nkl_distill_desc d = {n / ROW, ROW, ROW, ROW, 2.0, NKL_REDUCTION_BATCHMEAN, NKL_MULTIPLY_LOSS_BY_T2 | j->force};
    if (!j->f64) {
        const float *x = j->x, *t = j->t;
        float *o1 = j->o1, *o2 = j->o2, *o3 = j->o3, v = 0;
        switch (j->call) {
        case KL_NONE: st = j->l->pw_f32(x, t, n, j->force, o1); break;
        case KL_SUM: st = j->l->kl_f32(x, t, n, NKL_REDUCTION_SUM, 0, j->force, &v); break;
        case BWD_NONE: st = j->l->pwbwd_f32(x, t, n, j->force, 0.5f, o1, o2, o3); break;
        case BWD_SUM: st = j->l->bwd_f32(x, t, n, NKL_REDUCTION_SUM, 0, j->force, 0.5f, &v, o2, o3); break;
        case DIST_BWD: st = j->l->dbwd_f32(&d, x, t, NULL, 1.0f, &v, o2, ROW, o3, ROW); break;
        default: st = j->l->dist_f32(&d, x, t, NULL, &v); break;
        }
        j->scalar_out = v;
    } else {
        const double *x = j->x, *t = j->t;
        double *o1 = j->o1, *o2 = j->o2, *o3 = j->o3, v = 0;
        switch (j->call) {
        case KL_NONE: st = j->l->pw_f64(x, t, n, j->force, o1); break;
        case KL_SUM: st = j->l->kl_f64(x, t, n, NKL_REDUCTION_SUM, 0, j->force, &v); break;
        case BWD_NONE: st = j->l->pwbwd_f64(x, t, n, j->force, 0.5, o1, o2, o3); break;
        case BWD_SUM: st = j->l->bwd_f64(x, t, n, NKL_REDUCTION_SUM, 0, j->force, 0.5, &v, o2, o3); break;
        case DIST_BWD: st = j->l->dbwd_f64(&d, x, t, NULL, 1.0, &v, o2, ROW, o3, ROW); break;
        default: st = j->l->dist_f64(&d, x, t, NULL, &v); break;
        }
        j->scalar_out = v;
    }
    if (st != NKL_OK) fail(j, st);
    CLOBBER();
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int k) {
    qsort(v, (size_t)k, sizeof v[0], cmp_double);
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/* The pair A, B in interleaved rounds: median ns/element of each, median B/A. */
static void measure_pair(job *a, job *b, int reps, double min_s, double *ns_a, double *ns_b, double *ratio,
                         double *min_ratio) {
    job *jobs[2] = {a, b};
    size_t iters[2];
    for (int c = 0; c < 2; c++) {
        run(jobs[c]); /* warm-up */
        double t0 = now_s();
        run(jobs[c]);
        double one = now_s() - t0;
        if (one < 1e-9) one = 1e-9;
        iters[c] = one >= min_s ? 1 : (size_t)(min_s / one) + 1;
    }
    double va[MAX_REPS], vb[MAX_REPS], q[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        for (int c = 0; c < 2; c++) {
            double t0 = now_s();
            for (size_t k = 0; k < iters[c]; k++) run(jobs[c]);
            double dt = (now_s() - t0) * 1e9 / ((double)iters[c] * (double)jobs[c]->n);
            (c ? vb : va)[r] = dt;
        }
        q[r] = vb[r] / va[r];
    }
    *ratio = median(q, reps);
    *ns_a = median(va, reps);
    *ns_b = median(vb, reps);
    *min_ratio = vb[0] / va[0]; /* median() sorted them */
}

/* Counts the elements of a and b (count of them; a reduced value is held in a
   double whatever the type) whose bits differ: both NaN into nan_differ, the
   rest into differ. */
static void compare(int f64, const void *a, const void *b, size_t count, int held_in_double, size_t *differ,
                    size_t *nan_differ) {
    for (size_t i = 0; i < count; i++) {
        double x, y;
        if (f64 || held_in_double) {
            memcpy(&x, (const double *)a + i, 8);
            memcpy(&y, (const double *)b + i, 8);
            if (memcmp(&x, &y, 8) == 0) continue;
        } else {
            float fx, fy;
            memcpy(&fx, (const float *)a + i, 4);
            memcpy(&fy, (const float *)b + i, 4);
            if (memcmp(&fx, &fy, 4) == 0) continue;
            x = fx;
            y = fy;
        }
        if (isnan(x) && isnan(y)) (*nan_differ)++;
        else (*differ)++;
    }
}

/* ------------------------------------------------------------------- data */

static uint64_t rng_state = 12345;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rng_normal(void) {
    double u = (double)(rng_next() >> 11) * 0x1p-53, v = (double)(rng_next() >> 11) * 0x1p-53;
    return sqrt(-2.0 * log(u + 0x1p-60)) * cos(6.283185307179586 * v);
}

/* bench_kl's data: x = log_softmax(student), t = softmax(teacher), rows of
   ROW with 10 classes masked to -1e4 first; s, u the raw logits. */
static void make_data(size_t n, double *x, double *t, double *s, double *u) {
    double zs[ROW], zt[ROW];
    for (size_t r0 = 0; r0 < n; r0 += ROW) {
        double ms = -INFINITY, mt = -INFINITY, ss = 0, st = 0;
        for (size_t c = 0; c < ROW; c++) { zs[c] = 2.0 * rng_normal(); zt[c] = 2.0 * rng_normal(); }
        for (int k = 0; k < 10; k++) {
            size_t c = (size_t)(rng_next() % ROW);
            zs[c] = zt[c] = -1e4;
        }
        for (size_t c = 0; c < ROW; c++) {
            if (zs[c] > ms) ms = zs[c];
            if (zt[c] > mt) mt = zt[c];
        }
        for (size_t c = 0; c < ROW; c++) { ss += exp(zs[c] - ms); st += exp(zt[c] - mt); }
        for (size_t c = 0; c < ROW && r0 + c < n; c++) {
            x[r0 + c] = zs[c] - (ms + log(ss));
            t[r0 + c] = exp(zt[c] - (mt + log(st)));
            s[r0 + c] = zs[c] == -1e4 ? -30.0 : zs[c];
            u[r0 + c] = zt[c] == -1e4 ? -30.0 : zt[c];
        }
    }
}

/* ------------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s A.so B.so [--quick] [--n N[,N...]] [--reps K] [--min-ms X]\n", argv[0]);
        return 2;
    }
    size_t ns[8] = {1000, 32000, 1024000};
    int n_count = 3, reps = 9;
    double min_s = 0.02;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) { reps = 5; min_s = 0.005; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "%s needs a value\n", argv[i]); return 2; }
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--reps") == 0) reps = atoi(v) < 3 ? 3 : atoi(v) > MAX_REPS ? MAX_REPS : atoi(v);
        else if (strcmp(argv[i - 1], "--min-ms") == 0) min_s = atof(v) * 1e-3;
        else if (strcmp(argv[i - 1], "--n") == 0) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            n_count = 0;
            for (char *tok = strtok(buf, ","); tok && n_count < 8; tok = strtok(NULL, ",")) {
                size_t n = (size_t)strtoull(tok, NULL, 10);
                ns[n_count++] = n < ROW ? ROW : n / ROW * ROW; /* whole rows, for distillation */
            }
        } else { fprintf(stderr, "unknown option %s\n", argv[i - 1]); return 2; }
    }
    lib a = load(argv[1]), b = load(argv[2]);
    printf("A = %s\nB = %s\n", argv[1], argv[2]);
    printf("median of %d interleaved rounds (A, B, A, B, ...), each timing >= %.0f ms; ns per element\n\n", reps,
           min_s * 1e3);
    printf("| call | type | ISA | N | A ns/el | B ns/el | B/A | min B / min A |\n|---|---|---|---:|---:|---:|---:|---:|\n");
    size_t nmax = 0;
    for (int k = 0; k < n_count; k++) nmax = ns[k] > nmax ? ns[k] : nmax;
    double *xd = malloc(nmax * 8), *td = malloc(nmax * 8), *sd = malloc(nmax * 8), *ud = malloc(nmax * 8);
    float *xf = malloc(nmax * 4), *tf = malloc(nmax * 4), *sf = malloc(nmax * 4), *uf = malloc(nmax * 4);
    void *out[2][3];
    for (int l = 0; l < 2; l++)
        for (int o = 0; o < 3; o++) out[l][o] = malloc(nmax * 8);
    make_data(nmax, xd, td, sd, ud);
    for (size_t i = 0; i < nmax; i++) {
        xf[i] = (float)xd[i]; tf[i] = (float)td[i]; sf[i] = (float)sd[i]; uf[i] = (float)ud[i];
    }
    int mismatches = 0;
    for (int call = 0; call < CALLS; call++)
        for (int f64 = 0; f64 < 2; f64++)
            for (int isa = 0; isa < 2; isa++)
                for (int k = 0; k < n_count; k++) {
                    size_t n = ns[k];
                    int dist = call >= DIST_BWD;
                    const void *x = dist ? (f64 ? (const void *)sd : (const void *)sf) : (f64 ? (const void *)xd : (const void *)xf);
                    const void *t = dist ? (f64 ? (const void *)ud : (const void *)uf) : (f64 ? (const void *)td : (const void *)tf);
                    uint32_t force = isa ? NKL_FORCE_SCALAR : 0;
                    job ja = {&a, call, f64, force, n, x, t, out[0][0], out[0][1], out[0][2], 0};
                    job jb = {&b, call, f64, force, n, x, t, out[1][0], out[1][1], out[1][2], 0};
                    double na, nb, ratio, min_ratio;
                    measure_pair(&ja, &jb, reps, min_s, &na, &nb, &ratio, &min_ratio);
                    /* the same bits from both builds, the reduced value and every array
                       written: a non-NaN difference fails the run; differing NaN bits are
                       counted apart (what a change of the NaN pattern itself changes) */
                    size_t count = n;
                    int used[3] = {call == KL_NONE || call == BWD_NONE, call == BWD_NONE || call == BWD_SUM || call == DIST_BWD,
                                   call == BWD_NONE || call == BWD_SUM || call == DIST_BWD};
                    size_t differ = 0, nan_differ = 0;
                    compare(f64, &ja.scalar_out, &jb.scalar_out, 1, 1, &differ, &nan_differ);
                    for (int o = 0; o < 3; o++)
                        if (used[o]) compare(f64, out[0][o], out[1][o], count, 0, &differ, &nan_differ);
                    if (differ) mismatches++;
                    char note[96] = "";
                    if (differ) snprintf(note, sizeof note, " (%zu values DIFFER)", differ);
                    else if (nan_differ) snprintf(note, sizeof note, " (%zu NaNs with other bits)", nan_differ);
                    printf("| %s | %s | %s | %zu | %.3f | %.3f | %.3f | %.3f%s |\n", call_names[call], f64 ? "f64" : "f32",
                           isa ? "scalar" : "active", n, na, nb, ratio, min_ratio, note);
                    fflush(stdout);
                }
    for (int l = 0; l < 2; l++)
        for (int o = 0; o < 3; o++) free(out[l][o]);
    free(xd); free(td); free(sd); free(ud); free(xf); free(tf); free(sf); free(uf);
    if (mismatches) printf("\n%d pairs returned different bits\n", mismatches);
    return mismatches ? 1 : 0;
}
