using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;
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

        internal static double Reduce(float* input, float* target, int length, KlReduction reduction, int batchSize,
                                      KlOptions options, KlBackendKind backend, int degreeOfParallelism)
        {
            nint x = (nint)input, t = (nint)target;
            return Run(length, reduction, batchSize, backend, degreeOfParallelism, (first, count, partials) =>
            {
                if (backend == KlBackendKind.Native)
                {
                    NativeBackend.Partials((float*)x, (float*)t, length, options.NativeFlags, first, count, partials);
                    return;
                }
                for (int c = 0; c < count; c++)
                {
                    int offset = (first + c) * ManagedKl.ChunkElements;
                    int len = Math.Min(ManagedKl.ChunkElements, length - offset);
                    partials[c] = ManagedKl.Chunk(new ReadOnlySpan<float>((float*)x + offset, len),
                        new ReadOnlySpan<float>((float*)t + offset, len), options.LogTarget, options.Masked);
                }
            });
        }

        internal static double Reduce(double* input, double* target, int length, KlReduction reduction, int batchSize,
                                      KlOptions options, KlBackendKind backend, int degreeOfParallelism)
        {
            nint x = (nint)input, t = (nint)target;
            return Run(length, reduction, batchSize, backend, degreeOfParallelism, (first, count, partials) =>
            {
                if (backend == KlBackendKind.Native)
                {
                    NativeBackend.Partials((double*)x, (double*)t, length, options.NativeFlags, first, count, partials);
                    return;
                }
                for (int c = 0; c < count; c++)
                {
                    int offset = (first + c) * ManagedKl.ChunkElements;
                    int len = Math.Min(ManagedKl.ChunkElements, length - offset);
                    partials[c] = ManagedKl.Chunk(new ReadOnlySpan<double>((double*)x + offset, len),
                        new ReadOnlySpan<double>((double*)t + offset, len), options.LogTarget, options.Masked);
                }
            });
        }

        private delegate void ChunkRange(int firstChunk, int chunkCount, KlPartial* partials);

        private static double Run(int length, KlReduction reduction, int batchSize, KlBackendKind backend,
                                  int degreeOfParallelism, ChunkRange compute)
        {
            int chunks = ChunkCount(length);
            int workers = Math.Min(degreeOfParallelism, chunks);
            var partials = new KlPartial[chunks];
            fixed (KlPartial* p = partials)
            {
                nint pp = (nint)p;
                try
                {
                    Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
                    {
                        int first = (int)((long)chunks * w / workers);
                        int end = (int)((long)chunks * (w + 1) / workers);
                        compute(first, end - first, (KlPartial*)pp + first);
                    });
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
                }
                return backend == KlBackendKind.Native
                    ? NativeBackend.Finish(p, chunks, length, reduction, batchSize)
                    : ManagedBackend.Finish(partials, length, reduction, batchSize);
            }
        }
    }
}
