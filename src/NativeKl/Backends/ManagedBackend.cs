using System;
using NativeKl.Core;
using NativeKl.Managed;
using static NativeKl.Managed.ManagedMath;

namespace NativeKl.Backends
{
    /// <summary>
    /// The managed implementation of the seam: the math is the KL op's kernels (<see cref="KlTerm"/>)
    /// and <see cref="ManagedDistill"/>'s, on the path the plan's <see cref="KlIsa"/> selects
    /// (<see cref="ManagedPaths"/>); the reduction divisor is applied here exactly as api.c does.
    /// A NaN result is the library's NaN (CanonicalNaN in double: converting it to float gives the
    /// float one, 0x7FC00000).
    /// </summary>
    internal sealed class ManagedBackend<T> : IKlBackend<T> where T : unmanaged
    {
        internal static readonly ManagedBackend<T> Instance = new ManagedBackend<T>();

        private ManagedBackend() { }

        public T Reduce(ReadOnlySpan<T> input, ReadOnlySpan<T> target, in KlPlan plan)
        {
            double total = Kernels(plan).Total(Path(plan), input, target);
            // x / 1.0 is x for every x (a NaN stays a NaN, canonical below): Sum skips the division's latency
            if (plan.Reduction != KlReductionKind.Sum) total /= plan.Divisor;
            return Num.FromDouble<T>(CanonicalNaN(total));
        }

        public void Pointwise(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, in KlPlan plan) =>
            Kernels(plan).Pointwise(Path(plan), input, target, destination);

        public void Rows(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride, int rows,
                         Span<T> destination, in KlPlan plan)
        {
            ManagedKernels<T> kernels = Kernels(plan);
            ManagedPath path = Path(plan);
            int columns = plan.Length;
            for (int r = 0; r < rows; r++)
                destination[r] = Num.FromDouble<T>(CanonicalNaN(kernels.Total(path, input.Slice(r * inputStride, columns),
                    target.Slice(r * targetStride, columns))));
        }

        /// <summary>As api.c's backward: s = gradOutput / divisor, rounded once to the data's type; the value as Reduce's.</summary>
        public T Backward(ReadOnlySpan<T> input, ReadOnlySpan<T> target, T gradOutput, Span<T> values, Span<T> gradInput,
                          Span<T> gradTarget, in KlPlan plan)
        {
            T s = Num.FromDouble<T>(Num.ToDouble(gradOutput) / plan.Divisor);
            if (plan.Reduction != KlReductionKind.None) values = default;
            KlPartial acc = Kernels(plan).Grad(Path(plan), input, target, s, values, gradInput, gradTarget);
            return plan.Reduction == KlReductionKind.None ? default : Num.FromDouble<T>(CanonicalNaN(ManagedKl.Total(acc) / plan.Divisor));
        }

        public void Partials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials, in KlPlan plan)
        {
            ManagedKernels<T> kernels = Kernels(plan);
            ManagedPath path = Path(plan);
            for (int c = 0; c < partials.Length; c++)
            {
                int offset = (firstChunk + c) * ManagedKl.ChunkElements;
                int length = Math.Min(ManagedKl.ChunkElements, input.Length - offset);
                partials[c] = kernels.Chunk(path, input.Slice(offset, length), target.Slice(offset, length));
            }
        }

        public void BackwardPartials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials,
                                     Span<T> gradInput, Span<T> gradTarget, T gradOutput, in KlPlan plan)
        {
            T s = Num.FromDouble<T>(Num.ToDouble(gradOutput) / plan.Divisor);
            ManagedKernels<T> kernels = Kernels(plan);
            ManagedPath path = Path(plan);
            bool hasGradTarget = !gradTarget.IsEmpty;
            for (int c = 0; c < partials.Length; c++)
            {
                int offset = (firstChunk + c) * ManagedKl.ChunkElements;
                int length = Math.Min(ManagedKl.ChunkElements, input.Length - offset);
                partials[c] = kernels.GradPiece(path, input.Slice(offset, length), target.Slice(offset, length), s,
                    gradInput.Slice(offset, length), hasGradTarget ? gradTarget.Slice(offset, length) : default);
            }
        }

        public double Finish(ReadOnlySpan<KlPartial> partials, in KlPlan plan)
        {
            var acc = new KlPartial();
            foreach (KlPartial p in partials) ManagedKl.Combine(ref acc, p);
            return CanonicalNaN(ManagedKl.Total(acc) / plan.Divisor);
        }

        public T Distill(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, Span<T> rowLosses,
                         bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher, in DistillPlan plan) =>
            ManagedDistill.Run(student, teacher, rowWeights, rowLosses, backward, gradOutput, gradStudent, gradTeacher, plan, Path(plan));

        public void DistillPartials(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, int firstRow,
                                    Span<double> rowPartials, bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher,
                                    in DistillPlan plan)
        {
            if (rowPartials.IsEmpty) return; // an empty piece: no rows (RunRows reads an empty span as "no piece")
            ManagedDistill.RunRows(student, teacher, rowWeights, firstRow, rowPartials.Length, default, rowPartials, backward, gradOutput,
                gradStudent, gradTeacher, plan, Path(plan));
        }

        public T DistillFinish(ReadOnlySpan<double> rowPartials, ReadOnlySpan<T> rowWeights, in DistillPlan plan) =>
            ManagedDistill.Finish(rowPartials, rowWeights, plan);

        /// <summary>The KL op's kernels for the plan's semantics.</summary>
        private static ManagedKernels<T> Kernels(in KlPlan plan) => KlTerm.Kernels<T>(plan.LogTarget, plan.Masked);

        /// <summary>The kernel path the plan's <see cref="KlIsa"/> selects (throws where it cannot run).</summary>
        private static ManagedPath Path(in KlPlan plan) => ManagedPaths.Resolve(plan.Isa);

        private static ManagedPath Path(in DistillPlan plan) => ManagedPaths.Resolve(plan.Isa);
    }
}
