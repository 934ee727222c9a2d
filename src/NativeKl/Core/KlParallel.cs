using System;
using NativeKl.Backends;
using NativeKl.Managed;
using NativeKl.Validation;

namespace NativeKl.Core
{
    /// <summary>
    /// The <see cref="KlDivergence"/> calls with a degree of parallelism other than 1, and the public
    /// chunk API. Each validates exactly as <see cref="KlCore"/> does (then the degree), runs the
    /// optional input pass once over the whole data, and splits the work into contiguous pieces:
    /// whole fixed chunks (<see cref="ManagedKl.ChunkElements"/>) for elementwise data, whole rows for
    /// rows. A piece computes its elements exactly as the single-threaded call does (the kernels
    /// never look past a chunk, and a row's sum is the row's alone), so every result has the same
    /// bits for any degree. Data of one chunk or less, or rows worth less than a chunk of work per
    /// piece, run on the calling thread.
    /// </summary>
    internal static unsafe class KlParallel
    {
        /// <summary>Pieces for elementwise data: at most the degree, at least one chunk each.</summary>
        private static int ChunkPieces(int length, int degreeOfParallelism, out int chunks)
        {
            chunks = Validate.ChunkCount(length);
            return Math.Min(degreeOfParallelism, chunks);
        }

        internal static void Pointwise<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, KlOptions options,
                                          int degreeOfParallelism) where T : unmanaged
        {
            KlPlan plan = Validate.Pointwise(input.Length, target.Length, destination.Length, options);
            if (degreeOfParallelism < 1) throw Error.DegreeOfParallelism(degreeOfParallelism);
            int n = input.Length;
            destination = destination.Slice(0, n);
            Validate.InPlaceOnly<T>(destination, input, target);
            if (options.ValidateInputs) Validate.Inputs(input, target, 0, options, InputValidation.Call.Forward(KlReductionKind.None, 0));
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            int pieces = ChunkPieces(n, degreeOfParallelism, out int chunks);
            if (pieces <= 1)
            {
                backend.Pointwise(input, target, destination, plan);
                return;
            }
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (T* d = destination)
            {
                nint xp = (nint)x, tp = (nint)t, dp = (nint)d;
                ParallelPieces.Run(pieces, p =>
                {
                    int start = ParallelPieces.Bound(chunks, p, pieces) * ManagedKl.ChunkElements;
                    int length = Math.Min(n, ParallelPieces.Bound(chunks, p + 1, pieces) * ManagedKl.ChunkElements) - start;
                    backend.Pointwise(new ReadOnlySpan<T>((T*)xp + start, length), new ReadOnlySpan<T>((T*)tp + start, length),
                        new Span<T>((T*)dp + start, length), new KlPlan(length, KlReductionKind.None, 0, options));
                });
            }
        }

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
            // at least a chunk's worth of elements per piece, in whole rows
            int minRows = columns == 0 ? int.MaxValue : (ManagedKl.ChunkElements + columns - 1) / columns;
            int pieces = (int)Math.Min(degreeOfParallelism, rows / minRows);
            if (pieces <= 1)
            {
                backend.Rows(input, inputStride, target, targetStride, rows, destination, plan);
                return;
            }
            KlPlan shared = plan;
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (T* d = destination)
            {
                nint xp = (nint)x, tp = (nint)t, dp = (nint)d;
                ParallelPieces.Run(pieces, p =>
                {
                    int first = ParallelPieces.Bound(rows, p, pieces), count = ParallelPieces.Bound(rows, p + 1, pieces) - first;
                    long x0 = (long)first * inputStride, t0 = (long)first * targetStride;
                    backend.Rows(new ReadOnlySpan<T>((T*)xp + x0, (int)(Validate.Extent(count, columns, inputStride))), inputStride,
                        new ReadOnlySpan<T>((T*)tp + t0, (int)(Validate.Extent(count, columns, targetStride))), targetStride, count,
                        new Span<T>((T*)dp + first, count), shared);
                });
            }
        }

        /// <summary>Backward and PointwiseBackward (pointwise true) on up to degreeOfParallelism threads.</summary>
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
                bool zeroScale = Num.IsFloat<T>()
                    ? (float)((double)Num.ValueAsFloat(gradOutput) / plan.Divisor) == 0f
                    : Num.ValueAsDouble(gradOutput) / plan.Divisor == 0.0;
                Validate.Inputs(input, target, plan.BatchSize, options,
                    InputValidation.Call.Gradients(plan.Reduction, plan.BatchSize, Num.ToDouble(gradOutput), zeroScale, !gradTarget.IsEmpty));
            }
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            int pieces = ChunkPieces(n, degreeOfParallelism, out int chunks);
            if (pieces <= 1) return backend.Backward(input, target, gradOutput, values, gradInput, gradTarget, plan);

            bool hasGradTarget = !gradTarget.IsEmpty, hasValues = !values.IsEmpty;
            KlPlan shared = plan;
            // one partial per chunk, combined in chunk order by Finish (reductions only)
            KlPartial[]? partials = pointwise ? null : new KlPartial[chunks];
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (T* gx = gradInput)
            fixed (T* gt = gradTarget)
            fixed (T* vs = values)
            {
                nint xp = (nint)x, tp = (nint)t, gxp = (nint)gx, gtp = (nint)gt, vp = (nint)vs;
                ParallelPieces.Run(pieces, p =>
                {
                    int first = ParallelPieces.Bound(chunks, p, pieces), end = ParallelPieces.Bound(chunks, p + 1, pieces);
                    if (partials != null)
                    {
                        // the whole arrays: the piece uses the whole call's scale gradOutput / divisor
                        backend.BackwardPartials(new ReadOnlySpan<T>((T*)xp, n), new ReadOnlySpan<T>((T*)tp, n), first,
                            partials.AsSpan(first, end - first), new Span<T>((T*)gxp, n),
                            hasGradTarget ? new Span<T>((T*)gtp, n) : default, gradOutput, shared);
                        return;
                    }
                    // None: s = gradOutput (divisor 1), so a slice is the piece
                    int start = first * ManagedKl.ChunkElements;
                    int length = Math.Min(n, end * ManagedKl.ChunkElements) - start;
                    backend.Backward(new ReadOnlySpan<T>((T*)xp + start, length), new ReadOnlySpan<T>((T*)tp + start, length), gradOutput,
                        hasValues ? new Span<T>((T*)vp + start, length) : default, new Span<T>((T*)gxp + start, length),
                        hasGradTarget ? new Span<T>((T*)gtp + start, length) : default,
                        new KlPlan(length, KlReductionKind.None, 0, options));
                });
            }
            return partials == null ? default : Num.FromDouble<T>(backend.Finish(partials, plan));
        }

        // ------------------------------------------------------------------ the chunk API

        internal static void Partials<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials,
                                         KlOptions options) where T : unmanaged
        {
            KlPlan plan = Validate.Partials(input.Length, target.Length, firstChunk, partials.Length, KlReduction.Sum, options);
            Validate.PartialsOutput<T>(partials, input, target, default, default);
            KlBackend.Select<T>(options.Backend).Partials(input, target, firstChunk, partials, plan);
        }

        internal static void BackwardPartials<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<T> gradInput,
                                                 Span<T> gradTarget, Span<KlPartial> partials, KlReduction reduction, T gradOutput,
                                                 KlOptions options) where T : unmanaged
        {
            KlPlan plan = Validate.BackwardPartials(input.Length, target.Length, firstChunk, partials.Length,
                gradInput.Length, gradTarget.Length, reduction, options);
            int n = input.Length;
            gradInput = gradInput.Slice(0, n);
            if (!gradTarget.IsEmpty) gradTarget = gradTarget.Slice(0, n);
            Validate.BackwardOutputs<T>(default, gradInput, gradTarget, input, target);
            Validate.PartialsOutput<T>(partials, input, target, gradInput, gradTarget);
            KlBackend.Select<T>(options.Backend).BackwardPartials(input, target, firstChunk, partials, gradInput, gradTarget, gradOutput, plan);
        }

        /// <summary>
        /// Combines in chunk order and divides, as every backend's Finish does (TwoSum, no fused
        /// multiply-add: the same bits on every build), on the calling thread with no P/Invoke.
        /// </summary>
        internal static double Finish(ReadOnlySpan<KlPartial> partials, int length, KlReduction reduction)
        {
            KlPlan plan = Validate.Finish(partials.Length, length, reduction);
            return ManagedBackend<double>.Instance.Finish(partials, plan);
        }
    }
}
