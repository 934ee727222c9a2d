/*
 * test_soft_fma.c - nkl_soft_fma and nkl_soft_fmaf (native/src/soft_fma.h) against the hardware
 * fused multiply-add (vfmadd, through _mm_fmadd_sd / _mm_fmadd_ss) on
 * - every triple of an edge set (signed zeros, subnormals, the least and greatest normals,
 *   infinities, NaN, values around 1 and around overflow), and
 * - millions of random triples from generators aimed at the hard cases: any bit pattern;
 *   z near -x*y (cancellation, exact and partial); results around the subnormal range and
 *   around overflow; short significands whose sums land on ties (halfway cases).
 * Each result must have the hardware's bits; two NaNs count as equal (the payload rules of
 * the instruction's operand order are not the library's concern: it canonicalises NaNs).
 * It also counts how often the C library's fma/fmaf differ from the hardware (printed, not
 * checked: that is the reason the library carries its own on some toolchains).
 * NKL_SOFT_FMA_COUNT overrides the random count per function (default 2^24, 2^21 quick).
 * Skipped where the CPU has no FMA; not built off x86.
 */
#include "nkl_test.h"

#include "soft_fma.h"

#if defined(NKL_HAVE_X86)
#include <immintrin.h>

#if defined(__GNUC__) || defined(__clang__)
#define TARGET_FMA __attribute__((target("fma")))
#else
#define TARGET_FMA /* MSVC: intrinsics need no flag */
#endif

static TARGET_FMA double hw_fma(double a, double b, double c) {
    return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c)));
}
static TARGET_FMA float hw_fmaf(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

/* Through a volatile pointer: the library function itself, never an inlined instruction. */
static double (*volatile libm_fma)(double, double, double) = fma;
static float (*volatile libm_fmaf)(float, float, float) = fmaf;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next64(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double d_from(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
static uint64_t d_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }
static float f_from(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static uint32_t f_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

static int same_d(double a, double b) { return (a != a && b != b) || d_bits(a) == d_bits(b); }
static int same_f(float a, float b) { return (a != a && b != b) || f_bits(a) == f_bits(b); }

/* sign, a biased exponent in [lo, hi], and the top `bits` significand bits random. */
static double rand_d(int lo, int hi, int bits) {
    uint64_t r = next64();
    uint64_t e = (uint64_t)(lo + (int)(next64() % (uint64_t)(hi - lo + 1)));
    uint64_t m = (r & ((UINT64_C(1) << 52) - 1)) & ~((UINT64_C(1) << (52 - bits)) - 1);
    return d_from((r & (UINT64_C(1) << 63)) | (e << 52) | m);
}
static float rand_f(int lo, int hi, int bits) {
    uint64_t r = next64();
    uint32_t e = (uint32_t)(lo + (int)(next64() % (uint64_t)(hi - lo + 1)));
    uint32_t m = ((uint32_t)r & 0x7fffffu) & ~((UINT32_C(1) << (23 - bits)) - 1);
    return f_from(((uint32_t)(r >> 32) & 0x80000000u) | (e << 23) | m);
}

/* Moves d by k ulps (bit pattern arithmetic; k small). */
static double nudge_d(double d, int k) { return d_from(d_bits(d) + (uint64_t)(int64_t)k); }
static float nudge_f(float f, int k) { return f_from(f_bits(f) + (uint32_t)(int32_t)k); }

typedef struct { long long n, soft_bad, libm_bad; } tally;

static void one_d(tally *t, double x, double y, double z) {
    double hw = hw_fma(x, y, z), soft = nkl_soft_fma(x, y, z), lib = libm_fma(x, y, z);
    t->n++;
    if (!same_d(hw, soft)) {
        t->soft_bad++;
        CHECK(0, "fma(%a, %a, %a): hardware %a, soft %a", x, y, z, hw, soft);
    }
    if (!same_d(hw, lib)) t->libm_bad++;
}

static void one_f(tally *t, float x, float y, float z) {
    float hw = hw_fmaf(x, y, z), soft = nkl_soft_fmaf(x, y, z), lib = libm_fmaf(x, y, z);
    t->n++;
    if (!same_f(hw, soft)) {
        t->soft_bad++;
        CHECK(0, "fmaf(%a, %a, %a): hardware %a, soft %a", (double)x, (double)y, (double)z,
              (double)hw, (double)soft);
    }
    if (!same_f(hw, lib)) t->libm_bad++;
}

static void random_d(tally *t, long long count) {
    for (long long i = 0; i < count; i++) {
        double x, y, z;
        switch (i % 6) {
        case 0: /* any bits */
            x = d_from(next64()); y = d_from(next64()); z = d_from(next64());
            break;
        case 1: /* comparable magnitudes: all alignments of the addition */
            x = rand_d(1023 - 40, 1023 + 40, 52); y = rand_d(1023 - 40, 1023 + 40, 52);
            z = rand_d(1023 - 120, 1023 + 120, 52);
            break;
        case 2: /* cancellation: z = -(x*y rounded), moved by a few ulps */
            x = rand_d(1023 - 300, 1023 + 300, 52); y = rand_d(1023 - 300, 1023 + 300, 52);
            z = nudge_d(-(x * y), (int)(next64() % 7) - 3);
            break;
        case 3: /* results around and below the least normal, z subnormal or tiny */
            x = rand_d(1, 500, 52); y = rand_d(1, 600, 52);
            if (x * y > 0x1p-960 || x * y < -0x1p-960) y = d_from(d_bits(y) & ~(UINT64_C(0x3ff) << 52));
            z = (next64() & 1) ? d_from((next64() & ((UINT64_C(1) << 52) - 1)) | (next64() & (UINT64_C(1) << 63)))
                               : nudge_d(-(x * y), (int)(next64() % 5) - 2);
            break;
        case 4: /* around overflow */
            x = rand_d(1023 + 500, 2046, 52); y = rand_d(1023 + 400, 1023 + 523, 52);
            z = rand_d(2000, 2046, 52);
            break;
        default: /* short significands: exact products, sums on ties */
            x = rand_d(1023 - 30, 1023 + 30, 27); y = rand_d(1023 - 30, 1023 + 30, 27);
            z = rand_d(1023 - 60, 1023 + 60, 1 + (int)(next64() % 52));
            break;
        }
        one_d(t, x, y, z);
    }
}

static void random_f(tally *t, long long count) {
    for (long long i = 0; i < count; i++) {
        float x, y, z;
        switch (i % 6) {
        case 0:
            x = f_from((uint32_t)next64()); y = f_from((uint32_t)next64()); z = f_from((uint32_t)next64());
            break;
        case 1:
            x = rand_f(127 - 20, 127 + 20, 23); y = rand_f(127 - 20, 127 + 20, 23);
            z = rand_f(127 - 60, 127 + 60, 23);
            break;
        case 2:
            x = rand_f(127 - 60, 127 + 60, 23); y = rand_f(127 - 60, 127 + 60, 23);
            z = nudge_f(-(x * y), (int)(next64() % 7) - 3);
            break;
        case 3:
            x = rand_f(1, 100, 23); y = rand_f(1, 110, 23);
            z = (next64() & 1) ? f_from(((uint32_t)next64() & 0x7fffffu) | ((uint32_t)next64() & 0x80000000u))
                               : rand_f(0, 20, 23);
            break;
        case 4:
            x = rand_f(127 + 60, 254, 23); y = rand_f(127 + 50, 127 + 68, 23);
            z = rand_f(240, 254, 23);
            break;
        default:
            x = rand_f(127 - 10, 127 + 10, 12); y = rand_f(127 - 10, 127 + 10, 12);
            z = rand_f(127 - 30, 127 + 30, 1 + (int)(next64() % 23));
            break;
        }
        one_f(t, x, y, z);
    }
}

static const double edge_d[] = {
    0.0, -0.0, 0x1p-1074, -0x1p-1074, 0x0.fffffffffffffp-1022, -0x0.8p-1022, 0x1p-1022,
    -0x1p-1022, 0x1p-537, -0x1.8p-537, 1.0, -1.0, 0x1.0000000000001p0, -0x1.fffffffffffffp-1,
    0x1p512, -0x1.fffffffffffffp1023, 0x1.fffffffffffffp1023, 0x1p-1, 3.0, -0x1p-53,
};
static const float edge_f[] = {
    0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 0x0.fffffep-126f, -0x0.8p-126f, 0x1p-126f, -0x1p-126f,
    0x1p-75f, -0x1.8p-75f, 1.0f, -1.0f, 0x1.000002p0f, -0x1.fffffep-1f, 0x1p64f, -0x1.fffffep127f,
    0x1.fffffep127f, 0x1p-1f, 3.0f, -0x1p-24f,
};

int main(void) {
    if (!nkl_isa_supported(NKL_ISA_AVX2)) { /* AVX2 and FMA: the library's own detection */
        printf("skipped: this CPU has no FMA instruction to compare with\n");
        return NKL_TEST_SKIP;
    }
    long long count = nkl_test_quick() ? (1LL << 21) : (1LL << 24);
    const char *env = getenv("NKL_SOFT_FMA_COUNT");
    if (env && *env) count = atoll(env);

    tally td = {0, 0, 0}, tf = {0, 0, 0};
    const size_t nd = sizeof edge_d / sizeof edge_d[0], nf = sizeof edge_f / sizeof edge_f[0];
    double specials_d[] = {INFINITY, -INFINITY, NAN};
    float specials_f[] = {INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < nd + 3; i++)
        for (size_t j = 0; j < nd + 3; j++)
            for (size_t k = 0; k < nd + 3; k++) {
                double x = i < nd ? edge_d[i] : specials_d[i - nd];
                double y = j < nd ? edge_d[j] : specials_d[j - nd];
                double z = k < nd ? edge_d[k] : specials_d[k - nd];
                one_d(&td, x, y, z);
                float xf = i < nf ? edge_f[i] : specials_f[i - nf];
                float yf = j < nf ? edge_f[j] : specials_f[j - nf];
                float zf = k < nf ? edge_f[k] : specials_f[k - nf];
                one_f(&tf, xf, yf, zf);
            }
    long long edges = td.n;
    random_d(&td, count);
    random_f(&tf, count);

    printf("fma:  %lld triples (%lld edge): soft differs from hardware on %lld, libm on %lld\n",
           td.n, edges, td.soft_bad, td.libm_bad);
    printf("fmaf: %lld triples (%lld edge): soft differs from hardware on %lld, libm on %lld\n",
           tf.n, edges, tf.soft_bad, tf.libm_bad);
    CHECK(td.soft_bad == 0 && tf.soft_bad == 0, "soft fma mismatches: %lld, fmaf: %lld", td.soft_bad, tf.soft_bad);
    printf("test_soft_fma: %d checks, %d failed\n", nkl_test_checks, nkl_test_failures);
    return nkl_test_failures ? 1 : 0;
}

#else
int main(void) {
    printf("skipped: the hardware comparison is x86 only\n");
    return NKL_TEST_SKIP;
}
#endif
