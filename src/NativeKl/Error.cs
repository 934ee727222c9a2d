using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeKl.Interop;

namespace NativeKl
{
    /// <summary>
    /// Every exception the library throws is made here (as NSec's Error.cs and LibGit2Sharp's
    /// Ensure.cs do): argument errors name the parameter and the values, and every native status
    /// other than NKL_OK goes through <see cref="Check"/>.
    /// </summary>
    internal static class Error
    {
        /// <summary>The one funnel from a native status to an exception.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Check(nkl_status status, string function)
        {
            if (status != nkl_status.NKL_OK) throw FromStatus(status, function);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static Exception FromStatus(nkl_status status, string function)
        {
            string description = NativeLibraryInfo.StatusString(status);
            string message = $"{function} returned {status}: {description}";
            return status switch
            {
                nkl_status.NKL_ERROR_OUT_OF_MEMORY => new OutOfMemoryException(message),
                nkl_status.NKL_ERROR_ISA_UNAVAILABLE => new PlatformNotSupportedException(message),
                nkl_status.NKL_ERROR_INVALID_ENVIRONMENT => new NativeKlException((int)status, status.ToString(),
                    $"{function} returned {status}: {IsaVariableProblem()}; unset it to detect the CPU, or name an ISA per call with KlOptions.Isa"),
                _ => new NativeKlException((int)status, status.ToString(), message),
            };
        }

        /// <summary>A KlIsa the managed backend cannot run here (the native backend's NKL_ERROR_ISA_UNAVAILABLE).</summary>
        internal static PlatformNotSupportedException ManagedIsaUnavailable(KlIsa isa, string why) =>
            new PlatformNotSupportedException($"the managed backend cannot run KlIsa.{isa}: {why}; use KlIsa.Auto for the best path this machine has");

        /// <summary>What is wrong with NKL_ISA, as this process's environment holds it.</summary>
        internal static string IsaVariableProblem() =>
            $"the environment variable NKL_ISA is '{Environment.GetEnvironmentVariable("NKL_ISA")}', not auto, scalar, avx2 or neon";

        internal static unsafe string Utf8(byte* s)
        {
            if (s == null) return "";
            int length = 0;
            while (s[length] != 0) length++;
            return System.Text.Encoding.UTF8.GetString(s, length);
        }

        // ------------------------------------------------------------ arguments

        internal static ArgumentException LengthMismatch(string name, int length, string otherName, int otherLength) =>
            new ArgumentException($"`{name}` length {length} does not match `{otherName}` length {otherLength}", name);

        internal static ArgumentException TooShort(string name, int length, string what, long needed) =>
            new ArgumentException($"`{name}` length {length} is shorter than {what} {needed}", name);

        internal static ArgumentException PartialOverlap(string name, string otherName) =>
            new ArgumentException($"`{name}` partly overlaps `{otherName}`; it may be exactly `{otherName}` (in place) but not shifted against it", name);

        internal static ArgumentException Overlap(string name, string otherName) =>
            new ArgumentException($"`{name}` overlaps `{otherName}`; the per-row results need their own memory", name);

        internal static ArgumentOutOfRangeException Negative(string name, long value) =>
            new ArgumentOutOfRangeException(name, value, $"`{name}` {value} must not be negative");

        internal static ArgumentOutOfRangeException BatchSizeNotPositive(int batchSize, int length) =>
            new ArgumentOutOfRangeException("batchSize", batchSize,
                $"`batchSize` {batchSize} must be > 0 for BatchMean (`input` length {length})");

        internal static ArgumentException BatchSizeDoesNotDivide(int batchSize, int length) =>
            new ArgumentException($"`batchSize` {batchSize} does not divide `input` length {length}", "batchSize");

        internal static ArgumentOutOfRangeException UnknownReduction(KlReductionKind reduction) =>
            new ArgumentOutOfRangeException("reduction", reduction, $"`reduction` {(int)reduction} is not a KlReductionKind");

        // Thrown by KlDivergence's backward calls and by every Distillation call that writes (RowLosses too).
        internal static ArgumentException OutputOverlap(string name, string otherName) =>
            new ArgumentException($"`{name}` overlaps `{otherName}`; every output needs its own memory, apart from the inputs and the other outputs (no in-place)", name);

        internal static ArgumentOutOfRangeException BadOptions(KlOptions options) =>
            new ArgumentOutOfRangeException("options", options, $"`options` holds an undefined Backend ({(int)options.Backend}) or Isa ({(int)options.Isa})");

        internal static ArgumentOutOfRangeException DegreeOfParallelism(int value) =>
            new ArgumentOutOfRangeException("degreeOfParallelism", value, $"`degreeOfParallelism` {value} must be at least 1");

        // The chunk API (KlDivergence.Partials, BackwardPartials, Finish).
        internal static ArgumentOutOfRangeException ChunkRange(int firstChunk, int count, int chunks, int length) =>
            new ArgumentOutOfRangeException("firstChunk", firstChunk,
                $"`firstChunk` {firstChunk} + `partials` length {count} is past the {chunks} chunks of `input` length {length}");

        internal static ArgumentException PartialsCount(int count, int chunks, int length) =>
            new ArgumentException($"`partials` length {count} is not the {chunks} chunks of `length` {length}", "partials");

        internal static ArgumentException PiecesValidateInputs() =>
            new ArgumentException("`options` has ValidateInputs, which a piece of the data cannot check (BatchMean's row sums cross pieces): " +
                                  "validate once before splitting, or call the degreeOfParallelism overload", "options");

        // The distillation piece API (Distillation.Partials, BackwardPartials, Finish).
        internal static ArgumentOutOfRangeException FirstRowPastRows(int firstRow, int rows) =>
            new ArgumentOutOfRangeException("firstRow", firstRow, $"`firstRow` {firstRow} is past `rows` {rows}");

        internal static ArgumentException RowPartialsPastRows(int firstRow, int count, int rows) =>
            new ArgumentException($"`rowPartials` length {count} from `firstRow` {firstRow} reaches past `rows` {rows}", "rowPartials");

        internal static ArgumentOutOfRangeException StrideTooSmall(string name, int stride, int columns) =>
            new ArgumentOutOfRangeException(name, stride, $"`{name}` {stride} is smaller than `columns` {columns}");

        internal static ArgumentException RowsDoNotFit(string name, int length, int rows, int columns, int stride, long needed) =>
            new ArgumentException($"`{name}` length {length} is shorter than the {needed} elements that {rows} rows of {columns} columns at stride {stride} span", name);

        internal static ArgumentException ShapeMismatch(string name, int length, int rows, int columns) =>
            new ArgumentException($"`{name}` length {length} is not `rows` {rows} × `columns` {columns}", name);

        internal static ArgumentException DistillReductionNone(string method) =>
            new ArgumentException($"`reduction` None gives one value per row: call Distillation.{method}", "reduction");

        internal static ArgumentOutOfRangeException BadTemperature(double temperature) =>
            new ArgumentOutOfRangeException("options", temperature,
                $"`options.Temperature` {temperature} must be finite and > 0, with a finite, nonzero logit scale in the data's type (1/T; float32, which works in base 2: log2(e)/T)");

        internal static ArgumentOutOfRangeException BadRowWeight(int row, double weight) =>
            new ArgumentOutOfRangeException("rowWeights", weight, $"`rowWeights[{row}]` {weight} must be finite and >= 0");

        internal static ArgumentOutOfRangeException BadDistillationOptions(DistillationOptions options) =>
            new ArgumentOutOfRangeException("options", options,
                $"`options` holds an undefined Backend ({(int)options.Backend}), Isa ({(int)options.Isa}) or Teacher ({(int)options.Teacher})");

        internal static ArgumentOutOfRangeException BufferLength(int length) =>
            new ArgumentOutOfRangeException("length", length, $"`length` {length} must not be negative");

        internal static ArgumentOutOfRangeException BufferTooLarge(int length, int elementSize, long maxBytes) =>
            new ArgumentOutOfRangeException("length", length,
                $"`length` {length} elements of {elementSize} bytes ({(long)length * elementSize} bytes) is more than one NativeBuffer holds here ({maxBytes} bytes)");

        // ------------------------------------------- KlOptions.ValidateInputs

        // row, column: the element's place in a [rows, columns] call (KlDivergence.Rows), or -1, -1.
        internal static KlInputException NotLogProbability(string name, long index, double value, int row = -1, int column = -1) =>
            new KlInputException($"`{name}`{Place(row, column, index)} = {R(value)} is not a log-probability (≤ 0)", name, index, row, value, column);

        internal static KlInputException NotProbability(long index, double value, bool logTarget, int row = -1, int column = -1) =>
            new KlInputException($"`target`{Place(row, column, index)} = {R(value)} is not a "
                + (logTarget ? "log-probability (≤ 0)" : "probability (in [0, 1])"), "target", index, row, value, column);

        internal static KlInputException MaskedInput(long index, double value, int row, int column) =>
            new KlInputException($"`input`{Place(row, column, index)} = {R(value)} where `target` is 0: PyTorch's term 0·log 0 − 0·(−∞) is NaN. "
                + "Such data (a masked log_softmax row) wants `Masked = true`, which makes a zero-probability target contribute exactly 0",
                "input", index, row, value, column);

        internal static KlInputException MinusInfinityLogTarget(long index, int row, int column) =>
            new KlInputException($"`target`{Place(row, column, index)} = −∞ (probability 0): PyTorch's log-target term exp(t)·(t − x) is 0·∞ = NaN there. "
                + "Such data wants `Masked = true`, which makes a zero-probability target contribute exactly 0",
                "target", index, row, double.NegativeInfinity, column);

        internal static KlInputException UnderflowingLogTarget(long index, double target, int row, int column, string type) =>
            new KlInputException($"`input`{Place(row, column, index)} = −∞ where `target` = {R(target)}, whose probability exp(t) underflows to 0 in {type}: "
                + "exp(t)·(t − x) is 0·∞ = NaN, masked or not. Write a zero-probability target as −∞ and set `Masked = true`",
                "input", index, row, double.NegativeInfinity, column);

        internal static KlInputException ZeroTargetGradient(long index, double value, int row, int column) =>
            new KlInputException($"`target`{Place(row, column, index)} = {R(value)}: the target gradient there, log t + 1 − x, is NaN (0/0, as in PyTorch's autograd). "
                + "`Masked = true` makes both gradients 0 where the target is 0; or leave `gradTarget` empty",
                "target", index, row, value, column);

        internal static KlInputException InfiniteTimesZeroScale(long index, int row, int column, double gradOutput) =>
            new KlInputException($"`input`{Place(row, column, index)} = −∞ where the target's probability is not 0, and the gradient scale "
                + $"(`gradOutput` {R(gradOutput)} divided by the reduction's divisor, in the data's type) is 0: the target gradient ∞·0 is NaN",
                "input", index, row, double.NegativeInfinity, column);

        internal static KlInputException EmptyMean(KlReductionKind reduction) =>
            new KlInputException("`input` is empty: " + (reduction == KlReductionKind.Mean
                    ? "Mean divides the sum 0 by the element count 0"
                    : "BatchMean with `batchSize` 0 divides the sum 0 by 0") + ", a NaN result (as in PyTorch)",
                "input", 0, -1, 0.0);

        internal static KlInputException GradOutputNotFinite(double gradOutput) =>
            new KlInputException($"`gradOutput` = {R(gradOutput)} is not finite: it makes the gradients NaN (∞·0 wherever a factor is 0)",
                "gradOutput", 0, -1, gradOutput);

        private static string Place(int row, int column, long index) =>
            row < 0 ? $"[{index}]" : $"[{row}, {column}] (element {index})";

        internal static KlInputException RowSumNotOne(int row, long index, double sum, double tolerance, bool logTarget) =>
            new KlInputException($"`target` row {row} (from element {index}) sums to {sum.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"
                + (logTarget ? " in probability (exp)" : "") + $", not 1 within {tolerance.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                "target", index, row, sum);

        internal static ArgumentOutOfRangeException BadTolerance(double tolerance) =>
            new ArgumentOutOfRangeException("options", tolerance, $"`options` RowSumTolerance {tolerance} must be a finite number ≥ 0");

        // ------------------------------------ DistillationOptions.ValidateInputs

        internal static KlInputException NotLogit(string name, int row, int column, long index, double value, double temperature) =>
            new KlInputException($"`{name}`[{row}, {column}] (element {index}) = {R(value)} "
                + (double.IsNaN(value) || double.IsInfinity(value)
                    ? "is not a logit: NaN and +∞ give a NaN loss (−∞ masks a class)"
                    : $"becomes +∞ divided by the temperature {R(temperature)}, which gives a NaN loss"),
                name, index, row, value, column);

        internal static KlInputException NoClass(string name, int row, long index) =>
            new KlInputException($"`{name}` row {row} (from element {index}) has no logit above −∞ (divided by the temperature): "
                + "its softmax is 0/0, a NaN loss", name, index, row, double.NegativeInfinity);

        internal static KlInputException TeacherNotLogProbability(int row, int column, long index, double value, double tolerance) =>
            new KlInputException($"`teacher`[{row}, {column}] (element {index}) = {R(value)} is not a log-probability "
                + $"(≤ 0, within min(log(1 + {R(tolerance)}), log 2))", "teacher", index, row, value, column);

        internal static KlInputException TeacherRowSumNotOne(int row, long index, double sum, double tolerance) =>
            new KlInputException($"`teacher` row {row} (from element {index}) sums to {R(sum)} in probability (exp), not 1 within {R(tolerance)}",
                "teacher", index, row, sum);

        internal static KlInputException StudentMasksTeacherClass(int row, int column, long index, double value, double teacher,
                                                                  double temperature, bool logProbabilities) =>
            new KlInputException($"`student`[{row}, {column}] (element {index}) = {R(value)} "
                + (double.IsInfinity(value) ? "" : $"becomes −∞ divided by the temperature {R(temperature)}, ")
                + $"where the teacher's class is not −∞ (`teacher` = {R(teacher)}, a {(logProbabilities ? "log-probability" : "logit")}): "
                + "the student gives probability 0 to a class the teacher does not, so the loss is +∞, its teacher gradient NaN, "
                + "and the loss NaN where the teacher's probability underflows. A masked class wants −∞ in the teacher too",
                "student", index, row, value, column);

        internal static KlInputException LogitSpread(string name, int row, int column, long index, double value, string bound, double temperature) =>
            new KlInputException($"`{name}`[{row}, {column}] (element {index}) = {R(value)} lies more than {bound} below its row's largest logit "
                + $"(both divided by the temperature {R(temperature)}"
                + (bound == "2^120" ? ", in float32 times log2(e)" : "") + "): the kernels' differences and sums could overflow to ∞ and give NaN",
                name, index, row, value, column);

        internal static KlInputException DistillNothingToAverage(KlReductionKind reduction, string name) =>
            new KlInputException((name == "rows" ? "`rows` is 0" : name == "rowWeights" ? "every `rowWeights` entry is 0" : "`columns` is 0")
                + $": {reduction} divides the sum 0 by " + (reduction == KlReductionKind.Mean ? "kept rows × columns" : "kept rows")
                + " = 0, a NaN loss", name, 0, -1, 0.0);

        internal static KlInputException TemperatureSquared(double temperature, double squared) =>
            new KlInputException($"`options.Temperature` {R(temperature)} squared is {R(squared)} in float64: with MultiplyLossByTemperatureSquared "
                + "the loss is 0·∞ = NaN (or ∞ − ∞ in a sum)", "options", 0, -1, temperature);

        internal static KlInputException GradScaleOverflow(int row, string which, double scale, double gradOutput, double weight, double t2,
                                                           double divisor, double temperature) =>
            new KlInputException($"row {row}'s {which} gradient scale, `gradOutput` {R(gradOutput)} × weight {R(weight)} × {R(t2)} (T² or 1) "
                + $"÷ divisor {R(divisor)} ÷ T {R(temperature)}{(which == "teacher" ? " (÷ log2(e) in float32)" : "")}, is {R(scale)} in the data's type: "
                + "the gradients would be ±∞, and NaN (∞·0) wherever a factor is 0", "gradOutput", 0, row, scale);

        internal static KlInputException LossesMayOverflow(int row, long offset, double bound, bool weighted) =>
            new KlInputException($"`{(weighted ? "rowWeights" : "student")}` row {row}: the row losses up to here may reach {R(bound)} in size "
                + "(weight × T² × the logits' spread): their sum could overflow to +∞ and −∞ at once, a NaN. Scale the weights, the temperature or the logits down",
                weighted ? "rowWeights" : "student", offset, row, bound);

        private static string R(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

        // --------------------------------------------------------------- state

        internal static ObjectDisposedException Disposed(string typeName) => new ObjectDisposedException(typeName);

        internal static InvalidOperationException DefaultLease(string typeName) =>
            new InvalidOperationException($"this {typeName}.Lease is default(Lease), not one from {typeName}.Acquire(): it has no memory");

        internal static DllNotFoundException NativeUnavailable(string reason) =>
            new DllNotFoundException("the native backend is unavailable: " + reason);
    }
}
