using System;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Validation
{
    /// <summary>
    /// The optional pass of <see cref="KlOptions.ValidateInputs"/>: one read of each span, run after
    /// the argument checks and before any backend. Each element is a comparison or two (an exp with a
    /// log target where the input is −∞); a row sum adds one double add per element (and one exp with
    /// a log target). Off, it costs one branch per call.
    /// </summary>
    /// <remarks>
    /// What it refuses is every input that makes any output NaN, and, beyond that, only values that
    /// are not log-probabilities (input &gt; 0), not probabilities (target outside [0, 1], or &gt; 0
    /// with a log target) and rows that do not sum to 1. Why nothing else can give NaN, given what
    /// passes (x in [−∞, 0], t in [0, 1] or, with a log target, [−∞, 0]; none NaN), term by term as
    /// the kernels compute it (ScalarKernels.Term/TermGrad, which every path matches bit for bit):
    /// <list type="bullet">
    /// <item><description>xlogy(t, t) − t·x = fma(t, log t, −(t·x)), log t taken as t at t = ±0: t·log t is
    /// finite (in [−1/e, 0]); −(t·x) is in [0, +∞], NaN only for t = 0, x = −∞ — refused unless
    /// <see cref="KlOptions.Masked"/> (then the term is +0). So a term is finite or +∞, and ≥ −1/e.</description></item>
    /// <item><description>exp(t)·(t − x): t − x is finite or +∞ (x = −∞), and −∞ or NaN for t = −∞ — refused
    /// unless masked; exp(t) is in [0, 1]; 0·∞ for x = −∞ where exp(t), as the kernels round it,
    /// underflows to 0 — refused, masked or not (masking tests t = −∞, not exp(t) = 0). So a term is
    /// finite or +∞, and ≥ −1/e (exp(t)·(t − x) ≥ t·exp(t)).</description></item>
    /// <item><description>Reductions: terms ≥ −1/e, so partial sums are never −∞ and +∞ never meets −∞;
    /// CanonicalSum.Total returns an infinite sum as is, never its NaN compensation. The divisor is
    /// 1, the element count or the batch: 0 only for empty input with Mean, or BatchMean of batch 0
    /// (0/0) — refused. Rows of no columns sum to +0.</description></item>
    /// <item><description>Gradients, with s = gradOutput / divisor (rounded to the data type, as the
    /// backends do): a non-finite gradOutput makes ∞·0 of any zero factor (−t·s at t = 0) — refused.
    /// With s finite, −t·s and −exp(t)·s are finite. The target gradient (log t + t/t − x)·s is NaN
    /// at t = 0 (t/t; PyTorch's autograd too) — refused when the target gradient is asked for,
    /// unless masked (then +0); for t &gt; 0, log t + 1 − x is finite or +∞ (x = −∞), NaN times s only
    /// when s = 0 and x = −∞ — refused. exp(t)·((t − x) + 1)·s likewise: +∞·0 for x = −∞ and s = 0 —
    /// refused; t = −∞ as in the value.</description></item>
    /// </list>
    /// NativeKl.Tests.NoNaNWhenValidatingTests runs every pair of special values through every entry
    /// point, on every backend, and fails on any NaN that gets through.
    /// </remarks>
    internal static class InputValidation
    {
        /// <summary>What a call computes, for the rules that depend on it.</summary>
        internal readonly struct Call
        {
            private Call(KlReductionKind reduction, int batchSize, bool backward, double gradOutput, bool zeroScale, bool gradTarget)
            {
                Reduction = reduction; BatchSize = batchSize; Backward = backward;
                GradOutput = gradOutput; ZeroScale = zeroScale; GradTarget = gradTarget;
            }

            internal readonly KlReductionKind Reduction;
            internal readonly int BatchSize;
            internal readonly bool Backward, ZeroScale, GradTarget;
            internal readonly double GradOutput;

            internal static Call Forward(KlReductionKind reduction, int batchSize) => new Call(reduction, batchSize, false, 1.0, false, false);

            /// <summary>A backward call: zeroScale says whether gradOutput / divisor is 0 in the data type (the backends' s).</summary>
            internal static Call Gradients(KlReductionKind reduction, int batchSize, double gradOutput, bool zeroScale, bool gradTarget) =>
                new Call(reduction, batchSize, true, gradOutput, zeroScale, gradTarget);
        }

        /// <summary>Elements, and, if rows &gt; 0 (BatchMean's batch), the target as rows of input.Length / rows;
        /// an element is then reported with its row and column too.</summary>
        internal static void Check<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int rows, KlOptions options, Call call)
            where T : unmanaged
        {
            CheckCall(input.Length, call);
            int columns = rows > 0 ? input.Length / rows : 0;
            CheckLogProbabilities(input, 0, columns, -1);
            if (rows <= 0) CheckTargets(input, target, 0, -1, options, call);
            for (int r = 0; r < rows; r++)
                CheckTargets(input.Slice(r * columns, columns), target.Slice(r * columns, columns), (long)r * columns, r, options, call);
            for (int r = 0; r < rows; r++) CheckRowSum(target.Slice(r * columns, columns), r, (long)r * columns, options);
        }

        /// <summary>
        /// Strided rows: only the elements the rows span are checked (padding is not read). An element is
        /// reported with its row and column, and its index in the span.
        /// </summary>
        internal static void CheckRows<T>(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride,
                                          int rows, int columns, KlOptions options) where T : unmanaged
        {
            var call = Call.Forward(KlReductionKind.Sum, 0);
            for (int r = 0; r < rows; r++)
            {
                long x0 = (long)r * inputStride, t0 = (long)r * targetStride;
                ReadOnlySpan<T> x = input.Slice((int)x0, columns), t = target.Slice((int)t0, columns);
                CheckLogProbabilities(x, x0, columns, r);
                CheckTargets(x, t, t0, r, options, call, x0);
                CheckRowSum(t, r, t0, options);
            }
        }

        // The input: log-probabilities, ≤ 0 and not NaN. row ≥ 0: x is that row (offset its first index);
        // row -1: x is flat, and columns > 0 names each element's row and column.
        private static void CheckLogProbabilities<T>(ReadOnlySpan<T> x, long offset, int columns, int row) where T : unmanaged
        {
            for (int i = 0; i < x.Length; i++)
            {
                double xi = Num.ToDouble(x[i]);
                if (!(xi <= 0.0))
                    throw row >= 0 ? Error.NotLogProbability("input", offset + i, xi, row, i)
                        : Error.NotLogProbability("input", i, xi, RowOf(i, columns), ColumnOf(i, columns));
            }
        }

        // What does not depend on the data: an empty mean (0/0), and a gradient scale that is not finite.
        private static void CheckCall(int length, Call call)
        {
            if (length == 0 && (call.Reduction == KlReductionKind.Mean || call.Reduction == KlReductionKind.BatchMean && call.BatchSize == 0))
                throw Error.EmptyMean(call.Reduction);
            if (call.Backward && !(Math.Abs(call.GradOutput) <= double.MaxValue)) throw Error.GradOutputNotFinite(call.GradOutput);
        }

        // The target's range, then the rules of the pair (x, t) (see the remarks). NaN fails every
        // comparison, so `!(in range)` catches it too. row: the row t is (its element i is then
        // column i), or -1 for a flat target. inputOffset: where x starts in its span, when it differs
        // from the target's (strided rows), or -1 for the same.
        private static void CheckTargets<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> t, long offset, int row, KlOptions o, Call call,
                                            long inputOffset = -1) where T : unmanaged
        {
            bool logTarget = o.LogTarget, masked = o.Masked, gradTarget = call.GradTarget;
            for (int i = 0; i < t.Length; i++)
            {
                double ti = Num.ToDouble(t[i]), xi = Num.ToDouble(x[i]);
                int column = row < 0 ? -1 : i;
                if (logTarget ? !(ti <= 0.0) : !(ti >= 0.0 && ti <= 1.0)) throw Error.NotProbability(offset + i, ti, logTarget, row, column);
                long xIndex = (inputOffset < 0 ? offset : inputOffset) + i;
                if (!logTarget)
                {
                    if (ti == 0.0 && !masked)
                    {
                        if (xi == double.NegativeInfinity) throw Error.MaskedInput(xIndex, xi, row, column);
                        if (gradTarget) throw Error.ZeroTargetGradient(offset + i, ti, row, column);
                    }
                    else if (ti > 0.0 && xi == double.NegativeInfinity && call.ZeroScale && gradTarget)
                        throw Error.InfiniteTimesZeroScale(xIndex, row, column, call.GradOutput);
                }
                else if (ti == double.NegativeInfinity)
                {
                    if (!masked) throw Error.MinusInfinityLogTarget(offset + i, row, column);
                }
                else if (xi == double.NegativeInfinity)
                {
                    if (ExpUnderflows<T>(ti)) throw Error.UnderflowingLogTarget(xIndex, ti, row, column, Num.IsFloat<T>() ? "float32" : "float64");
                    if (call.ZeroScale && gradTarget) throw Error.InfiniteTimesZeroScale(xIndex, row, column, call.GradOutput);
                }
            }
        }

        // Whether the library's exp of t (a value of T, widened) rounds to 0 in T, as the kernels compute it.
        private static bool ExpUnderflows<T>(double t) where T : unmanaged =>
            Num.IsFloat<T>() ? ManagedMath.Exp((float)t) == 0f : ManagedMath.Exp(t) == 0.0;

        // An element's row and column in rows of `columns`, or -1 without rows.
        private static int RowOf(long index, int columns) => columns > 0 ? (int)(index / columns) : -1;

        private static int ColumnOf(long index, int columns) => columns > 0 ? (int)(index % columns) : -1;

        // An empty row holds no distribution to check (rows × 0 columns is a valid shape).
        private static void CheckRowSum<T>(ReadOnlySpan<T> t, int row, long offset, KlOptions options) where T : unmanaged
        {
            if (t.IsEmpty) return;
            double sum = 0.0;
            if (options.LogTarget) foreach (T v in t) sum += Math.Exp(Num.ToDouble(v));
            else foreach (T v in t) sum += Num.ToDouble(v);
            RequireOne(sum, row, offset, options);
        }

        private static void RequireOne(double sum, int row, long offset, KlOptions options)
        {
            double tolerance = options.RowSumTolerance == 0.0 ? KlOptions.DefaultRowSumTolerance : options.RowSumTolerance;
            if (!(Math.Abs(sum - 1.0) <= tolerance)) throw Error.RowSumNotOne(row, offset, sum, tolerance, options.LogTarget);
        }
    }
}
