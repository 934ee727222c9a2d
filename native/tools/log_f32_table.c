/*
 * log_f32_table.c - derives the float32 log's table and polynomial
 * (vmath_constants.h NKL_LOG_*_F32, KlConstants.cs Log*F32). Not part of the
 * build; rerun it only to change the method:
 *
 *   cc -O2 native/tools/log_f32_table.c -lm -o /tmp/log_f32_table && /tmp/log_f32_table
 *
 * The method (vmath_scalar.h nkl_log_f32): t = 2^k z with z in [OFF, 2 OFF),
 * OFF = 0.71875; the top 3 mantissa bits of bits(t) - bits(OFF) pick one of 8
 * buckets of z, each with a float invc near 1/c and logc = -log(invc); then
 *   r = fma(z, invc, -1),  log t = (k ln2 + logc) + (r + r^2 P(r)).
 * The bucket holding 1 is [0.96875, 1.0625) with invc = 1, logc = 0: r = z - 1
 * is exact there, and the buckets beside it start far enough from 1 that r's
 * rounding stays below half an ulp of the result.
 *
 * invc: Gal's accurate tables. Of the floats within 3000 ulp of 2 / (lo + hi),
 * the one whose -log(invc) is nearest a float (so logc carries almost no
 * rounding error), with a penalty on |r| / |log z| at the bucket's ends.
 * P(r) = C2 + C3 r + C4 r^2 + C5 r^3: a weighted least-squares fit of
 * (log1p(r) - r) / r^2 over every bucket's r range, in long double, rounded.
 * test_ulp measures the result: 1.54 ulp over every float32.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define OFF 0x3f380000u
#define DEG 4 /* coefficients C2..C5 */

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static double ulp_of(float f) { f = fabsf(f); return (double)(nextafterf(f, INFINITY) - f); }

int main(void) {
    float invc[8], logc[8];
    double rmin = 0, rmax = 0;
    for (int i = 0; i < 8; i++) {
        float lo = from_bits(OFF + (uint32_t)i * (1u << 20));
        float hi = from_bits(OFF + (uint32_t)(i + 1) * (1u << 20) - 1);
        if (lo <= 1.0f && 1.0f <= hi) {
            invc[i] = 1.0f;
        } else {
            float base = (float)(2.0 / ((double)lo + hi)), best_ic = base;
            double best = INFINITY;
            for (int d = -3000; d <= 3000; d++) {
                float ic = from_bits(bits(base) + (uint32_t)d);
                long double lc = -logl((long double)ic);
                double frac = (double)(fabsl(lc - (long double)(float)lc)) / ulp_of((float)lc);
                double end_lo = fabs((double)lo * ic - 1) / fabs(log((double)lo));
                double end_hi = fabs((double)hi * ic - 1) / fabs(log((double)hi));
                double cost = frac + 0.25 * fmax(end_lo, end_hi);
                if (cost < best) { best = cost; best_ic = ic; }
            }
            invc[i] = best_ic;
        }
        logc[i] = invc[i] == 1.0f ? 0.0f : (float)-logl((long double)invc[i]);
        double r_lo = (double)lo * invc[i] - 1, r_hi = (double)hi * invc[i] - 1;
        if (r_lo < rmin) rmin = r_lo;
        if (r_hi > rmax) rmax = r_hi;
        printf("/* bucket %d: z in [%.6f, %.6f], r in [%+.5f, %+.5f] */\n", i, lo, hi, r_lo, r_hi);
    }
    /* least squares on 2000 Chebyshev nodes, weight r^2 (the error r^2 dP) */
    long double A[DEG][DEG] = {{0}}, b[DEG] = {0}, c[DEG];
    for (int j = 0; j < 2000; j++) {
        long double r = (rmin + rmax) / 2 + (rmax - rmin) / 2 * cosl(M_PI * (j + 0.5L) / 2000);
        if (fabsl(r) < 1e-6L) continue;
        long double g = (log1pl(r) - r) / (r * r), w2 = r * r * r * r, pw[DEG];
        pw[0] = 1;
        for (int a = 1; a < DEG; a++) pw[a] = pw[a - 1] * r;
        for (int a = 0; a < DEG; a++) {
            b[a] += w2 * pw[a] * g;
            for (int e = 0; e < DEG; e++) A[a][e] += w2 * pw[a] * pw[e];
        }
    }
    for (int a = 0; a < DEG; a++)
        for (int e = a + 1; e < DEG; e++) {
            long double f = A[e][a] / A[a][a];
            for (int d = a; d < DEG; d++) A[e][d] -= f * A[a][d];
            b[e] -= f * b[a];
        }
    for (int a = DEG - 1; a >= 0; a--) {
        long double s = b[a];
        for (int e = a + 1; e < DEG; e++) s -= A[a][e] * c[e];
        c[a] = s / A[a][a];
    }
    printf("#define NKL_LOG_INVC_F32 {");
    for (int i = 0; i < 8; i++) printf("%s%af", i ? ", " : "", invc[i]);
    printf("}\n#define NKL_LOG_LOGC_F32 {");
    for (int i = 0; i < 8; i++) printf("%s%af", i ? ", " : "", logc[i]);
    printf("}\n");
    for (int a = 0; a < DEG; a++) printf("#define NKL_LOG_C%d_F32 %af /* %.9g */\n", a + 2, (float)c[a], (float)c[a]);
    return 0;
}
