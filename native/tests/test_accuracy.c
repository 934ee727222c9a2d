/*
 * test_accuracy - reductions are accurate independent of length.
 *
 * N = 10^7 terms (10^5 with NKL_TEST_QUICK=1) of mixed sign (so sum |L| is much larger than |sum L|):
 * float32 data must come within 4 eps32 * sum |L| of the exact sum of the
 * float32 inputs' terms (computed in long double with compensation), and
 * float64 data within 4 eps64 * sum |L|. A plain float32 running sum, shown
 * for contrast, is typically off by orders of magnitude more.
 */
#include "nkl_test.h"

/* Kahan-compensated long double accumulation */
typedef struct { long double s, c; } ksum;
static void kadd(ksum *k, long double v) {
    long double y = v - k->c, t = k->s + y;
    k->c = (t - k->s) - y;
    k->s = t;
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    const size_t N = nkl_test_quick() ? 100000 : 10000000;
    float *x = malloc(N * sizeof *x), *t = malloc(N * sizeof *t);
    double *xd = malloc(N * sizeof *xd), *td = malloc(N * sizeof *td);
    nkl_rng r = {99};
    for (uint32_t lt = 0; lt <= 1; lt++) {
        uint32_t flags = lt ? NKL_LOG_TARGET : 0;
        ksum ref32 = {0, 0}, ref64 = {0, 0};
        long double abs32 = 0, abs64 = 0;
        float naive = 0;
        for (size_t i = 0; i < N; i++) {
            double a = -6.0 * rng_uniform(&r), b = lt ? -6.0 * rng_uniform(&r) : rng_uniform(&r);
            x[i] = (float)a; t[i] = (float)b;
            xd[i] = a; td[i] = b;
            long double l32 = lt ? expl(t[i]) * ((long double)t[i] - x[i])
                                 : (long double)t[i] * (logl(t[i]) - x[i]);
            long double l64 = lt ? expl(td[i]) * ((long double)td[i] - xd[i])
                                 : (long double)td[i] * (logl(td[i]) - xd[i]);
            kadd(&ref32, l32); abs32 += fabsl(l32);
            kadd(&ref64, l64); abs64 += fabsl(l64);
            naive += (float)l32;
        }
        float s32;
        double s64;
        CHECK_OK(nkl_kl_div_f32(x, t, N, NKL_REDUCTION_SUM, 0, flags, &s32));
        CHECK_OK(nkl_kl_div_f64(xd, td, N, NKL_REDUCTION_SUM, 0, flags, &s64));
        long double e32 = fabsl(s32 - ref32.s), e64 = fabsl(s64 - ref64.s);
        printf("log_target=%u: f32 sum %.9g, error %.3Lg = %.3Lg eps32*sum|L| (naive float loop: %.3Lg); "
               "f64 error %.3Lg = %.3Lg eps64*sum|L|\n",
               lt, s32, e32, e32 / (0x1p-23L * abs32), fabsl(naive - ref32.s) / (0x1p-23L * abs32), e64,
               e64 / (0x1p-52L * abs64));
        CHECK_LD_REF(e32 <= 4 * 0x1p-23L * abs32, "f32 error %Lg > 4 eps sum|L| = %Lg", e32, 4 * 0x1p-23L * abs32);
        CHECK_LD_REF(e64 <= 4 * 0x1p-52L * abs64, "f64 error %Lg > 4 eps sum|L| = %Lg", e64, 4 * 0x1p-52L * abs64);
    }
    free(x); free(t); free(xd); free(td);
    return nkl_test_finish("test_accuracy");
}
