/*
 * fuzz_api.c - a libFuzzer target over every public entry point of nativekl.h.
 *
 * One input drives one call. Its first byte picks the entry point from
 * `entry_points` below; the next bytes are the call's parameters (lengths,
 * reduction, batch, flags, where each pointer goes); what is left is the
 * payload the arrays are filled from (cycled: NaN, inf, subnormal and raw bit
 * patterns as well as plausible log-probabilities and probabilities).
 *
 * Every array a call reads or writes lives in its own slot of an arena and
 * ends exactly at a PROT_NONE page; the bytes before it are poisoned for
 * AddressSanitizer. So a read or write one element outside what the call was
 * given faults, on either side.
 *
 * The oracle, for every call:
 *   - no crash, no sanitizer report;
 *   - the harness models the header's contract: a call that must fail (a
 *     NULL pointer with a length > 0, a byte count that overflows ptrdiff_t,
 *     an unknown reduction or flag bit, a bad batch, a partly overlapping
 *     output, ...) must return an error, and a call with none of those must
 *     return NKL_OK (but for the few cases the header leaves open, such as a
 *     temperature whose reciprocal overflows the data's type);
 *   - an error leaves every byte of every array as it was;
 *   - NKL_OK leaves the inputs as they were (outside an allowed in-place
 *     output) and writes exactly what the scalar path (NKL_FORCE_SCALAR),
 *     run on pristine copies at other addresses, writes: the same bits, NaN
 *     included, and every NaN is NKL_NAN_BITS_F32 / NKL_NAN_BITS_F64.
 *
 * Huge lengths are passed only where their byte count overflows (the call
 * must then fail before touching memory); the harness never claims a length
 * larger than the memory it passes otherwise, since that would be the
 * caller's bug, not the library's.
 *
 * Adding an entry point: write a `static void fuzz_xxx(fz *f)` that draws its
 * parameters with the fz_* helpers, places its arrays with place(), and ends
 * with check_call() (its verdict from the header), then compares its outputs
 * with the scalar path's; then add one line to `entry_points`.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "nativekl.h"

/* Let nkl_alloc see the allocator's NULL for an impossible size, as it would
   without the sanitizer, instead of a report. */
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ----------------------------------------------------------------- input */

typedef struct {
    const uint8_t *p;
    size_t n;
    const uint8_t *payload; /* what the parameters left; the arrays' values */
    size_t payload_len;
} fz;

static uint8_t fz_u8(fz *f) {
    if (f->n == 0) return 0;
    f->n--;
    return *f->p++;
}
static uint64_t fz_u64(fz *f) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | fz_u8(f);
    return v;
}
static uint16_t fz_u16(fz *f) { return (uint16_t)(fz_u8(f) << 8 | fz_u8(f)); }

/* The largest array the harness backs with memory, in elements: three chunks
   and a bit, so every chunk boundary is crossed. */
#define CAP_ELEMENTS (3 * NKL_CHUNK_ELEMENTS + 64)

/* An element count: mostly small (every tail and block shape), sometimes
   around a chunk boundary, sometimes huge. A huge count always overflows
   ptrdiff_t once multiplied by any element size (>= 2^62), some of them
   wrapping size_t to a small byte count (2^62 * 4 = 0 mod 2^64). */
static size_t fz_length(fz *f) {
    uint8_t k = fz_u8(f);
    if (k < 200) return fz_u16(f) % 520;
    if (k < 232) {
        static const size_t edges[] = {NKL_CHUNK_ELEMENTS, 2 * NKL_CHUNK_ELEMENTS,
                                       3 * NKL_CHUNK_ELEMENTS, 1024};
        size_t e = edges[fz_u8(f) % 4] + fz_u8(f) % 33;
        return e >= 16 ? e - 16 : e;
    }
    switch (k % 4) {
    case 0: return SIZE_MAX;
    case 1: return (size_t)1 << 62;
    case 2: return (size_t)PTRDIFF_MAX;
    default: return (size_t)(fz_u64(f) | (uint64_t)1 << 62);
    }
}

/* A "huge" count (as fz_length gives) that no element size makes fit. */
static int overflows(size_t count, size_t size) { return count > (size_t)PTRDIFF_MAX / size; }

static nkl_reduction fz_reduction(fz *f) {
    uint8_t k = fz_u8(f);
    if (k < 240) return (nkl_reduction)(k % 4);
    return (nkl_reduction)(int)(int8_t)fz_u8(f); /* out of range, negative included */
}

static size_t fz_batch(fz *f, size_t n) {
    uint8_t k = fz_u8(f);
    switch (k % 8) {
    case 0: return 0;
    case 1: return 1;
    case 2: return n;
    case 3: return fz_u64(f);
    default: { /* a divisor of n when there is a small one */
        size_t d = 1 + fz_u8(f) % 16;
        return n % d == 0 ? d : d + 1;
    }
    }
}

#define KNOWN_FLAGS (NKL_LOG_TARGET | NKL_MASKED | NKL_FORCE_SCALAR | NKL_FORCE_AVX2)
#define FORCE_FLAGS (NKL_FORCE_SCALAR | NKL_FORCE_AVX2)

static uint32_t fz_flags(fz *f) {
    uint8_t k = fz_u8(f);
    if (k < 224) {
        static const uint32_t force[] = {0, 0, NKL_FORCE_SCALAR, NKL_FORCE_AVX2};
        return (k & 3u) | force[(k >> 2) % 4];
    }
    return (uint32_t)fz_u64(f); /* any bits at all */
}

/* Is flags what the header allows, on this CPU? */
static int flags_valid(uint32_t flags) {
    if (flags & ~KNOWN_FLAGS) return 0;
    if ((flags & FORCE_FLAGS) == FORCE_FLAGS) return 0;
    if ((flags & NKL_FORCE_AVX2) && !nkl_isa_supported(NKL_ISA_AVX2)) return 0;
    return 1;
}
static uint32_t scalar_flags(uint32_t flags) { return (flags & ~FORCE_FLAGS) | NKL_FORCE_SCALAR; }

static int reduction_known(nkl_reduction r) { return (unsigned)r <= NKL_REDUCTION_BATCHMEAN; }

/* The header's BATCHMEAN rule: batch > 0 dividing n, unless n == 0. */
static int batch_valid(nkl_reduction r, size_t n, size_t batch) {
    if (r != NKL_REDUCTION_BATCHMEAN || n == 0) return 1;
    return batch > 0 && n % batch == 0;
}

/* ----------------------------------------------------------------- values */

/* How the values of an array are drawn: input-like (log-probabilities, <= 0)
   or target-like (probabilities in [0, 1]); both also get specials and raw
   bits. */
enum role { ROLE_LOG = 0, ROLE_PROB = 1 };

static uint8_t payload_at(const fz *f, size_t i) {
    return f->payload_len ? f->payload[i % f->payload_len] : (uint8_t)(i * 37u + 11u);
}

static float value_f32(const fz *f, size_t i, enum role role) {
    static const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, -NAN,
                                     FLT_MIN, 0x1p-149f, 0x1.fffffcp-127f, FLT_MAX, -FLT_MAX,
                                     0.5f, 1e-30f, 88.8f};
    size_t o = i * 4 + role;
    uint8_t b0 = payload_at(f, o), b1 = payload_at(f, o + 1), b2 = payload_at(f, o + 2),
            b3 = payload_at(f, o + 3);
    switch (b0 & 7) {
    case 0: {
        uint32_t u = (uint32_t)b0 << 24 | (uint32_t)b1 << 16 | (uint32_t)b2 << 8 | b3;
        float v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    case 1: return specials[b1 % 16];
    default: {
        float u = (float)((unsigned)b1 << 8 | b2) / 65535.0f;
        return role == ROLE_PROB ? u : -16.0f * u;
    }
    }
}

static double value_f64(const fz *f, size_t i, enum role role) {
    static const double specials[] = {0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, NAN, -NAN,
                                      DBL_MIN, 0x1p-1074, 0x0.fffffffffffffp-1022, DBL_MAX,
                                      -DBL_MAX, 0.5, 1e-300, 709.8};
    size_t o = i * 8 + role;
    uint8_t b0 = payload_at(f, o);
    switch (b0 & 7) {
    case 0: {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u = u << 8 | payload_at(f, o + (size_t)k);
        double v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    case 1: return specials[payload_at(f, o + 1) % 16];
    default: {
        double u = (double)((unsigned)payload_at(f, o + 1) << 8 | payload_at(f, o + 2)) / 65535.0;
        return role == ROLE_PROB ? u : -700.0 * u * u;
    }
    }
}

/* ------------------------------------------------------------------ arena */

/*
 * Slots: one per array of a call. A placed array ends at its slot's end (a
 * PROT_NONE page follows), or a few elements before it to vary alignment;
 * everything in the slot below the lowest placed byte is poisoned.
 */
enum { SLOT_X, SLOT_T, SLOT_OUT1, SLOT_OUT2, SLOT_OUT3, SLOT_W, SLOT_COUNT };
#define SLOT_BYTES ((size_t)1 << 20)

typedef struct {
    uint8_t *base, *end; /* usable [base, end); end is the guard page */
    uint8_t *lo;         /* lowest placed byte this call (end if none) */
    uint8_t *shadow;     /* a copy of [lo, end) taken before the call */
} slot;

static slot slots[SLOT_COUNT];
static size_t page;

static void arena_init(void) {
    if (page) return;
    page = (size_t)sysconf(_SC_PAGESIZE);
    for (int s = 0; s < SLOT_COUNT; s++) {
        uint8_t *m = mmap(NULL, SLOT_BYTES + page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m + SLOT_BYTES, page, PROT_NONE) != 0) abort();
        slots[s].base = m;
        slots[s].end = m + SLOT_BYTES;
        slots[s].shadow = malloc(SLOT_BYTES);
        if (!slots[s].shadow) abort();
    }
}

static void arena_reset(void) {
    for (int s = 0; s < SLOT_COUNT; s++) {
        if (slots[s].lo) ASAN_UNPOISON_MEMORY_REGION(slots[s].base, (size_t)(slots[s].lo - slots[s].base));
        slots[s].lo = slots[s].end;
    }
}

/* Marks p as the lowest byte of slot s in use, if it is lower. */
static void cover(int s, const void *p) {
    if ((uint8_t *)p < slots[s].lo) slots[s].lo = (uint8_t *)p;
}

/*
 * place - count elements of size bytes in slot s, from one byte of the input:
 * NULL (1 in 32), shifted down by 1..7 bytes so the pointer breaks natural
 * alignment (1 in 32: a contract violation in C that x86-64 tolerates; built
 * without UBSan's alignment check), ending 1..7 elements before the guard
 * page (to vary the address modulo 64 independently of the length), or
 * ending exactly at it. A count that overflows gets 8 real elements.
 */
static void *place(fz *f, int s, size_t count, size_t size) {
    uint8_t m = fz_u8(f);
    if (m % 32 == 0) return NULL;
    if (overflows(count, size)) count = 8;
    size_t tail = 0;
    if (m % 32 == 1) tail = 1 + (size_t)(m >> 5) % 7;
    else if (m % 32 < 6) tail = (1 + (size_t)(m >> 5) % 7) * size;
    uint8_t *p = slots[s].end - count * size - tail;
    cover(s, p);
    return p;
}

/* Poisons what lies below each slot's placed bytes and snapshots the rest. */
static void arena_seal(void) {
    for (int s = 0; s < SLOT_COUNT; s++) {
        slot *sl = &slots[s];
        size_t below = (size_t)(sl->lo - sl->base) & ~(size_t)7;
        ASAN_POISON_MEMORY_REGION(sl->base, below);
        memcpy(sl->shadow, sl->lo, (size_t)(sl->end - sl->lo));
    }
}

/* An output range the call may write; everything else must stay as it was. */
typedef struct { const void *p; size_t bytes; } range;

static int slot_of(const void *p) {
    for (int s = 0; s < SLOT_COUNT; s++)
        if ((const uint8_t *)p >= slots[s].base && (const uint8_t *)p < slots[s].end) return s;
    return -1;
}

/* Where a pointer into the arena has its pre-call copy. */
static const void *shadow_of(const void *p) {
    int s = slot_of(p);
    if (s < 0 || (const uint8_t *)p < slots[s].lo) return p;
    return slots[s].shadow + ((const uint8_t *)p - slots[s].lo);
}

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz_api: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* Every slot holds its snapshot, except inside the given writable ranges. */
static void require_untouched_except(const range *w, int nw, const char *what) {
    for (int s = 0; s < SLOT_COUNT; s++) {
        slot *sl = &slots[s];
        size_t used = (size_t)(sl->end - sl->lo);
        if (memcmp(sl->lo, sl->shadow, used) == 0) continue;
        /* Walk the slot: compare up to the next writable range, skip it. */
        size_t i = 0;
        while (i < used) {
            size_t next = used, skip_to = i;
            for (int k = 0; k < nw; k++) {
                if (!w[k].p || w[k].bytes == 0 || slot_of(w[k].p) != s) continue;
                size_t a = (size_t)((const uint8_t *)w[k].p - sl->lo), b = a + w[k].bytes;
                if (a <= i && i < b && b > skip_to) skip_to = b;
                if (a > i && a < next) next = a;
            }
            if (skip_to > i) { i = skip_to; continue; }
            if (memcmp(sl->lo + i, sl->shadow + i, next - i) != 0)
                for (size_t j = i; j < next; j++)
                    if (sl->lo[j] != sl->shadow[j])
                        fail("%s: byte %zu of slot %d changed", what, j, s);
            i = next;
        }
    }
}

static void require_status_known(nkl_status s, const char *what) {
    if ((int)s < NKL_ERROR_NULL_POINTER || (int)s > NKL_ERROR_INVALID_WEIGHT)
        fail("%s: status %d is not an error the header defines", what, (int)s);
}

/*
 * The verdict of the contract model. Each fuzz_* function computes it from
 * the parameters, then calls check_call. EITHER is for the few cases the
 * header leaves to the library (a temperature whose reciprocal overflows
 * the data's type, say): either outcome, but still all the other checks.
 */
enum verdict { MUST_SUCCEED, MUST_FAIL, EITHER };

/* Checks the status against the verdict; on error, that nothing changed.
   Returns 1 when the call succeeded (the caller then compares outputs). */
static int check_call(nkl_status st, enum verdict v, const range *w, int nw, const char *what) {
    if (st == NKL_OK) {
        if (v == MUST_FAIL) fail("%s: succeeded, but the header says it must fail", what);
        require_untouched_except(w, nw, what);
        return 1;
    }
    require_status_known(st, what);
    if (v == MUST_SUCCEED)
        fail("%s: returned %d (%s) for a call the header allows", what, (int)st,
             nkl_status_string(st));
    require_untouched_except(NULL, 0, what);
    return 0;
}

/* The same bits, NaN included, and every NaN the library's one (NKL_NAN_BITS_*):
   a NaN of another sign or payload on both paths is still a failure. */
static int same_f32(float a, float b) {
    uint32_t bits;
    memcpy(&bits, &a, sizeof bits);
    return memcmp(&a, &b, sizeof a) == 0 && (!isnan(a) || bits == NKL_NAN_BITS_F32);
}
static int same_f64(double a, double b) {
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    return memcmp(&a, &b, sizeof a) == 0 && (!isnan(a) || bits == NKL_NAN_BITS_F64);
}
static void require_same_f32(const float *a, const float *b, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!same_f32(a[i], b[i]))
            fail("%s: element %zu is %a, the scalar path gives %a", what, i, (double)a[i], (double)b[i]);
}
static void require_same_f64(const double *a, const double *b, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!same_f64(a[i], b[i]))
            fail("%s: element %zu is %a, the scalar path gives %a", what, i, a[i], b[i]);
}

/* Do byte ranges [a, a + na) and [b, b + nb) share a byte? */
static int overlap(const void *a, size_t na, const void *b, size_t nb) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return a && b && na > 0 && nb > 0 && pa < pb + nb && pb < pa + na;
}

/* Elements that rows of cols at a stride span; in 128 bits so it cannot wrap. */
static unsigned __int128 extent(size_t rows, size_t cols, size_t stride) {
    if (rows == 0 || cols == 0) return 0;
    return (unsigned __int128)(rows - 1) * stride + cols;
}

/* Reference outputs of the scalar path: heap memory, nowhere near the arena. */
static void *ref_alloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) abort();
    return p;
}

/* The distillation flags: at most one NKL_FORCE_* besides these. */
#define DISTILL_FLAGS (NKL_TEACHER_LOG_PROBS_AS_GIVEN | NKL_MULTIPLY_LOSS_BY_T2 | FORCE_FLAGS)

static uint32_t fz_distill_flags(fz *f) {
    uint8_t k = fz_u8(f);
    if (k < 224) {
        static const uint32_t force[] = {0, 0, NKL_FORCE_SCALAR, NKL_FORCE_AVX2};
        return (k & (NKL_TEACHER_LOG_PROBS_AS_GIVEN | NKL_MULTIPLY_LOSS_BY_T2)) | force[k % 4];
    }
    return (uint32_t)fz_u64(f);
}

static int distill_flags_valid(uint32_t flags) {
    return !(flags & ~DISTILL_FLAGS) && flags_valid(flags & FORCE_FLAGS);
}

/* A row index (first_row or row_count) for rows rows: mostly inside (empty
   ranges included), sometimes past the end, sometimes huge. */
static size_t fz_row_index(fz *f, size_t rows) {
    uint8_t k = fz_u8(f);
    if (k < 224) return k % ((rows < 16 ? rows : 16) + 2);
    return fz_length(f);
}

/* Where a row range's span starts, in elements from row 0 of a strided
   array; 0 for an empty span (rows or cols 0). */
static size_t span_start(size_t first, size_t count, size_t cols, size_t stride) {
    return count > 0 && cols > 0 ? first * stride : 0;
}

/* How a distillation entry point reads desc->reduction (distill_bad_*). */
enum { RED_KNOWN, RED_NOT_READ, RED_REDUCES };

/* A temperature: the usual ones, the edges of 1/T, and anything at all. */
static double fz_temperature(fz *f) {
    static const double t[] = {1.0, 2.0, 0.5, 4.0, 0.1, 10.0, 1e-30, 1e30, 1e-300, 1e300,
                               0.0, -0.0, -1.0, INFINITY, NAN, 0x1p-1074};
    uint8_t k = fz_u8(f);
    if (k < 200) return t[k % 6];
    if (k < 240) return t[k % 16];
    double v;
    uint64_t u = fz_u64(f);
    memcpy(&v, &u, sizeof v);
    return v;
}

/* --------------------------------------------------- typed entry points */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)

#define T float
#define SUF f32
#define value_T value_f32
#define require_same_T require_same_f32
#include "fuzz_typed.inc"
#undef T
#undef SUF
#undef value_T
#undef require_same_T

#define T double
#define SUF f64
#define value_T value_f64
#define require_same_T require_same_f64
#include "fuzz_typed.inc"
#undef T
#undef SUF
#undef value_T
#undef require_same_T

/* ------------------------------------------------- untyped entry points */

static void fuzz_partials_finish(fz *f) {
    size_t n = fz_u8(f) < 192 ? (size_t)fz_u16(f) * 131u : fz_length(f);
    uint8_t k = fz_u8(f);
    size_t count = k < 160 ? nkl_chunk_count(n) : k < 224 ? fz_u8(f) : fz_length(f);
    nkl_reduction red = fz_reduction(f);
    size_t batch = fz_batch(f, n);
    const size_t cap = SLOT_BYTES / sizeof(nkl_partial) - 8;
    if (!overflows(count, sizeof(nkl_partial)) && count > cap) return; /* would be a lie */
    arena_reset();
    nkl_partial *p = place(f, SLOT_X, count, sizeof(nkl_partial));
    size_t real = overflows(count, sizeof(nkl_partial)) ? 8 : count;
    if (p) {
        for (size_t i = 0; i < real; i++) {
            p[i].sum = value_f64(f, 2 * i, ROLE_LOG);
            p[i].compensation = value_f64(f, 2 * i + 1, ROLE_PROB) * 0x1p-40;
        }
    }
    double *out = fz_u8(f) % 16 == 0 ? NULL : place(f, SLOT_OUT1, 1, sizeof(double));
    if (out) *out = -12345.0;
    arena_seal();

    int bad = !reduction_known(red) || red == NKL_REDUCTION_NONE || !batch_valid(red, n, batch) ||
              count != nkl_chunk_count(n) || overflows(count, sizeof(nkl_partial)) ||
              (count > 0 && !p) || !out;
    nkl_status st = nkl_partials_finish(p, count, n, red, batch, out);
    range w = {out, sizeof(double)};
    if (!check_call(st, bad ? MUST_FAIL : MUST_SUCCEED, &w, 1, "nkl_partials_finish")) return;
    /* the same partials elsewhere give the same bits */
    double again;
    nkl_partial *copy = ref_alloc(real * sizeof *copy + 1);
    if (real) memcpy(copy, shadow_of(p), real * sizeof *copy);
    st = nkl_partials_finish(copy, count, n, red, batch, &again);
    free(copy);
    if (st != NKL_OK || !same_f64(*out, again)) fail("nkl_partials_finish: not deterministic");
}

static void fuzz_alloc(fz *f) {
    uint8_t k = fz_u8(f);
    size_t size;
    /* Sizes the machine can give, or sizes no allocator can (>= 2^41) that
       must fail without a libFuzzer malloc-limit report in between. */
    if (k < 192) size = k < 128 ? fz_u16(f) % 4097 : fz_u16(f) * 16u;
    else size = (size_t)fz_u64(f) | (size_t)1 << 41;
    uint8_t a = fz_u8(f);
    size_t alignment = a < 200 ? (size_t)1 << (a % 17) : (size_t)fz_u64(f);
    int null_out = fz_u8(f) % 16 == 0;
    void *p = (void *)0x1;
    nkl_status st = nkl_alloc(size, alignment, null_out ? NULL : &p);
    int bad_alignment = alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0;
    if (null_out) {
        if (st != NKL_ERROR_NULL_POINTER) fail("nkl_alloc: NULL out gave %d", (int)st);
        return;
    }
    if (bad_alignment || size > (size_t)PTRDIFF_MAX - alignment) {
        if (st == NKL_OK) fail("nkl_alloc: size %zu alignment %zu succeeded", size, alignment);
    }
    if (st != NKL_OK) {
        require_status_known(st, "nkl_alloc");
        if (p != NULL) fail("nkl_alloc: failed but *out is not NULL");
        /* Out of memory is a right answer for a huge alignment: the
           allocator may need size + alignment bytes, or refuse outright. */
        if (!bad_alignment && size <= ((size_t)1 << 40) && alignment <= ((size_t)1 << 24) &&
            st == NKL_ERROR_OUT_OF_MEMORY)
            fail("nkl_alloc: %zu bytes aligned to %zu out of memory", size, alignment);
        return;
    }
    if (!p || (uintptr_t)p % alignment != 0) fail("nkl_alloc: %p is not aligned to %zu", p, alignment);
    memset(p, 0xab, size); /* ASan: all of it is ours */
    nkl_free(p);
}

static void fuzz_misc(fz *f) {
    int code = (int)(int32_t)(uint32_t)fz_u64(f);
    if (!nkl_status_string((nkl_status)code)) fail("nkl_status_string(%d) is NULL", code);
    nkl_isa isa = (nkl_isa)(int)(int8_t)fz_u8(f);
    if (!nkl_isa_name(isa)) fail("nkl_isa_name is NULL");
    int supported = nkl_isa_supported(isa);
    if (supported != 0 && supported != 1) fail("nkl_isa_supported gave %d", supported);
    nkl_status st = nkl_set_isa(isa);
    if ((st == NKL_OK) != supported) fail("nkl_set_isa(%d) gave %d, supported %d", (int)isa, (int)st, supported);
    if (st == NKL_OK && isa != NKL_ISA_AUTO && nkl_active_isa() != isa) fail("nkl_set_isa did not take");
    size_t n = (size_t)fz_u64(f);
    size_t c = nkl_chunk_count(n);
    if (c != n / NKL_CHUNK_ELEMENTS + (n % NKL_CHUNK_ELEMENTS != 0)) fail("nkl_chunk_count(%zu) = %zu", n, c);
    if (nkl_version() != NKL_VERSION || strcmp(nkl_version_string(), NKL_VERSION_STRING) != 0)
        fail("version mismatch");
}

/* ------------------------------------------------------- the entry table */

typedef void (*fuzz_fn)(fz *f);
static const struct { const char *name; fuzz_fn run; } entry_points[] = {
    {"nkl_kl_div_f32", fuzz_kl_div_f32},
    {"nkl_kl_div_f64", fuzz_kl_div_f64},
    {"nkl_kl_div_rows_f32", fuzz_rows_f32},
    {"nkl_kl_div_rows_f64", fuzz_rows_f64},
    {"nkl_kl_div_backward_f32", fuzz_backward_f32},
    {"nkl_kl_div_backward_f64", fuzz_backward_f64},
    {"nkl_kl_div_partials_f32 + nkl_partials_finish", fuzz_partials_f32},
    {"nkl_kl_div_partials_f64 + nkl_partials_finish", fuzz_partials_f64},
    {"nkl_partials_finish", fuzz_partials_finish},
    {"nkl_distill_f32", fuzz_distill_f32},
    {"nkl_distill_f64", fuzz_distill_f64},
    {"nkl_distill_backward_f32", fuzz_distill_backward_f32},
    {"nkl_distill_backward_f64", fuzz_distill_backward_f64},
    {"nkl_alloc + nkl_free", fuzz_alloc},
    {"nkl_kl_div_backward_partials_f32 + nkl_partials_finish", fuzz_backward_partials_f32},
    {"nkl_kl_div_backward_partials_f64 + nkl_partials_finish", fuzz_backward_partials_f64},
    {"nkl_distill_partials_f32 + nkl_distill_finish_f32", fuzz_distill_partials_f32},
    {"nkl_distill_partials_f64 + nkl_distill_finish_f64", fuzz_distill_partials_f64},
    {"nkl_distill_backward_partials_f32 + nkl_distill_finish_f32", fuzz_distill_backward_partials_f32},
    {"nkl_distill_backward_partials_f64 + nkl_distill_finish_f64", fuzz_distill_backward_partials_f64},
    {"nkl_distill_finish_f32", fuzz_distill_finish_f32},
    {"nkl_distill_finish_f64", fuzz_distill_finish_f64},
    {"nkl_status_string, nkl_isa_*, nkl_set_isa, nkl_chunk_count, nkl_version*", fuzz_misc},
    /* A new entry point: one line here, and its fuzz_* function. A line
       changes data[0] % ENTRY_COUNT for every seed: remap the corpus with
       remap_corpus.py so that each seed still drives its entry point. */
};
#define ENTRY_COUNT (sizeof entry_points / sizeof entry_points[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena_init();
    if (size < 2) return 0;
    /* The process-wide ISA for this input (calls without NKL_FORCE_* run on
       it), so that each input replays alone exactly as it ran. */
    static const nkl_isa active[] = {NKL_ISA_AUTO, NKL_ISA_SCALAR, NKL_ISA_AVX2};
    nkl_isa isa = active[(data[0] >> 4) % 3];
    if (nkl_set_isa(isa) != NKL_OK) nkl_set_isa(NKL_ISA_AUTO);
    fz f = {data + 1, size - 1, NULL, 0};
    /* The next 32 bytes are the parameters (zeros past the end of a shorter
       input); the rest is the payload, or all of it when nothing is left. */
    size_t params = f.n < 32 ? f.n : 32;
    f.payload = size - 1 > params ? data + 1 + params : data + 1;
    f.payload_len = size - 1 > params ? size - 1 - params : size - 1;
    f.n = params;
    entry_points[data[0] % ENTRY_COUNT].run(&f);
    return 0;
}
