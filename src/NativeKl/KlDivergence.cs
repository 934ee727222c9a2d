using System;
using NativeKl.Core;
using NativeKl.Validation;

namespace NativeKl
{
    /// <summary>
    /// torch.nn.functional.kl_div(input, target, reduction, log_target) over spans: input holds the
    /// model's log-probabilities x, target the probabilities t (log-probabilities with
    /// <see cref="KlOptions.LogTarget"/>). The pointwise term is xlogy(t, t) − t·x, or
    /// exp(t)·(t − x) with a log target; special values are PyTorch's (see native/include/nativekl.h).
    /// Every call validates its arguments first (the exceptions name the argument and the values),
    /// allocates nothing on the managed heap, starts no thread unless given a degree of parallelism
    /// above 1, and returns the same bits whatever the alignment, the ISA, the backend or the
    /// parallelism: NaN included, as every NaN it returns or writes is the positive quiet NaN (bits
    /// 0x7FC00000 / 0x7FF8000000000000; not float.NaN's or double.NaN's, which have the sign bit set).
    /// Reductions accumulate in double (float data) or compensated double (double data).
    /// </summary>
    public static class KlDivergence
    {
        /// <summary>The sum of the pointwise terms (reduction='sum').</summary>
        public static float Sum(ReadOnlySpan<float> input, ReadOnlySpan<float> target, KlOptions options = default) =>
            KlCore.Reduce(input, target, KlReduction.Sum, options, 1);

        /// <summary>The sum divided by the element count (reduction='mean', PyTorch's default); NaN for empty input.</summary>
        public static float Mean(ReadOnlySpan<float> input, ReadOnlySpan<float> target, KlOptions options = default) =>
            KlCore.Reduce(input, target, KlReduction.Mean, options, 1);

        /// <summary>
        /// The sum divided by <paramref name="batchSize"/> (reduction='batchmean'): the size of
        /// dimension 0, or the row count of [rows, columns] data. It must be positive and divide the
        /// length (0 is accepted for empty input only, giving NaN as PyTorch does). For a 0-d
        /// tensor PyTorch does not divide: pass 1.
        /// </summary>
        public static float BatchMean(ReadOnlySpan<float> input, ReadOnlySpan<float> target, int batchSize, KlOptions options = default) =>
            KlCore.Reduce(input, target, KlReduction.BatchMean(batchSize), options, 1);

        /// <summary>
        /// The reduced KL divergence: <see cref="KlReduction.Sum"/>, <see cref="KlReduction.Mean"/> or
        /// <see cref="KlReduction.BatchMean(int)"/> (which carries the batch size); for reduction='none'
        /// call <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>.
        /// With <paramref name="degreeOfParallelism"/> above 1, the fixed 16384-element chunks are
        /// computed on up to that many threads and combined in order: the result has the same bits
        /// as the single-threaded call.
        /// </summary>
        public static float Reduce(ReadOnlySpan<float> input, ReadOnlySpan<float> target, KlReduction reduction,
                                   KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Reduce(input, target, reduction, options, degreeOfParallelism);

        /// <summary>
        /// The pointwise terms (reduction='none'): destination[i] = L(input[i], target[i]) for every
        /// i &lt; input.Length. The destination may be exactly input or target (in place) but must not
        /// partly overlap them.
        /// <para><paramref name="degreeOfParallelism"/> (at least 1; 1, the default, starts no thread): above 1,
        /// the data's fixed chunks of <see cref="ChunkLength"/> elements are split into at most that many
        /// contiguous ranges of whole chunks, one per thread (the calling thread among them; data of one
        /// chunk or less runs on it alone). The results have the same bits for any degree. A parallel call
        /// allocates (Parallel.For's task, closure and options, and an array of one exception slot per
        /// piece): see <see cref="Finish(ReadOnlySpan{KlPartial}, int, KlReduction)"/>'s remarks for the
        /// measured figure. To run the pieces on threads of your own instead, slice the spans at chunk
        /// boundaries: a slice is a piece, with the same bits.</para>
        /// </summary>
        public static void Pointwise(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> destination,
                                     KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Pointwise(input, target, destination, options, degreeOfParallelism);

        /// <summary>
        /// One KL per row of contiguous [rows, columns] data: destination[r] is the sum over row r,
        /// with the same bits as <see cref="Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, KlOptions)"/> of that row.
        /// <para><paramref name="degreeOfParallelism"/> (at least 1; 1, the default, starts no thread): above 1,
        /// the rows are split into at most that many contiguous ranges of whole rows of at least
        /// <see cref="ChunkLength"/> elements of work each (fewer rows run on the calling thread alone); each
        /// row's result has the same bits for any degree. The allocation is
        /// <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>'s. To run the
        /// pieces on threads of your own instead, slice the rows: a slice of whole rows is a piece.</para>
        /// </summary>
        public static void Rows(ReadOnlySpan<float> input, ReadOnlySpan<float> target, int rows, int columns,
                                Span<float> destination, KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.DenseRows(input, target, rows, columns, destination, options, degreeOfParallelism);

        /// <summary>
        /// One KL per row of strided [rows, columns] data: row r of input starts at
        /// r × <paramref name="inputStride"/> (the leading dimension, at least
        /// <paramref name="columns"/>), likewise for target. destination must not overlap the inputs.
        /// <paramref name="degreeOfParallelism"/> as for <see cref="Rows(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, KlOptions, int)"/>.
        /// </summary>
        public static void Rows(ReadOnlySpan<float> input, int inputStride, ReadOnlySpan<float> target, int targetStride,
                                int rows, int columns, Span<float> destination, KlOptions options = default,
                                int degreeOfParallelism = 1) =>
            KlCore.Rows(input, inputStride, target, targetStride, rows, columns, destination, options, degreeOfParallelism);

        /// <summary>
        /// kl_div forward and backward in one pass over memory, for a <paramref name="reduction"/>
        /// (default <see cref="KlReduction.Mean"/>, PyTorch's default): returns the reduced value (the bits of
        /// <see cref="Reduce(ReadOnlySpan{float}, ReadOnlySpan{float}, KlReduction, KlOptions, int)"/>)
        /// and writes, with s = <paramref name="gradOutput"/> / divisor rounded once to the data's type (divisor
        /// 1 for Sum, input.Length for Mean, the batch size for BatchMean):
        /// <list type="bullet">
        /// <item><description><paramref name="gradInput"/>[i] = ∂value/∂input[i] · gradOutput: −t·s, or −exp(t)·s with a log target;</description></item>
        /// <item><description><paramref name="gradTarget"/>[i] = ((log t + t/t) − x)·s, or exp(t)·((t − x) + 1)·s with a log target,
        /// if <paramref name="gradTarget"/> is not empty (empty: not wanted, and not computed).</description></item>
        /// </list>
        /// These are PyTorch's autograd results: the target gradient is NaN at t = 0 (xlogy's 0/0) and t = +∞;
        /// with <see cref="KlOptions.Masked"/> both gradients are exactly +0 where the target has probability 0.
        /// The outputs must not overlap the inputs or each other; only the first input.Length elements are written.
        /// The parameters come in the order every backward method uses: inputs, outputs (the gradients,
        /// then any forward values), the reduction, the upstream gradient, the options.
        /// <para><paramref name="degreeOfParallelism"/> (at least 1; 1, the default, starts no thread): above 1,
        /// the chunks are split as for <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>;
        /// each piece runs <see cref="BackwardPartials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{KlPartial}, KlReduction, float, KlOptions)"/>
        /// (every gradient with the whole call's s) and the value is
        /// <see cref="Finish(ReadOnlySpan{KlPartial}, int, KlReduction)"/> of the partials in chunk order:
        /// the value and the gradients have the single-threaded call's bits for any degree. Besides
        /// Pointwise's allocation, a parallel call allocates the partials: 16 bytes per chunk.</para>
        /// </summary>
        public static float Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradInput,
                                     Span<float> gradTarget = default, KlReduction reduction = default,
                                     float gradOutput = 1.0f, KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Backward(input, target, gradInput, gradTarget, default, reduction, false, gradOutput, options, degreeOfParallelism);

        /// <summary>
        /// kl_div forward and backward for reduction='none': the backward of Σᵢ Lᵢ·gradOutput, i.e.
        /// <paramref name="gradOutput"/> is the upstream gradient of every element (s = gradOutput).
        /// Writes <paramref name="gradInput"/>[i] = −t·s (−exp(t)·s with a log target), and, where not
        /// empty, <paramref name="gradTarget"/>[i] = ((log t + t/t) − x)·s (exp(t)·((t − x) + 1)·s) and
        /// <paramref name="values"/>[i] = Lᵢ, the bits of
        /// <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>.
        /// Special values and masking as <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KlReduction, float, KlOptions, int)"/>;
        /// the outputs must not overlap the inputs or each other.
        /// <paramref name="degreeOfParallelism"/> as for <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>
        /// (s is gradOutput for every element, so a slice at chunk boundaries is a piece).
        /// </summary>
        public static void PointwiseBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradInput,
                                             Span<float> gradTarget = default, Span<float> values = default,
                                             float gradOutput = 1.0f, KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Backward(input, target, gradInput, gradTarget, values, default, true, gradOutput, options, degreeOfParallelism);

        // The double overloads: the same contract as the float ones above.

        /// <inheritdoc cref="Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, KlOptions)"/>
        public static double Sum(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlOptions options = default) =>
            KlCore.Reduce(input, target, KlReduction.Sum, options, 1);

        /// <inheritdoc cref="Mean(ReadOnlySpan{float}, ReadOnlySpan{float}, KlOptions)"/>
        public static double Mean(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlOptions options = default) =>
            KlCore.Reduce(input, target, KlReduction.Mean, options, 1);

        /// <inheritdoc cref="BatchMean(ReadOnlySpan{float}, ReadOnlySpan{float}, int, KlOptions)"/>
        public static double BatchMean(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int batchSize, KlOptions options = default) =>
            KlCore.Reduce(input, target, KlReduction.BatchMean(batchSize), options, 1);

        /// <inheritdoc cref="Reduce(ReadOnlySpan{float}, ReadOnlySpan{float}, KlReduction, KlOptions, int)"/>
        public static double Reduce(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlReduction reduction,
                                   KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Reduce(input, target, reduction, options, degreeOfParallelism);

        /// <inheritdoc cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>
        public static void Pointwise(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> destination,
                                     KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Pointwise(input, target, destination, options, degreeOfParallelism);

        /// <inheritdoc cref="Rows(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, KlOptions, int)"/>
        public static void Rows(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int rows, int columns,
                                Span<double> destination, KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.DenseRows(input, target, rows, columns, destination, options, degreeOfParallelism);

        /// <inheritdoc cref="Rows(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int, int, Span{float}, KlOptions, int)"/>
        public static void Rows(ReadOnlySpan<double> input, int inputStride, ReadOnlySpan<double> target, int targetStride,
                                int rows, int columns, Span<double> destination, KlOptions options = default,
                                int degreeOfParallelism = 1) =>
            KlCore.Rows(input, inputStride, target, targetStride, rows, columns, destination, options, degreeOfParallelism);

        /// <inheritdoc cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KlReduction, float, KlOptions, int)"/>
        public static double Backward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> gradInput,
                                     Span<double> gradTarget = default, KlReduction reduction = default,
                                     double gradOutput = 1.0, KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Backward(input, target, gradInput, gradTarget, default, reduction, false, gradOutput, options, degreeOfParallelism);

        /// <inheritdoc cref="PointwiseBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, float, KlOptions, int)"/>
        public static void PointwiseBackward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> gradInput,
                                             Span<double> gradTarget = default, Span<double> values = default,
                                             double gradOutput = 1.0, KlOptions options = default, int degreeOfParallelism = 1) =>
            KlCore.Backward(input, target, gradInput, gradTarget, values, default, true, gradOutput, options, degreeOfParallelism);
        // ------------------------------------------------------------------ the chunk API

        /// <summary>
        /// The elements of one chunk (NKL_CHUNK_ELEMENTS): the data of every call is cut into chunks of
        /// this many elements counted from index 0 (the last may be shorter), each reduced to one
        /// <see cref="KlPartial"/> the same way whichever thread computes it.
        /// </summary>
        public const int ChunkLength = 16384;

        /// <summary>The chunks of <paramref name="length"/> elements: ⌈length / <see cref="ChunkLength"/>⌉ (0 for 0).</summary>
        public static int ChunkCount(int length) => Validate.ChunkCount(length);

        /// <summary>
        /// The chunk API, for a job system of your own (Unity jobs, a thread pool): writes the partials
        /// of chunks <paramref name="firstChunk"/> .. firstChunk + partials.Length − 1 of the whole
        /// input and target (pass the whole spans, not slices). Once every chunk's partial is written,
        /// from any threads in any split, <see cref="Finish(ReadOnlySpan{KlPartial}, int, KlReduction)"/>
        /// gives the bits of <see cref="Reduce(ReadOnlySpan{float}, ReadOnlySpan{float}, KlReduction, KlOptions, int)"/>:
        /// <code>
        /// var partials = new KlPartial[KlDivergence.ChunkCount(x.Length)];
        /// // any threads, any split of [0, partials.Length), e.g. piece [first, end):
        /// KlDivergence.Partials(x, t, first, partials.AsSpan(first, end - first));
        /// // then, once:
        /// float kl = (float)KlDivergence.Finish(partials, x.Length, KlReduction.Mean);
        /// </code>
        /// Allocates nothing and starts no thread. <see cref="KlOptions.ValidateInputs"/> is refused
        /// (ArgumentException naming options): a piece cannot check what crosses pieces; validate
        /// before splitting. Calls on disjoint partials may run at the same time.
        /// </summary>
        public static void Partials(ReadOnlySpan<float> input, ReadOnlySpan<float> target, int firstChunk, Span<KlPartial> partials,
                                    KlOptions options = default) =>
            KlParallel.Partials(input, target, firstChunk, partials, options);

        /// <inheritdoc cref="Partials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{KlPartial}, KlOptions)"/>
        public static void Partials(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int firstChunk, Span<KlPartial> partials,
                                    KlOptions options = default) =>
            KlParallel.Partials(input, target, firstChunk, partials, options);

        /// <summary>
        /// The chunk API of <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KlReduction, float, KlOptions, int)"/>:
        /// for chunks <paramref name="firstChunk"/> .. firstChunk + partials.Length − 1, writes those
        /// chunks' elements of <paramref name="gradInput"/> (and of <paramref name="gradTarget"/> unless it
        /// is empty) and the chunks' partials. input, target, gradInput and gradTarget are the WHOLE
        /// arrays (not slices): every gradient uses the whole call's scale s = gradOutput / divisor
        /// (divisor from the reduction and input.Length), so pass the same reduction, gradOutput and
        /// options to every piece. After every chunk is done,
        /// <see cref="Finish(ReadOnlySpan{KlPartial}, int, KlReduction)"/> with the same reduction gives
        /// Backward's value (cast to float for float data), and the gradients have Backward's bits:
        /// <code>
        /// var partials = new KlPartial[KlDivergence.ChunkCount(x.Length)];
        /// // any threads, any split, e.g. piece [first, end):
        /// KlDivergence.BackwardPartials(x, t, first, gx, gt, partials.AsSpan(first, end - first), KlReduction.Mean, 1f);
        /// float loss = (float)KlDivergence.Finish(partials, x.Length, KlReduction.Mean);
        /// </code>
        /// Overlap is checked on the whole arrays: the outputs must not overlap the inputs or each
        /// other. Allocates nothing and starts no thread; calls for disjoint chunk ranges write disjoint
        /// memory and may run at the same time. <see cref="KlOptions.ValidateInputs"/> is refused as by
        /// <see cref="Partials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{KlPartial}, KlOptions)"/>.
        /// For reduction 'none' there is no piece API: slice the spans of
        /// <see cref="PointwiseBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, float, KlOptions, int)"/>
        /// at chunk boundaries.
        /// </summary>
        public static void BackwardPartials(ReadOnlySpan<float> input, ReadOnlySpan<float> target, int firstChunk,
                                            Span<float> gradInput, Span<float> gradTarget, Span<KlPartial> partials,
                                            KlReduction reduction, float gradOutput, KlOptions options = default) =>
            KlParallel.BackwardPartials(input, target, firstChunk, gradInput, gradTarget, partials, reduction, gradOutput, options);

        /// <inheritdoc cref="BackwardPartials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{KlPartial}, KlReduction, float, KlOptions)"/>
        public static void BackwardPartials(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int firstChunk,
                                            Span<double> gradInput, Span<double> gradTarget, Span<KlPartial> partials,
                                            KlReduction reduction, double gradOutput, KlOptions options = default) =>
            KlParallel.BackwardPartials(input, target, firstChunk, gradInput, gradTarget, partials, reduction, gradOutput, options);

        /// <summary>
        /// Combines every chunk's partial in chunk order and applies the reduction, for data of
        /// <paramref name="length"/> elements (partials.Length must be <see cref="ChunkCount(int)"/> of it):
        /// the value in double. For double data it is the double call's bits; for float data
        /// <c>(float)</c> of it is the float call's bits (the float calls round this very double once).
        /// A NaN result is the positive quiet NaN (and so is its float cast). Allocates nothing.
        /// </summary>
        /// <remarks>
        /// What the degreeOfParallelism overloads allocate, measured with
        /// GC.GetAllocatedBytesForCurrentThread around one call on .NET 10 (the calling thread; the
        /// worker threads' share is Parallel.For's per-worker bookkeeping), 2 threads, 2^20 float
        /// elements: about 2.1 KB per call for Pointwise, PointwiseBackward and Rows (Parallel.For's
        /// task, closure and options, and one exception slot per piece), and for Backward with a
        /// reduction 16 bytes per chunk more for the partials (3.2 KB at 2^20 elements; Reduce's
        /// parallel path: 3.0 KB). AllocationTests.Parallel_calls_report_what_they_allocate prints
        /// the figures. The chunk API (Partials, BackwardPartials, Finish, ChunkCount) allocates
        /// nothing, as every call at degree 1.
        /// </remarks>
        public static double Finish(ReadOnlySpan<KlPartial> partials, int length, KlReduction reduction) =>
            KlParallel.Finish(partials, length, reduction);
    }
}