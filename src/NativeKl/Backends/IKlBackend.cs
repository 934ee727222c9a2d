using System;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Backends
{
    /// <summary>
    /// The one seam between the validated core and an implementation: <see cref="Interop.NativeBackend{T}"/>
    /// (the C core through Interop/) or <see cref="ManagedBackend{T}"/> (Managed/), chosen once per
    /// call by <see cref="KlBackend.Select{T}"/>. Arguments arrive validated and sliced to the
    /// lengths the plan names; every implementation gives the same bits.
    /// </summary>
    internal interface IKlBackend<T> where T : unmanaged
    {
        /// <summary>The reduced value (Sum, Mean or BatchMean).</summary>
        T Reduce(ReadOnlySpan<T> input, ReadOnlySpan<T> target, in KlPlan plan);

        /// <summary>The pointwise terms; destination may be exactly input or target.</summary>
        void Pointwise(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, in KlPlan plan);

        /// <summary>One sum per row of [rows, plan.Length] data at the given strides.</summary>
        void Rows(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride, int rows,
                  Span<T> destination, in KlPlan plan);

        /// <summary>
        /// Value and gradients: for None the terms go to values (may be empty) and 0 is returned;
        /// otherwise the reduced value is returned. gradTarget may be empty (not wanted).
        /// </summary>
        T Backward(ReadOnlySpan<T> input, ReadOnlySpan<T> target, T gradOutput, Span<T> values, Span<T> gradInput,
                   Span<T> gradTarget, in KlPlan plan);

        /// <summary>The partials of chunks firstChunk .. firstChunk + partials.Length − 1 of the whole input.</summary>
        void Partials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials, in KlPlan plan);

        /// <summary>
        /// Backward for chunks firstChunk .. firstChunk + partials.Length − 1 of the whole input (plan: the
        /// whole call's, a reduction): writes those chunks' elements of the whole gradInput (and
        /// gradTarget unless empty) with the whole call's scale, and their partials.
        /// </summary>
        void BackwardPartials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials,
                              Span<T> gradInput, Span<T> gradTarget, T gradOutput, in KlPlan plan);

        /// <summary>Every chunk's partial combined in chunk order, then the reduction applied, in double.</summary>
        double Finish(ReadOnlySpan<KlPartial> partials, in KlPlan plan);

        /// <summary>
        /// Distillation: per-row losses into rowLosses (None; may be empty) or the reduced value
        /// returned, and with gradStudent not empty the gradients too (gradTeacher may be empty).
        /// </summary>
        T Distill(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, Span<T> rowLosses,
                  bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher, in DistillPlan plan);

        /// <summary>
        /// A distillation piece: rows firstRow .. firstRow + rowPartials.Length − 1 of the plan's call
        /// (spans and weights are the whole call's): each row's loss in float64 into rowPartials, and
        /// with backward those rows' gradients (the plan's divisor; gradTeacher may be empty).
        /// </summary>
        void DistillPartials(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, int firstRow,
                             Span<double> rowPartials, bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher,
                             in DistillPlan plan);

        /// <summary>Every row's partial summed in row order, / the plan's divisor, rounded: the reduced value's bits.</summary>
        T DistillFinish(ReadOnlySpan<double> rowPartials, ReadOnlySpan<T> rowWeights, in DistillPlan plan);
    }
}
