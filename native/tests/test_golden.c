/*
 * test_golden - nkl_kl_div_f32/_f64 against PyTorch 2.10's
 * torch.nn.functional.kl_div, on every "kl_div" case of the golden set
 * (tests/golden, format in tests/golden/README.md).
 *
 * The cases come from golden/golden_cases.h, generated from
 * tests/golden/manifest.json by native/tests/golden/gen_golden.py. Arrays too
 * large to inline are read at run time from the golden folder: argv[1], else
 * the NKL_GOLDEN_DIR compile definition (set by native/tests/CMakeLists.txt).
 *
 * Tolerances, as the golden README suggests (PyTorch is not bit-stable across
 * settings, so bits are not required):
 *   - any NaN equals any NaN; an infinity must match in sign;
 *   - a finite pointwise value within b_i = K * eps * (|xlogy(t,t)| + |t*x|),
 *     or K * eps * exp(t) * (|t| + |x|) with log_target, K = 4,
 *     eps = 2^-23 (float32) or 2^-52 (float64): the two terms can cancel;
 *   - a reduced value within sum(b_i) / divisor + 2 ulp of the expected value
 *     (divisor 1, numel, or shape[0] for batchmean; a 0-d batchmean is not
 *     divided, so it passes batch 1);
 *   - a summarized pointwise result: nan/posinf/neginf counts exactly, sum and
 *     abs_sum within the sum of b_i over the finite elements plus the error of
 *     two sequential float64 summations (2 * gamma_n * abs_sum) and 2 ulp.
 * The seed values of the README (float32 sum 0.115592495, mean 0.019265415,
 * batchmean 0.057796247) are also checked by name.
 *
 * Gradients are in the table but not checked here (the library has none yet).
 */
#include "nkl_test.h"

#include "golden/golden_cases.h"

#ifndef NKL_GOLDEN_DIR
#define NKL_GOLDEN_DIR "tests/golden"
#endif

#define REGEN_HINT                                                                         \
    "(if tests/golden changed, regenerate the table: python3 native/tests/golden/gen_golden.py)"

enum { K_EPS = 4, ULP_SLACK = 2 };

static const char *golden_dir = NKL_GOLDEN_DIR;

/* Worst |got - want| / tolerance seen, per dtype (index 0: float32, 1: float64). */
typedef struct {
    double ratio;
    const char *name;
    size_t index; /* SIZE_MAX: the reduced value or a summary field */
    double got, want, tol;
} worst_t;
static worst_t worst[2];

static double eps_of(int bits) { return bits == 32 ? 0x1p-23 : 0x1p-52; }

/* One unit in the last place of |v| in the case's type (v finite). */
static double ulp_of(double v, int bits) {
    double a = fabs(v);
    if (bits == 32) {
        float f = (float)a;
        return (double)nextafterf(f, INFINITY) - (double)f;
    }
    return nextafter(a, INFINITY) - a;
}

/* ------------------------------------------------------------ loading */

static uint64_t le_bits(const unsigned char *p, int bytes) {
    uint64_t u = 0;
    for (int i = bytes - 1; i >= 0; i--) u = (u << 8) | p[i];
    return u;
}

/* The value's count elements as doubles (exact: float32 widens exactly).
   Returns NULL (after a failed CHECK) if it cannot be read. */
static double *load(const nklg_case *c, const nklg_value *v, const char *what) {
    double *d = malloc((v->count ? v->count : 1) * sizeof *d);
    if (!d) { perror("malloc"); exit(2); }
    if (v->kind == NKLG_INLINE) {
        for (size_t i = 0; i < v->count; i++)
            d[i] = c->bits == 32 ? (double)((const float *)v->data)[i] : ((const double *)v->data)[i];
        return d;
    }
    if (v->kind != NKLG_FILE) {
        CHECK(0, "case %s: %s is neither inline nor in a file (kind %d) %s", c->name, what,
              (int)v->kind, REGEN_HINT);
        free(d);
        return NULL;
    }
    int bytes = v->file_bits / 8;
    size_t plen = strlen(golden_dir) + strlen(v->file) + 2;
    char *path = malloc(plen);
    unsigned char *raw = malloc((v->count ? v->count : 1) * (size_t)bytes);
    if (!path || !raw) { perror("malloc"); exit(2); }
    snprintf(path, plen, "%s/%s", golden_dir, v->file);
    FILE *f = fopen(path, "rb");
    int ok = f != NULL && (v->file_bits == 32 || (v->file_bits == 64 && c->bits == 64));
    if (ok && v->offset) ok = fseek(f, (long)(v->offset * (size_t)bytes), SEEK_SET) == 0;
    if (ok) ok = fread(raw, (size_t)bytes, v->count, f) == v->count;
    if (f) fclose(f);
    CHECK(ok, "case %s: cannot read %zu %d-bit values at element %zu of %s "
          "(pass the golden folder as argv[1]) %s", c->name, v->count, v->file_bits, v->offset,
          path, REGEN_HINT);
    if (ok) {
        for (size_t i = 0; i < v->count; i++) {
            uint64_t u = le_bits(raw + i * (size_t)bytes, bytes);
            if (bytes == 4) {
                uint32_t u32 = (uint32_t)u;
                float x;
                memcpy(&x, &u32, 4);
                d[i] = (double)x;
            } else {
                memcpy(&d[i], &u, 8);
            }
        }
    }
    free(raw);
    free(path);
    if (!ok) { free(d); return NULL; }
    return d;
}

/* ---------------------------------------------------------- tolerances */

/* |xlogy(t,t)| + |t*x|, or exp(t) * (|t| + |x|) with log_target: the size of
   the two terms that may cancel. NaN where PyTorch's result is NaN anyway. */
static double term_scale(double x, double t, int log_target) {
    if (log_target) return exp(t) * (fabs(t) + fabs(x));
    double xlogy = (t == 0 && !isnan(t)) ? 0.0 : t * log(t);
    return fabs(xlogy) + fabs(t * x);
}

static void note_ratio(int bits, double err, double tol, const char *name, size_t index,
                       double got, double want) {
    double r = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0.0);
    worst_t *w = &worst[bits == 64];
    if (r > w->ratio || !w->name) {
        w->ratio = r; w->name = name; w->index = index;
        w->got = got; w->want = want; w->tol = tol;
    }
}

/* got matches want: NaN where PyTorch has any NaN, and then the library's NaN
   bit for bit (PyTorch's NaN sign is x86's, not a contract); infinities by
   sign, else within tol. */
static int matches(int bits, double got, double want, double tol, const char *name,
                   size_t index) {
    if (isnan(want) || isnan(got)) return isnan(want) && canon_nan_of(bits, got);
    if (isinf(want) || isinf(got)) return got == want;
    double err = fabs(got - want);
    note_ratio(bits, err, tol, name, index, got, want);
    return err <= tol; /* false for a NaN tol */
}

/* ---------------------------------------------------------------- cases */

typedef struct { int checked, passed; } tally_t;

static void run_case(const nklg_case *c, tally_t *tally) {
    int failures_before = nkl_test_failures;
    const int bits = c->bits;
    const size_t n = c->numel;
    const double eps = eps_of(bits);
    const size_t out_n = c->reduction == NKL_REDUCTION_NONE ? n : 1;
    const uint32_t flags = c->log_target ? NKL_LOG_TARGET : 0u;
    const size_t batch = c->reduction != NKL_REDUCTION_BATCHMEAN ? 0
                         : c->ndim == 0                         ? 1
                                                                : c->shape[0];

    CHECK(c->input.count == n && c->target.count == n, "case %s: input/target counts %zu/%zu, "
          "numel %zu %s", c->name, c->input.count, c->target.count, n, REGEN_HINT);
    CHECK(c->output.count == out_n, "case %s: output count %zu, expected %zu %s", c->name,
          c->output.count, out_n, REGEN_HINT);
    if (c->input.count != n || c->target.count != n || c->output.count != out_n) goto done;

    double *x = load(c, &c->input, "input");
    double *t = load(c, &c->target, "target");
    double *want = c->output.kind == NKLG_SUMMARY ? NULL : load(c, &c->output, "output");
    double *got = malloc((out_n ? out_n : 1) * sizeof *got);
    if (!got) { perror("malloc"); exit(2); }
    if (!x || !t || (!want && c->output.kind != NKLG_SUMMARY)) goto release;

    if (bits == 32) {
        float *xf = malloc((n ? n : 1) * 4), *tf = malloc((n ? n : 1) * 4);
        float *of = malloc((out_n ? out_n : 1) * 4);
        if (!xf || !tf || !of) { perror("malloc"); exit(2); }
        for (size_t i = 0; i < n; i++) { xf[i] = (float)x[i]; tf[i] = (float)t[i]; } /* exact */
        nkl_status st = c->reduction == NKL_REDUCTION_NONE
                            ? nkl_kl_div_pointwise_f32(xf, tf, n, flags, of)
                            : nkl_kl_div_f32(xf, tf, n, c->reduction, batch, flags, of);
        CHECK(st == NKL_OK, "case %s: nkl_kl_div_f32 -> %d (%s)", c->name, (int)st,
              nkl_status_string(st));
        for (size_t i = 0; i < out_n; i++) got[i] = (double)of[i];
        free(xf); free(tf); free(of);
        if (st != NKL_OK) goto release;
    } else {
        nkl_status st = c->reduction == NKL_REDUCTION_NONE
                            ? nkl_kl_div_pointwise_f64(x, t, n, flags, got)
                            : nkl_kl_div_f64(x, t, n, c->reduction, batch, flags, got);
        CHECK(st == NKL_OK, "case %s: nkl_kl_div_f64 -> %d (%s)", c->name, (int)st,
              nkl_status_string(st));
        if (st != NKL_OK) goto release;
    }

    if (c->reduction == NKL_REDUCTION_NONE && want) {
        for (size_t i = 0; i < n; i++) {
            double tol = K_EPS * eps * term_scale(x[i], t[i], c->log_target);
            CHECK(matches(bits, got[i], want[i], tol, c->name, i),
                  "case %s element %zu (input %a, target %a): nativekl %.17g (%a), PyTorch %.17g "
                  "(%a), |diff| %.3g, tolerance %.3g %s", c->name, i, x[i], t[i], got[i], got[i],
                  want[i], want[i], fabs(got[i] - want[i]), tol, REGEN_HINT);
        }
    } else if (c->reduction == NKL_REDUCTION_NONE) {
        /* summarized pointwise output */
        const nklg_value *s = &c->output;
        size_t nan = 0, posinf = 0, neginf = 0;
        double sum = 0, abs_sum = 0, bound = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(got[i])) nan++;
            else if (got[i] == INFINITY) posinf++;
            else if (got[i] == -INFINITY) neginf++;
            else {
                sum += got[i];
                abs_sum += fabs(got[i]);
                bound += K_EPS * eps * term_scale(x[i], t[i], c->log_target);
            }
        }
        CHECK(nan == s->nan && posinf == s->posinf && neginf == s->neginf,
              "case %s (summarized): nativekl has %zu NaN, %zu +inf, %zu -inf; PyTorch %zu, %zu, "
              "%zu %s", c->name, nan, posinf, neginf, s->nan, s->posinf, s->neginf, REGEN_HINT);
        /* two sequential float64 sums of n terms differ by at most 2 gamma_n abs_sum */
        double un = (double)n * 0x1p-53;
        double sum_slack = 2.0 * un / (1.0 - un) * fmax(abs_sum, s->abs_sum);
        double tol = bound + sum_slack + ULP_SLACK * ulp_of(s->sum, 64);
        CHECK(matches(bits, sum, s->sum, tol, c->name, SIZE_MAX),
              "case %s (summarized): sum of finite elements nativekl %.17g, PyTorch %.17g, "
              "|diff| %.3g, tolerance %.3g %s", c->name, sum, s->sum, fabs(sum - s->sum), tol,
              REGEN_HINT);
        tol = bound + sum_slack + ULP_SLACK * ulp_of(s->abs_sum, 64);
        CHECK(matches(bits, abs_sum, s->abs_sum, tol, c->name, SIZE_MAX),
              "case %s (summarized): abs_sum nativekl %.17g, PyTorch %.17g, |diff| %.3g, "
              "tolerance %.3g %s", c->name, abs_sum, s->abs_sum, fabs(abs_sum - s->abs_sum), tol,
              REGEN_HINT);
    } else {
        double bound = 0;
        for (size_t i = 0; i < n; i++) bound += K_EPS * eps * term_scale(x[i], t[i], c->log_target);
        double divisor = c->reduction == NKL_REDUCTION_SUM    ? 1.0
                         : c->reduction == NKL_REDUCTION_MEAN ? (double)n
                                                              : (double)batch;
        double w = want ? want[0] : NAN;
        double tol = bound / divisor + (isfinite(w) ? ULP_SLACK * ulp_of(w, bits) : 0.0);
        CHECK(want != NULL, "case %s: reduced output is not stored %s", c->name, REGEN_HINT);
        if (want) {
            CHECK(same_f64(want[0], c->output_scalar) || (isnan(want[0]) && isnan(c->output_scalar)),
                  "case %s: output_scalar %a != output %a %s",
                  c->name, c->output_scalar, want[0], REGEN_HINT);
            CHECK(matches(bits, got[0], w, tol, c->name, SIZE_MAX),
                  "case %s: nativekl %.17g (%a), PyTorch %.17g (%a), |diff| %.3g, tolerance %.3g %s",
                  c->name, got[0], got[0], w, w, fabs(got[0] - w), tol, REGEN_HINT);
        }
    }

    /* The gradients are not checked yet; make sure the table describes them sanely. */
    {
        const nklg_value *g[2] = {&c->grad_input, &c->grad_target};
        for (int k = 0; k < 2; k++)
            CHECK(g[k]->kind == NKLG_ABSENT || g[k]->count == n,
                  "case %s: gradient %d has %zu elements, numel %zu %s", c->name, k, g[k]->count, n,
                  REGEN_HINT);
    }

release:
    free(x); free(t); free(want); free(got);
done:
    tally->checked++;
    if (nkl_test_failures == failures_before) tally->passed++;
}

/* The seed values quoted in tests/golden/README.md, by name. */
static void check_seed(void) {
    static const struct { const char *name; const char *text; } seed[] = {
        {"seed/f32/sum", "0.115592495"},
        {"seed/f32/mean", "0.019265415"},
        {"seed/f32/batchmean", "0.057796247"},
    };
    for (size_t k = 0; k < sizeof seed / sizeof seed[0]; k++) {
        const nklg_case *c = NULL;
        for (size_t i = 0; i < NKLG_CASE_COUNT; i++)
            if (strcmp(nklg_cases[i].name, seed[k].name) == 0) c = &nklg_cases[i];
        int usable = c != NULL && c->bits == 32 && c->ndim == 2 && c->input.kind == NKLG_INLINE &&
                     c->target.kind == NKLG_INLINE && c->output.kind == NKLG_INLINE;
        CHECK(usable, "seed case %s missing from the table or not inline %s", seed[k].name,
              REGEN_HINT);
        if (!usable) continue;
        float quoted = strtof(seed[k].text, NULL);
        float stored = ((const float *)c->output.data)[0];
        CHECK(quoted == stored, "%s: README says %s, the golden file holds %.9g %s", c->name,
              seed[k].text, (double)stored, REGEN_HINT);
        float out = NAN;
        CHECK_OK(nkl_kl_div_f32((const float *)c->input.data, (const float *)c->target.data,
                                c->numel, c->reduction, c->shape[0], 0, &out));
        double bound = 0;
        for (size_t i = 0; i < c->numel; i++)
            bound += K_EPS * 0x1p-23 *
                     term_scale(((const float *)c->input.data)[i],
                                ((const float *)c->target.data)[i], 0);
        double divisor = c->reduction == NKL_REDUCTION_SUM    ? 1.0
                         : c->reduction == NKL_REDUCTION_MEAN ? (double)c->numel
                                                              : (double)c->shape[0];
        double tol = bound / divisor + ULP_SLACK * ulp_of(quoted, 32);
        CHECK(fabs((double)out - (double)quoted) <= tol,
              "%s: nativekl %.9g, PyTorch %s, |diff| %.3g, tolerance %.3g", c->name, (double)out,
              seed[k].text, fabs((double)out - (double)quoted), tol);
        printf("  %-20s nativekl %.9g  PyTorch %s%s\n", c->name, (double)out, seed[k].text,
               out == quoted ? "  (same bits)" : "");
    }
}

int main(int argc, char **argv) {
    if (!nkl_test_env_isa_usable()) return NKL_TEST_SKIP;
    if (argc > 1) golden_dir = argv[1];

    tally_t tally[2] = {{0, 0}, {0, 0}};
    for (size_t i = 0; i < NKLG_CASE_COUNT; i++) run_case(&nklg_cases[i], &tally[nklg_cases[i].bits == 64]);
    CHECK(tally[0].checked == NKLG_CASE_COUNT_F32 && tally[1].checked == NKLG_CASE_COUNT_F64,
          "ran %d float32 and %d float64 cases, the table has %d and %d", tally[0].checked,
          tally[1].checked, NKLG_CASE_COUNT_F32, NKLG_CASE_COUNT_F64);
    check_seed();

    for (int d = 0; d < 2; d++) {
        const worst_t *w = &worst[d];
        printf("  %s: %d/%d kl_div cases pass", d ? "float64" : "float32", tally[d].passed,
               tally[d].checked);
        if (w->name) {
            printf("; largest error/tolerance %.3g (%s", w->ratio, w->name);
            if (w->index != SIZE_MAX) printf(" element %zu", w->index);
            printf(": got %.17g, want %.17g, tolerance %.3g)", w->got, w->want, w->tol);
        }
        printf("\n");
    }
    return nkl_test_finish("test_golden");
}
