/*
 * test_bad_input - every bad argument gives its own status, writes nothing,
 * and never touches memory it was not given.
 *
 * Outputs are filled with a sentinel before each failing call and must still
 * hold it afterwards. Huge lengths are passed with small real buffers: the
 * library must reject them before reading anything.
 */
#include "nkl_test.h"

#define SENTINEL 12345.0f

static float x[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, t[8] = {.1f, .2f, .1f, .2f, .1f, .1f, .1f, .1f};
static double xd[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, td[8] = {.1, .2, .1, .2, .1, .1, .1, .1};

#define EXPECT_STATUS(want, call)                                                        \
    do {                                                                                 \
        nkl_status got_ = (call);                                                        \
        CHECK(got_ == (want), "%s -> %d (%s), want %d (%s)", #call, (int)got_,           \
              nkl_status_string(got_), (int)(want), nkl_status_string(want));            \
    } while (0)

static void fill(float *o, size_t n) { for (size_t i = 0; i < n; i++) o[i] = SENTINEL; }
static int untouched(const float *o, size_t n) {
    for (size_t i = 0; i < n; i++) if (o[i] != SENTINEL) return 0;
    return 1;
}

static void kl_div_errors(void) {
    float o[8];
    double od[8] = {SENTINEL};
    const size_t huge = (size_t)PTRDIFF_MAX / 2;
#define F32(want, ...) do { fill(o, 8); EXPECT_STATUS(want, nkl_kl_div_f32(__VA_ARGS__)); \
        CHECK(untouched(o, 8), "output written by a failing call"); } while (0)
    F32(NKL_ERROR_NULL_POINTER, NULL, t, 6, NKL_REDUCTION_SUM, 0, 0, o);
    F32(NKL_ERROR_NULL_POINTER, x, NULL, 6, NKL_REDUCTION_SUM, 0, 0, o);
    F32(NKL_ERROR_NULL_POINTER, x, t, 0, NKL_REDUCTION_SUM, 0, 0, NULL); /* a reduced value needs somewhere to go */
    F32(NKL_ERROR_SIZE_OVERFLOW, x, t, huge, NKL_REDUCTION_SUM, 0, 0, o);
    /* NONE's n values come from nkl_kl_div_pointwise_*: out is always one value here */
    F32(NKL_ERROR_INVALID_REDUCTION, x, t, 6, NKL_REDUCTION_NONE, 0, 0, o);
    F32(NKL_ERROR_INVALID_REDUCTION, x, t, 6, (nkl_reduction)4, 0, 0, o);
    F32(NKL_ERROR_INVALID_REDUCTION, x, t, 6, (nkl_reduction)-1, 0, 0, o);
    F32(NKL_ERROR_INVALID_FLAGS, x, t, 6, NKL_REDUCTION_SUM, 0, 0x4u, o);
    F32(NKL_ERROR_INVALID_FLAGS, x, t, 6, NKL_REDUCTION_SUM, 0, 0x80000000u, o);
    F32(NKL_ERROR_INVALID_FLAGS, x, t, 6, NKL_REDUCTION_SUM, 0, NKL_FORCE_SCALAR | NKL_FORCE_AVX2, o);
    F32(NKL_ERROR_INVALID_FLAGS, x, t, 6, NKL_REDUCTION_SUM, 0, NKL_FORCE_SCALAR | NKL_FORCE_NEON, o);
    F32(NKL_ERROR_INVALID_FLAGS, x, t, 6, NKL_REDUCTION_SUM, 0, NKL_FORCE_AVX2 | NKL_FORCE_NEON, o);
    F32(NKL_ERROR_INVALID_BATCH, x, t, 6, NKL_REDUCTION_BATCHMEAN, 0, 0, o);
    F32(NKL_ERROR_INVALID_BATCH, x, t, 6, NKL_REDUCTION_BATCHMEAN, 4, 0, o);
    F32(NKL_ERROR_INVALID_BATCH, x, t, 6, NKL_REDUCTION_BATCHMEAN, 7, 0, o);
    /* out partly overlapping an input, for NONE */
    {
        float buf[16];
        for (int i = 0; i < 16; i++) buf[i] = -1.0f;
        EXPECT_STATUS(NKL_ERROR_OVERLAP, nkl_kl_div_pointwise_f32(buf, t, 6, 0, buf + 1));
        EXPECT_STATUS(NKL_ERROR_OVERLAP, nkl_kl_div_pointwise_f32(buf + 3, t, 6, 0, buf));
        for (int i = 0; i < 16; i++) CHECK(buf[i] == -1.0f, "overlap call wrote buf[%d]", i);
        /* exact aliasing (in place) is allowed and equals the out-of-place result */
        float sep[6];
        CHECK_OK(nkl_kl_div_pointwise_f32(buf, t, 6, 0, sep));
        CHECK_OK(nkl_kl_div_pointwise_f32(buf, t, 6, 0, buf));
        CHECK(memcmp(sep, buf, sizeof sep) == 0, "in-place result differs");
        float tt[6];
        memcpy(tt, t, sizeof tt);
        CHECK_OK(nkl_kl_div_pointwise_f32(x, tt, 6, 0, tt));
        CHECK_OK(nkl_kl_div_pointwise_f32(x, t, 6, 0, sep));
        CHECK(memcmp(sep, tt, sizeof sep) == 0, "in-place over target differs");
    }
    /* float64 spot checks (same validation code) */
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_kl_div_f64(NULL, td, 2, NKL_REDUCTION_SUM, 0, 0, od));
    EXPECT_STATUS(NKL_ERROR_SIZE_OVERFLOW, nkl_kl_div_f64(xd, td, (size_t)PTRDIFF_MAX / 4, NKL_REDUCTION_SUM, 0, 0, od));
    EXPECT_STATUS(NKL_ERROR_INVALID_BATCH, nkl_kl_div_f64(xd, td, 6, NKL_REDUCTION_BATCHMEAN, 5, 0, od));
    EXPECT_STATUS(NKL_ERROR_OVERLAP, nkl_kl_div_pointwise_f64(xd, td, 6, 0, xd + 2));
    CHECK(od[0] == SENTINEL, "f64 output written");
    EXPECT_STATUS(NKL_ERROR_INVALID_REDUCTION, nkl_kl_div_f64(xd, td, 6, NKL_REDUCTION_NONE, 0, 0, od));
    CHECK(od[0] == SENTINEL, "f64 output written");
    /* NULL is fine where the length is 0 */
    CHECK_OK(nkl_kl_div_pointwise_f32(NULL, NULL, 0, 0, NULL));
#undef F32
}

static void pointwise_errors(void) {
    float o[8];
    double od[8];
#define PW(want, ...) do { fill(o, 8); EXPECT_STATUS(want, nkl_kl_div_pointwise_f32(__VA_ARGS__)); \
        CHECK(untouched(o, 8), "output written by a failing call"); } while (0)
    PW(NKL_ERROR_NULL_POINTER, NULL, t, 6, 0, o);
    PW(NKL_ERROR_NULL_POINTER, x, NULL, 6, 0, o);
    PW(NKL_ERROR_NULL_POINTER, x, t, 6, 0, NULL);
    PW(NKL_ERROR_SIZE_OVERFLOW, x, t, SIZE_MAX, 0, o);
    PW(NKL_ERROR_INVALID_FLAGS, x, t, 6, 0x4u, o);
    PW(NKL_ERROR_INVALID_FLAGS, x, t, 6, NKL_FORCE_SCALAR | NKL_FORCE_AVX2, o);
    PW(NKL_ERROR_OVERLAP, x, t, 6, 0, x + 1);
#undef PW
    for (int i = 0; i < 8; i++) od[i] = SENTINEL;
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_kl_div_pointwise_f64(xd, NULL, 2, 0, od));
    EXPECT_STATUS(NKL_ERROR_INVALID_FLAGS, nkl_kl_div_pointwise_f64(xd, td, 6, 0x4u, od));
    CHECK(od[0] == SENTINEL, "f64 output written");
    /* the terms equal the reduced call's: their sum over one element is the term */
    for (size_t i = 0; i < 6; i++) {
        float one;
        CHECK_OK(nkl_kl_div_f32(x + i, t + i, 1, NKL_REDUCTION_SUM, 0, 0, &one));
        CHECK_OK(nkl_kl_div_pointwise_f32(x, t, 6, 0, o));
        CHECK(memcmp(&o[i], &one, sizeof one) == 0, "pointwise term %zu differs from its sum", i);
    }
}

static void rows_errors(void) {
    float o[4];
    fill(o, 4);
    EXPECT_STATUS(NKL_ERROR_INVALID_STRIDE, nkl_kl_div_rows_f32(x, 2, t, 3, 2, 3, 0, o));
    EXPECT_STATUS(NKL_ERROR_INVALID_STRIDE, nkl_kl_div_rows_f32(x, 3, t, 2, 2, 3, 0, o));
    EXPECT_STATUS(NKL_ERROR_SIZE_OVERFLOW, nkl_kl_div_rows_f32(x, SIZE_MAX / 2, t, 3, 3, 3, 0, o));
    EXPECT_STATUS(NKL_ERROR_SIZE_OVERFLOW, nkl_kl_div_rows_f32(x, 4, t, 4, SIZE_MAX / 2, 3, 0, o));
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_kl_div_rows_f32(NULL, 3, t, 3, 2, 3, 0, o));
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_kl_div_rows_f32(x, 3, t, 3, 2, 3, 0, NULL));
    EXPECT_STATUS(NKL_ERROR_INVALID_FLAGS, nkl_kl_div_rows_f32(x, 3, t, 3, 2, 3, 0x10u, o));
    CHECK(untouched(o, 4), "rows output written by a failing call");
    float buf[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    EXPECT_STATUS(NKL_ERROR_OVERLAP, nkl_kl_div_rows_f32(buf, 3, t, 3, 2, 3, 0, buf + 5));
    EXPECT_STATUS(NKL_ERROR_OVERLAP, nkl_kl_div_rows_f32(buf, 3, t, 3, 2, 3, 0, buf));
    double od[2] = {SENTINEL, SENTINEL};
    EXPECT_STATUS(NKL_ERROR_INVALID_STRIDE, nkl_kl_div_rows_f64(xd, 1, td, 3, 2, 3, 0, od));
    CHECK(od[0] == SENTINEL, "rows f64 output written");
    CHECK_OK(nkl_kl_div_rows_f32(NULL, 0, NULL, 0, 0, 0, 0, NULL));
    CHECK_OK(nkl_kl_div_rows_f32(NULL, 0, NULL, 0, 2, 0, 0, o)); /* empty rows sum to 0 */
    CHECK(o[0] == 0.0f && o[1] == 0.0f, "empty rows: %a %a", o[0], o[1]);
}

static void chunk_errors(void) {
    nkl_partial p[3];
    const size_t n = NKL_CHUNK_ELEMENTS + 1; /* 2 chunks */
    float *big = calloc(n, sizeof *big);
    CHECK(nkl_chunk_count(0) == 0 && nkl_chunk_count(1) == 1 && nkl_chunk_count(n) == 2, "chunk_count");
    EXPECT_STATUS(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_partials_f32(big, big, n, 0, 0, 3, p));
    EXPECT_STATUS(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_partials_f32(big, big, n, 0, 2, 1, p));
    EXPECT_STATUS(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_partials_f32(big, big, n, 0, SIZE_MAX, 2, p));
    EXPECT_STATUS(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_kl_div_partials_f32(big, big, n, 0, 1, SIZE_MAX, p));
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_kl_div_partials_f32(big, big, n, 0, 0, 2, NULL));
    EXPECT_STATUS(NKL_ERROR_INVALID_FLAGS, nkl_kl_div_partials_f64(xd, td, 8, 0x8u, 0, 1, p));
    CHECK_OK(nkl_kl_div_partials_f32(big, big, n, 0, 2, 0, p)); /* an empty range at the end */
    double v = SENTINEL;
    CHECK_OK(nkl_kl_div_partials_f32(big, big, n, 0, 0, 2, p));
    EXPECT_STATUS(NKL_ERROR_INVALID_CHUNK_RANGE, nkl_partials_finish(p, 1, n, NKL_REDUCTION_SUM, 0, &v));
    EXPECT_STATUS(NKL_ERROR_INVALID_REDUCTION, nkl_partials_finish(p, 2, n, NKL_REDUCTION_NONE, 0, &v));
    EXPECT_STATUS(NKL_ERROR_INVALID_BATCH, nkl_partials_finish(p, 2, n, NKL_REDUCTION_BATCHMEAN, 2, &v));
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_partials_finish(p, 2, n, NKL_REDUCTION_SUM, 0, NULL));
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_partials_finish(NULL, 2, n, NKL_REDUCTION_SUM, 0, &v));
    CHECK(v == SENTINEL, "finish wrote on error");
    free(big);
}

static void memory_and_misc(void) {
    void *p = (void *)1;
    EXPECT_STATUS(NKL_ERROR_INVALID_ALIGNMENT, nkl_alloc(64, 3, &p));
    CHECK(p == NULL, "failed alloc leaves *out NULL");
    EXPECT_STATUS(NKL_ERROR_INVALID_ALIGNMENT, nkl_alloc(64, 2, &p));
    EXPECT_STATUS(NKL_ERROR_INVALID_ALIGNMENT, nkl_alloc(64, 0, &p));
    EXPECT_STATUS(NKL_ERROR_SIZE_OVERFLOW, nkl_alloc(SIZE_MAX - 8, 64, &p));
    EXPECT_STATUS(NKL_ERROR_NULL_POINTER, nkl_alloc(64, 64, NULL));
    EXPECT_STATUS(NKL_ERROR_OUT_OF_MEMORY, nkl_alloc((size_t)PTRDIFF_MAX - 4096, 64, &p));
    void *a = NULL, *b = NULL;
    CHECK_OK(nkl_alloc(0, 64, &a));
    CHECK_OK(nkl_alloc(0, 64, &b));
    CHECK(a && b && a != b, "size 0 gives unique non-NULL pointers");
    nkl_free(a);
    nkl_free(b);
    CHECK_OK(nkl_alloc(1000, 4096, &a));
    CHECK(a && ((uintptr_t)a % 4096) == 0, "alignment honoured");
    memset(a, 0, 1000);
    nkl_free(a);
    nkl_free(NULL);

    EXPECT_STATUS(NKL_ERROR_ISA_UNAVAILABLE, nkl_set_isa((nkl_isa)42));
    CHECK(!nkl_isa_supported((nkl_isa)42) && nkl_isa_supported(NKL_ISA_SCALAR), "isa_supported");
    CHECK(strcmp(nkl_isa_name((nkl_isa)42), "unknown") == 0, "isa name");
    CHECK(strcmp(nkl_isa_name(NKL_ISA_NEON), "neon") == 0 && strcmp(nkl_isa_name(NKL_ISA_AVX2), "avx2") == 0,
          "isa names");
    /* an ISA this machine cannot run: AVX2 on AArch64 and old x86, NEON on x86 */
    for (int i = 0; i < NKL_TEST_VECTOR_ISAS; i++) {
        nkl_isa isa = nkl_test_vector_isa_list[i];
        if (nkl_isa_supported(isa)) continue;
        float o = SENTINEL;
        EXPECT_STATUS(NKL_ERROR_ISA_UNAVAILABLE, nkl_kl_div_f32(x, t, 6, NKL_REDUCTION_SUM, 0, force_flag(isa), &o));
        CHECK(o == SENTINEL, "%s unavailable: output written", nkl_isa_name(isa));
        EXPECT_STATUS(NKL_ERROR_ISA_UNAVAILABLE, nkl_set_isa(isa));
    }
    /* every status has its own message; unknown codes too */
    const char *seen[NKL_ERROR_INVALID_ENVIRONMENT + 1];
    for (int s = 0; s <= NKL_ERROR_INVALID_ENVIRONMENT; s++) {
        seen[s] = nkl_status_string((nkl_status)s);
        CHECK(seen[s] && strlen(seen[s]) > 5 && strcmp(seen[s], "unknown status code") != 0, "status %d", s);
        for (int o = 0; o < s; o++) CHECK(strcmp(seen[s], seen[o]) != 0, "status %d and %d share a message", s, o);
    }
    CHECK(strcmp(nkl_status_string((nkl_status)99), "unknown status code") == 0, "unknown status");
    CHECK(nkl_version() == NKL_VERSION && strcmp(nkl_version_string(), NKL_VERSION_STRING) == 0, "version");
}

int main(void) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    kl_div_errors();
    pointwise_errors();
    rows_errors();
    chunk_errors();
    memory_and_misc();
    return nkl_test_finish("test_bad_input");
}
