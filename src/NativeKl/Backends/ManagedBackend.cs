using System;
using NativeKl.Managed;
using static NativeKl.Managed.ManagedMath;

namespace NativeKl.Backends
{
    /// <summary>
    /// The managed backend behind the same seam as <see cref="NativeBackend"/>: the math is
    /// <see cref="ManagedKl"/>'s, the reduction divisor is applied here exactly as api.c does.
    /// </summary>
    internal static class ManagedBackend
    {
        internal static float Reduce(ReadOnlySpan<float> input, ReadOnlySpan<float> target, KlReduction reduction, int batchSize, KlOptions options) =>
            CanonicalNaN((float)(ManagedKl.Total(ManagedKl.Sum(input, target, options.LogTarget, options.Masked))
                                 / Divisor.Of(reduction, input.Length, batchSize)));

        internal static double Reduce(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlReduction reduction, int batchSize, KlOptions options) =>
            CanonicalNaN(ManagedKl.Total(ManagedKl.Sum(input, target, options.LogTarget, options.Masked))
                         / Divisor.Of(reduction, input.Length, batchSize));

        internal static void Pointwise(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> destination, KlOptions options) =>
            ManagedKl.Pointwise(input, target, destination, options.LogTarget, options.Masked);

        internal static void Pointwise(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> destination, KlOptions options) =>
            ManagedKl.Pointwise(input, target, destination, options.LogTarget, options.Masked);

        internal static void Rows(ReadOnlySpan<float> input, int inputStride, ReadOnlySpan<float> target, int targetStride,
                                  int rows, int columns, Span<float> destination, KlOptions options)
        {
            for (int r = 0; r < rows; r++)
                destination[r] = CanonicalNaN((float)ManagedKl.Total(ManagedKl.Sum(input.Slice(r * inputStride, columns),
                    target.Slice(r * targetStride, columns), options.LogTarget, options.Masked)));
        }

        internal static void Rows(ReadOnlySpan<double> input, int inputStride, ReadOnlySpan<double> target, int targetStride,
                                  int rows, int columns, Span<double> destination, KlOptions options)
        {
            for (int r = 0; r < rows; r++)
                destination[r] = CanonicalNaN(ManagedKl.Total(ManagedKl.Sum(input.Slice(r * inputStride, columns),
                    target.Slice(r * targetStride, columns), options.LogTarget, options.Masked)));
        }

        /// <summary>Forward and backward as api.c's BACKWARD: s = (float)(gradOutput / divisor); the value as Reduce's.</summary>
        internal static float Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> target, KlReduction reduction, int batchSize,
                                       float gradOutput, Span<float> values, Span<float> gradInput, Span<float> gradTarget, KlOptions options)
        {
            double d = Divisor.Of(reduction, input.Length, batchSize);
            float s = (float)((double)gradOutput / d);
            KlPartial acc = ManagedKl.Grad(input, target, options.LogTarget, options.Masked, s,
                reduction == KlReduction.None ? values : default, gradInput, gradTarget);
            return reduction == KlReduction.None ? 0.0f : CanonicalNaN((float)(ManagedKl.Total(acc) / d));
        }

        internal static double Backward(ReadOnlySpan<double> input, ReadOnlySpan<double> target, KlReduction reduction, int batchSize,
                                        double gradOutput, Span<double> values, Span<double> gradInput, Span<double> gradTarget, KlOptions options)
        {
            double d = Divisor.Of(reduction, input.Length, batchSize);
            double s = gradOutput / d;
            KlPartial acc = ManagedKl.Grad(input, target, options.LogTarget, options.Masked, s,
                reduction == KlReduction.None ? values : default, gradInput, gradTarget);
            return reduction == KlReduction.None ? 0.0 : CanonicalNaN(ManagedKl.Total(acc) / d);
        }

        internal static double Finish(ReadOnlySpan<KlPartial> partials, int length, KlReduction reduction, int batchSize)
        {
            var acc = new KlPartial();
            foreach (KlPartial p in partials) ManagedKl.Combine(ref acc, p);
            return CanonicalNaN(ManagedKl.Total(acc) / Divisor.Of(reduction, length, batchSize));
        }
    }
}
