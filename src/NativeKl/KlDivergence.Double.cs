using System;
using NativeKl.Backends;
using NativeKl.Managed;

namespace NativeKl
{
    // The double overloads: the same entry points as KlDivergence.Single.cs (keep the two in step).
    public static partial class KlDivergence
    {
        /// <summary>The sum of the pointwise terms (reduction='sum').</summary>
        public static double Sum(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlOptions options = default) =>
            Reduce(input, target, KlReduction.Sum, 0, options);

        /// <summary>The sum divided by the element count (reduction='mean', PyTorch's default); NaN for empty input.</summary>
        public static double Mean(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlOptions options = default) =>
            Reduce(input, target, KlReduction.Mean, 0, options);

        /// <summary>
        /// The sum divided by <paramref name="batchSize"/> (reduction='batchmean'): the size of
        /// dimension 0, or the row count of [rows, columns] data. It must be positive and divide the
        /// length (0 is accepted for empty input only, giving NaN as PyTorch does). For a 0-d
        /// tensor PyTorch does not divide: pass 1.
        /// </summary>
        public static double BatchMean(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int batchSize, KlOptions options = default) =>
            Reduce(input, target, KlReduction.BatchMean, batchSize, options);

        /// <summary>
        /// The reduced KL divergence. <paramref name="batchSize"/> is read only for
        /// <see cref="KlReduction.BatchMean"/>; <see cref="KlReduction.None"/> is not a reduction here
        /// (use <see cref="Pointwise(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, KlOptions)"/>).
        /// With <paramref name="degreeOfParallelism"/> above 1, the fixed 16384-element chunks are
        /// computed on up to that many threads and combined in order: the result has the same bits
        /// as the single-threaded call.
        /// </summary>
        public static unsafe double Reduce(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlReduction reduction,
                                          int batchSize = 0, KlOptions options = default, int degreeOfParallelism = 1)
        {
            Validate.Reduce(input.Length, target.Length, reduction, batchSize, options, degreeOfParallelism);
            if (options.ValidateInputs)
                InputValidation.Check(input, target, reduction == KlReduction.BatchMean ? batchSize : 0, options,
                    InputValidation.Call.Forward(reduction, batchSize));
            KlBackendKind backend = KlBackend.Resolve(options.Backend);
            if (reduction != KlReduction.BatchMean) batchSize = 0;
            if (degreeOfParallelism > 1 && input.Length > ManagedKl.ChunkElements)
            {
                fixed (double* x = input)
                fixed (double* t = target)
                    return ParallelReduction.Reduce(x, t, input.Length, reduction, batchSize, options, backend, degreeOfParallelism);
            }
            if (backend == KlBackendKind.Native)
            {
                fixed (double* x = input)
                fixed (double* t = target)
                    return NativeBackend.Reduce(x, t, input.Length, reduction, batchSize, options.NativeFlags);
            }
            return ManagedBackend.Reduce(input, target, reduction, batchSize, options);
        }

        /// <summary>
        /// The pointwise terms (reduction='none'): destination[i] = L(input[i], target[i]) for every
        /// i &lt; input.Length. The destination may be exactly input or target (in place) but must not
        /// partly overlap them.
        /// </summary>
        public static unsafe void Pointwise(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> destination,
                                            KlOptions options = default)
        {
            Validate.Pointwise(input.Length, target.Length, destination.Length, options);
            destination = destination.Slice(0, input.Length);
            Validate.InPlaceOrDisjoint<double>(destination, "destination", input, "input");
            Validate.InPlaceOrDisjoint<double>(destination, "destination", target, "target");
            if (options.ValidateInputs) InputValidation.Check(input, target, 0, options, InputValidation.Call.Forward(KlReduction.None, 0));
            if (KlBackend.Resolve(options.Backend) == KlBackendKind.Native)
            {
                fixed (double* x = input)
                fixed (double* t = target)
                fixed (double* d = destination)
                    NativeBackend.Pointwise(x, t, input.Length, options.NativeFlags, d);
                return;
            }
            ManagedBackend.Pointwise(input, target, destination, options);
        }

        /// <summary>
        /// One KL per row of contiguous [rows, columns] data: destination[r] is the sum over row r,
        /// with the same bits as <see cref="Sum(ReadOnlySpan{double}, ReadOnlySpan{double}, KlOptions)"/> of that row.
        /// </summary>
        public static void Rows(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int rows, int columns,
                                Span<double> destination, KlOptions options = default)
        {
            Validate.ContiguousRows(input.Length, target.Length, rows, columns);
            Rows(input, columns, target, columns, rows, columns, destination, options);
        }

        /// <summary>
        /// One KL per row of strided [rows, columns] data: row r of input starts at
        /// r × <paramref name="inputStride"/> (the leading dimension, at least
        /// <paramref name="columns"/>), likewise for target. destination must not overlap the inputs.
        /// </summary>
        public static unsafe void Rows(ReadOnlySpan<double> input, int inputStride, ReadOnlySpan<double> target, int targetStride,
                                       int rows, int columns, Span<double> destination, KlOptions options = default)
        {
            Validate.Rows(input.Length, inputStride, target.Length, targetStride, rows, columns, destination.Length, options,
                out int inputExtent, out int targetExtent);
            destination = destination.Slice(0, rows);
            if (destination.Overlaps(input.Slice(0, inputExtent))) throw Error.Overlap("destination", "input");
            if (destination.Overlaps(target.Slice(0, targetExtent))) throw Error.Overlap("destination", "target");
            if (options.ValidateInputs) InputValidation.CheckRows(input, inputStride, target, targetStride, rows, columns, options);
            if (KlBackend.Resolve(options.Backend) == KlBackendKind.Native)
            {
                fixed (double* x = input)
                fixed (double* t = target)
                fixed (double* d = destination)
                    NativeBackend.Rows(x, inputStride, t, targetStride, rows, columns, options.NativeFlags, d);
                return;
            }
            ManagedBackend.Rows(input, inputStride, target, targetStride, rows, columns, destination, options);
        }

        /// <summary>
        /// kl_div forward and backward in one pass over memory, for a reduction (Sum, Mean or
        /// BatchMean): returns the reduced value (the bits of
        /// <see cref="Reduce(ReadOnlySpan{double}, ReadOnlySpan{double}, KlReduction, int, KlOptions, int)"/>)
        /// and writes, with s = <paramref name="gradOutput"/> / divisor in double (divisor
        /// 1 for Sum, input.Length for Mean, <paramref name="batchSize"/> for BatchMean):
        /// <list type="bullet">
        /// <item><description><paramref name="gradInput"/>[i] = ∂value/∂input[i] · gradOutput: −t·s, or −exp(t)·s with a log target;</description></item>
        /// <item><description><paramref name="gradTarget"/>[i] = ((log t + t/t) − x)·s, or exp(t)·((t − x) + 1)·s with a log target,
        /// if <paramref name="gradTarget"/> is not empty (empty: not wanted, and not computed).</description></item>
        /// </list>
        /// These are PyTorch's autograd results: the target gradient is NaN at t = 0 (xlogy's 0/0) and t = +∞;
        /// with <see cref="KlOptions.Masked"/> both gradients are exactly +0 where the target has probability 0.
        /// The outputs must not overlap the inputs or each other; only the first input.Length elements are written.
        /// </summary>
        public static double Backward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlReduction reduction,
                                     Span<double> gradInput, Span<double> gradTarget = default, int batchSize = 0,
                                     double gradOutput = 1.0, KlOptions options = default)
        {
            Validate.Backward(input.Length, target.Length, reduction, batchSize, pointwise: false,
                gradInput.Length, gradTarget.Length, 0, options);
            if (reduction != KlReduction.BatchMean) batchSize = 0;
            return BackwardCore(input, target, reduction, batchSize, gradOutput, default, gradInput, gradTarget, options);
        }

        /// <summary>
        /// kl_div forward and backward for reduction='none': the backward of Σᵢ Lᵢ·gradOutput, i.e.
        /// <paramref name="gradOutput"/> is the upstream gradient of every element (s = gradOutput).
        /// Writes <paramref name="gradInput"/>[i] = −t·s (−exp(t)·s with a log target), and, where not
        /// empty, <paramref name="gradTarget"/>[i] = ((log t + t/t) − x)·s (exp(t)·((t − x) + 1)·s) and
        /// <paramref name="values"/>[i] = Lᵢ, the bits of
        /// <see cref="Pointwise(ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, KlOptions)"/>.
        /// Special values and masking as <see cref="Backward(ReadOnlySpan{double}, ReadOnlySpan{double}, KlReduction, Span{double}, Span{double}, int, double, KlOptions)"/>;
        /// the outputs must not overlap the inputs or each other.
        /// </summary>
        public static void PointwiseBackward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> gradInput,
                                             Span<double> gradTarget = default, Span<double> values = default,
                                             double gradOutput = 1.0, KlOptions options = default)
        {
            Validate.Backward(input.Length, target.Length, KlReduction.None, 0, pointwise: true,
                gradInput.Length, gradTarget.Length, values.Length, options);
            BackwardCore(input, target, KlReduction.None, 0, gradOutput, values, gradInput, gradTarget, options);
        }

        private static unsafe double BackwardCore(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlReduction reduction,
                                                 int batchSize, double gradOutput, Span<double> values, Span<double> gradInput,
                                                 Span<double> gradTarget, KlOptions options)
        {
            int n = input.Length;
            gradInput = gradInput.Slice(0, n);
            if (!gradTarget.IsEmpty) gradTarget = gradTarget.Slice(0, n);
            if (!values.IsEmpty) values = values.Slice(0, n);
            Validate.Disjoint<double>(gradInput, "gradInput", input, "input");
            Validate.Disjoint<double>(gradInput, "gradInput", target, "target");
            Validate.Disjoint<double>(gradTarget, "gradTarget", input, "input");
            Validate.Disjoint<double>(gradTarget, "gradTarget", target, "target");
            Validate.Disjoint<double>(gradTarget, "gradTarget", gradInput, "gradInput");
            Validate.Disjoint<double>(values, "values", input, "input");
            Validate.Disjoint<double>(values, "values", target, "target");
            Validate.Disjoint<double>(values, "values", gradInput, "gradInput");
            Validate.Disjoint<double>(values, "values", gradTarget, "gradTarget");
            if (options.ValidateInputs)
                InputValidation.Check(input, target, reduction == KlReduction.BatchMean ? batchSize : 0, options,
                    InputValidation.Call.Gradients(reduction, batchSize, gradOutput, gradOutput / Divisor.Of(reduction, n, batchSize) == 0.0, !gradTarget.IsEmpty));
            if (KlBackend.Resolve(options.Backend) == KlBackendKind.Native)
            {
                fixed (double* x = input)
                fixed (double* t = target)
                fixed (double* v = values)
                fixed (double* gx = gradInput)
                fixed (double* gt = gradTarget)
                    return NativeBackend.Backward(x, t, n, reduction, batchSize, options.NativeFlags, gradOutput, v, gx, gt);
            }
            return ManagedBackend.Backward(input, target, reduction, batchSize, gradOutput, values, gradInput, gradTarget, options);
        }
    }
}
