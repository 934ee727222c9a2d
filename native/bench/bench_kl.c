/*
 * bench_kl.c - single-threaded throughput of nkl_kl_div_f32/f64, in ns per
 * element, against two baselines measured in the same run on the same data:
 *
 *   naive   a plain C loop with libm (logf/log, expf/exp) computing the same
 *           pointwise formula and summing in double (reduction NONE: storing
 *           each term instead), compiled with the project's normal flags;
 *   stream  the memory floor: a two-array streaming read (sum of x[i] + t[i],
 *           AVX2 through a per-function target attribute); for reduction NONE
 *           a read-read-write stream (out[i] = x[i] + t[i]).
 *
 * Data: rows of 1000 classes; input = log_softmax(student logits), target =
 * softmax(teacher logits) (log_softmax for log_target), with a few masked
 * classes per row filled with -1e4 before the softmax, as a vocabulary or
 * padding mask does, so the target holds exact zeros (log_target: values
 * near -1e4 whose exp underflows). Buffers come from nkl_alloc (64-byte aligned).
 *
 * Each figure is the median (and the minimum) over several repetitions; one
 * repetition repeats the call until it lasts at least --min-ms, and the four
 * columns of a row are timed in interleaved rounds (see measure_set).
 *
 * Usage: bench_kl [--quick] [--n 6,1000,...] [--dtype f32|f64]
 *                 [--reduction sum,mean,batchmean,none] [--log-target 0|1]
 *                 [--reps K] [--min-ms X] [--zeros-per-row K] [--seed S] [--no-scalar]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nativekl.h"
#include "nkl_clock.h"

#if defined(__x86_64__) || defined(__i386__)
#  define BENCH_X86 1
#  include <immintrin.h>
#else
#  define BENCH_X86 0
#endif

#if defined(__GNUC__)
#  define NOINLINE __attribute__((noinline))
#  define CLOBBER() __asm__ volatile("" ::: "memory")
#else
#  define NOINLINE
#  define CLOBBER() ((void)0)
#endif

/* ------------------------------------------------------------- options */

#define MAX_NS 16
#define ROW 1000

static const size_t default_ns[] = {6, 1000, 32768, 1048576, 16777216};
static const char *red_names[4] = {"none", "sum", "mean", "batchmean"};
/* table order: sum, mean, batchmean, none */
static const nkl_reduction red_order[4] = {NKL_REDUCTION_SUM, NKL_REDUCTION_MEAN,
                                           NKL_REDUCTION_BATCHMEAN, NKL_REDUCTION_NONE};

static struct {
    size_t ns[MAX_NS];
    int n_count;
    int dtype_on[2];   /* f32, f64 */
    int red_on[4];     /* indexed by nkl_reduction */
    int lt_on[2];      /* log_target false, true */
    int reps;
    double min_s;      /* minimum duration of one repetition */
    double max_row_s;  /* soft cap on one table row (reps shrink, never below 3) */
    int no_scalar;
    int zeros_per_row;
    uint64_t seed;
    int quick;
} opt;

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--quick] [--n N[,N...]] [--dtype f32|f64] "
            "[--reduction sum|mean|batchmean|none[,...]] [--log-target 0|1]\n"
            "          [--reps K] [--min-ms X] [--zeros-per-row K] [--seed S] [--no-scalar]\n",
            argv0);
}

static int parse_red(const char *s) {
    for (int r = 0; r < 4; r++)
        if (strcmp(s, red_names[r]) == 0) return r;
    return -1;
}

static int parse_args(int argc, char **argv) {
    int n_given = 0, d_given = 0, r_given = 0, l_given = 0, reps_given = 0, ms_given = 0;
    memset(opt.dtype_on, 0, sizeof opt.dtype_on);
    memset(opt.red_on, 0, sizeof opt.red_on);
    memset(opt.lt_on, 0, sizeof opt.lt_on);
    opt.zeros_per_row = 10;
    opt.seed = 12345;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            opt.quick = 1;
            continue;
        }
        if (strcmp(a, "--no-scalar") == 0) {
            opt.no_scalar = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(argv[0]);
            exit(0);
        }
        if (!v) {
            usage(argv[0]);
            return -1;
        }
        i++;
        if (strcmp(a, "--n") == 0) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
                if (opt.n_count == MAX_NS) break;
                unsigned long long n = strtoull(tok, NULL, 10);
                if (n == 0) {
                    fprintf(stderr, "bad --n value '%s'\n", tok);
                    return -1;
                }
                opt.ns[opt.n_count++] = (size_t)n;
            }
            n_given = 1;
        } else if (strcmp(a, "--dtype") == 0) {
            if (strcmp(v, "f32") == 0) opt.dtype_on[0] = 1;
            else if (strcmp(v, "f64") == 0) opt.dtype_on[1] = 1;
            else return -1;
            d_given = 1;
        } else if (strcmp(a, "--reduction") == 0) {
            char buf[128];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
                int r = parse_red(tok);
                if (r < 0) {
                    fprintf(stderr, "bad --reduction '%s'\n", tok);
                    return -1;
                }
                opt.red_on[r] = 1;
            }
            r_given = 1;
        } else if (strcmp(a, "--log-target") == 0) {
            opt.lt_on[atoi(v) ? 1 : 0] = 1;
            l_given = 1;
        } else if (strcmp(a, "--reps") == 0) {
            opt.reps = atoi(v);
            if (opt.reps < 1) return -1;
            reps_given = 1;
        } else if (strcmp(a, "--min-ms") == 0) {
            opt.min_s = atof(v) * 1e-3;
            if (!(opt.min_s >= 0)) return -1;
            ms_given = 1;
        } else if (strcmp(a, "--zeros-per-row") == 0) {
            opt.zeros_per_row = atoi(v);
            if (opt.zeros_per_row < 0 || opt.zeros_per_row > ROW) return -1;
        } else if (strcmp(a, "--seed") == 0) {
            opt.seed = strtoull(v, NULL, 10);
        } else {
            usage(argv[0]);
            return -1;
        }
    }
    if (!n_given) {
        for (size_t k = 0; k < sizeof default_ns / sizeof default_ns[0]; k++) {
            /* --quick leaves out 16M unless asked for: it alone takes seconds */
            if (opt.quick && default_ns[k] > 1048576) continue;
            opt.ns[opt.n_count++] = default_ns[k];
        }
    }
    if (!d_given) opt.dtype_on[0] = opt.dtype_on[1] = 1;
    if (!r_given)
        for (int r = 0; r < 4; r++) opt.red_on[r] = 1;
    if (!l_given) opt.lt_on[0] = opt.lt_on[1] = 1;
    if (!reps_given) opt.reps = opt.quick ? 3 : 7;
    if (!ms_given) opt.min_s = opt.quick ? 0.001 : 0.020;
    opt.max_row_s = opt.quick ? 0.1 : 4.0;
    return 0;
}

/* ------------------------------------------------------------- timing */

static double now_s(void) { return nkl_now_s(); }

typedef struct job {
    size_t n;
    int f64;             /* 0: float32, 1: float64 */
    int log_target;
    nkl_reduction red;
    size_t batch;
    uint32_t flags;      /* NKL_LOG_TARGET | NKL_FORCE_* */
    const void *x, *t;
    void *out;           /* n elements for NONE, else 1 */
} job;

typedef void (*job_fn)(const job *);

static volatile double g_sink;

typedef struct stat {
    double med, min; /* ns per element */
} stat;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Calls fn(j) through a volatile pointer with a memory clobber, so that the
   compiler can neither inline it nor hoist a seemingly pure call out of the
   timing loop. */
static void call(job_fn fn, const job *j) {
    job_fn volatile fp = fn;
    fp(j);
    CLOBBER();
}

/* Measures count (fn, job) pairs together: after a warm-up call each, every
   repetition round times each pair once in turn, so that a slow phase of a
   shared or virtualised machine hits all columns alike. One timing repeats
   the call until it lasts >= opt.min_s. Rounds shrink (never below 3) when
   one round would exceed opt.max_round_s / opt.reps. */
#define MAX_REPS 64
static void measure_set(const job_fn *fns, const job *const *jobs, int count, stat *out,
                        double *ratio_to_first) {
    double v[8][MAX_REPS];
    size_t iters[8];
    double round_s = 0.0;
    for (int c = 0; c < count; c++) {
        call(fns[c], jobs[c]); /* warm-up: page faults, caches, branch predictors */
        double t0 = now_s();
        call(fns[c], jobs[c]);
        double one = now_s() - t0;
        if (one < 1e-9) one = 1e-9;
        iters[c] = one >= opt.min_s ? 1 : (size_t)(opt.min_s / one) + 1;
        round_s += (double)iters[c] * one;
    }
    int reps = opt.reps > MAX_REPS ? MAX_REPS : opt.reps;
    while (reps > 3 && (double)reps * round_s > opt.max_row_s) reps--;
    for (int r = 0; r < reps; r++) {
        for (int c = 0; c < count; c++) {
            double t0 = now_s();
            for (size_t k = 0; k < iters[c]; k++) call(fns[c], jobs[c]);
            double dt = now_s() - t0;
            v[c][r] = dt * 1e9 / ((double)iters[c] * (double)jobs[c]->n);
        }
    }
    /* ratio_to_first[c]: the median over rounds of column c's time / column 0's */
    for (int c = 1; ratio_to_first && c < count; c++) {
        double q[MAX_REPS];
        for (int r = 0; r < reps; r++) q[r] = v[c][r] / v[0][r];
        qsort(q, (size_t)reps, sizeof q[0], cmp_double);
        ratio_to_first[c] = reps % 2 ? q[reps / 2] : 0.5 * (q[reps / 2 - 1] + q[reps / 2]);
    }
    for (int c = 0; c < count; c++) {
        qsort(v[c], (size_t)reps, sizeof v[c][0], cmp_double);
        out[c].min = v[c][0];
        out[c].med = reps % 2 ? v[c][reps / 2] : 0.5 * (v[c][reps / 2 - 1] + v[c][reps / 2]);
    }
}

/* Effective clock from a chain of dependent 64-bit imul (latency 3 cycles on
   current x86 cores): shows frequency scaling and a busy or throttled host. */
static double estimate_ghz(void) {
#if BENCH_X86 && defined(__GNUC__) && defined(__x86_64__)
    double best = 0.0;
    for (int r = 0; r < 5; r++) {
        uint64_t a = 3, cnt = 1000000; /* 10 imul = 30 cycles per turn */
        double t0 = now_s();
        __asm__ volatile("1:\n\t"
                         "imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\timul %0, %0\n\t"
                         "imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\timul %0, %0\n\t"
                         "imul %0, %0\n\timul %0, %0\n\t"
                         "dec %1\n\tjnz 1b"
                         : "+r"(a), "+r"(cnt)
                         :
                         : "cc");
        double dt = now_s() - t0;
        double ghz = 30.0 * 1e6 / dt * 1e-9;
        if (ghz > best) best = ghz;
        g_sink = (double)a;
    }
    return best;
#else
    return 0.0;
#endif
}

/* ------------------------------------------------------- library calls */

static void run_lib(const job *j) {
    nkl_status st;
    if (j->red == NKL_REDUCTION_NONE && j->f64) {
        st = nkl_kl_div_pointwise_f64((const double *)j->x, (const double *)j->t, j->n, j->flags,
                                      (double *)j->out);
    } else if (j->red == NKL_REDUCTION_NONE) {
        st = nkl_kl_div_pointwise_f32((const float *)j->x, (const float *)j->t, j->n, j->flags,
                                      (float *)j->out);
    } else if (j->f64) {
        st = nkl_kl_div_f64((const double *)j->x, (const double *)j->t, j->n, j->red, j->batch,
                            j->flags, (double *)j->out);
    } else {
        st = nkl_kl_div_f32((const float *)j->x, (const float *)j->t, j->n, j->red, j->batch,
                            j->flags, (float *)j->out);
    }
    if (st != NKL_OK) {
        fprintf(stderr, "nkl_kl_div failed: %s\n", nkl_status_string(st));
        exit(1);
    }
}

/* ------------------------------------------- baseline (a): naive libm */

static double apply_reduction(double s, const job *j) {
    if (j->red == NKL_REDUCTION_MEAN) return s / (double)j->n;
    if (j->red == NKL_REDUCTION_BATCHMEAN) return s / (double)j->batch;
    return s;
}

/* The textbook loop: L = xlogy(t, t) - t x, or exp(t) (t - x); sum in double. */
static NOINLINE void naive_f32(const job *j) {
    const float *x = (const float *)j->x, *t = (const float *)j->t;
    size_t n = j->n;
    double s = 0.0;
    if (!j->log_target) {
        for (size_t i = 0; i < n; i++) {
            float xlogy = t[i] == 0.0f ? 0.0f : t[i] * logf(t[i]);
            s += (double)(xlogy - t[i] * x[i]);
        }
    } else {
        for (size_t i = 0; i < n; i++) s += (double)(expf(t[i]) * (t[i] - x[i]));
    }
    g_sink = apply_reduction(s, j);
}

static NOINLINE void naive_f64(const job *j) {
    const double *x = (const double *)j->x, *t = (const double *)j->t;
    size_t n = j->n;
    double s = 0.0;
    if (!j->log_target) {
        for (size_t i = 0; i < n; i++) {
            double xlogy = t[i] == 0.0 ? 0.0 : t[i] * log(t[i]);
            s += xlogy - t[i] * x[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) s += exp(t[i]) * (t[i] - x[i]);
    }
    g_sink = apply_reduction(s, j);
}

/* reduction NONE: the same terms, stored */
static NOINLINE void naive_none_f32(const job *j) {
    const float *x = (const float *)j->x, *t = (const float *)j->t;
    float *out = (float *)j->out;
    size_t n = j->n;
    if (!j->log_target) {
        for (size_t i = 0; i < n; i++) {
            float xlogy = t[i] == 0.0f ? 0.0f : t[i] * logf(t[i]);
            out[i] = xlogy - t[i] * x[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) out[i] = expf(t[i]) * (t[i] - x[i]);
    }
}

static NOINLINE void naive_none_f64(const job *j) {
    const double *x = (const double *)j->x, *t = (const double *)j->t;
    double *out = (double *)j->out;
    size_t n = j->n;
    if (!j->log_target) {
        for (size_t i = 0; i < n; i++) {
            double xlogy = t[i] == 0.0 ? 0.0 : t[i] * log(t[i]);
            out[i] = xlogy - t[i] * x[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) out[i] = exp(t[i]) * (t[i] - x[i]);
    }
}

static void run_naive(const job *j) {
    if (j->red == NKL_REDUCTION_NONE) {
        if (j->f64) naive_none_f64(j);
        else naive_none_f32(j);
    } else {
        if (j->f64) naive_f64(j);
        else naive_f32(j);
    }
}

/* ---------------------------------- baseline (b): streaming read floor */

static int g_have_avx2;

#if BENCH_X86 && defined(__GNUC__)
#  define TARGET_AVX2 __attribute__((target("avx2")))

static TARGET_AVX2 NOINLINE double stream_read_f32_avx2(const float *x, const float *t, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_load_ps(x + i), _mm256_load_ps(t + i)));
        a1 = _mm256_add_ps(a1, _mm256_add_ps(_mm256_load_ps(x + i + 8), _mm256_load_ps(t + i + 8)));
        a2 = _mm256_add_ps(a2, _mm256_add_ps(_mm256_load_ps(x + i + 16), _mm256_load_ps(t + i + 16)));
        a3 = _mm256_add_ps(a3, _mm256_add_ps(_mm256_load_ps(x + i + 24), _mm256_load_ps(t + i + 24)));
    }
    float acc[8];
    _mm256_storeu_ps(acc, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    double s = 0.0;
    for (int k = 0; k < 8; k++) s += (double)acc[k];
    for (; i < n; i++) s += (double)(x[i] + t[i]);
    return s;
}

static TARGET_AVX2 NOINLINE double stream_read_f64_avx2(const double *x, const double *t,
                                                        size_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_pd(a0, _mm256_add_pd(_mm256_load_pd(x + i), _mm256_load_pd(t + i)));
        a1 = _mm256_add_pd(a1, _mm256_add_pd(_mm256_load_pd(x + i + 4), _mm256_load_pd(t + i + 4)));
        a2 = _mm256_add_pd(a2, _mm256_add_pd(_mm256_load_pd(x + i + 8), _mm256_load_pd(t + i + 8)));
        a3 = _mm256_add_pd(a3, _mm256_add_pd(_mm256_load_pd(x + i + 12), _mm256_load_pd(t + i + 12)));
    }
    double acc[4];
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
    double s = acc[0] + acc[1] + acc[2] + acc[3];
    for (; i < n; i++) s += x[i] + t[i];
    return s;
}

static TARGET_AVX2 NOINLINE void stream_copy_f32_avx2(const float *x, const float *t, size_t n,
                                                      float *out) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_store_ps(out + i, _mm256_add_ps(_mm256_load_ps(x + i), _mm256_load_ps(t + i)));
        _mm256_store_ps(out + i + 8,
                        _mm256_add_ps(_mm256_load_ps(x + i + 8), _mm256_load_ps(t + i + 8)));
    }
    for (; i < n; i++) out[i] = x[i] + t[i];
}

static TARGET_AVX2 NOINLINE void stream_copy_f64_avx2(const double *x, const double *t, size_t n,
                                                      double *out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_store_pd(out + i, _mm256_add_pd(_mm256_load_pd(x + i), _mm256_load_pd(t + i)));
        _mm256_store_pd(out + i + 4,
                        _mm256_add_pd(_mm256_load_pd(x + i + 4), _mm256_load_pd(t + i + 4)));
    }
    for (; i < n; i++) out[i] = x[i] + t[i];
}
#endif

/* Portable fallbacks (vectorised by the compiler with its default ISA). */
static NOINLINE double stream_read_f32_plain(const float *x, const float *t, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += x[i] + t[i];
    return (double)s;
}
static NOINLINE double stream_read_f64_plain(const double *x, const double *t, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i] + t[i];
    return s;
}

static void run_stream(const job *j) {
    int none = j->red == NKL_REDUCTION_NONE;
#if BENCH_X86 && defined(__GNUC__)
    if (g_have_avx2) {
        if (j->f64) {
            if (none) stream_copy_f64_avx2(j->x, j->t, j->n, j->out);
            else g_sink = stream_read_f64_avx2(j->x, j->t, j->n);
        } else {
            if (none) stream_copy_f32_avx2(j->x, j->t, j->n, j->out);
            else g_sink = stream_read_f32_avx2(j->x, j->t, j->n);
        }
        return;
    }
#endif
    if (j->f64) {
        if (none) {
            const double *x = j->x, *t = j->t;
            double *o = j->out;
            for (size_t i = 0; i < j->n; i++) o[i] = x[i] + t[i];
        } else {
            g_sink = stream_read_f64_plain(j->x, j->t, j->n);
        }
    } else {
        if (none) {
            const float *x = j->x, *t = j->t;
            float *o = j->out;
            for (size_t i = 0; i < j->n; i++) o[i] = x[i] + t[i];
        } else {
            g_sink = stream_read_f32_plain(j->x, j->t, j->n);
        }
    }
}

/* ----------------------------------------------------------------- data */

static uint64_t rng_state;
static uint64_t rng_next(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rng_uniform(void) { /* (0, 1) */
    return ((double)(rng_next() >> 11) + 0.5) * 0x1p-53;
}
static double rng_normal(void) {
    return sqrt(-2.0 * log(rng_uniform())) * cos(6.283185307179586 * rng_uniform());
}

static void *xalloc(size_t bytes) {
    void *p = NULL;
    nkl_status st = nkl_alloc(bytes, 64, &p);
    if (st != NKL_OK) {
        fprintf(stderr, "nkl_alloc(%zu): %s\n", bytes, nkl_status_string(st));
        exit(1);
    }
    return p;
}

/* rows of ROW classes: x = log_softmax(student), t = softmax(teacher),
   tl = log_softmax(teacher); masked classes filled with -1e4 in both. */
static void make_data(size_t n, double *x, double *t, double *tl) {
    double zs[ROW], zt[ROW];
    rng_state = opt.seed;
    for (size_t r0 = 0; r0 < n; r0 += ROW) {
        size_t len = n - r0 < ROW ? n - r0 : ROW;
        double ms = -INFINITY, mt = -INFINITY;
        for (size_t c = 0; c < ROW; c++) {
            zt[c] = 2.0 * rng_normal();
            zs[c] = zt[c] + rng_normal();
        }
        for (int k = 0; k < opt.zeros_per_row; k++) {
            size_t c = (size_t)(rng_next() % ROW);
            zs[c] = zt[c] = -1e4;
        }
        for (size_t c = 0; c < ROW; c++) {
            if (zs[c] > ms) ms = zs[c];
            if (zt[c] > mt) mt = zt[c];
        }
        double ss = 0.0, st = 0.0;
        for (size_t c = 0; c < ROW; c++) {
            ss += exp(zs[c] - ms);
            st += exp(zt[c] - mt);
        }
        double lses = ms + log(ss), lset = mt + log(st);
        for (size_t c = 0; c < len; c++) {
            x[r0 + c] = zs[c] - lses;
            tl[r0 + c] = zt[c] - lset;
            t[r0 + c] = exp(tl[r0 + c]);
        }
    }
}

/* --------------------------------------------------------------- report */

static void print_cpu(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    int found = 0;
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                p = p ? p + 1 : line;
                while (*p == ' ' || *p == '\t') p++;
                p[strcspn(p, "\n")] = 0;
                printf("CPU: %s\n", p);
                found = 1;
                break;
            }
        }
        fclose(f);
    }
    if (!found) printf("CPU: unknown (no /proc/cpuinfo)\n");
}

static void print_load(const char *when) {
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128];
    if (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        printf("load average %s: %s\n", when, line);
    }
    if (f) fclose(f);
}

static void fmt_stat(char *buf, size_t size, stat s) {
    if (s.med >= 100) snprintf(buf, size, "%.0f (%.0f)", s.med, s.min);
    else if (s.med >= 10) snprintf(buf, size, "%.1f (%.1f)", s.med, s.min);
    else snprintf(buf, size, "%.3f (%.3f)", s.med, s.min);
}

/* results kept for the target check: [n index][f64][reduction][log_target] */
static stat res_avx2[MAX_NS][2][4][2], res_stream_sum[MAX_NS][2][2];
static int have_avx2_res[MAX_NS][2][4][2];
/* float64 sum / float32 sum timed as an interleaved pair: [n index][log_target] */
static double res_pair_ratio[MAX_NS][2];
static int have_pair_ratio[MAX_NS][2];

static int n_index(size_t n) {
    for (int k = 0; k < opt.n_count; k++)
        if (opt.ns[k] == n) return k;
    return -1;
}

static void check_target(const char *what, int measured, double value, double limit,
                         const char *unit) {
    if (!measured) printf("- %s: not measured in this run\n", what);
    else printf("- %s: %.3f%s (target <= %.2f%s): **%s**\n", what, value, unit, limit, unit,
                value <= limit ? "met" : "MISSED");
}

static void report_targets(void) {
    printf("\n### Targets (medians, active path)\n\n");
    int k32 = n_index(32768), k16 = n_index(16777216);
    for (int lt = 0; lt < 2; lt++) {
        char what[160];
        snprintf(what, sizeof what, "float32 sum log_target=%s, N=32768", lt ? "true" : "false");
        check_target(what, k32 >= 0 && have_avx2_res[k32][0][NKL_REDUCTION_SUM][lt],
                     k32 >= 0 ? res_avx2[k32][0][NKL_REDUCTION_SUM][lt].med : 0, 0.6,
                     " ns/element");
        snprintf(what, sizeof what, "float32 sum log_target=%s, N=16777216 vs streaming read",
                 lt ? "true" : "false");
        check_target(what, k16 >= 0 && have_avx2_res[k16][0][NKL_REDUCTION_SUM][lt],
                     k16 >= 0 ? res_avx2[k16][0][NKL_REDUCTION_SUM][lt].med /
                                    res_stream_sum[k16][0][lt].med
                              : 0,
                     1.5, "x");
    }
    for (int k = 0; k < opt.n_count; k++) {
        if (opt.ns[k] < 32768) continue;
        for (int lt = 0; lt < 2; lt++) {
            int ok = have_avx2_res[k][0][NKL_REDUCTION_SUM][lt] &&
                     have_avx2_res[k][1][NKL_REDUCTION_SUM][lt];
            char what[200];
            double rows = ok ? res_avx2[k][1][NKL_REDUCTION_SUM][lt].med /
                                   res_avx2[k][0][NKL_REDUCTION_SUM][lt].med
                             : 0;
            if (have_pair_ratio[k][lt]) { /* the interleaved pair is the figure; rows drift apart */
                snprintf(what, sizeof what,
                         "float64/float32 sum log_target=%s, N=%zu (interleaved pair; the rows' "
                         "medians give %.3fx)",
                         lt ? "true" : "false", opt.ns[k], rows);
                check_target(what, 1, res_pair_ratio[k][lt], 2.5, "x");
            } else {
                snprintf(what, sizeof what, "float64/float32 sum log_target=%s, N=%zu",
                         lt ? "true" : "false", opt.ns[k]);
                check_target(what, ok, rows, 2.5, "x");
            }
        }
    }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    if (parse_args(argc, argv) != 0) {
        usage(argv[0]);
        return 2;
    }
    double t_start = now_s();
    g_have_avx2 = nkl_isa_supported(NKL_ISA_AVX2);
    nkl_isa active = nkl_active_isa();

    size_t max_n = 0;
    for (int k = 0; k < opt.n_count; k++)
        if (opt.ns[k] > max_n) max_n = opt.ns[k];

    /* data: generated once in double at the largest N; smaller N use prefixes */
    double *xd = xalloc(max_n * sizeof(double)), *td = xalloc(max_n * sizeof(double));
    double *tld = xalloc(max_n * sizeof(double));
    double *outd = xalloc(max_n * sizeof(double)), *out2d = xalloc(max_n * sizeof(double));
    make_data(max_n, xd, td, tld);
    float *xf = NULL, *tf = NULL, *tlf = NULL;
    if (opt.dtype_on[0]) {
        xf = xalloc(max_n * sizeof(float));
        tf = xalloc(max_n * sizeof(float));
        tlf = xalloc(max_n * sizeof(float));
        for (size_t i = 0; i < max_n; i++) {
            xf[i] = (float)xd[i];
            tf[i] = (float)td[i];
            tlf[i] = (float)tld[i];
        }
    }
    size_t zeros = 0;
    for (size_t i = 0; i < max_n; i++) zeros += td[i] == 0.0;

    printf("## bench_kl (NativeKl %s)\n\n", nkl_version_string());
    print_cpu();
    printf("active ISA: %s; scalar column: NKL_FORCE_SCALAR\n", nkl_isa_name(active));
    print_load("at start");
    printf("effective clock at start (imul-latency chain): %.2f GHz\n", estimate_ghz());
    printf("repetitions: median (min) of %d interleaved rounds (3 where a row is slow), each >= %.0f ms; data: rows of %d, %d masked "
           "classes per row (%.2f%% exact zeros in the target)%s\n\n",
           opt.reps, opt.min_s * 1e3, ROW, opt.zeros_per_row,
           100.0 * (double)zeros / (double)max_n, opt.quick ? "; --quick" : "");
    printf("| N | dtype | reduction | log_target | avx2 ns/el | scalar ns/el | naive libm ns/el "
           "| stream ns/el | avx2/naive | avx2/stream |\n");
    printf("|---:|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    fflush(stdout);

    int mismatches = 0;
    for (int k = 0; k < opt.n_count; k++) {
        size_t n = opt.ns[k];
        for (int d = 0; d < 2; d++) {
            if (!opt.dtype_on[d]) continue;
            for (int lt = 0; lt < 2; lt++) {
                if (!opt.lt_on[lt]) continue;
                for (int ri = 0; ri < 4; ri++) {
                    nkl_reduction red = red_order[ri];
                    if (!opt.red_on[red]) continue;
                    uint32_t base = lt ? NKL_LOG_TARGET : 0u;
                    job j;
                    memset(&j, 0, sizeof j);
                    j.n = n;
                    j.f64 = d;
                    j.log_target = lt;
                    j.red = red;
                    j.batch = n % 8 == 0 ? 8 : (n % 2 == 0 ? 2 : 1);
                    j.x = d ? (const void *)xd : (const void *)xf;
                    j.t = d ? (const void *)(lt ? tld : td) : (const void *)(lt ? tlf : tf);

                    /* check first: active and scalar give the same bits */
                    j.out = outd;
                    j.flags = base;
                    run_lib(&j);
                    j.out = out2d;
                    j.flags = base | NKL_FORCE_SCALAR;
                    run_lib(&j);
                    size_t bytes = (red == NKL_REDUCTION_NONE ? n : 1) * (d ? 8u : 4u);
                    if (memcmp(outd, out2d, bytes) != 0) {
                        mismatches++;
                        fprintf(stderr, "WARNING: avx2 and scalar differ (N=%zu %s %s lt=%d)\n",
                                n, d ? "f64" : "f32", red_names[red], lt);
                    }

                    /* columns: active, scalar, naive, stream; all write to outd */
                    job ja = j, js = j, jn = j, jm = j;
                    ja.out = js.out = jn.out = jm.out = outd;
                    ja.flags = base;
                    js.flags = base | NKL_FORCE_SCALAR;
                    jm.t = d ? (const void *)td : (const void *)tf; /* same bytes either way */
                    const job *jobs[4] = {&ja, &jn, &jm, &js};
                    job_fn fns[4] = {run_lib, run_naive, run_stream, run_lib};
                    stat st[4];
                    stat none_stat = {NAN, NAN};
                    measure_set(fns, jobs, opt.no_scalar ? 3 : 4, st, NULL);
                    stat sa = st[0], sn = st[1], sm = st[2];
                    stat ss = opt.no_scalar ? none_stat : st[3];
                    res_avx2[k][d][red][lt] = sa;
                    if (red == NKL_REDUCTION_SUM) res_stream_sum[k][d][lt] = sm;
                    have_avx2_res[k][d][red][lt] = 1;

                    char ca[48], cs[48], cn[48], cm[48];
                    fmt_stat(ca, sizeof ca, sa);
                    if (opt.no_scalar) snprintf(cs, sizeof cs, "-");
                    else fmt_stat(cs, sizeof cs, ss);
                    fmt_stat(cn, sizeof cn, sn);
                    fmt_stat(cm, sizeof cm, sm);
                    printf("| %zu | %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f |\n", n,
                           d ? "f64" : "f32", red_names[red], lt ? "true" : "false", ca, cs, cn,
                           cm, sa.med / sn.med, sa.med / sm.med);
                    fflush(stdout);
                }
            }
        }
    }

    /* the float64/float32 targets: both sums timed in the same interleaved
       rounds, the ratio taken round by round (separate rows can catch
       different phases of the machine) */
    if (opt.dtype_on[0] && opt.dtype_on[1] && opt.red_on[NKL_REDUCTION_SUM]) {
        for (int k = 0; k < opt.n_count; k++) {
            if (opt.ns[k] < 32768) continue;
            for (int lt = 0; lt < 2; lt++) {
                if (!opt.lt_on[lt]) continue;
                job j32, j64;
                memset(&j32, 0, sizeof j32);
                j32.n = opt.ns[k];
                j32.red = NKL_REDUCTION_SUM;
                j32.log_target = lt;
                j32.flags = lt ? NKL_LOG_TARGET : 0u;
                j32.out = outd;
                j64 = j32;
                j32.x = xf;
                j32.t = lt ? tlf : tf;
                j64.f64 = 1;
                j64.x = xd;
                j64.t = lt ? tld : td;
                const job *jobs[2] = {&j32, &j64};
                job_fn fns[2] = {run_lib, run_lib};
                stat st[2];
                double ratio[2];
                measure_set(fns, jobs, 2, st, ratio);
                res_pair_ratio[k][lt] = ratio[1];
                have_pair_ratio[k][lt] = 1;
            }
        }
    }

    printf("\nns/el = nanoseconds per element, median (min). stream = two-array streaming "
           "read (reduction none: read x, t and write out). naive = libm loop "
           "(none: storing each term). batch = 8 (2 when 8 does not divide N).\n");
    if (!g_have_avx2) printf("NOTE: no AVX2 on this CPU: the avx2 column is the active path.\n");
    if (mismatches) printf("WARNING: %d avx2/scalar mismatches (see stderr)\n", mismatches);
    report_targets();
    printf("\n");
    print_load("at end");
    printf("effective clock at end (imul-latency chain): %.2f GHz\n", estimate_ghz());
    printf("total time: %.1f s\n", now_s() - t_start);

    nkl_free(xd);
    nkl_free(td);
    nkl_free(tld);
    nkl_free(outd);
    nkl_free(out2d);
    nkl_free(xf);
    nkl_free(tf);
    nkl_free(tlf);
    return mismatches ? 1 : 0;
}
