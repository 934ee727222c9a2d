/*
 * solve.h - the linear solve of the tools' least-squares fits (Lawson's
 * iteration in exp2_f32_fit.c and exp_f64_fit.c): the d x d system
 * A c = b, held as the d x (d + 1) row-major matrix a = [A | b], solved in
 * place by Gauss-Jordan elimination with partial pivoting, in long double;
 * c ends in the last column.
 */
#ifndef NKL_TOOLS_SOLVE_H
#define NKL_TOOLS_SOLVE_H

#include <math.h>

static void solve(int d, long double *a) {
    const int w = d + 1;
    for (int i = 0; i < d; i++) {
        int p = i;
        for (int k = i + 1; k < d; k++)
            if (fabsl(a[k * w + i]) > fabsl(a[p * w + i])) p = k;
        for (int j = 0; j <= d; j++) {
            long double t = a[i * w + j];
            a[i * w + j] = a[p * w + j];
            a[p * w + j] = t;
        }
        for (int k = 0; k < d; k++) {
            if (k == i) continue;
            long double f = a[k * w + i] / a[i * w + i];
            for (int j = i; j <= d; j++) a[k * w + j] -= f * a[i * w + j];
        }
    }
    for (int i = 0; i < d; i++) a[i * w + d] /= a[i * w + i];
}

#endif
