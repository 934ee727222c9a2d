using System;

namespace NativeKl.Validation
{
    /// <summary>
    /// The optional pass of <see cref="KlOptions.ValidateInputs"/>: one read of each span, run after
    /// the argument checks and before any backend. Each element is a comparison or two; a row sum adds
    /// one double add per element (and one exp with a log target). Off, it costs one branch per call.
    /// </summary>
    internal static class InputValidation
    {
        /// <summary>Elements, and, if rows &gt; 0 (BatchMean's batch), the target as rows of input.Length / rows;
        /// an element is then reported with its row and column too.</summary>
        internal static void Check(ReadOnlySpan<float> input, ReadOnlySpan<float> target, int rows, KlOptions options)
        {
            int columns = rows > 0 ? input.Length / rows : 0;
            for (int i = 0; i < input.Length; i++)
                if (!(input[i] <= 0f)) throw Error.NotLogProbability("input", i, input[i], RowOf(i, columns), ColumnOf(i, columns));
            if (rows <= 0) CheckTargets(target, 0, -1, options.LogTarget);
            for (int r = 0; r < rows; r++) CheckTargets(target.Slice(r * columns, columns), (long)r * columns, r, options.LogTarget);
            for (int r = 0; r < rows; r++) CheckRowSum(target.Slice(r * columns, columns), r, (long)r * columns, options);
        }

        internal static void Check(ReadOnlySpan<double> input, ReadOnlySpan<double> target, int rows, KlOptions options)
        {
            int columns = rows > 0 ? input.Length / rows : 0;
            for (int i = 0; i < input.Length; i++)
                if (!(input[i] <= 0.0)) throw Error.NotLogProbability("input", i, input[i], RowOf(i, columns), ColumnOf(i, columns));
            if (rows <= 0) CheckTargets(target, 0, -1, options.LogTarget);
            for (int r = 0; r < rows; r++) CheckTargets(target.Slice(r * columns, columns), (long)r * columns, r, options.LogTarget);
            for (int r = 0; r < rows; r++) CheckRowSum(target.Slice(r * columns, columns), r, (long)r * columns, options);
        }

        /// <summary>
        /// Strided rows: only the elements the rows span are checked (padding is not read). An element is
        /// reported with its row and column, and its index in the span.
        /// </summary>
        internal static void CheckRows(ReadOnlySpan<float> input, int inputStride, ReadOnlySpan<float> target, int targetStride,
                                       int rows, int columns, KlOptions options)
        {
            for (int r = 0; r < rows; r++)
            {
                long x0 = (long)r * inputStride, t0 = (long)r * targetStride;
                ReadOnlySpan<float> x = input.Slice((int)x0, columns), t = target.Slice((int)t0, columns);
                for (int c = 0; c < columns; c++) if (!(x[c] <= 0f)) throw Error.NotLogProbability("input", x0 + c, x[c], r, c);
                CheckTargets(t, t0, r, options.LogTarget);
                CheckRowSum(t, r, t0, options);
            }
        }

        internal static void CheckRows(ReadOnlySpan<double> input, int inputStride, ReadOnlySpan<double> target, int targetStride,
                                       int rows, int columns, KlOptions options)
        {
            for (int r = 0; r < rows; r++)
            {
                long x0 = (long)r * inputStride, t0 = (long)r * targetStride;
                ReadOnlySpan<double> x = input.Slice((int)x0, columns), t = target.Slice((int)t0, columns);
                for (int c = 0; c < columns; c++) if (!(x[c] <= 0.0)) throw Error.NotLogProbability("input", x0 + c, x[c], r, c);
                CheckTargets(t, t0, r, options.LogTarget);
                CheckRowSum(t, r, t0, options);
            }
        }

        // NaN fails every comparison, so `!(in range)` catches it too. row: the row t is (its element i
        // is then column i), or -1 for a flat target.
        private static void CheckTargets(ReadOnlySpan<float> t, long offset, int row, bool logTarget)
        {
            for (int i = 0; i < t.Length; i++)
                if (logTarget ? !(t[i] <= 0f) : !(t[i] >= 0f && t[i] <= 1f)) throw Error.NotProbability(offset + i, t[i], logTarget, row, row < 0 ? -1 : i);
        }

        private static void CheckTargets(ReadOnlySpan<double> t, long offset, int row, bool logTarget)
        {
            for (int i = 0; i < t.Length; i++)
                if (logTarget ? !(t[i] <= 0.0) : !(t[i] >= 0.0 && t[i] <= 1.0)) throw Error.NotProbability(offset + i, t[i], logTarget, row, row < 0 ? -1 : i);
        }

        // An element's row and column in rows of `columns`, or -1 without rows.
        private static int RowOf(long index, int columns) => columns > 0 ? (int)(index / columns) : -1;

        private static int ColumnOf(long index, int columns) => columns > 0 ? (int)(index % columns) : -1;

        // An empty row holds no distribution to check (rows × 0 columns is a valid shape).
        private static void CheckRowSum(ReadOnlySpan<float> t, int row, long offset, KlOptions options)
        {
            if (t.IsEmpty) return;
            double sum = 0.0;
            if (options.LogTarget) foreach (float v in t) sum += Math.Exp(v);
            else foreach (float v in t) sum += v;
            RequireOne(sum, row, offset, options);
        }

        private static void CheckRowSum(ReadOnlySpan<double> t, int row, long offset, KlOptions options)
        {
            if (t.IsEmpty) return;
            double sum = 0.0;
            if (options.LogTarget) foreach (double v in t) sum += Math.Exp(v);
            else foreach (double v in t) sum += v;
            RequireOne(sum, row, offset, options);
        }

        private static void RequireOne(double sum, int row, long offset, KlOptions options)
        {
            double tolerance = options.RowSumTolerance == 0.0 ? KlOptions.DefaultRowSumTolerance : options.RowSumTolerance;
            if (!(Math.Abs(sum - 1.0) <= tolerance)) throw Error.RowSumNotOne(row, offset, sum, tolerance, options.LogTarget);
        }
    }
}
