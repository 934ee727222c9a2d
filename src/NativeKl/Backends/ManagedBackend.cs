using System;
using NativeKl.Core;
using NativeKl.Managed;
using static NativeKl.Managed.ManagedMath;

namespace NativeKl.Backends
{
    /// <summary>
    /// The managed implementation of the seam: the math is <see cref="ManagedKl"/>'s and
    /// <see cref="ManagedDistill"/>'s; the reduction divisor is applied here exactly as api.c does.
    /// A NaN result is the library's NaN (CanonicalNaN in double: converting it to float gives the
    /// float one, 0x7FC00000).
    /// </summary>
    internal sealed class ManagedBackend<T> : IKlBackend<T> where T : unmanaged
    {
        internal static readonly ManagedBackend<T> Instance = new ManagedBackend<T>();

        private ManagedBackend() { }

        public T Reduce(ReadOnlySpan<T> input, ReadOnlySpan<T> target, in KlPlan plan) =>
            Num.FromDouble<T>(CanonicalNaN(ManagedKl.Total(Sum(input, target, plan)) / plan.Divisor));

        public void Pointwise(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, in KlPlan plan)
        {
            if (Num.IsFloat<T>())
                ManagedKl.Pointwise(Num.AsFloat(input), Num.AsFloat(target), Num.AsFloat(destination), plan.LogTarget, plan.Masked);
            else
                ManagedKl.Pointwise(Num.AsDouble(input), Num.AsDouble(target), Num.AsDouble(destination), plan.LogTarget, plan.Masked);
        }

        public void Rows(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride, int rows,
                         Span<T> destination, in KlPlan plan)
        {
            int columns = plan.Length;
            for (int r = 0; r < rows; r++)
                destination[r] = Num.FromDouble<T>(CanonicalNaN(ManagedKl.Total(Sum(input.Slice(r * inputStride, columns),
                    target.Slice(r * targetStride, columns), plan))));
        }

        /// <summary>As api.c's backward: s = gradOutput / divisor, rounded once to the data's type; the value as Reduce's.</summary>
        public T Backward(ReadOnlySpan<T> input, ReadOnlySpan<T> target, T gradOutput, Span<T> values, Span<T> gradInput,
                          Span<T> gradTarget, in KlPlan plan)
        {
            double s = Num.ToDouble(gradOutput) / plan.Divisor;
            if (plan.Reduction != KlReductionKind.None) values = default;
            KlPartial acc = Num.IsFloat<T>()
                ? ManagedKl.Grad(Num.AsFloat(input), Num.AsFloat(target), plan.LogTarget, plan.Masked, (float)s,
                    Num.AsFloat(values), Num.AsFloat(gradInput), Num.AsFloat(gradTarget))
                : ManagedKl.Grad(Num.AsDouble(input), Num.AsDouble(target), plan.LogTarget, plan.Masked, s,
                    Num.AsDouble(values), Num.AsDouble(gradInput), Num.AsDouble(gradTarget));
            return plan.Reduction == KlReductionKind.None ? default : Num.FromDouble<T>(CanonicalNaN(ManagedKl.Total(acc) / plan.Divisor));
        }

        public void Partials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials, in KlPlan plan)
        {
            for (int c = 0; c < partials.Length; c++)
            {
                int offset = (firstChunk + c) * ManagedKl.ChunkElements;
                int length = Math.Min(ManagedKl.ChunkElements, input.Length - offset);
                partials[c] = Num.IsFloat<T>()
                    ? ManagedKl.Chunk(Num.AsFloat(input.Slice(offset, length)), Num.AsFloat(target.Slice(offset, length)), plan.LogTarget, plan.Masked)
                    : ManagedKl.Chunk(Num.AsDouble(input.Slice(offset, length)), Num.AsDouble(target.Slice(offset, length)), plan.LogTarget, plan.Masked);
            }
        }

        public double Finish(ReadOnlySpan<KlPartial> partials, in KlPlan plan)
        {
            var acc = new KlPartial();
            foreach (KlPartial p in partials) ManagedKl.Combine(ref acc, p);
            return CanonicalNaN(ManagedKl.Total(acc) / plan.Divisor);
        }

        public T Distill(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, Span<T> rowLosses,
                         bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher, in DistillPlan plan)
        {
            if (Num.IsFloat<T>())
                return Num.FromDouble<T>(ManagedDistill.Run(Num.AsFloat(student), Num.AsFloat(teacher), Num.AsFloat(rowWeights),
                    Num.AsFloat(rowLosses), backward, Num.ValueAsFloat(gradOutput), Num.AsFloat(gradStudent), Num.AsFloat(gradTeacher), plan));
            return Num.FromDouble<T>(ManagedDistill.Run(Num.AsDouble(student), Num.AsDouble(teacher), Num.AsDouble(rowWeights),
                Num.AsDouble(rowLosses), backward, Num.ValueAsDouble(gradOutput), Num.AsDouble(gradStudent), Num.AsDouble(gradTeacher), plan));
        }

        private static KlPartial Sum(ReadOnlySpan<T> input, ReadOnlySpan<T> target, in KlPlan plan) =>
            Num.IsFloat<T>()
                ? ManagedKl.Sum(Num.AsFloat(input), Num.AsFloat(target), plan.LogTarget, plan.Masked)
                : ManagedKl.Sum(Num.AsDouble(input), Num.AsDouble(target), plan.LogTarget, plan.Masked);
    }
}
