using System;
using NativeKl.Backends;
using NativeKl.Managed;
using NativeKl.Validation;

namespace NativeKl.Core
{
    /// <summary>
    /// The one body of every <see cref="KlDivergence"/> entry point, for float and double alike:
    /// validate into a plan (<see cref="Validate"/>), run the optional input pass, choose the backend
    /// once (<see cref="KlBackend.Select{T}"/>), and call it.
    /// </summary>
    internal static class KlCore
    {
        internal static unsafe T Reduce<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, KlReduction reduction,
                                           KlOptions options, int degreeOfParallelism) where T : unmanaged
        {
            KlPlan plan = Validate.Reduce(input.Length, target.Length, reduction, options, degreeOfParallelism);
            if (options.ValidateInputs) Validate.Inputs(input, target, plan.BatchSize, options, InputValidation.Call.Forward(plan.Reduction, plan.BatchSize));
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            if (degreeOfParallelism > 1 && input.Length > ManagedKl.ChunkElements)
            {
                // pinned so that the workers can share the data
                fixed (T* x = input)
                fixed (T* t = target)
                    return Num.FromDouble<T>(ParallelReduction.Reduce(backend, x, t, plan, degreeOfParallelism));
            }
            return backend.Reduce(input, target, plan);
        }

        internal static void Pointwise<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, KlOptions options,
                                          int degreeOfParallelism) where T : unmanaged
        {
            KlPlan plan = Validate.Pointwise(input.Length, target.Length, destination.Length, options);
            if (degreeOfParallelism < 1) throw Error.DegreeOfParallelism(degreeOfParallelism);
            destination = destination.Slice(0, input.Length);
            Validate.InPlaceOnly<T>(destination, input, target);
            if (options.ValidateInputs) Validate.Inputs(input, target, 0, options, InputValidation.Call.Forward(KlReductionKind.None, 0));
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            if (degreeOfParallelism > 1) KlParallel.Pointwise(backend, input, target, destination, plan, options, degreeOfParallelism);
            else backend.Pointwise(input, target, destination, plan);
        }

        /// <summary>Contiguous [rows, columns] data: the strided path with stride = columns.</summary>
        internal static void DenseRows<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int rows, int columns, Span<T> destination,
                                          KlOptions options, int degreeOfParallelism) where T : unmanaged
        {
            Validate.ContiguousRows(input.Length, target.Length, rows, columns);
            Rows(input, columns, target, columns, rows, columns, destination, options, degreeOfParallelism);
        }

        internal static void Rows<T>(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride,
                                     int rows, int columns, Span<T> destination, KlOptions options, int degreeOfParallelism)
            where T : unmanaged
        {
            KlPlan plan = Validate.Rows(input.Length, inputStride, target.Length, targetStride, rows, columns, destination.Length, options,
                out int inputExtent, out int targetExtent);
            if (degreeOfParallelism < 1) throw Error.DegreeOfParallelism(degreeOfParallelism);
            destination = destination.Slice(0, rows);
            input = input.Slice(0, inputExtent);
            target = target.Slice(0, targetExtent);
            Validate.RowsOutput<T>(destination, input, target);
            if (options.ValidateInputs) Validate.RowInputs(input, inputStride, target, targetStride, rows, columns, options);
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            if (degreeOfParallelism > 1)
                KlParallel.Rows(backend, input, inputStride, target, targetStride, rows, columns, destination, plan, degreeOfParallelism);
            else backend.Rows(input, inputStride, target, targetStride, rows, destination, plan);
        }

        /// <summary>Backward for a reduction (pointwise false: reduction read, values empty) or for None (PointwiseBackward: values may be written).</summary>
        internal static T Backward<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> gradInput, Span<T> gradTarget, Span<T> values,
                                      KlReduction reduction, bool pointwise, T gradOutput, KlOptions options, int degreeOfParallelism)
            where T : unmanaged
        {
            KlPlan plan = Validate.Backward(input.Length, target.Length, reduction, pointwise,
                gradInput.Length, gradTarget.Length, values.Length, options);
            if (degreeOfParallelism < 1) throw Error.DegreeOfParallelism(degreeOfParallelism);
            int n = input.Length;
            gradInput = gradInput.Slice(0, n);
            if (!gradTarget.IsEmpty) gradTarget = gradTarget.Slice(0, n);
            if (!values.IsEmpty) values = values.Slice(0, n);
            Validate.BackwardOutputs<T>(values, gradInput, gradTarget, input, target);
            if (options.ValidateInputs)
            {
                // the gradients' scale as the backends round it: gradOutput / divisor, once, in T
                bool zeroScale = Num.IsFloat<T>()
                    ? (float)((double)Num.ValueAsFloat(gradOutput) / plan.Divisor) == 0f
                    : Num.ValueAsDouble(gradOutput) / plan.Divisor == 0.0;
                Validate.Inputs(input, target, plan.BatchSize, options,
                    InputValidation.Call.Gradients(plan.Reduction, plan.BatchSize, Num.ToDouble(gradOutput), zeroScale, !gradTarget.IsEmpty));
            }
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            return degreeOfParallelism > 1
                ? KlParallel.Backward(backend, input, target, gradInput, gradTarget, values, gradOutput, plan, options, degreeOfParallelism)
                : backend.Backward(input, target, gradOutput, values, gradInput, gradTarget, plan);
        }
    }
}
