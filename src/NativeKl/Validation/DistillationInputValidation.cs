using System;

namespace NativeKl.Validation
{
    /// <summary>
    /// The optional pass of <see cref="DistillationOptions.ValidateInputs"/>: one read of each row the
    /// call uses, run after the argument checks and before any backend. A logit costs a multiply and
    /// two comparisons; a teacher log-probability a comparison and an exp. Off, it costs one branch
    /// per call.
    /// </summary>
    internal static class DistillationInputValidation
    {
        /// <summary>Rows of weight 0 are skipped (the computation does not read them), and so is the padding.</summary>
        internal static void Check(ReadOnlySpan<float> student, int studentStride, ReadOnlySpan<float> teacher, int teacherStride,
                                   int rows, int columns, ReadOnlySpan<float> rowWeights, DistillationOptions options)
        {
            if (columns == 0) return; // a row of no classes is a KL of 0, not a softmax of nothing
            double temperature = options.Temperature, tolerance = Tolerance(options);
            float invT = (float)(1.0 / temperature);
            bool logProbs = options.Teacher == TeacherKind.LogProbabilities;
            double maxLog = logProbs ? MaxLogProbability(tolerance) : 0.0;
            for (int r = 0; r < rows; r++)
            {
                if (!rowWeights.IsEmpty && rowWeights[r] == 0f) continue;
                long s0 = (long)r * studentStride, u0 = (long)r * teacherStride;
                Logits("student", student.Slice((int)s0, columns), r, s0, invT, temperature);
                if (logProbs) LogProbabilities(teacher.Slice((int)u0, columns), r, u0, maxLog, tolerance);
                else Logits("teacher", teacher.Slice((int)u0, columns), r, u0, invT, temperature);
            }
        }

        internal static void Check(ReadOnlySpan<double> student, int studentStride, ReadOnlySpan<double> teacher, int teacherStride,
                                   int rows, int columns, ReadOnlySpan<double> rowWeights, DistillationOptions options)
        {
            if (columns == 0) return;
            double temperature = options.Temperature, tolerance = Tolerance(options);
            double invT = 1.0 / temperature;
            bool logProbs = options.Teacher == TeacherKind.LogProbabilities;
            double maxLog = logProbs ? MaxLogProbability(tolerance) : 0.0;
            for (int r = 0; r < rows; r++)
            {
                if (!rowWeights.IsEmpty && rowWeights[r] == 0.0) continue;
                long s0 = (long)r * studentStride, u0 = (long)r * teacherStride;
                Logits("student", student.Slice((int)s0, columns), r, s0, invT, temperature);
                if (logProbs) LogProbabilities(teacher.Slice((int)u0, columns), r, u0, maxLog, tolerance);
                else Logits("teacher", teacher.Slice((int)u0, columns), r, u0, invT, temperature);
            }
        }

        // The scaled logit is what the kernels compute (x · (1/T) in the data's type): NaN fails the
        // comparison, +∞ (given, or from a finite x that overflows) gives a softmax of ∞/∞, and a row with
        // nothing above −∞ one of 0/0.
        private static void Logits(string name, ReadOnlySpan<float> x, int row, long offset, float invT, double temperature)
        {
            bool anyClass = false;
            for (int c = 0; c < x.Length; c++)
            {
                float a = x[c] * invT;
                if (!(a < float.PositiveInfinity)) throw Error.NotLogit(name, row, c, offset + c, x[c], temperature);
                anyClass |= a > float.NegativeInfinity;
            }
            if (!anyClass) throw Error.NoClass(name, row, offset);
        }

        private static void Logits(string name, ReadOnlySpan<double> x, int row, long offset, double invT, double temperature)
        {
            bool anyClass = false;
            for (int c = 0; c < x.Length; c++)
            {
                double a = x[c] * invT;
                if (!(a < double.PositiveInfinity)) throw Error.NotLogit(name, row, c, offset + c, x[c], temperature);
                anyClass |= a > double.NegativeInfinity;
            }
            if (!anyClass) throw Error.NoClass(name, row, offset);
        }

        // The probability sum is a max-shifted (online) log-sum-exp: no exp sees more than 0, and -∞
        // (probability 0) adds nothing. Each value is checked before it is summed.
        private static void LogProbabilities(ReadOnlySpan<float> l, int row, long offset, double maxLog, double tolerance)
        {
            double m = double.NegativeInfinity, z = 0.0;
            for (int c = 0; c < l.Length; c++)
            {
                double v = l[c];
                if (!(v <= maxLog)) throw Error.TeacherNotLogProbability(row, c, offset + c, v, tolerance);
                AddLogProbability(v, ref m, ref z);
            }
            RequireOne(z * Math.Exp(m), row, offset, tolerance);
        }

        private static void LogProbabilities(ReadOnlySpan<double> l, int row, long offset, double maxLog, double tolerance)
        {
            double m = double.NegativeInfinity, z = 0.0;
            for (int c = 0; c < l.Length; c++)
            {
                double v = l[c];
                if (!(v <= maxLog)) throw Error.TeacherNotLogProbability(row, c, offset + c, v, tolerance);
                AddLogProbability(v, ref m, ref z);
            }
            RequireOne(z * Math.Exp(m), row, offset, tolerance);
        }

        // One step of the online log-sum-exp: the sum so far is z exp(m).
        private static void AddLogProbability(double v, ref double m, ref double z)
        {
            if (v > m) { z = z * Math.Exp(m - v) + 1.0; m = v; }
            else if (v > double.NegativeInfinity) z += Math.Exp(v - m);
        }

        // A row of all -∞ sums to 0 (z = 0, exp(m) = 0) and fails here.
        private static void RequireOne(double sum, int row, long offset, double tolerance)
        {
            if (!(Math.Abs(sum - 1.0) <= tolerance)) throw Error.TeacherRowSumNotOne(row, offset, sum, tolerance);
        }

        private static double Tolerance(DistillationOptions options) =>
            options.RowSumTolerance == 0.0 ? KlOptions.DefaultRowSumTolerance : options.RowSumTolerance;

        // One probability may exceed 1 by as much as a row's sum may: exp(l) ≤ 1 + tolerance.
        private static double MaxLogProbability(double tolerance) => Math.Log(1.0 + tolerance);
    }
}
