/*
 * kl_terms_scalar.h - the pointwise KL term, one element at a time.
 *
 *   log_target off:  L = xlogy(t, t) - t x, evaluated as fma(t, log t, -(t x))
 *                    with log t replaced by t where t == +-0, so that
 *                    t log t = t t = +0 (xlogy(0, y) = +0, even for t = -0);
 *                    then t == 0 gives +0 - (0 x): +0 for finite x, NaN for
 *                    x = +-inf or NaN, exactly as PyTorch.
 *   log_target on:   L = exp(t) (t - x).
 *   masked:          L = +0 where t == 0 (or t == -inf with log_target).
 *
 * x86/kernels_avx2.c computes the same operations lane by lane.
 */
#ifndef NKL_KL_TERMS_SCALAR_H
#define NKL_KL_TERMS_SCALAR_H

#include "vmath_scalar.h"

NKL_INLINE float nkl_term_f32(float x, float t, int log_target, int masked) {
    float l;
    if (!log_target) {
        float lt = t == 0.0f ? t : nkl_log_f32(t);
        l = nkl_fmaf(t, lt, -(t * x));
        if (masked && t == 0.0f) l = 0.0f;
    } else {
        l = nkl_exp_f32(t) * (t - x);
        if (masked && t == -INFINITY) l = 0.0f;
    }
    return l;
}

NKL_INLINE double nkl_term_f64(double x, double t, int log_target, int masked) {
    double l;
    if (!log_target) {
        double lt = t == 0.0 ? t : nkl_log_f64(t);
        l = nkl_fma(t, lt, -(t * x));
        if (masked && t == 0.0) l = 0.0;
    } else {
        l = nkl_exp_f64(t) * (t - x);
        if (masked && t == -INFINITY) l = 0.0;
    }
    return l;
}

/*
 * The term and its gradients (nativekl.h, nkl_kl_div_backward_*), sharing
 * log t or exp t with the term: l has the bits of nkl_term_*. t / t is 1 for
 * finite non-zero t and NaN at t = 0 and t = +-inf, as PyTorch's autograd.
 */
NKL_INLINE float nkl_term_grad_f32(float x, float t, int log_target, int masked, float s,
                                   float *dx, float *dt) {
    float l, gx, gt;
    if (!log_target) {
        float lt = t == 0.0f ? t : nkl_log_f32(t);
        l = nkl_fmaf(t, lt, -(t * x));
        gx = -(t * s);
        gt = ((lt + t / t) - x) * s;
        if (masked && t == 0.0f) l = gx = gt = 0.0f;
    } else {
        float e = nkl_exp_f32(t), d = t - x;
        l = e * d;
        gx = -(e * s);
        gt = (e * (d + 1.0f)) * s;
        if (masked && t == -INFINITY) l = gx = gt = 0.0f;
    }
    *dx = gx;
    *dt = gt;
    return l;
}

NKL_INLINE double nkl_term_grad_f64(double x, double t, int log_target, int masked, double s,
                                    double *dx, double *dt) {
    double l, gx, gt;
    if (!log_target) {
        double lt = t == 0.0 ? t : nkl_log_f64(t);
        l = nkl_fma(t, lt, -(t * x));
        gx = -(t * s);
        gt = ((lt + t / t) - x) * s;
        if (masked && t == 0.0) l = gx = gt = 0.0;
    } else {
        double e = nkl_exp_f64(t), d = t - x;
        l = e * d;
        gx = -(e * s);
        gt = (e * (d + 1.0)) * s;
        if (masked && t == -INFINITY) l = gx = gt = 0.0;
    }
    *dx = gx;
    *dt = gt;
    return l;
}

#endif
