using System;
using System.Runtime.CompilerServices;
using NativeKl.Core;

namespace NativeKl.Validation
{
    /// <summary>
    /// Every argument and overlap check of the public API (this file: <see cref="KlDivergence"/>;
    /// Validate.Distillation.cs: <see cref="Distillation"/>), made before any backend runs, so the
    /// native core's own checks never fire for a caller's mistake. A check that passes returns the
    /// call's plan; <see cref="InputValidation"/> and <see cref="DistillationInputValidation"/> are
    /// the optional passes over the data.
    /// </summary>
    internal static partial class Validate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Options(KlOptions options)
        {
            if (!options.Common.AreDefined) throw Error.BadOptions(options);
            if (!options.Common.ToleranceIsValid) throw Error.BadTolerance(options.RowSumTolerance);
        }

        internal static KlPlan Reduce(int inputLength, int targetLength, KlReduction reduction, int batchSize,
                                      KlOptions options, int degreeOfParallelism)
        {
            if (targetLength != inputLength) throw Error.LengthMismatch("target", targetLength, "input", inputLength);
            if ((uint)reduction > (uint)KlReduction.BatchMean) throw Error.UnknownReduction(reduction);
            if (reduction == KlReduction.None) throw Error.ReductionNone();
            if (reduction == KlReduction.BatchMean)
            {
                // An empty input with batch 0 is PyTorch's shape [0]: 0/0 = NaN, as the C core does.
                if (batchSize < 0 || (batchSize == 0 && inputLength > 0)) throw Error.BatchSizeNotPositive(batchSize, inputLength);
                if (batchSize > 0 && inputLength % batchSize != 0) throw Error.BatchSizeDoesNotDivide(batchSize, inputLength);
            }
            if (degreeOfParallelism < 1) throw Error.DegreeOfParallelism(degreeOfParallelism);
            Options(options);
            return new KlPlan(inputLength, reduction, batchSize, options);
        }

        internal static KlPlan Pointwise(int inputLength, int targetLength, int destinationLength, KlOptions options)
        {
            if (targetLength != inputLength) throw Error.LengthMismatch("target", targetLength, "input", inputLength);
            if (destinationLength < inputLength) throw Error.TooShort("destination", destinationLength, "`input` length", inputLength);
            Options(options);
            return new KlPlan(inputLength, KlReduction.None, 0, options);
        }

        /// <summary>
        /// Checks a backward call: reduction None for <c>PointwiseBackward</c> (pointwise true), a
        /// reduction otherwise. gradTarget and values may be empty (not wanted); if not, they must
        /// hold <c>input.Length</c> elements.
        /// </summary>
        internal static KlPlan Backward(int inputLength, int targetLength, KlReduction reduction, int batchSize, bool pointwise,
                                        int gradInputLength, int gradTargetLength, int valuesLength, KlOptions options)
        {
            if (targetLength != inputLength) throw Error.LengthMismatch("target", targetLength, "input", inputLength);
            if (!pointwise)
            {
                if ((uint)reduction > (uint)KlReduction.BatchMean) throw Error.UnknownReduction(reduction);
                if (reduction == KlReduction.None) throw Error.ReductionNone("PointwiseBackward");
                if (reduction == KlReduction.BatchMean)
                {
                    if (batchSize < 0 || (batchSize == 0 && inputLength > 0)) throw Error.BatchSizeNotPositive(batchSize, inputLength);
                    if (batchSize > 0 && inputLength % batchSize != 0) throw Error.BatchSizeDoesNotDivide(batchSize, inputLength);
                }
            }
            if (gradInputLength < inputLength) throw Error.TooShort("gradInput", gradInputLength, "`input` length", inputLength);
            if (gradTargetLength != 0 && gradTargetLength < inputLength)
                throw Error.TooShort("gradTarget", gradTargetLength, "`input` length", inputLength);
            if (valuesLength != 0 && valuesLength < inputLength)
                throw Error.TooShort("values", valuesLength, "`input` length", inputLength);
            Options(options);
            return new KlPlan(inputLength, pointwise ? KlReduction.None : reduction, batchSize, options);
        }

        /// <summary>An output of a backward call must share no memory with an input or another output.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Disjoint<T>(ReadOnlySpan<T> output, string name, ReadOnlySpan<T> other, string otherName)
        {
            if (output.Overlaps(other)) throw Error.OutputOverlap(name, otherName);
        }

        /// <summary>Checks a [rows, columns] layout; returns the elements input and target span.</summary>
        internal static KlPlan Rows(int inputLength, int inputStride, int targetLength, int targetStride, int rows, int columns,
                                    int destinationLength, KlOptions options, out int inputExtent, out int targetExtent)
        {
            if (rows < 0) throw Error.Negative("rows", rows);
            if (columns < 0) throw Error.Negative("columns", columns);
            if (inputStride < columns) throw Error.StrideTooSmall("inputStride", inputStride, columns);
            if (targetStride < columns) throw Error.StrideTooSmall("targetStride", targetStride, columns);
            long inputNeeded = Extent(rows, columns, inputStride);
            long targetNeeded = Extent(rows, columns, targetStride);
            if (inputLength < inputNeeded) throw Error.RowsDoNotFit("input", inputLength, rows, columns, inputStride, inputNeeded);
            if (targetLength < targetNeeded) throw Error.RowsDoNotFit("target", targetLength, rows, columns, targetStride, targetNeeded);
            if (destinationLength < rows) throw Error.TooShort("destination", destinationLength, "`rows`", rows);
            Options(options);
            inputExtent = (int)inputNeeded;
            targetExtent = (int)targetNeeded;
            return new KlPlan(columns, KlReduction.Sum, 0, options);
        }

        internal static void ContiguousRows(int inputLength, int targetLength, int rows, int columns)
        {
            if (rows < 0) throw Error.Negative("rows", rows);
            if (columns < 0) throw Error.Negative("columns", columns);
            if (inputLength != (long)rows * columns) throw Error.ShapeMismatch("input", inputLength, rows, columns);
            if (targetLength != inputLength) throw Error.LengthMismatch("target", targetLength, "input", inputLength);
        }

        /// <summary>Elements that rows of columns at a stride span: (rows − 1) × stride + columns, or 0 for no data.</summary>
        internal static long Extent(int rows, int columns, int stride) =>
            rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * stride + columns;

    }
}
