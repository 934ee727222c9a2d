/*
 * dispatch.c - picks the kernel table once, on first use.
 *
 * The only mutable state of the library is the pointer to the active table.
 * It starts NULL; the first call detects the CPU (and reads NKL_ISA) and
 * publishes the result with an atomic store. Racing first calls compute the
 * same table, so no lock is needed. An NKL_ISA value the library does not
 * know publishes &invalid_environment instead: calls that use the active
 * table then fail with NKL_ERROR_INVALID_ENVIRONMENT (a typo must not
 * silently test another path) until nkl_set_isa makes an explicit choice.
 *
 * Every way of choosing an ISA ends here: the CPU, NKL_ISA, nkl_set_isa
 * (the active table) and a call's NKL_FORCE_* flags (nkl_kernels_for_flags,
 * which every entry point calls).
 */
/*
 * This file runs before the CPU is known, so CMake never gives it the AVX2 files' flags. A
 * build whose baseline already has AVX2 (CMAKE_C_FLAGS=-march=x86-64-v3 or -march=native, as a
 * distribution may choose) compiles it with those flags too: that baseline is the builder's
 * promise about the machines that run it, and detection still picks the same table.
 */

#include <stdlib.h>

#include "internal.h"

#if defined(_MSC_VER) && !defined(__clang__)
/* Aligned pointer loads and stores are atomic on every MSVC target. */
typedef const nkl_kernels *volatile active_ptr;
#define LOAD(p) (p)
#define STORE(p, v) ((p) = (v))
#else
#include <stdatomic.h>
typedef const nkl_kernels *_Atomic active_ptr;
#define LOAD(p) atomic_load_explicit(&(p), memory_order_acquire)
#define STORE(p, v) atomic_store_explicit(&(p), (v), memory_order_release)
#endif

static active_ptr active = NULL;

/* Never run: only its address is compared. */
static const nkl_kernels invalid_environment = {.isa = NKL_ISA_AUTO};

const nkl_kernels *nkl_kernels_for_isa(nkl_isa isa) {
    switch (isa) {
    case NKL_ISA_SCALAR:
        return &nkl_kernels_scalar;
    case NKL_ISA_AVX2:
#if defined(NKL_HAVE_X86)
        return nkl_cpu_has_avx2_fma() ? &nkl_kernels_avx2 : NULL;
#else
        return NULL;
#endif
    case NKL_ISA_NEON:
#if defined(NKL_HAVE_NEON)
        return &nkl_kernels_neon; /* baseline on AArch64: nothing to detect */
#else
        return NULL;
#endif
    case NKL_ISA_AUTO: {
        const nkl_kernels *best = nkl_kernels_for_isa(NKL_ISA_AVX2);
        if (!best) best = nkl_kernels_for_isa(NKL_ISA_NEON);
        return best ? best : &nkl_kernels_scalar;
    }
    default:
        return NULL;
    }
}

/* ASCII, without case: the C locale's tolower would depend on setlocale. */
static int equals_ascii_nocase(const char *a, const char *b) {
    for (;; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        if (ca != *b) return 0;
        if (!ca) return 1;
    }
}

static const nkl_kernels *detect(void) {
    const char *env = getenv("NKL_ISA");
    if (!env || !*env || equals_ascii_nocase(env, "auto")) return nkl_kernels_for_isa(NKL_ISA_AUTO);
    if (equals_ascii_nocase(env, "scalar")) return nkl_kernels_for_isa(NKL_ISA_SCALAR);
    /* A CPU without the named ISA runs the best it has: the per-ISA test runs skip there. */
    if (equals_ascii_nocase(env, "avx2")) {
        const nkl_kernels *k = nkl_kernels_for_isa(NKL_ISA_AVX2);
        return k ? k : nkl_kernels_for_isa(NKL_ISA_AUTO);
    }
    if (equals_ascii_nocase(env, "neon")) {
        const nkl_kernels *k = nkl_kernels_for_isa(NKL_ISA_NEON);
        return k ? k : nkl_kernels_for_isa(NKL_ISA_AUTO);
    }
    return &invalid_environment;
}

static const nkl_kernels *active_or_invalid(void) {
    const nkl_kernels *k = LOAD(active);
    if (!k) {
        k = detect();
        STORE(active, k);
    }
    return k;
}

const nkl_kernels *nkl_active_kernels(void) {
    const nkl_kernels *k = active_or_invalid();
    return k == &invalid_environment ? NULL : k;
}

nkl_isa nkl_active_isa(void) { return active_or_invalid()->isa; }

int nkl_isa_supported(nkl_isa isa) { return nkl_kernels_for_isa(isa) != NULL; }

const char *nkl_isa_name(nkl_isa isa) {
    switch (isa) {
    case NKL_ISA_AUTO: return "auto";
    case NKL_ISA_SCALAR: return "scalar";
    case NKL_ISA_AVX2: return "avx2";
    case NKL_ISA_NEON: return "neon";
    default: return "unknown";
    }
}

nkl_status nkl_kernels_for_flags(uint32_t flags, uint32_t known_flags, const nkl_kernels **k) {
    *k = NULL;
    if (flags & ~known_flags) return NKL_ERROR_INVALID_FLAGS;
    switch (flags & (NKL_FORCE_SCALAR | NKL_FORCE_AVX2 | NKL_FORCE_NEON)) {
    case 0:
        *k = nkl_active_kernels();
        return *k ? NKL_OK : NKL_ERROR_INVALID_ENVIRONMENT;
    case NKL_FORCE_SCALAR: *k = nkl_kernels_for_isa(NKL_ISA_SCALAR); break;
    case NKL_FORCE_AVX2: *k = nkl_kernels_for_isa(NKL_ISA_AVX2); break;
    case NKL_FORCE_NEON: *k = nkl_kernels_for_isa(NKL_ISA_NEON); break;
    default: return NKL_ERROR_INVALID_FLAGS;
    }
    return *k ? NKL_OK : NKL_ERROR_ISA_UNAVAILABLE;
}

nkl_status nkl_set_isa(nkl_isa isa) {
    const nkl_kernels *k = nkl_kernels_for_isa(isa);
    if (!k) return NKL_ERROR_ISA_UNAVAILABLE;
    STORE(active, k);
    return NKL_OK;
}
