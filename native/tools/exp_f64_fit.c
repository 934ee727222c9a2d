/*
 * exp_f64_fit.c - derives the float64 exp's table and polynomial
 * (vmath_constants.h NKL_EXP_S_F64 and NKL_EXP_C*_F64, KlConstants.cs
 * ExpS*F64 / ExpC*F64). Not part of the build; rerun it only to change the
 * method:
 *
 *   cc -O2 native/tools/exp_f64_fit.c -lm -o /tmp/exp_f64_fit && /tmp/exp_f64_fit
 *
 * The method (vmath_scalar.h nkl_exp_f64): x = (8k + j) ln2/8 + r with
 * j = 0..7 and |r| <= ln2/16, e^x = 2^k S[j] e^r, S[j] = 2^(j/8) rounded to
 * float64, and e^r = 1 + q(r) with
 *   q(r) = r + r^2 (C2 + r (C3 + r (C4 + r (C5 + r (C6 + r C7))))).
 * The fit minimises the relative error of 1 + q(r) against e^r over
 * |r| <= ln2/16 (widened by 2^-10 for the rounding of r): Lawson's iteration
 * of weighted least squares over a dense grid, in long double, fitted as a
 * correction to the Taylor coefficients 1/j! so that the system stays well
 * conditioned; then the coefficients are rounded to float64.
 */
#include <math.h>
#include <stdio.h>

#include "solve.h"

#define M 4001 /* grid points */
#define D 6    /* coefficients C2..C7 */

typedef long double ld;

static const ld LN2 = 0.693147180559945309417232121458176568L;

/* q(r) with the coefficients c (C2..C7), in long double, Horner as the kernel */
static ld q_of(const ld c[D], ld r) {
    ld p = c[D - 1];
    for (int j = D - 2; j >= 0; j--) p = p * r + c[j];
    return r + r * r * p;
}

int main(void) {
    static ld r[M], w[M];
    ld c[D], taylor[D], fact = 1.0L;
    const ld a = LN2 / 16 * (1.0L + 0x1p-10L);
    for (int j = 0; j < D; j++) { /* 1/(j+2)! */
        fact *= (ld)(j + 2);
        taylor[j] = 1.0L / fact;
    }
    for (int i = 0; i < M; i++) {
        r[i] = -a + 2 * a * i / (M - 1);
        w[i] = 1.0L / M;
    }
    ld worst = 0;
    for (int it = 0; it < 2000; it++) {
        ld A[D][D + 1] = {{0}};
        for (int i = 0; i < M; i++) {
            /* relative error: (1 + T(r) + sum d_j r^(j+2) - e^r) / e^r */
            ld e = expl(r[i]), t = q_of(taylor, r[i]), phi[D], rp = r[i] * r[i];
            for (int j = 0; j < D; j++, rp *= r[i]) phi[j] = rp / e;
            ld y = (e - 1 - t) / e;
            for (int u = 0; u < D; u++) {
                for (int v = 0; v < D; v++) A[u][v] += w[i] * phi[u] * phi[v];
                A[u][D] += w[i] * phi[u] * y;
            }
        }
        solve(D, &A[0][0]);
        for (int j = 0; j < D; j++) c[j] = taylor[j] + A[j][D];
        ld sw = 0;
        worst = 0;
        for (int i = 0; i < M; i++) {
            ld err = fabsl((1 + q_of(c, r[i]) - expl(r[i])) / expl(r[i]));
            if (err > worst) worst = err;
            w[i] *= err + 1e-40L;
            sw += w[i];
        }
        for (int i = 0; i < M; i++) w[i] /= sw;
    }
    printf("/* fit: max relative error 2^%.2f (%.4f float64 ulp of a result in [1, 2)) */\n",
           (double)log2l(worst), (double)(worst * 0x1p52L));
    for (int j = 0; j < D; j++) printf("#define NKL_EXP_C%d_F64 %a\n", j + 2, (double)c[j]);
    /* with the coefficients rounded to float64 */
    ld cr[D], worst_r = 0;
    for (int j = 0; j < D; j++) cr[j] = (double)c[j];
    for (int i = 0; i < M; i++) {
        ld err = fabsl((1 + q_of(cr, r[i]) - expl(r[i])) / expl(r[i]));
        if (err > worst_r) worst_r = err;
    }
    printf("/* rounded coefficients: 2^%.2f */\n", (double)log2l(worst_r));
    printf("#define NKL_EXP_S_F64 {");
    for (int j = 0; j < 8; j++) printf("%s%a", j ? ", " : "", (double)exp2l(j / 8.0L));
    printf("}\n");
    return 0;
}
