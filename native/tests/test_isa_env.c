/*
 * test_isa_env - how the environment variable NKL_ISA is read. The first
 * call reads it once per process, so CMake runs this test once per value
 * (native/tests/CMakeLists.txt), with the expected outcome as argument:
 *
 *   test_isa_env unknown   NKL_ISA holds a value the library does not know:
 *                          no ISA is active, every call without an
 *                          NKL_FORCE_* flag fails with
 *                          NKL_ERROR_INVALID_ENVIRONMENT and writes nothing,
 *                          forced calls run, and nkl_set_isa clears it;
 *   test_isa_env scalar    the scalar path is active;
 *   test_isa_env auto      the CPU's best is active;
 *   test_isa_env neon      NEON is active (AArch64), else the CPU's best.
 */
#include "nkl_test.h"

#define SENTINEL 12345.0f

static const float x[6] = {-1.2f, -0.9f, -1.3f, -1.1f, -2.0f, -0.6f};
static const float t[6] = {0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f};
static const double xd[6] = {-1.2, -0.9, -1.3, -1.1, -2.0, -0.6};
static const double td[6] = {0.3, 0.4, 0.3, 0.1, 0.5, 0.4};

#define EXPECT_ENV_ERROR(call)                                                              \
    do {                                                                                    \
        nkl_status got_ = (call);                                                           \
        CHECK(got_ == NKL_ERROR_INVALID_ENVIRONMENT, "%s -> %d (%s)", #call, (int)got_,     \
              nkl_status_string(got_));                                                     \
    } while (0)

static int all_sentinel(const float *o, size_t n) {
    for (size_t i = 0; i < n; i++) if (o[i] != SENTINEL) return 0;
    return 1;
}

static void fill(float *o, size_t n) { for (size_t i = 0; i < n; i++) o[i] = SENTINEL; }

static void unknown_value(void) {
    const char *env = getenv("NKL_ISA");
    CHECK(nkl_active_isa() == NKL_ISA_AUTO, "NKL_ISA=%s: active ISA %s, want none (auto)", env ? env : "(unset)",
          nkl_isa_name(nkl_active_isa()));

    const char *why = nkl_status_string(NKL_ERROR_INVALID_ENVIRONMENT);
    CHECK(strstr(why, "NKL_ISA") && strstr(why, "auto") && strstr(why, "scalar") && strstr(why, "avx2") &&
              strstr(why, "neon"),
          "the message names the variable and its values: \"%s\"", why);

    float o[6], gx[6], gt[6];
    double od[6];
    nkl_partial p[1];
    fill(o, 6), fill(gx, 6), fill(gt, 6);
    for (int i = 0; i < 6; i++) od[i] = SENTINEL;
    EXPECT_ENV_ERROR(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, o));
    EXPECT_ENV_ERROR(nkl_kl_div_pointwise_f32(x, t, 6, NKL_LOG_TARGET | NKL_MASKED, o));
    EXPECT_ENV_ERROR(nkl_kl_div_f64(xd, td, 6, NKL_REDUCTION_BATCHMEAN, 2, 0, od));
    EXPECT_ENV_ERROR(nkl_kl_div_rows_f32(x, 3, t, 3, 2, 3, 0, o));
    EXPECT_ENV_ERROR(nkl_kl_div_backward_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, 1.0f, o, gx, gt));
    EXPECT_ENV_ERROR(nkl_kl_div_partials_f32(x, t, 6, 0, 0, 1, p));
    nkl_distill_desc d = {2, 3, 3, 3, 2.0, NKL_REDUCTION_SUM, 0};
    EXPECT_ENV_ERROR(nkl_distill_f32(&d, x, t, NULL, o));
    EXPECT_ENV_ERROR(nkl_distill_backward_f32(&d, x, t, NULL, 1.0f, o, gx, 3, gt, 3));
    CHECK(all_sentinel(o, 6) && all_sentinel(gx, 6) && all_sentinel(gt, 6), "a failed call wrote an output");
    for (int i = 0; i < 6; i++) CHECK(od[i] == SENTINEL, "nkl_kl_div_f64 wrote out[%d]", i);

    /* A forced call does not read the active ISA. */
    float forced = SENTINEL;
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, NKL_FORCE_SCALAR, &forced));
    CHECK(forced > 0.0f && forced != SENTINEL, "forced scalar sum %g", (double)forced);

    /* An explicit choice replaces the environment's. */
    CHECK_OK(nkl_set_isa(NKL_ISA_AUTO));
    nkl_isa best = nkl_test_vector_isa() != NKL_ISA_AUTO ? nkl_test_vector_isa() : NKL_ISA_SCALAR;
    CHECK(nkl_active_isa() == best, "after nkl_set_isa(AUTO): %s", nkl_isa_name(nkl_active_isa()));
    float sum = SENTINEL;
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, &sum));
    CHECK(same_f32(sum, forced), "sum %a after nkl_set_isa, forced scalar %a",
          (double)sum, (double)forced);
}

static void known_value(nkl_isa want) {
    CHECK(nkl_active_isa() == want, "NKL_ISA=%s: active ISA %s, want %s", getenv("NKL_ISA"),
          nkl_isa_name(nkl_active_isa()), nkl_isa_name(want));
    float sum = SENTINEL, forced = SENTINEL;
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, 0, &sum));
    CHECK_OK(nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, NKL_FORCE_SCALAR, &forced));
    CHECK(same_f32(sum, forced), "sum %a, forced scalar %a", (double)sum,
          (double)forced);
}

int main(int argc, char **argv) {
    const char *expect = argc > 1 ? argv[1] : "";
    if (strcmp(expect, "unknown") == 0) unknown_value();
    else if (strcmp(expect, "scalar") == 0) known_value(NKL_ISA_SCALAR);
    else if (strcmp(expect, "auto") == 0)
        known_value(nkl_test_vector_isa() != NKL_ISA_AUTO ? nkl_test_vector_isa() : NKL_ISA_SCALAR);
    else if (strcmp(expect, "neon") == 0) /* NEON, or the CPU's best where it has none */
        known_value(nkl_isa_supported(NKL_ISA_NEON)            ? NKL_ISA_NEON
                    : nkl_test_vector_isa() != NKL_ISA_AUTO ? nkl_test_vector_isa()
                                                            : NKL_ISA_SCALAR);
    else {
        fprintf(stderr, "usage: NKL_ISA=... test_isa_env unknown|scalar|auto|neon\n");
        return 2;
    }
    return nkl_test_finish("test_isa_env");
}
