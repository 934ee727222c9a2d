/*
 * cpu_features.c - does this CPU, under this OS, run AVX2 + FMA code?
 * AVX2 and FMA bits are not enough: the OS must save the YMM registers on a
 * context switch (OSXSAVE set and XCR0 enabling XMM and YMM state).
 */
#include "../internal.h"

#if defined(_MSC_VER)
#include <intrin.h>
static void cpuid(int leaf, int sub, unsigned r[4]) {
    int v[4];
    __cpuidex(v, leaf, sub);
    for (int i = 0; i < 4; i++) r[i] = (unsigned)v[i];
}
static uint64_t xgetbv0(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void cpuid(int leaf, int sub, unsigned r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static uint64_t xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static int detect_avx2_fma(void) {
    unsigned r[4];
    cpuid(0, 0, r);
    if (r[0] < 7) return 0;
    cpuid(1, 0, r);
    const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
    if ((r[2] & (fma | osxsave | avx)) != (fma | osxsave | avx)) return 0;
    if ((xgetbv0() & 0x6) != 0x6) return 0; /* XMM and YMM state enabled by the OS */
    cpuid(7, 0, r);
    return (r[1] & (1u << 5)) != 0; /* AVX2 */
}

/* CPUID traps to the hypervisor in a virtual machine, which takes microseconds,
   far longer than a small call's work, so the answer is computed once; racing
   first calls store the same value. */
#if defined(_MSC_VER) && !defined(__clang__)
static volatile int cached_avx2_fma = -1;
#else
#include <stdatomic.h>
static _Atomic int cached_avx2_fma = -1;
#endif

int nkl_cpu_has_avx2_fma(void) {
    int has = cached_avx2_fma;
    if (has < 0) {
        has = detect_avx2_fma();
        cached_avx2_fma = has;
    }
    return has;
}
