using System;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Validation
{
    /// <summary>
    /// The optional pass of <see cref="DistillationOptions.ValidateInputs"/>: two reads of each row the
    /// call uses (the second while it is still in cache), run after the argument checks and before any
    /// backend. A logit costs a multiply and a few comparisons; a teacher log-probability a comparison
    /// and an exp. Off, it costs one branch per call.
    /// </summary>
    /// <remarks>
    /// It refuses every input that makes an output NaN. The logits' scale a = s·(1/T) (float32:
    /// s·(log2(e)/T), the kernels' base 2) is computed as the kernels compute it; "supported" classes
    /// are those whose teacher value (scaled logit, or log-probability) is above −∞. Given what passes —
    /// <list type="bullet">
    /// <item><description>no NaN or +∞ scaled logit, and a class above −∞ in each row (the softmax
    /// is then never ∞/∞ nor 0/0);</description></item>
    /// <item><description>no student −∞ at a supported class: the loss would be +∞, and NaN where the
    /// teacher's probability underflows (a lane's +∞ sum rescaled by 0) and in the teacher gradient
    /// (p·((log p − log q) − KL) = ∞ − ∞);</description></item>
    /// <item><description>no finite scaled student logit more than 2^120 (float32) or 2^960 (float64)
    /// below its row's largest, and, in float64, no teacher logit either: within that, no difference
    /// a − max, no pending float sum of 8 terms p·(b − a) and no row sum of up to 2^31 of them
    /// overflows, so every row statistic (maxima, log-sum-exps, the KL) is finite. (A float64 lane
    /// rescale or fold multiplies (b − max) by a factor that underflows to 0: ∞·0 if the difference
    /// overflowed. In float32 those run in float64, and a teacher difference that overflows in float
    /// is −∞, a probability of 0.)</description></item>
    /// <item><description>teacher log-probabilities at most min(log(1 + tolerance), log 2), so no
    /// exp(l) overflows and the probability sum stays finite, whatever the tolerance;</description></item>
    /// <item><description>a nonzero divisor (a kept row for BatchMean, and a column too for Mean); a finite
    /// T² (float64: T·T can be 0 or ∞); a finite gradOutput and finite per-row gradient scales
    /// gradOutput·w·T²/divisor/T in the data's type: every gradient is then a finite factor
    /// ((q·Z − p), or p·((lp − lq) − KL) with both logs finite where p ≠ 0) times a finite scale;</description></item>
    /// <item><description>for a reduction, Σ w·T²·|KL| bounded far below the largest double (|KL| is at
    /// most the row's spread plus log(columns), times its probability sum), so the row losses and
    /// their compensated sum never overflow and +∞ never meets −∞</description></item>
    /// </list>
    /// — every row loss, the reduced value and every gradient element is finite or ±∞ from a
    /// single overflow (a float32 result of a finite double), never NaN.
    /// NativeKl.Tests.NoNaNWhenValidatingTests checks it with special values through every entry point.
    /// </remarks>
    internal static class DistillationInputValidation
    {
        /// <summary>How far below its row's largest a finite scaled logit may be (float32 in base 2, float64 in base e).</summary>
        internal static readonly double SpreadF32 = PowerOfTwo(120), SpreadF64 = PowerOfTwo(960);

        // The running bound on a reduction's sum of row losses (see Bounded).
        private static readonly double MaxLossSum = PowerOfTwo(1000);

        private static double PowerOfTwo(int k) => BitConverter.Int64BitsToDouble((1023L + k) << 52);

        /// <summary>What a call computes, for the rules that depend on it.</summary>
        internal readonly struct Call
        {
            internal Call(KlReductionKind reduction, bool backward, double gradOutput, bool gradTeacher)
            {
                Reduction = reduction; Backward = backward; GradOutput = gradOutput; GradTeacher = gradTeacher;
            }

            internal readonly KlReductionKind Reduction;
            internal readonly bool Backward, GradTeacher;
            internal readonly double GradOutput;
        }

        /// <summary>
        /// Rows of weight 0 are skipped (the computation does not read them), and so is the padding.
        /// The plan's divisor, T² factor (LossScale) and logit scale are the ones the backends use.
        /// </summary>
        internal static void Check<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights,
                                      in DistillPlan plan, DistillationOptions options, Call call) where T : unmanaged
        {
            bool f32 = Num.IsFloat<T>();
            int rows = plan.Rows, columns = plan.Columns;
            CheckCall(plan, rowWeights, call);
            if (columns == 0) return; // a row of no classes is a KL of 0, not a softmax of nothing
            double temperature = plan.Temperature, tolerance = Tolerance(options);
            bool logProbs = plan.TeacherLogProbabilities;
            // a teacher's log-probabilities are scaled into the kernels' base: log2(e) for float32 (base 2), 1 for float64
            double teacherScale = logProbs ? (f32 ? KlConstants.Log2EF32 : 1.0) : plan.LogitScale;
            double maxLog = MaxLogProbability(tolerance);
            double bound = 0.0;
            for (int r = 0; r < rows; r++)
            {
                double w = rowWeights.IsEmpty ? 1.0 : Num.ToDouble(rowWeights[r]);
                if (w == 0.0) continue;
                long s0 = (long)r * plan.StudentStride, u0 = (long)r * plan.TeacherStride;
                ReadOnlySpan<T> s = student.Slice((int)s0, columns), u = teacher.Slice((int)u0, columns);
                double ma = Logits("student", s, r, s0, plan.LogitScale, temperature);
                double mb = 0.0, z = 1.0;
                if (logProbs) z = LogProbabilities(u, r, u0, maxLog, tolerance);
                else mb = Logits("teacher", u, r, u0, plan.LogitScale, temperature);
                double spread = Pairs(s, u, r, s0, u0, plan.LogitScale, teacherScale, logProbs, ma, mb, temperature);
                if (call.Backward) Scales(r, w, plan, call, f32);
                if (call.Reduction != KlReductionKind.None) bound = Bounded(bound, r, s0, w, plan, spread, z, columns, !rowWeights.IsEmpty);
            }
        }

        // What does not depend on the logits: a divisor of 0 (0/0), T² of 0 or ∞, a gradOutput that is not finite.
        private static void CheckCall<T>(in DistillPlan plan, ReadOnlySpan<T> rowWeights, Call call) where T : unmanaged
        {
            if (plan.Divisor == 0.0)
            {
                bool noneKept = !rowWeights.IsEmpty;
                for (int r = 0; r < plan.Rows && noneKept; r++) noneKept = Num.ToDouble(rowWeights[r]) == 0.0;
                throw Error.DistillNothingToAverage(call.Reduction, plan.Rows == 0 ? "rows" : noneKept ? "rowWeights" : "columns");
            }
            double t2 = plan.LossScale;
            if (!(t2 > 0.0 && t2 <= double.MaxValue)) throw Error.TemperatureSquared(plan.Temperature, t2);
            if (call.Backward && !(Math.Abs(call.GradOutput) <= double.MaxValue)) throw Error.GradOutputNotFinite(call.GradOutput);
        }

        /// <summary>x times scale in the data's type, as the kernels compute it (scale is already rounded to T), in double.</summary>
        private static double Scaled<T>(T x, double scale) where T : unmanaged =>
            Num.IsFloat<T>() ? Num.ValueAsFloat(x) * (float)scale : Num.ValueAsDouble(x) * scale;

        // The scaled logit is what the kernels compute (x · scale in the data's type): NaN fails the
        // comparison, +∞ (given, or from a finite x that overflows) gives a softmax of ∞/∞, and a row with
        // nothing above −∞ one of 0/0. Returns the row's largest scaled logit.
        private static double Logits<T>(string name, ReadOnlySpan<T> x, int row, long offset, double logitScale, double temperature)
            where T : unmanaged
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < x.Length; c++)
            {
                double a = Scaled(x[c], logitScale);
                if (!(a < double.PositiveInfinity)) throw Error.NotLogit(name, row, c, offset + c, Num.ToDouble(x[c]), temperature);
                if (a > max) max = a;
            }
            if (max == double.NegativeInfinity) throw Error.NoClass(name, row, offset);
            return max;
        }

        // The second read, of both rows together: a student −∞ where the teacher's class is supported,
        // and a finite scaled logit too far below its row's largest. Returns the row's largest spread
        // (max − a) over the supported classes, for the reduction's bound.
        private static double Pairs<T>(ReadOnlySpan<T> s, ReadOnlySpan<T> u, int row, long s0, long u0, double logitScale,
                                       double teacherScale, bool logProbs, double ma, double mb, double temperature) where T : unmanaged
        {
            bool f32 = Num.IsFloat<T>();
            double limit = f32 ? SpreadF32 : SpreadF64;
            string bound = f32 ? "2^120" : "2^960";
            double spread = 0.0;
            for (int c = 0; c < s.Length; c++)
            {
                double a = Scaled(s[c], logitScale), b = Scaled(u[c], teacherScale);
                if (a == double.NegativeInfinity)
                {
                    if (b > double.NegativeInfinity)
                        throw Error.StudentMasksTeacherClass(row, c, s0 + c, Num.ToDouble(s[c]), Num.ToDouble(u[c]), temperature, logProbs);
                    continue;
                }
                double d = ma - a;
                if (!(d <= limit)) throw Error.LogitSpread("student", row, c, s0 + c, Num.ToDouble(s[c]), bound, temperature);
                // float32 teacher logits far below their row's largest are harmless: b − max overflows
                // to −∞, a probability of 0, and the lanes combine in float64
                if (!f32 && !logProbs && b > double.NegativeInfinity && !(mb - b <= limit))
                    throw Error.LogitSpread("teacher", row, c, u0 + c, Num.ToDouble(u[c]), bound, temperature);
                if (b > double.NegativeInfinity && d > spread) spread = d;
            }
            return spread;
        }

        // The gradient pass's scales, as distill.c computes them: finite, or a gradient would be ±∞·0.
        private static void Scales(int row, double w, in DistillPlan plan, Call call, bool single)
        {
            double temperature = plan.Temperature;
            bool logProbs = plan.TeacherLogProbabilities;
            double g = call.GradOutput * w * plan.LossScale / plan.Divisor;
            double cs, cu;
            if (single)
            {
                cs = (float)(g / temperature);
                cu = logProbs ? (float)(g / KlConstants.Log2EF64) : (float)(g / temperature / KlConstants.Log2EF64);
            }
            else
            {
                cs = g / temperature;
                cu = logProbs ? g : g / temperature;
            }
            if (!(Math.Abs(cs) <= double.MaxValue)) throw Error.GradScaleOverflow(row, "student", cs, call.GradOutput, w, plan.LossScale, plan.Divisor, temperature);
            if (call.GradTeacher && !(Math.Abs(cu) <= double.MaxValue))
                throw Error.GradScaleOverflow(row, "teacher", cu, call.GradOutput, w, plan.LossScale, plan.Divisor, temperature);
        }

        // The reduction's running bound on Σ |w·KL·T²|: |KL| ≤ (spread + log(columns) + 64)·max(1, z), doubled
        // for rounding. 2^1000 leaves room for the compensated sum's error terms.
        private static double Bounded(double bound, int row, long offset, double w, in DistillPlan plan, double spread, double z, int columns, bool weighted)
        {
            bound += w * plan.LossScale * (2.0 * (spread + Math.Log(columns) + 64.0) * Math.Max(1.0, z));
            if (!(bound <= MaxLossSum)) throw Error.LossesMayOverflow(row, offset, bound, weighted);
            return bound;
        }

        // The probability sum is a max-shifted (online) log-sum-exp: no exp sees more than 0, and -∞
        // (probability 0) adds nothing. Each value is checked before it is summed. Returns the sum.
        private static double LogProbabilities<T>(ReadOnlySpan<T> l, int row, long offset, double maxLog, double tolerance)
            where T : unmanaged
        {
            double m = double.NegativeInfinity, z = 0.0;
            for (int c = 0; c < l.Length; c++)
            {
                double v = Num.ToDouble(l[c]);
                if (!(v <= maxLog)) throw Error.TeacherNotLogProbability(row, c, offset + c, v, tolerance);
                AddLogProbability(v, ref m, ref z);
            }
            return RequireOne(z * Math.Exp(m), row, offset, tolerance);
        }

        // One step of the online log-sum-exp: the sum so far is z exp(m).
        private static void AddLogProbability(double v, ref double m, ref double z)
        {
            if (v > m) { z = z * Math.Exp(m - v) + 1.0; m = v; }
            else if (v > double.NegativeInfinity) z += Math.Exp(v - m);
        }

        // A row of all -∞ sums to 0 (z = 0, exp(m) = 0) and fails here.
        private static double RequireOne(double sum, int row, long offset, double tolerance)
        {
            if (!(Math.Abs(sum - 1.0) <= tolerance)) throw Error.TeacherRowSumNotOne(row, offset, sum, tolerance);
            return sum;
        }

        private static double Tolerance(DistillationOptions options) =>
            options.RowSumTolerance == 0.0 ? KlOptions.DefaultRowSumTolerance : options.RowSumTolerance;

        // One probability may exceed 1 by as much as a row's sum may, exp(l) ≤ 1 + tolerance, and never
        // by more than 1 (exp(l) ≤ 2), whatever the tolerance: the kernels' sums stay finite.
        private static double MaxLogProbability(double tolerance) => Math.Min(Math.Log(1.0 + tolerance), Math.Log(2.0));
    }
}
