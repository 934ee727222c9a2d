/*
 * dispatch.c - picks the kernel table once, on first use.
 *
 * The only mutable state of the library is the pointer to the active table.
 * It starts NULL; the first call detects the CPU (and reads NKL_ISA) and
 * publishes the result with an atomic store. Racing first calls compute the
 * same table, so no lock is needed.
 */
#if defined(__AVX2__)
#error "dispatch.c must be compiled without AVX2 flags: it runs before the CPU is known"
#endif

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
    case NKL_ISA_AUTO: {
        const nkl_kernels *best = nkl_kernels_for_isa(NKL_ISA_AVX2);
        return best ? best : &nkl_kernels_scalar;
    }
    default:
        return NULL;
    }
}

static const nkl_kernels *detect(void) {
    const char *env = getenv("NKL_ISA");
    const nkl_kernels *k = NULL;
    if (env && strcmp(env, "scalar") == 0) k = nkl_kernels_for_isa(NKL_ISA_SCALAR);
    if (env && strcmp(env, "avx2") == 0) k = nkl_kernels_for_isa(NKL_ISA_AVX2);
    return k ? k : nkl_kernels_for_isa(NKL_ISA_AUTO);
}

const nkl_kernels *nkl_active_kernels(void) {
    const nkl_kernels *k = LOAD(active);
    if (!k) {
        k = detect();
        STORE(active, k);
    }
    return k;
}

nkl_isa nkl_active_isa(void) { return nkl_active_kernels()->isa; }

int nkl_isa_supported(nkl_isa isa) { return nkl_kernels_for_isa(isa) != NULL; }

const char *nkl_isa_name(nkl_isa isa) {
    switch (isa) {
    case NKL_ISA_AUTO: return "auto";
    case NKL_ISA_SCALAR: return "scalar";
    case NKL_ISA_AVX2: return "avx2";
    default: return "unknown";
    }
}

nkl_status nkl_set_isa(nkl_isa isa) {
    const nkl_kernels *k = nkl_kernels_for_isa(isa);
    if (!k) return NKL_ERROR_ISA_UNAVAILABLE;
    STORE(active, k);
    return NKL_OK;
}
