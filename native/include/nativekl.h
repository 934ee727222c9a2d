/*
 * nativekl.h - Kullback-Leibler divergence, fused in one pass over memory.
 *
 * This header is the manual. NativeKl computes PyTorch's
 * torch.nn.functional.kl_div exactly (same formula, same special values,
 * same reductions), for float32 and float64, with AVX2+FMA kernels chosen at
 * run time and a portable scalar path that returns the same bits.
 *
 * Conventions that hold for every function below:
 *
 *   - Every computing function returns an nkl_status. NKL_OK means success;
 *     anything else means nothing was written to any output, and
 *     nkl_status_string() explains the code.
 *   - Every function that takes flags (the distillation functions: in their
 *     desc) returns NKL_ERROR_INVALID_ENVIRONMENT, when called without an
 *     NKL_FORCE_* flag, while the environment variable NKL_ISA holds a value
 *     the library does not know (see nkl_active_isa). It is checked with the
 *     flags, before the arrays.
 *   - input holds log-probabilities x of the model; target holds
 *     probabilities t (or log-probabilities with NKL_LOG_TARGET). The result
 *     is KL(target || model), summed over elements as described per function.
 *   - Pointers need only the natural alignment of their element type; the
 *     result never depends on the address (no alignment peeling).
 *   - A NULL pointer is accepted only where its length is 0.
 *   - Functions are reentrant and thread-safe: the library keeps no mutable
 *     state besides its one-time CPU dispatch table. It never allocates
 *     inside a compute call and never starts a thread.
 *   - Results are deterministic: the same inputs give the same bits whatever
 *     the pointer alignment, whichever instruction set ran, and however the
 *     caller split the work with the chunk API (nkl_kl_div_partials_*,
 *     nkl_kl_div_backward_partials_*).
 *   - NaN included: every NaN the library writes or returns (a value, a
 *     pointwise term, a gradient, a row's loss, a partial's field) is the
 *     positive quiet NaN, NKL_NAN_BITS_F32 / NKL_NAN_BITS_F64 below. A NaN
 *     input's sign and payload are not passed on.
 */
#ifndef NATIVEKL_H
#define NATIVEKL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- export */

#if defined(NKL_STATIC)
#  define NKL_API
#elif defined(_WIN32)
#  if defined(NKL_BUILDING_LIBRARY)
#    define NKL_API __declspec(dllexport)
#  else
#    define NKL_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define NKL_API __attribute__((visibility("default")))
#else
#  define NKL_API
#endif

/* --------------------------------------------------------------- version */

#define NKL_VERSION_MAJOR 0
#define NKL_VERSION_MINOR 1
#define NKL_VERSION_PATCH 0
#define NKL_VERSION_STRING "0.1.0"
/* (major << 16) | (minor << 8) | patch, comparable with nkl_version(). */
#define NKL_VERSION ((NKL_VERSION_MAJOR << 16) | (NKL_VERSION_MINOR << 8) | NKL_VERSION_PATCH)

/*
 * nkl_version - the version of the library actually loaded, encoded as
 * NKL_VERSION is. Compare it with NKL_VERSION to detect a header/library
 * mismatch. nkl_version_string() returns the same as "major.minor.patch".
 */
NKL_API uint32_t nkl_version(void);
NKL_API const char *nkl_version_string(void);

/* ------------------------------------------------------------------- NaN */

/*
 * The bits of the one NaN the library returns, in float and in double: the
 * positive quiet NaN with no payload (GCC's and Clang's NAN, Python's
 * float('nan'); not .NET's float.NaN / double.NaN, which have the sign bit
 * set, nor x86's default NaN from 0 * inf, which has it too).
 * Converting the float one to double gives the double one, and back.
 */
#define NKL_NAN_BITS_F32 0x7fc00000u
#define NKL_NAN_BITS_F64 0x7ff8000000000000ull

/* ---------------------------------------------------------------- status */

typedef enum nkl_status {
    NKL_OK = 0,
    /* A pointer was NULL while its length was greater than 0. */
    NKL_ERROR_NULL_POINTER = 1,
    /* A length times the element size does not fit in ptrdiff_t. */
    NKL_ERROR_SIZE_OVERFLOW = 2,
    /* The reduction is not one of nkl_reduction, or not allowed here. */
    NKL_ERROR_INVALID_REDUCTION = 3,
    /* The flags hold a bit that is not defined below. */
    NKL_ERROR_INVALID_FLAGS = 4,
    /* BATCHMEAN with batch 0 while n > 0, or a batch that does not divide n. */
    NKL_ERROR_INVALID_BATCH = 5,
    /* The output range partly overlaps an input (exact aliasing is allowed
       where a function says so). */
    NKL_ERROR_OVERLAP = 6,
    /* A chunk range reaches past the last chunk of the data, or a row range
       past the last row (the distillation pieces). */
    NKL_ERROR_INVALID_CHUNK_RANGE = 7,
    /* A row stride (leading dimension) is smaller than the row length. */
    NKL_ERROR_INVALID_STRIDE = 8,
    /* The requested instruction set is unknown or this CPU/OS lacks it. */
    NKL_ERROR_ISA_UNAVAILABLE = 9,
    /* An alignment is not a power of two, or is smaller than sizeof(void*). */
    NKL_ERROR_INVALID_ALIGNMENT = 10,
    /* The system could not provide the requested memory. */
    NKL_ERROR_OUT_OF_MEMORY = 11,
    /* A temperature is not finite and > 0, or its logit scale (1/T; float32:
       log2(e)/T) is not finite and > 0 in the data's type. */
    NKL_ERROR_INVALID_TEMPERATURE = 12,
    /* A row weight is negative, infinite or NaN. */
    NKL_ERROR_INVALID_WEIGHT = 13,
    /* The environment variable NKL_ISA holds a value other than auto,
       scalar, avx2 and neon (see nkl_active_isa). */
    NKL_ERROR_INVALID_ENVIRONMENT = 14
} nkl_status;

/*
 * nkl_status_string - a short English sentence describing a status code.
 * Never returns NULL; unknown codes give "unknown status code".
 */
NKL_API const char *nkl_status_string(nkl_status status);

/* ------------------------------------------------------ options and ISAs */

/*
 * How the pointwise terms are reduced, as PyTorch's reduction argument:
 *   NONE       one value per element (the pointwise term L_i) or row: no
 *              function takes it as a reduction; call the one that gives
 *              those values (nkl_kl_div_pointwise_*,
 *              nkl_kl_div_pointwise_backward_*, nkl_distill_rows_*,
 *              nkl_distill_rows_backward_*), so that every output
 *              parameter has one size;
 *   SUM        sum of L_i;
 *   MEAN       sum / n (PyTorch's default; it is not the KL of a batch);
 *   BATCHMEAN  sum / batch, where batch is the size of dimension 0: the true
 *              KL averaged over the batch. For a 0-d input PyTorch does not
 *              divide: pass batch = 1, which divides exactly by one.
 * Empty input (n = 0): SUM gives 0, MEAN gives NaN (0/0), BATCHMEAN gives
 * NaN when batch is 0 and 0 otherwise.
 */
typedef enum nkl_reduction {
    NKL_REDUCTION_NONE = 0,
    NKL_REDUCTION_SUM = 1,
    NKL_REDUCTION_MEAN = 2,
    NKL_REDUCTION_BATCHMEAN = 3
} nkl_reduction;

/*
 * Flags, OR-ed together (0 is PyTorch's default):
 *
 *   NKL_LOG_TARGET  target holds log-probabilities (PyTorch's log_target=True).
 *                   Pointwise term: exp(t) * (t - x).
 *                   Without it the term is xlogy(t, t) - t * x, where
 *                   xlogy(0, y) = 0 for non-NaN y.
 *   NKL_MASKED      opt-in semantics PyTorch lacks: a zero-probability target
 *                   (t == 0, or t == -inf with NKL_LOG_TARGET) contributes
 *                   exactly +0, whatever the input holds (a masked
 *                   log_softmax row has x = -inf there).
 *   NKL_FORCE_SCALAR, NKL_FORCE_AVX2, NKL_FORCE_NEON
 *                   run this call on the named instruction set instead of the
 *                   active one (at most one of them). Meant for tests and
 *                   benchmarks; the results are bit-identical anyway.
 *                   NKL_ERROR_ISA_UNAVAILABLE if the CPU/OS lacks it.
 *
 * Special values of the PyTorch semantics (they follow from IEEE arithmetic
 * on the formula):
 *   log_target off: t = 0 and x finite -> 0;  t = 0 and x = -inf or NaN -> NaN;
 *                   t < 0 -> NaN;  t or x NaN -> NaN;  t > 0, x = -inf -> +inf;
 *                   t = +inf, x < 0 -> +inf;  subnormal t is not flushed.
 *   log_target on:  t = -inf -> NaN (0 * -inf, even when x = -inf too);
 *                   x = -inf, t finite -> +inf;  exp(t) overflowing -> +inf.
 */
#define NKL_LOG_TARGET 0x1u
#define NKL_MASKED 0x2u
#define NKL_FORCE_SCALAR 0x100u
#define NKL_FORCE_AVX2 0x200u
#define NKL_FORCE_NEON 0x400u

/* Instruction sets a kernel can run on. */
typedef enum nkl_isa {
    NKL_ISA_AUTO = 0,      /* best available: the default */
    NKL_ISA_SCALAR = 1, /* portable C, explicit fma() */
    NKL_ISA_AVX2 = 2,   /* AVX2 + FMA, x86-64 only */
    NKL_ISA_NEON = 3    /* NEON (Advanced SIMD) with FMA, AArch64 only: baseline there */
} nkl_isa;

/*
 * nkl_active_isa - the instruction set that calls without an NKL_FORCE_* flag
 * use. It is chosen once, on first use: on x86-64 from CPUID (AVX2, FMA and
 * OS support of the YMM state through OSXSAVE/XCR0); on AArch64 it is NEON,
 * which every AArch64 CPU has. The environment variable NKL_ISA,
 * read at that moment, overrides the choice for the whole process (the test
 * suite runs once per ISA this way):
 *   unset, empty or "auto"  the CPU's best;
 *   "scalar"                the portable path;
 *   "avx2"                  AVX2+FMA, or the CPU's best where it lacks them;
 *   "neon"                  NEON (AArch64), or the CPU's best elsewhere;
 *   anything else           no ISA: nkl_active_isa returns NKL_ISA_AUTO and
 *                           every call without an NKL_FORCE_* flag fails with
 *                           NKL_ERROR_INVALID_ENVIRONMENT (a misspelt value
 *                           must not silently test another path), until
 *                           nkl_set_isa makes a choice.
 * The values are compared without ASCII case. Otherwise the result is
 * NKL_ISA_SCALAR, NKL_ISA_AVX2 or NKL_ISA_NEON, never NKL_ISA_AUTO.
 */
NKL_API nkl_isa nkl_active_isa(void);

/*
 * nkl_isa_supported - 1 if this CPU and OS can run the given ISA, else 0.
 * NKL_ISA_AUTO and NKL_ISA_SCALAR are always supported.
 */
NKL_API int nkl_isa_supported(nkl_isa isa);

/* nkl_isa_name - "auto", "scalar", "avx2", "neon", or "unknown". */
NKL_API const char *nkl_isa_name(nkl_isa isa);

/*
 * nkl_set_isa - replace the active ISA for the whole process (NKL_ISA_AUTO
 * restores CPU detection, without reading NKL_ISA again; an unknown NKL_ISA
 * value stops mattering). For tests and benchmarks. Thread-safe (an atomic
 * store), but calls already running finish on the ISA they started with.
 * Errors: NKL_ERROR_ISA_UNAVAILABLE.
 */
NKL_API nkl_status nkl_set_isa(nkl_isa isa);

/* ------------------------------------------------------ elementwise KL */

/*
 * nkl_kl_div_f32, nkl_kl_div_f64 - torch.nn.functional.kl_div(input, target,
 * reduction, log_target) over n elements, reduced to one value.
 *
 *   input   n log-probabilities x_i
 *   target  n probabilities t_i (log-probabilities with NKL_LOG_TARGET)
 *   reduction, batch
 *           SUM, MEAN or BATCHMEAN (see nkl_reduction); batch is read only
 *           for BATCHMEAN, where it must divide n and be > 0 unless n == 0.
 *           NONE is NKL_ERROR_INVALID_REDUCTION: the pointwise terms come
 *           from nkl_kl_div_pointwise_*, so that out is always one value.
 *   flags   NKL_LOG_TARGET | NKL_MASKED | at most one NKL_FORCE_* flag.
 *   out     one value.
 *
 * One pass over memory; log t is never stored. Reductions accumulate in
 * float64 (float32 data) or compensated float64 (float64 data), in a fixed
 * order: the error is a few ulp of the result's type times sum |L_i|,
 * independent of n. The reduced value equals, bit for bit, what
 * nkl_kl_div_partials_* followed by nkl_partials_finish gives (rounded to
 * float for the f32 variant).
 *
 * Errors: NKL_ERROR_NULL_POINTER, NKL_ERROR_SIZE_OVERFLOW,
 * NKL_ERROR_INVALID_REDUCTION, NKL_ERROR_INVALID_FLAGS,
 * NKL_ERROR_INVALID_BATCH, NKL_ERROR_OVERLAP, NKL_ERROR_ISA_UNAVAILABLE.
 */
NKL_API nkl_status nkl_kl_div_f32(const float *input, const float *target, size_t n,
                                  nkl_reduction reduction, size_t batch, uint32_t flags,
                                  float *out);
NKL_API nkl_status nkl_kl_div_f64(const double *input, const double *target, size_t n,
                                  nkl_reduction reduction, size_t batch, uint32_t flags,
                                  double *out);

/*
 * nkl_kl_div_pointwise_f32, nkl_kl_div_pointwise_f64 -
 * torch.nn.functional.kl_div(input, target, reduction='none', log_target):
 * the n pointwise terms.
 *
 *   input, target, flags  as for nkl_kl_div_f32.
 *   out     n values, out[i] = L_i; may be exactly input or exactly target
 *           (in place), but must not partly overlap either.
 *
 * Errors: NKL_ERROR_NULL_POINTER, NKL_ERROR_SIZE_OVERFLOW,
 * NKL_ERROR_INVALID_FLAGS, NKL_ERROR_OVERLAP, NKL_ERROR_ISA_UNAVAILABLE.
 */
NKL_API nkl_status nkl_kl_div_pointwise_f32(const float *input, const float *target, size_t n,
                                            uint32_t flags, float *out);
NKL_API nkl_status nkl_kl_div_pointwise_f64(const double *input, const double *target, size_t n,
                                            uint32_t flags, double *out);

/*
 * nkl_kl_div_rows_f32, nkl_kl_div_rows_f64 - one KL per row of [rows, cols]
 * data: out[r] = sum over c of L(input[r * input_stride + c],
 * target[r * target_stride + c]). Strides are in elements and must be
 * >= cols (rows may be padded). Each out[r] has the same bits as
 * nkl_kl_div_*(row r, SUM). out must not overlap the inputs.
 *
 * Errors: NKL_ERROR_NULL_POINTER, NKL_ERROR_SIZE_OVERFLOW,
 * NKL_ERROR_INVALID_STRIDE, NKL_ERROR_INVALID_FLAGS, NKL_ERROR_OVERLAP,
 * NKL_ERROR_ISA_UNAVAILABLE.
 */
NKL_API nkl_status nkl_kl_div_rows_f32(const float *input, size_t input_stride,
                                       const float *target, size_t target_stride,
                                       size_t rows, size_t cols, uint32_t flags, float *out);
NKL_API nkl_status nkl_kl_div_rows_f64(const double *input, size_t input_stride,
                                       const double *target, size_t target_stride,
                                       size_t rows, size_t cols, uint32_t flags, double *out);

/* ------------------------------------------------------- gradients */

/*
 * nkl_kl_div_backward_f32, nkl_kl_div_backward_f64 - kl_div forward and
 * backward in one pass over memory.
 * nkl_kl_div_pointwise_backward_f32, nkl_kl_div_pointwise_backward_f64 - the
 * same for reduction 'none': the pointwise terms and the gradients of their
 * sum times grad_output (grad_output is the upstream gradient of every term).
 *
 * With s = grad_output / divisor (divisor as for the reduction: 1 for SUM
 * and pointwise, n for MEAN, batch for BATCHMEAN; the quotient rounded once
 * to the data's type), writes for every i:
 *
 *   log_target off:  grad_input[i]  = -(t s)
 *                    grad_target[i] = ((log t + t/t) - x) s
 *   log_target on:   grad_input[i]  = -(exp(t) s)
 *                    grad_target[i] = (exp(t) ((t - x) + 1)) s
 *
 * which is PyTorch's autograd of the formula: d/dt is NaN at t = 0 (0/0 from
 * xlogy's gradient) and at t = +inf; NKL_MASKED makes both gradients exactly
 * +0 where the target has probability 0 (t == 0, or t == -inf with
 * NKL_LOG_TARGET).
 *
 *   reduction, batch  SUM, MEAN or BATCHMEAN, as for nkl_kl_div_* (NONE is
 *                NKL_ERROR_INVALID_REDUCTION: call the pointwise backward).
 *   value        NULL, or one value: the reduced value, bit for bit what
 *                nkl_kl_div_* returns.
 *   terms        (pointwise) NULL, or n values: the pointwise terms, bit for
 *                bit what nkl_kl_div_pointwise_* writes.
 *   grad_input   n values (required unless n == 0).
 *   grad_target  n values, or NULL when not wanted (then t/t and the d/dt
 *                work are skipped).
 *
 * Outputs must not overlap the inputs or each other. Errors: as
 * nkl_kl_div_* (NKL_ERROR_OVERLAP for any overlap of the outputs).
 */
NKL_API nkl_status nkl_kl_div_backward_f32(const float *input, const float *target, size_t n,
                                           nkl_reduction reduction, size_t batch, uint32_t flags,
                                           float grad_output, float *value, float *grad_input,
                                           float *grad_target);
NKL_API nkl_status nkl_kl_div_backward_f64(const double *input, const double *target, size_t n,
                                           nkl_reduction reduction, size_t batch, uint32_t flags,
                                           double grad_output, double *value, double *grad_input,
                                           double *grad_target);
NKL_API nkl_status nkl_kl_div_pointwise_backward_f32(const float *input, const float *target,
                                                     size_t n, uint32_t flags, float grad_output,
                                                     float *terms, float *grad_input,
                                                     float *grad_target);
NKL_API nkl_status nkl_kl_div_pointwise_backward_f64(const double *input, const double *target,
                                                     size_t n, uint32_t flags, double grad_output,
                                                     double *terms, double *grad_input,
                                                     double *grad_target);

/* ------------------------------------------------- distillation from logits */

/*
 * Knowledge distillation (and policy matching) from raw logits, fused:
 * the composite
 *
 *   F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction) [* T * T]
 *
 * and its gradients for [rows, cols] student logits s and teacher logits u,
 * in one read of each row for the value and at most one more for the
 * gradients. Nothing of size rows x cols is allocated (nothing at all).
 *
 * Per row r, with a = s_r / T, q = softmax(a) and p = softmax(u_r / T):
 *
 *   KL_r = sum_c p_c (log p_c - log q_c)       (KL(p || q), >= 0 up to rounding)
 *
 * computed from online log-sum-exps (each lane keeps a running maximum and
 * rescales its sums when it grows), so no exp ever sees a raw logit: logits
 * of any magnitude give finite, accurate results. A class with p_c = 0
 * contributes 0 where log q_c is finite, as in PyTorch (xlogy(0, 0) - 0 *
 * log q_c). A teacher logit of -inf masks its class: it contributes exactly 0
 * even under a student logit of -inf, so -inf in both masks a class out
 * (PyTorch gives NaN there: 0 * -inf). A student logit of -inf under a
 * finite teacher logit gives +inf where p_c > 0 and, as PyTorch, NaN where
 * p_c underflows to 0 (0 * -inf), wherever the class lies in the row (at the
 * edge of underflow the two can differ, their p_c being rounded differently).
 * A row with a NaN or +inf logit, or whose logits are all -inf, gives NaN.
 *
 * NKL_TEACHER_LOG_PROBS_AS_GIVEN: the teacher rows hold log-probabilities l
 * used as given, p_c = exp(l_c) (no softmax, no temperature):
 *   KL_r = sum_c p_c (l_c - log q_c)
 * which is F.kl_div(F.log_softmax(s / T, 1), l, reduction, log_target=True)
 * except that l_c = -inf contributes 0 (PyTorch gives NaN there); a finite
 * l_c whose exp underflows gives NaN under a student logit of -inf, as PyTorch.
 *
 * Loss: loss_r = w_r * KL_r [* T^2 with NKL_MULTIPLY_LOSS_BY_T2] with w_r the
 * row's weight (1 without weights). A row of weight 0 is ignored: it is not read,
 * contributes exactly 0 to the value and the gradients, and is not counted
 * in a divisor. Reductions (nkl_distill_rows_* gives the loss_r themselves,
 * PyTorch's 'none'):
 *   SUM        sum of loss_r;
 *   BATCHMEAN  sum / kept rows (PyTorch's batchmean: / rows without weights);
 *   MEAN       sum / (kept rows * cols) (PyTorch's 'mean' over the composite).
 * No kept row: SUM 0, BATCHMEAN and MEAN NaN (0/0). cols == 0: each KL_r is
 * 0 (a sum over no classes), so MEAN is NaN.
 *
 * Rows are summed in order in compensated float64; the float32 kernels
 * accumulate each row in float64 lanes. The result has the same bits on
 * every ISA and alignment. float64 computes s / T as s * (1/T) with 1/T
 * rounded to double (exact when T is a power of two, as PyTorch's s / T).
 * float32 works in base 2: s * (log2(e)/T), the scale rounded to float, is
 * s / T in units of ln 2, rounded once as s / T is (so not PyTorch's bits
 * even for T a power of two), and its exponentials are 2^x (max error 1.80
 * ulp); the result is converted back with one factor ln 2 per row.
 *
 * Gradients (nkl_distill_backward_*, nkl_distill_rows_backward_*), with
 * g_r = grad_output * w_r [* T^2] / divisor (divisor 1 for SUM and for the
 * rows entry points, where grad_output is the upstream gradient of every
 * row):
 *   d/ds_rc = g_r / T * (q_c - p_c)                         (student logits)
 *   d/du_rc = g_r / T * p_c (log p_c - log q_c - KL_r)      (teacher logits)
 *   d/dl_rc = g_r * p_c ((l_c - log q_c) + 1)               (teacher log-probs)
 * and the student's with teacher log-probs is g_r / T (q_c sum_k p_k - p_c).
 * Classes with p_c = 0 get exactly 0 in the teacher's gradient (PyTorch's
 * autograd of the composite gives NaN for the whole row when softmax(u / T)
 * underflows to 0 somewhere: the NaN gradient of xlogy at 0; here the
 * gradient is the finite limit). Ignored rows get +0 everywhere.
 */

/* Distillation flags (with at most one NKL_FORCE_* flag). */
/* the teacher rows are log-probabilities, used as given (C#: TeacherKind.LogProbabilitiesAsGiven) */
#define NKL_TEACHER_LOG_PROBS_AS_GIVEN 0x4u
/* multiply each row's loss (and gradients) by T^2, Hinton's convention
   (C#: DistillationOptions.MultiplyLossByTemperatureSquared) */
#define NKL_MULTIPLY_LOSS_BY_T2 0x8u

/*
 * The shape and options of a distillation call. Strides are in elements,
 * from one row's start to the next, and must be >= cols (0 is not "dense":
 * pass cols). The struct is plain data; keep one per shape and reuse it.
 */
typedef struct nkl_distill_desc {
    size_t rows;
    size_t cols;
    size_t student_stride;
    size_t teacher_stride;
    double temperature; /* T: finite, > 0, with 1/T (float32: log2(e)/T) finite and > 0 in the data's type */
    int32_t reduction;  /* SUM, MEAN or BATCHMEAN; not read by nkl_distill_rows* */
    uint32_t flags;     /* NKL_TEACHER_LOG_PROBS_AS_GIVEN, NKL_MULTIPLY_LOSS_BY_T2, NKL_FORCE_* */
} nkl_distill_desc;

/*
 * nkl_distill_f32, nkl_distill_f64 - the distillation loss.
 *
 *   desc         shape, strides, temperature, reduction, flags.
 *   student      logits, row r at student + r * student_stride.
 *   teacher      logits (or log-probabilities), at teacher + r * teacher_stride.
 *   row_weights  rows weights (finite, >= 0), or NULL for all 1; 0 ignores a row.
 *   out          one value, the reduced loss. Must not overlap the inputs.
 *
 * Errors: NKL_ERROR_NULL_POINTER (desc, or an array whose extent is > 0),
 * NKL_ERROR_SIZE_OVERFLOW, NKL_ERROR_INVALID_STRIDE,
 * NKL_ERROR_INVALID_REDUCTION, NKL_ERROR_INVALID_FLAGS,
 * NKL_ERROR_INVALID_TEMPERATURE, NKL_ERROR_INVALID_WEIGHT, NKL_ERROR_OVERLAP,
 * NKL_ERROR_ISA_UNAVAILABLE. Nothing is written on error. Reentrant.
 */
NKL_API nkl_status nkl_distill_f32(const nkl_distill_desc *desc, const float *student,
                                   const float *teacher, const float *row_weights, float *out);
NKL_API nkl_status nkl_distill_f64(const nkl_distill_desc *desc, const double *student,
                                   const double *teacher, const double *row_weights,
                                   double *out);

/*
 * nkl_distill_rows_f32, nkl_distill_rows_f64 - the loss of each row
 * (PyTorch's reduction 'none'): row_losses[r] = loss_r, +0 for an ignored
 * row. desc->reduction is not read. Other arguments and errors: as
 * nkl_distill_* (no NKL_ERROR_INVALID_REDUCTION).
 *
 *   row_losses   rows values. Must not overlap the inputs.
 */
NKL_API nkl_status nkl_distill_rows_f32(const nkl_distill_desc *desc, const float *student,
                                        const float *teacher, const float *row_weights,
                                        float *row_losses);
NKL_API nkl_status nkl_distill_rows_f64(const nkl_distill_desc *desc, const double *student,
                                        const double *teacher, const double *row_weights,
                                        double *row_losses);

/*
 * nkl_distill_backward_f32, nkl_distill_backward_f64 - the loss and its
 * gradients in one call (formulas above).
 * nkl_distill_rows_backward_f32, nkl_distill_rows_backward_f64 - the same
 * for the per-row losses: their gradients times grad_output each (the
 * gradients of their sum), and the losses themselves.
 *
 *   value         NULL, or one value: out of nkl_distill_* (the same bits).
 *   row_losses    (rows backward) NULL, or rows values: row_losses of
 *                 nkl_distill_rows_* (the same bits).
 *   grad_student  d loss / d student, row r at grad_student +
 *                 r * grad_student_stride (required unless rows * cols == 0).
 *   grad_teacher  d loss / d teacher at grad_teacher + r * grad_teacher_stride,
 *                 or NULL when not wanted.
 *
 * Only the cols elements of each row are written. Outputs must not overlap
 * the inputs or each other (the spans from the first to the last element,
 * strides included). Errors: as nkl_distill_* and nkl_distill_rows_*.
 */
NKL_API nkl_status nkl_distill_backward_f32(const nkl_distill_desc *desc, const float *student,
                                            const float *teacher, const float *row_weights,
                                            float grad_output, float *value, float *grad_student,
                                            size_t grad_student_stride, float *grad_teacher,
                                            size_t grad_teacher_stride);
NKL_API nkl_status nkl_distill_backward_f64(const nkl_distill_desc *desc, const double *student,
                                            const double *teacher, const double *row_weights,
                                            double grad_output, double *value,
                                            double *grad_student, size_t grad_student_stride,
                                            double *grad_teacher, size_t grad_teacher_stride);
NKL_API nkl_status nkl_distill_rows_backward_f32(const nkl_distill_desc *desc,
                                                 const float *student, const float *teacher,
                                                 const float *row_weights, float grad_output,
                                                 float *row_losses, float *grad_student,
                                                 size_t grad_student_stride, float *grad_teacher,
                                                 size_t grad_teacher_stride);
NKL_API nkl_status nkl_distill_rows_backward_f64(const nkl_distill_desc *desc,
                                                 const double *student, const double *teacher,
                                                 const double *row_weights, double grad_output,
                                                 double *row_losses, double *grad_student,
                                                 size_t grad_student_stride, double *grad_teacher,
                                                 size_t grad_teacher_stride);

/*
 * Distillation pieces: splitting a distillation call across threads with
 * identical bits (the chunk API's equivalent for rows, below). desc, the
 * arrays and row_weights always describe the WHOLE call; a piece computes
 * rows first_row .. first_row + row_count - 1 of it (any split, any thread,
 * any order), and one finish gives the reduced value:
 *
 *     double part[rows];                               // caller's memory
 *     // any threads, any split of [0, rows):
 *     nkl_distill_partials_f32(&desc, s, u, w, first, k, part + first);
 *     // then, once:
 *     float v; nkl_distill_finish_f32(&desc, w, part, &v);
 *     // v == nkl_distill_f32(&desc, s, u, w, ...), bit for bit
 *
 * For the per-row losses (nkl_distill_rows_*), no piece API is needed: a
 * row's loss does not depend on the other rows, so call the rows entry
 * points on a desc of a block of rows (pointers offset to its first row).
 *
 * nkl_distill_partials_f32, nkl_distill_partials_f64 - the losses of rows
 * first_row .. first_row + row_count - 1:
 *   row_partials[i] = loss of row first_row + i in float64, unrounded
 *                     (w_r * KL_r [* T^2]; +0 for an ignored row).
 * desc->reduction is not read. row_partials (row_count doubles) must not
 * overlap the inputs.
 *
 * nkl_distill_backward_partials_f32, nkl_distill_backward_partials_f64 - the
 * same rows' gradients, scaled by the whole call's divisor (desc->reduction:
 * SUM, MEAN or BATCHMEAN over the kept rows of ALL rows), so that the pieces
 * of all rows write, bit for bit, what nkl_distill_backward_* writes.
 * grad_student and grad_teacher point at row 0 of the whole gradients (as
 * nkl_distill_backward_*); only the range's rows are written (their cols
 * elements each). grad_student is required unless row_count * cols == 0;
 * grad_teacher and row_partials may be NULL (not wanted). The outputs (the
 * range's span of each gradient, from its first to its last element, and
 * row_count doubles) must not overlap the inputs or each other.
 *
 * nkl_distill_finish_f32, nkl_distill_finish_f64 - the reduced value from
 * the row_partials of ALL desc->rows rows: summed in row order in
 * compensated float64 as nkl_distill_* sums (ignored rows, and every row
 * when cols == 0, are skipped), divided by the divisor of desc->reduction
 * and row_weights, and rounded to the data's type: *out has the bits of
 * nkl_distill_*'s value and nkl_distill_backward_*'s. desc is checked as
 * nkl_distill_* checks it (strides, temperature and flags included); no
 * logits are read.
 *
 * Errors: as nkl_distill_* and nkl_distill_backward_* (nkl_distill_partials_*
 * has no NKL_ERROR_INVALID_REDUCTION), and NKL_ERROR_INVALID_CHUNK_RANGE
 * (first_row + row_count > desc->rows), NKL_ERROR_NULL_POINTER (row_partials
 * NULL with row_count > 0 for nkl_distill_partials_*, or with desc->rows > 0
 * for the finish; out NULL). Nothing is written on error. Reentrant: pieces
 * of one call may run at the same time on any threads (they write disjoint
 * rows).
 */
NKL_API nkl_status nkl_distill_partials_f32(const nkl_distill_desc *desc, const float *student,
                                            const float *teacher, const float *row_weights,
                                            size_t first_row, size_t row_count,
                                            double *row_partials);
NKL_API nkl_status nkl_distill_partials_f64(const nkl_distill_desc *desc, const double *student,
                                            const double *teacher, const double *row_weights,
                                            size_t first_row, size_t row_count,
                                            double *row_partials);
NKL_API nkl_status nkl_distill_backward_partials_f32(
    const nkl_distill_desc *desc, const float *student, const float *teacher,
    const float *row_weights, float grad_output, size_t first_row, size_t row_count,
    double *row_partials, float *grad_student, size_t grad_student_stride, float *grad_teacher,
    size_t grad_teacher_stride);
NKL_API nkl_status nkl_distill_backward_partials_f64(
    const nkl_distill_desc *desc, const double *student, const double *teacher,
    const double *row_weights, double grad_output, size_t first_row, size_t row_count,
    double *row_partials, double *grad_student, size_t grad_student_stride, double *grad_teacher,
    size_t grad_teacher_stride);
NKL_API nkl_status nkl_distill_finish_f32(const nkl_distill_desc *desc, const float *row_weights,
                                          const double *row_partials, float *out);
NKL_API nkl_status nkl_distill_finish_f64(const nkl_distill_desc *desc, const double *row_weights,
                                          const double *row_partials, double *out);

/* ------------------------------------------------------------ chunk API */

/*
 * Splitting a reduction across threads with identical bits.
 *
 * The data is cut into fixed chunks of NKL_CHUNK_ELEMENTS elements counted
 * from index 0 (the last one may be shorter). Each chunk reduces to one
 * nkl_partial, computed the same way whichever thread computes it, and
 * nkl_partials_finish combines the partials in index order. So:
 *
 *     size_t count = nkl_chunk_count(n);
 *     nkl_partial p[count];                       // caller's memory
 *     // any threads, any split of [0, count):
 *     nkl_kl_div_partials_f32(x, t, n, flags, first, k, p + first);
 *     // then, once:
 *     double v; nkl_partials_finish(p, count, n, NKL_REDUCTION_SUM, 0, &v);
 *     float result = (float)v;   // == nkl_kl_div_f32(..., SUM, ...), bit for bit
 */
#define NKL_CHUNK_ELEMENTS 16384u

typedef struct nkl_partial {
    double sum;          /* sum of the chunk's terms ...            */
    double compensation; /* ... plus this rounding-error correction */
} nkl_partial;

/* nkl_chunk_count - ceil(n / NKL_CHUNK_ELEMENTS); 0 for n == 0. */
NKL_API size_t nkl_chunk_count(size_t n);

/*
 * nkl_kl_div_partials_f32, nkl_kl_div_partials_f64 - the partials of chunks
 * first_chunk .. first_chunk + chunk_count - 1 of the n-element data at
 * input/target (the base pointers of the whole data, not of the first chunk),
 * written to partials[0 .. chunk_count - 1].
 *
 * Errors: NKL_ERROR_NULL_POINTER, NKL_ERROR_SIZE_OVERFLOW,
 * NKL_ERROR_INVALID_FLAGS, NKL_ERROR_INVALID_CHUNK_RANGE (first_chunk +
 * chunk_count > nkl_chunk_count(n)), NKL_ERROR_ISA_UNAVAILABLE.
 */
NKL_API nkl_status nkl_kl_div_partials_f32(const float *input, const float *target, size_t n,
                                           uint32_t flags, size_t first_chunk,
                                           size_t chunk_count, nkl_partial *partials);
NKL_API nkl_status nkl_kl_div_partials_f64(const double *input, const double *target, size_t n,
                                           uint32_t flags, size_t first_chunk,
                                           size_t chunk_count, nkl_partial *partials);

/*
 * nkl_kl_div_backward_partials_f32, nkl_kl_div_backward_partials_f64 - the
 * chunk API of nkl_kl_div_backward_*: for chunks first_chunk ..
 * first_chunk + chunk_count - 1 of the n-element data, writes those chunks'
 * elements of grad_input (and of grad_target unless it is NULL) and their
 * partials to partials[0 .. chunk_count - 1]. Then nkl_partials_finish over
 * all nkl_chunk_count(n) partials, with the same reduction and batch_size,
 * gives the reduced value (rounded to float for f32) with the bits of
 * nkl_kl_div_backward_*'s value, and the gradients have its bits, however
 * the chunks were split between calls and threads:
 *
 *     // any threads, any split of [0, nkl_chunk_count(n)):
 *     nkl_kl_div_backward_partials_f32(x, t, n, NKL_REDUCTION_MEAN, 0, flags, 1.0f,
 *                                      first, k, p + first, gx, gt);
 *     // then, once:
 *     double v; nkl_partials_finish(p, count, n, NKL_REDUCTION_MEAN, 0, &v);
 *
 * input, target, grad_input and grad_target are the base pointers of the
 * whole n-element arrays (not of the first chunk); only the given chunks'
 * elements are written. Every gradient uses the whole call's scale,
 * s = grad_output / divisor (divisor from reduction, n and batch_size as
 * for nkl_kl_div_backward_*), so each call must pass the same reduction,
 * batch_size, flags and grad_output.
 *
 * Overlap is checked on the whole arrays whatever the range: grad_input,
 * grad_target (n values each) and partials (chunk_count values) must not
 * overlap input, target or each other. Calls for disjoint chunk ranges
 * write disjoint memory, so they may run at the same time on different
 * threads (reentrant, no allocation, no thread started); the caller
 * orders them before nkl_partials_finish.
 *
 * Errors (nothing written): NKL_ERROR_NULL_POINTER (input, target or
 * grad_input NULL with n > 0, partials NULL with chunk_count > 0),
 * NKL_ERROR_SIZE_OVERFLOW, NKL_ERROR_INVALID_REDUCTION (NONE or unknown, as
 * for nkl_kl_div_backward_*: the pointwise backward needs no partials;
 * slice the arrays instead), NKL_ERROR_INVALID_BATCH, NKL_ERROR_INVALID_FLAGS,
 * NKL_ERROR_INVALID_CHUNK_RANGE (first_chunk + chunk_count >
 * nkl_chunk_count(n)), NKL_ERROR_OVERLAP, NKL_ERROR_ISA_UNAVAILABLE,
 * NKL_ERROR_INVALID_ENVIRONMENT.
 */
NKL_API nkl_status nkl_kl_div_backward_partials_f32(const float *input, const float *target,
                                                    size_t n, nkl_reduction reduction,
                                                    size_t batch_size, uint32_t flags,
                                                    float grad_output, size_t first_chunk,
                                                    size_t chunk_count, nkl_partial *partials,
                                                    float *grad_input, float *grad_target);
NKL_API nkl_status nkl_kl_div_backward_partials_f64(const double *input, const double *target,
                                                    size_t n, nkl_reduction reduction,
                                                    size_t batch_size, uint32_t flags,
                                                    double grad_output, size_t first_chunk,
                                                    size_t chunk_count, nkl_partial *partials,
                                                    double *grad_input, double *grad_target);

/*
 * nkl_partials_finish - combines count partials in index order
 * (compensated) and applies the reduction (SUM, MEAN over n elements, or
 * BATCHMEAN over batch) in float64. For float32 data, round *out to float.
 * An infinite sum is returned as is, a NaN one as NKL_NAN_BITS_F64 (which
 * rounds to NKL_NAN_BITS_F32).
 *
 * Errors: NKL_ERROR_NULL_POINTER, NKL_ERROR_INVALID_REDUCTION (NONE or
 * unknown), NKL_ERROR_INVALID_BATCH, NKL_ERROR_INVALID_CHUNK_RANGE (count
 * differs from nkl_chunk_count(n)).
 */
NKL_API nkl_status nkl_partials_finish(const nkl_partial *partials, size_t count, size_t n,
                                       nkl_reduction reduction, size_t batch, double *out);

/* --------------------------------------------------------------- memory */

/*
 * nkl_alloc - size bytes aligned to alignment (a power of two, at least
 * sizeof(void*); 64 suits every kernel). The memory is uninitialised and
 * must be released with nkl_free. size 0 gives a unique non-NULL pointer.
 * Errors: NKL_ERROR_NULL_POINTER (out is NULL), NKL_ERROR_INVALID_ALIGNMENT,
 * NKL_ERROR_SIZE_OVERFLOW, NKL_ERROR_OUT_OF_MEMORY (*out set to NULL).
 */
NKL_API nkl_status nkl_alloc(size_t size, size_t alignment, void **out);

/* nkl_free - releases memory from nkl_alloc; NULL is ignored. */
NKL_API void nkl_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* NATIVEKL_H */
