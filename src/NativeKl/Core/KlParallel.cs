using System;
using NativeKl.Backends;
using NativeKl.Managed;
using NativeKl.Validation;

namespace NativeKl.Core
{
    /// <summary>
    /// The <see cref="KlDivergence"/> calls with a degree of parallelism above 1, and the public chunk
    /// API. <see cref="KlCore"/> validates such a call as any other (then the degree), runs the
    /// optional input pass once over the whole data and picks the backend; here the work is split into contiguous pieces:
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

        /// <summary>Pointwise on validated, sliced spans: pieces of whole chunks (one chunk or less: this thread).</summary>
        internal static void Pointwise<T>(IKlBackend<T> backend, ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination,
                                          KlPlan plan, KlOptions options, int degreeOfParallelism) where T : unmanaged
        {
            int n = input.Length;
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

        /// <summary>Rows on validated spans sliced to their extents: pieces of whole rows, a chunk's work each at least.</summary>
        internal static void Rows<T>(IKlBackend<T> backend, ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target,
                                     int targetStride, int rows, int columns, Span<T> destination, KlPlan plan,
                                     int degreeOfParallelism) where T : unmanaged
        {
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

        /// <summary>
        /// Backward and PointwiseBackward (plan.Reduction None) on validated, sliced spans: pieces of
        /// whole chunks; for a reduction each piece writes its chunks' partials, finished in order.
        /// </summary>
        internal static T Backward<T>(IKlBackend<T> backend, ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> gradInput,
                                      Span<T> gradTarget, Span<T> values, T gradOutput, KlPlan plan, KlOptions options,
                                      int degreeOfParallelism) where T : unmanaged
        {
            int n = input.Length;
            bool pointwise = plan.Reduction == KlReductionKind.None;
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
