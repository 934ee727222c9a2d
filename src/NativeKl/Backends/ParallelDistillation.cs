using System;
using NativeKl.Core;

namespace NativeKl.Backends
{
    /// <summary>
    /// The parallel <see cref="Distillation"/> overloads: the rows are split into contiguous blocks of
    /// whole rows, one per worker. A row's loss and gradients do not depend on the other rows, so the
    /// per-row methods run each block as a call of its own (reduction None), and the reduced ones
    /// compute each block's row losses in float64 (the pieces, with the whole call's divisor for the
    /// gradients) and finish them in row order afterwards, as the one-thread call sums them. So the
    /// result has the same bits for any degree of parallelism.
    /// </summary>
    internal static unsafe class ParallelDistillation
    {
        /// <summary>
        /// The fewest elements (rows × columns) a worker gets: one Parallel.For dispatch costs a few
        /// microseconds, about what 16384 elements take at ~1 ns each (NKL_CHUNK_ELEMENTS, the
        /// elementwise calls' chunk), so smaller blocks would not pay for their thread.
        /// </summary>
        internal const long MinElementsPerWorker = 16384;

        /// <summary>Tests only: a smaller minimum on this thread, so that small shapes take the parallel path.</summary>
        [ThreadStatic] internal static long MinElementsOverride;

        /// <summary>How many workers a call of this shape gets: 1 (this thread, no Parallel.For) when the work is too small.</summary>
        internal static int Workers(in DistillPlan plan, int degreeOfParallelism)
        {
            if (degreeOfParallelism <= 1 || plan.Rows <= 1 || plan.Columns == 0) return 1; // no columns: no work
            long min = MinElementsOverride > 0 ? MinElementsOverride : MinElementsPerWorker;
            long byWork = (long)plan.Rows * plan.Columns / min;
            return (int)Math.Max(1, Math.Min(Math.Min(degreeOfParallelism, plan.Rows), byWork));
        }

        /// <summary>
        /// The call on `workers` workers (arguments validated and sliced as the one-thread call gets
        /// them). Allocates the row partials of a reduced call (8 bytes a row) and Parallel.For's
        /// closure, options and tasks. A worker's exception is
        /// thrown as itself (ParallelPieces: the lowest-numbered piece's, where several throw).
        /// </summary>
        internal static T Run<T>(IKlBackend<T> backend, ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights,
                                 Span<T> rowLosses, bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher,
                                 DistillPlan plan, int workers) where T : unmanaged
        {
            bool perRow = plan.Reduction == KlReductionKind.None;
            double[]? partials = perRow ? null : new double[plan.Rows];
            int rows = plan.Rows, ss = plan.StudentStride, ts = plan.TeacherStride;
            int sLen = student.Length, uLen = teacher.Length, wLen = rowWeights.Length, rlLen = rowLosses.Length;
            int gsLen = gradStudent.Length, guLen = gradTeacher.Length;
            fixed (T* s0 = student)
            fixed (T* u0 = teacher)
            fixed (T* w0 = rowWeights)
            fixed (T* rl0 = rowLosses)
            fixed (T* gs0 = gradStudent)
            fixed (T* gu0 = gradTeacher)
            {
                nint s = (nint)s0, u = (nint)u0, w = (nint)w0, rl = (nint)rl0, gs = (nint)gs0, gu = (nint)gu0;
                ParallelPieces.Run(workers, k =>
                {
                    int first = ParallelPieces.Bound(rows, k, workers);
                    int count = ParallelPieces.Bound(rows, k + 1, workers) - first;
                    var S = new ReadOnlySpan<T>((T*)s, sLen);
                    var U = new ReadOnlySpan<T>((T*)u, uLen);
                    var W = new ReadOnlySpan<T>((T*)w, wLen);
                    var GS = new Span<T>((T*)gs, gsLen);
                    var GU = new Span<T>((T*)gu, guLen);
                    if (!perRow)
                    {
                        backend.DistillPartials(S, U, W, first, partials!.AsSpan(first, count), backward, gradOutput, GS, GU, plan);
                        return;
                    }
                    // a block of rows as a call of its own
                    DistillPlan block = plan.RowBlock(count);
                    var RL = new Span<T>((T*)rl, rlLen);
                    backend.Distill(S.Slice(first * ss, block.StudentExtent), U.Slice(first * ts, block.TeacherExtent),
                        W.IsEmpty ? W : W.Slice(first, count), RL.IsEmpty ? RL : RL.Slice(first, count), backward, gradOutput,
                        backward ? GS.Slice(first * ss, block.StudentExtent) : default,
                        GU.IsEmpty ? GU : GU.Slice(first * ts, block.TeacherExtent), block);
                });
            }
            return perRow ? default : backend.DistillFinish(partials, rowWeights, plan);
        }
    }
}
