/*
 * test_platform_digest.c - one 64-bit digest (FNV-1a) of the bits of a fixed set of outputs,
 * so that builds for different platforms can be compared: build.ps1's native-win-x64 stage
 * runs the Linux build and the Windows build (under wine) and requires the same scalar digest.
 *
 * The inputs come from integer arithmetic only (no libm: the C libraries' log and exp differ
 * between platforms, and the inputs must not), with special values mixed in. Every entry
 * point with its own arithmetic runs: the KL divergence backward (value and both gradients)
 * for the four semantics and four reductions, the rows form, and the distillation backward,
 * float32 and float64, at lengths around the vector widths and block sizes.
 * In ctest it checks what one run can: the AVX2 digest equals the scalar one (where the CPU
 * has AVX2 and FMA). Prints "digest scalar: <hex>".
 */
#include "nkl_test.h"

static uint64_t digest;
static void feed(const void *p, size_t bytes) {
    const unsigned char *b = p;
    for (size_t i = 0; i < bytes; i++) digest = (digest ^ b[i]) * 0x100000001b3ull;
}

static uint64_t state;
static uint64_t next64(void) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double unit(void) { return (double)(next64() >> 11) * 0x1p-53; } /* [0, 1) */

static void fill(double *x, double *t, size_t n, int log_target) {
    static const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-310, 1e-40, 1e30,
                                      -1e30, 100.0, 700.0, -746.0, 88.5, -104.5};
    for (size_t i = 0; i < n; i++) {
        x[i] = -30.0 * unit();
        t[i] = log_target ? -30.0 * unit() : 0.3 * unit();
        if (next64() % 16 == 0) t[i] = specials[next64() % (sizeof specials / sizeof specials[0])];
        if (next64() % 32 == 0) x[i] = specials[next64() % (sizeof specials / sizeof specials[0])];
    }
}

static uint64_t run(uint32_t force) {
    static const size_t lengths[] = {0, 1, 3, 7, 8, 9, 31, 64, 257, 1000, 4099, 70001};
    enum { MAXN = 70001 };
    double *x = malloc(MAXN * sizeof *x), *t = malloc(MAXN * sizeof *t);
    double *gx = malloc(MAXN * sizeof *gx), *gt = malloc(MAXN * sizeof *gt);
    float *xf = malloc(MAXN * sizeof *xf), *tf = malloc(MAXN * sizeof *tf);
    float *gxf = malloc(MAXN * sizeof *gxf), *gtf = malloc(MAXN * sizeof *gtf);
    double *vals = malloc(MAXN * sizeof *vals);
    float *valsf = malloc(MAXN * sizeof *valsf);
    if (!x || !t || !gx || !gt || !xf || !tf || !gxf || !gtf || !vals || !valsf) { perror("malloc"); exit(2); }
    digest = 0xcbf29ce484222325ull;
    state = 12345;
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        size_t n = lengths[li];
        for (uint32_t sem = 0; sem < 4; sem++) {
            fill(x, t, n, (int)(sem & NKL_LOG_TARGET));
            for (size_t i = 0; i < n; i++) { xf[i] = (float)x[i]; tf[i] = (float)t[i]; }
            for (int red = 0; red < 4; red++) {
                size_t batch = n % 3 == 0 && n ? 3 : 1; /* divides n, as batchmean needs */
                double v = 0, go = 1.0 - 0.25 * red;
                float vf = 0;
                if (red == NKL_REDUCTION_NONE) {
                    CHECK_OK(nkl_kl_div_pointwise_backward_f64(x, t, n, sem | force, go, NULL, gx, gt));
                    CHECK_OK(nkl_kl_div_pointwise_backward_f32(xf, tf, n, sem | force, (float)go, NULL,
                                                               gxf, gtf));
                } else {
                    CHECK_OK(nkl_kl_div_backward_f64(x, t, n, (nkl_reduction)red, batch, sem | force,
                                                     go, &v, gx, gt));
                    CHECK_OK(nkl_kl_div_backward_f32(xf, tf, n, (nkl_reduction)red, batch,
                                                     sem | force, (float)go, &vf, gxf, gtf));
                }
                feed(&v, sizeof v); feed(&vf, sizeof vf);
                feed(gx, n * sizeof *gx); feed(gt, n * sizeof *gt);
                feed(gxf, n * sizeof *gxf); feed(gtf, n * sizeof *gtf);
                if (red == 0 && n > 0) { /* pointwise values */
                    CHECK_OK(nkl_kl_div_pointwise_f64(x, t, n, sem | force, gx));
                    CHECK_OK(nkl_kl_div_pointwise_f32(xf, tf, n, sem | force, gxf));
                    feed(gx, n * sizeof *gx); feed(gxf, n * sizeof *gxf);
                }
            }
            size_t cols = n < 8 ? n : 8 + n % 13, rows = cols ? n / cols : 0;
            CHECK_OK(nkl_kl_div_rows_f64(x, cols, t, cols, rows, cols, sem | force, gx));
            CHECK_OK(nkl_kl_div_rows_f32(xf, cols, tf, cols, rows, cols, sem | force, gxf));
            feed(gx, rows * sizeof *gx); feed(gxf, rows * sizeof *gxf);
        }
        /* distillation: logits in [-20, 20), a few specials in the teacher */
        size_t cols = n < 5 ? (n ? n : 1) : 5 + n % 29, rows = n / cols;
        for (size_t i = 0; i < rows * cols; i++) {
            x[i] = 40.0 * unit() - 20.0;
            t[i] = 40.0 * unit() - 20.0;
            if (next64() % 64 == 0) t[i] = -INFINITY;
            xf[i] = (float)x[i]; tf[i] = (float)t[i];
        }
        for (uint32_t opt = 0; opt < 4; opt++) {
            nkl_distill_desc d = {rows, cols, cols, cols, 0.5 + 1.5 * (double)opt, (int32_t)(opt % 4),
                                  ((opt & 1) ? NKL_MULTIPLY_LOSS_BY_T2 : 0u) | force};
            size_t nv = d.reduction == NKL_REDUCTION_NONE ? rows : 1; /* NONE: one value a row */
            if (d.reduction == NKL_REDUCTION_NONE) {
                CHECK_OK(nkl_distill_rows_backward_f64(&d, x, t, NULL, 1.0, vals, gx, cols, gt, cols));
                CHECK_OK(nkl_distill_rows_backward_f32(&d, xf, tf, NULL, 1.0f, valsf, gxf, cols, gtf,
                                                       cols));
            } else {
                CHECK_OK(nkl_distill_backward_f64(&d, x, t, NULL, 1.0, vals, gx, cols, gt, cols));
                CHECK_OK(nkl_distill_backward_f32(&d, xf, tf, NULL, 1.0f, valsf, gxf, cols, gtf, cols));
            }
            feed(vals, nv * sizeof *vals); feed(valsf, nv * sizeof *valsf);
            feed(gx, rows * cols * sizeof *gx); feed(gt, rows * cols * sizeof *gt);
            feed(gxf, rows * cols * sizeof *gxf); feed(gtf, rows * cols * sizeof *gtf);
        }
    }
    free(x); free(t); free(gx); free(gt); free(xf); free(tf); free(gxf); free(gtf); free(vals); free(valsf);
    return digest;
}

int main(void) {
    uint64_t scalar = run(NKL_FORCE_SCALAR);
    printf("digest scalar: %016" PRIx64 "\n", scalar);
    if (nkl_isa_supported(NKL_ISA_AVX2)) {
        uint64_t avx2 = run(NKL_FORCE_AVX2);
        printf("digest avx2:   %016" PRIx64 "\n", avx2);
        CHECK(avx2 == scalar, "the AVX2 digest differs from the scalar one");
    }
    if (nkl_isa_supported(NKL_ISA_NEON)) {
        uint64_t neon = run(NKL_FORCE_NEON);
        printf("digest neon:   %016" PRIx64 "\n", neon);
        CHECK(neon == scalar, "the NEON digest differs from the scalar one");
    }
    return nkl_test_finish("test_platform_digest");
}
