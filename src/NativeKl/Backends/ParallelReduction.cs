using System;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Backends
{
    /// <summary>
    /// The parallel overload: the data's fixed chunks (NKL_CHUNK_ELEMENTS, counted from index 0) are
    /// split into contiguous ranges, one per worker; each chunk's partial is computed exactly as a
    /// single-threaded call computes it, and the partials are combined in chunk order afterwards.
    /// So the result has the same bits for any degree of parallelism.
    /// </summary>
    internal static unsafe class ParallelReduction
    {
        internal static int ChunkCount(int length) => (int)(((long)length + ManagedKl.ChunkElements - 1) / ManagedKl.ChunkElements);

        /// <summary>The reduction over the pinned data, on up to degreeOfParallelism workers.</summary>
        internal static double Reduce<T>(IKlBackend<T> backend, T* input, T* target, KlPlan plan, int degreeOfParallelism)
            where T : unmanaged
        {
            int length = plan.Length;
            int chunks = ChunkCount(length);
            int workers = Math.Min(degreeOfParallelism, chunks);
            var partials = new KlPartial[chunks];
            nint x = (nint)input, t = (nint)target;
            ParallelPieces.Run(workers, w =>
            {
                int first = ParallelPieces.Bound(chunks, w, workers);
                int end = ParallelPieces.Bound(chunks, w + 1, workers);
                backend.Partials(new ReadOnlySpan<T>((T*)x, length), new ReadOnlySpan<T>((T*)t, length), first,
                    partials.AsSpan(first, end - first), plan);
            });
            return backend.Finish(partials, plan);
        }
    }
}
