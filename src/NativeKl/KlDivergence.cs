using System;
using NativeKl.Core;

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
        /// call <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions)"/>.
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
        /// </summary>
        public static void Pointwise(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> destination,
                                     KlOptions options = default) =>
            KlCore.Pointwise(input, target, destination, options);

        /// <summary>
        /// One KL per row of contiguous [rows, columns] data: destination[r] is the sum over row r,
        /// with the same bits as <see cref="Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, KlOptions)"/> of that row.
        /// </summary>
        public static void Rows(ReadOnlySpan<float> input, ReadOnlySpan<float> target, int rows, int columns,
                                Span<float> destination, KlOptions options = default) =>
            KlCore.DenseRows(input, target, rows, columns, destination, options);

        /// <summary>
        /// One KL per row of strided [rows, columns] data: row r of input starts at
        /// r × <paramref name="inputStride"/> (the leading dimension, at least
        /// <paramref name="columns"/>), likewise for target. destination must not overlap the inputs.
        /// </summary>
        public static void Rows(ReadOnlySpan<float> input, int inputStride, ReadOnlySpan<float> target, int targetStride,
                                int rows, int columns, Span<float> destination, KlOptions options = default) =>
            KlCore.Rows(input, inputStride, target, targetStride, rows, columns, destination, options);

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
        /// </summary>
        public static float Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradInput,
                                     Span<float> gradTarget = default, KlReduction reduction = default,
                                     float gradOutput = 1.0f, KlOptions options = default) =>
            KlCore.Backward(input, target, gradInput, gradTarget, default, reduction, false, gradOutput, options);

        /// <summary>
        /// kl_div forward and backward for reduction='none': the backward of Σᵢ Lᵢ·gradOutput, i.e.
        /// <paramref name="gradOutput"/> is the upstream gradient of every element (s = gradOutput).
        /// Writes <paramref name="gradInput"/>[i] = −t·s (−exp(t)·s with a log target), and, where not
        /// empty, <paramref name="gradTarget"/>[i] = ((log t + t/t) − x)·s (exp(t)·((t − x) + 1)·s) and
        /// <paramref name="values"/>[i] = Lᵢ, the bits of
        /// <see cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions)"/>.
        /// Special values and masking as <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KlReduction, float, KlOptions)"/>;
        /// the outputs must not overlap the inputs or each other.
        /// </summary>
        public static void PointwiseBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> gradInput,
                                             Span<float> gradTarget = default, Span<float> values = default,
                                             float gradOutput = 1.0f, KlOptions options = default) =>
            KlCore.Backward(input, target, gradInput, gradTarget, values, default, true, gradOutput, options);

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

        /// <inheritdoc cref="Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions)"/>
        public static void Pointwise(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> destination,
                                     KlOptions options = default) =>
            KlCore.Pointwise(input, target, destination, options);

        /// <inheritdoc cref="Rows(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, KlOptions)"/>
        public static void Rows(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int rows, int columns,
                                Span<double> destination, KlOptions options = default) =>
            KlCore.DenseRows(input, target, rows, columns, destination, options);

        /// <inheritdoc cref="Rows(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int, int, Span{float}, KlOptions)"/>
        public static void Rows(ReadOnlySpan<double> input, int inputStride, ReadOnlySpan<double> target, int targetStride,
                                int rows, int columns, Span<double> destination, KlOptions options = default) =>
            KlCore.Rows(input, inputStride, target, targetStride, rows, columns, destination, options);

        /// <inheritdoc cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KlReduction, float, KlOptions)"/>
        public static double Backward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> gradInput,
                                     Span<double> gradTarget = default, KlReduction reduction = default,
                                     double gradOutput = 1.0, KlOptions options = default) =>
            KlCore.Backward(input, target, gradInput, gradTarget, default, reduction, false, gradOutput, options);

        /// <inheritdoc cref="PointwiseBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, float, KlOptions)"/>
        public static void PointwiseBackward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> gradInput,
                                             Span<double> gradTarget = default, Span<double> values = default,
                                             double gradOutput = 1.0, KlOptions options = default) =>
            KlCore.Backward(input, target, gradInput, gradTarget, values, default, true, gradOutput, options);
    }
}
