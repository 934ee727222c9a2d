/*
 * exp2_f32_fit.c - derives the float32 exp2's polynomial (vmath_constants.h
 * NKL_EXP2_C*_F32, KlConstants.cs Exp2C*F32). Not part of the build; rerun it
 * only to change the method:
 *
 *   cc -O2 native/tools/exp2_f32_fit.c -lm -o /tmp/exp2_f32_fit && /tmp/exp2_f32_fit
 *
 * The method (vmath_scalar.h nkl_exp2_f32): x = k + r with k = round(x) and
 * r = x - k exact, |r| <= 1/2; 2^x = 2^k p(r) with
 *   p(r) = 1 + r (C1 + r (C2 + r (C3 + r (C4 + r C5)))).
 * p(r) lies in [0.707, 1.414], and the ulp of a result below 1 is half that
 * of one above, so the fit minimises the error in ulps of the result:
 * |p(r) - 2^r| weighted 2 for r < 0, 1 for r >= 0 (Lawson's iteration of
 * weighted least squares over a dense grid, in long double), then rounds the
 * coefficients to float. The fit's own error is 1.05 ulp; test_ulp measures
 * the whole, the last steps' rounding included: 1.80 ulp over every float32.
 */
#include <math.h>
#include <stdio.h>

#include "solve.h"

#define M 4001 /* grid points over [-1/2, 1/2] */
#define D 5    /* coefficients C1..C5 */

typedef long double ld;

static const ld LN2 = 0.693147180559945309417232121458176568L;

/* Error of 1 + sum c_j r^(j+1) against 2^r, in ulps (2^-23 above 1, 2^-24 below). */
static ld err_ulps(const ld c[D], ld r) {
    ld p = 1, rp = r;
    for (int j = 0; j < D; j++, rp *= r) p += c[j] * rp;
    return fabsl(p - expl(r * LN2)) * (r < 0 ? 2 : 1) * 0x1p23L;
}

int main(void) {
    static ld r[M], w[M];
    ld c[D];
    for (int i = 0; i < M; i++) {
        r[i] = -0.5L + (ld)i / (M - 1); /* the ends included: |r| <= 1/2 */
        w[i] = 1.0L / M;
    }
    ld worst = 0;
    for (int it = 0; it < 3000; it++) {
        /* weighted least squares: minimise sum w (s (sum c_j r^(j+1) - (2^r - 1)))^2 */
        ld a[D][D + 1] = {{0}};
        for (int i = 0; i < M; i++) {
            ld s = r[i] < 0 ? 2 : 1, phi[D], rp = r[i];
            for (int j = 0; j < D; j++, rp *= r[i]) phi[j] = s * rp;
            ld y = s * (expl(r[i] * LN2) - 1);
            for (int p = 0; p < D; p++) {
                for (int q = 0; q < D; q++) a[p][q] += w[i] * phi[p] * phi[q];
                a[p][D] += w[i] * phi[p] * y;
            }
        }
        solve(D, &a[0][0]);
        for (int j = 0; j < D; j++) c[j] = a[j][D];
        /* Lawson: weights grow with the error, toward the minimax */
        ld sum = 0;
        worst = 0;
        for (int i = 0; i < M; i++) {
            ld e = err_ulps(c, r[i]);
            if (e > worst) worst = e;
            w[i] *= e + 1e-30L;
            sum += w[i];
        }
        for (int i = 0; i < M; i++) w[i] /= sum;
    }
    printf("fit error %.4Lf ulp (before rounding the coefficients to float)\n", worst);
    ld cf[D];
    for (int j = 0; j < D; j++) cf[j] = (float)c[j];
    ld wf = 0;
    for (int i = 0; i < M; i++) {
        ld e = err_ulps(cf, r[i]);
        if (e > wf) wf = e;
    }
    printf("with float coefficients: %.4Lf ulp\n", wf);
    for (int j = 0; j < D; j++) printf("#define NKL_EXP2_C%d_F32 %af\n", j + 1, (float)c[j]);
    return 0;
}
