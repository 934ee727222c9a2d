/*
 * nkl_test.h - the little the C tests share: checks that count failures,
 * a deterministic RNG, buffers that end at a no-access page, bit comparisons.
 */
#ifndef NKL_TEST_H
#define NKL_TEST_H

#if !defined(_WIN32)
#define _DEFAULT_SOURCE /* mmap flags */
#endif

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nativekl.h"

#if !defined(_WIN32)
#include <sys/mman.h>
#include <unistd.h>
#else
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h> /* VirtualAlloc, VirtualProtect: the guard pages */
#endif

static int nkl_test_failures = 0;
static int nkl_test_checks = 0;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        nkl_test_checks++;                                                    \
        if (!(cond)) {                                                        \
            if (++nkl_test_failures <= 25) {                                  \
                fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
                fprintf(stderr, __VA_ARGS__);                                 \
                fputc('\n', stderr);                                          \
            }                                                                 \
        }                                                                     \
    } while (0)

#define CHECK_OK(expr)                                                        \
    do {                                                                      \
        nkl_status st_ = (expr);                                              \
        CHECK(st_ == NKL_OK, "%s -> %d (%s)", #expr, (int)st_, nkl_status_string(st_)); \
    } while (0)

/* ctest treats 77 as "skipped" (SKIP_RETURN_CODE). */
#define NKL_TEST_SKIP 77

/* A test registered per ISA (NKL_ISA=scalar|avx2|neon) skips when the CPU
   lacks it rather than silently testing another path. */
static inline int nkl_test_env_isa_usable(void) {
    const char *env = getenv("NKL_ISA");
    if (!env || strcmp(env, "auto") == 0) return 1;
    nkl_isa want = strcmp(env, "avx2") == 0   ? NKL_ISA_AVX2
                   : strcmp(env, "neon") == 0 ? NKL_ISA_NEON
                                              : NKL_ISA_SCALAR;
    if (!nkl_isa_supported(want)) {
        printf("skipped: NKL_ISA=%s is not supported on this CPU\n", env);
        return 0;
    }
    if (nkl_active_isa() != want) {
        fprintf(stderr, "NKL_ISA=%s but the active ISA is %s\n", env, nkl_isa_name(nkl_active_isa()));
        exit(1);
    }
    return 1;
}

/* NKL_TEST_QUICK=1 (set for the valgrind runs, which are ~50x slower) skips
   the few cases of a million elements or more, and shrinks a few large ones
   (test_accuracy: 10^5 terms, not 10^7; test_distill: no 32,000-class rows,
   4 rows of 1,000 classes, not 64); every other case still runs. */
static inline int nkl_test_quick(void) {
    const char *env = getenv("NKL_TEST_QUICK");
    return env && strcmp(env, "1") == 0;
}

/*
 * NKL_TEST_UNDER_VALGRIND=1 (set for the memcheck runs): valgrind computes x87
 * long double in 64 bits, so a result checked against a long double reference
 * may miss its tolerance there through no fault of the library. CHECK_LD_REF
 * marks those checks: under valgrind a miss is printed and counted, not failed,
 * and the run is judged by valgrind's exit code (any memory error or leak).
 * Every other check stays fatal there.
 */
static int nkl_test_ld_misses = 0;
static inline int nkl_test_under_valgrind(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *env = getenv("NKL_TEST_UNDER_VALGRIND");
        cached = env && strcmp(env, "1") == 0;
    }
    return cached;
}

#define CHECK_LD_REF(cond, ...)                                               \
    do {                                                                      \
        if (!nkl_test_under_valgrind()) {                                     \
            CHECK(cond, __VA_ARGS__);                                         \
        } else {                                                              \
            nkl_test_checks++;                                                \
            if (!(cond) && ++nkl_test_ld_misses <= 5) {                       \
                fprintf(stderr, "%s:%d: not fatal under valgrind (64-bit long double): ", \
                        __FILE__, __LINE__);                                  \
                fprintf(stderr, __VA_ARGS__);                                 \
                fputc('\n', stderr);                                          \
            }                                                                 \
        }                                                                     \
    } while (0)

static inline int nkl_test_finish(const char *name) {
    printf("%s [%s]: %d checks, %d failed", name, nkl_isa_name(nkl_active_isa()),
           nkl_test_checks, nkl_test_failures);
    if (nkl_test_ld_misses > 0)
        printf(" (+ %d misses against a long double reference, not fatal under valgrind)", nkl_test_ld_misses);
    printf("\n");
    return nkl_test_failures ? 1 : 0;
}

/* splitmix64: small, deterministic, good enough for test data. */
typedef struct { uint64_t s; } nkl_rng;
static inline uint64_t rng_next(nkl_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* uniform in [0, 1) */
static inline double rng_uniform(nkl_rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; }
static inline double rng_normal(nkl_rng *r) {
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u + 0x1p-60)) * cos(6.283185307179586 * v);
}

/*
 * Guard buffers: `bytes` usable bytes that end exactly at a no-access page
 * (PROT_NONE; PAGE_NOACCESS on Windows), so reading or writing one element
 * past the end faults.
 */
typedef struct { void *base; size_t total; void *ptr; } nkl_guard;

static inline nkl_guard guard_alloc(size_t bytes) {
    nkl_guard g;
#if !defined(_WIN32)
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data = (bytes + page - 1) / page * page;
    g.total = data + page;
    g.base = mmap(NULL, g.total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g.base == MAP_FAILED) { perror("mmap"); exit(2); }
    if (mprotect((char *)g.base + data, page, PROT_NONE) != 0) { perror("mprotect"); exit(2); }
    g.ptr = (char *)g.base + data - bytes;
#else
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    size_t page = si.dwPageSize;
    size_t data = (bytes + page - 1) / page * page;
    DWORD old;
    g.total = data + page;
    g.base = VirtualAlloc(NULL, g.total, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!g.base) { fprintf(stderr, "VirtualAlloc failed: %lu\n", (unsigned long)GetLastError()); exit(2); }
    if (!VirtualProtect((char *)g.base + data, page, PAGE_NOACCESS, &old)) {
        fprintf(stderr, "VirtualProtect failed: %lu\n", (unsigned long)GetLastError());
        exit(2);
    }
    g.ptr = (char *)g.base + data - bytes;
#endif
    return g;
}

static inline void guard_free(nkl_guard g) {
#if !defined(_WIN32)
    munmap(g.base, g.total);
#else
    VirtualFree(g.base, 0, MEM_RELEASE);
#endif
}

/* Same bits, NaNs included: every NaN the library returns is NKL_NAN_BITS_*. */
static inline int same_f32(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }
static inline int same_f64(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Is v the library's NaN (nativekl.h NKL_NAN_BITS_F32 / _F64), bit for bit? */
static inline int canon_nan_f32(float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u == NKL_NAN_BITS_F32;
}
static inline int canon_nan_f64(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u == NKL_NAN_BITS_F64;
}
static inline uint64_t test_bits_f64(double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}
static inline uint32_t test_bits_f32(float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}
/* A float result held in a double (widening keeps a NaN's sign and payload). */
static inline int canon_nan_of(int bits, double v) {
    return bits == 32 ? canon_nan_f32((float)v) : canon_nan_f64(v);
}

/* Every vector ISA of the library, and its force flag. */
#define NKL_TEST_VECTOR_ISAS 2
static const nkl_isa nkl_test_vector_isa_list[NKL_TEST_VECTOR_ISAS] = {NKL_ISA_AVX2, NKL_ISA_NEON};

/* The ISAs this machine can run, the scalar path first, for tests that
   compare paths. */
#define NKL_TEST_MAX_ISAS (1 + NKL_TEST_VECTOR_ISAS)
static inline int nkl_test_isas(nkl_isa out[NKL_TEST_MAX_ISAS]) {
    int n = 0;
    out[n++] = NKL_ISA_SCALAR;
    for (int i = 0; i < NKL_TEST_VECTOR_ISAS; i++)
        if (nkl_isa_supported(nkl_test_vector_isa_list[i])) out[n++] = nkl_test_vector_isa_list[i];
    return n;
}
/* The vector ISA this machine runs (AVX2 on x86-64 that has it, NEON on
   AArch64), or NKL_ISA_AUTO where it has none. */
static inline nkl_isa nkl_test_vector_isa(void) {
    for (int i = 0; i < NKL_TEST_VECTOR_ISAS; i++)
        if (nkl_isa_supported(nkl_test_vector_isa_list[i])) return nkl_test_vector_isa_list[i];
    return NKL_ISA_AUTO;
}
static inline uint32_t force_flag(nkl_isa isa) {
    switch (isa) {
    case NKL_ISA_AVX2: return NKL_FORCE_AVX2;
    case NKL_ISA_NEON: return NKL_FORCE_NEON;
    default: return NKL_FORCE_SCALAR;
    }
}

#endif
