using System;
using NativeKl.Core;

namespace NativeKl.Validation
{
    internal static partial class Validate
    {
        // KlDivergence's checks that look at the spans themselves: overlaps, and the optional input pass.

        /// <summary>The destination of Pointwise may be exactly input or target (in place), not shifted against them.</summary>
        internal static void InPlaceOnly<T>(ReadOnlySpan<T> destination, ReadOnlySpan<T> input, ReadOnlySpan<T> target)
        {
            InPlaceOrDisjoint(destination, "destination", input, "input");
            InPlaceOrDisjoint(destination, "destination", target, "target");
        }

        /// <summary>The outputs of a backward call (already sliced; empty ones not wanted) are disjoint from the inputs and each other.</summary>
        internal static void BackwardOutputs<T>(ReadOnlySpan<T> values, ReadOnlySpan<T> gradInput, ReadOnlySpan<T> gradTarget,
                                                ReadOnlySpan<T> input, ReadOnlySpan<T> target)
        {
            Disjoint(gradInput, "gradInput", input, "input");
            Disjoint(gradInput, "gradInput", target, "target");
            Disjoint(gradTarget, "gradTarget", input, "input");
            Disjoint(gradTarget, "gradTarget", target, "target");
            Disjoint(gradTarget, "gradTarget", gradInput, "gradInput");
            Disjoint(values, "values", input, "input");
            Disjoint(values, "values", target, "target");
            Disjoint(values, "values", gradInput, "gradInput");
            Disjoint(values, "values", gradTarget, "gradTarget");
        }

        /// <summary>The per-row results need memory of their own: no overlap with the rows the inputs span.</summary>
        internal static void RowsOutput<T>(ReadOnlySpan<T> destination, ReadOnlySpan<T> input, ReadOnlySpan<T> target)
        {
            if (destination.Overlaps(input)) throw Error.Overlap("destination", "input");
            if (destination.Overlaps(target)) throw Error.Overlap("destination", "target");
        }

        /// <summary><see cref="KlOptions.ValidateInputs"/>'s pass, for either element type: elements, and rows of BatchMean's batch when rows &gt; 0.</summary>
        internal static void Inputs<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int rows, KlOptions options,
                                       InputValidation.Call call) where T : unmanaged
        {
            InputValidation.Check(input, target, rows, options, call);
        }

        /// <summary><see cref="KlOptions.ValidateInputs"/>'s pass over strided rows, for either element type.</summary>
        internal static void RowInputs<T>(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride,
                                          int rows, int columns, KlOptions options) where T : unmanaged
        {
            InputValidation.CheckRows(input, inputStride, target, targetStride, rows, columns, options);
        }
    }
}
