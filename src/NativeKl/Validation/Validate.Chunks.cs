using System;
using System.Runtime.InteropServices;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Validation
{
    internal static partial class Validate
    {
        // The chunk API's checks (KlDivergence.Partials, BackwardPartials, Finish).

        internal static int ChunkCount(int length)
        {
            if (length < 0) throw Error.Negative("length", length);
            return (int)(((long)length + ManagedKl.ChunkElements - 1) / ManagedKl.ChunkElements);
        }

        /// <summary>Chunks firstChunk .. firstChunk + count − 1 of length elements exist.</summary>
        private static void ChunkRange(int firstChunk, int count, int length)
        {
            if (firstChunk < 0) throw Error.Negative("firstChunk", firstChunk);
            int chunks = ChunkCount(length);
            if (firstChunk > chunks || count > chunks - firstChunk) throw Error.ChunkRange(firstChunk, count, chunks, length);
        }

        internal static KlPlan Partials(int inputLength, int targetLength, int firstChunk, int count, KlReduction reduction, KlOptions options)
        {
            if (targetLength != inputLength) throw Error.LengthMismatch("target", targetLength, "input", inputLength);
            Batch(reduction, inputLength);
            ChunkRange(firstChunk, count, inputLength);
            Options(options);
            if (options.ValidateInputs) throw Error.PiecesValidateInputs();
            return new KlPlan(inputLength, reduction.Kind, reduction.BatchSize, options);
        }

        internal static KlPlan BackwardPartials(int inputLength, int targetLength, int firstChunk, int count,
                                                int gradInputLength, int gradTargetLength, KlReduction reduction, KlOptions options)
        {
            if (targetLength != inputLength) throw Error.LengthMismatch("target", targetLength, "input", inputLength);
            if (gradInputLength < inputLength) throw Error.TooShort("gradInput", gradInputLength, "`input` length", inputLength);
            if (gradTargetLength != 0 && gradTargetLength < inputLength)
                throw Error.TooShort("gradTarget", gradTargetLength, "`input` length", inputLength);
            return Partials(inputLength, targetLength, firstChunk, count, reduction, options);
        }

        internal static KlPlan Finish(int count, int length, KlReduction reduction)
        {
            int chunks = ChunkCount(length);
            if (count != chunks) throw Error.PartialsCount(count, chunks, length);
            Batch(reduction, length);
            return new KlPlan(length, reduction.Kind, reduction.BatchSize, default);
        }

        /// <summary>The partials share no memory with the data or the gradients (already sliced; empty: none).</summary>
        internal static void PartialsOutput<T>(ReadOnlySpan<KlPartial> partials, ReadOnlySpan<T> input, ReadOnlySpan<T> target,
                                               ReadOnlySpan<T> gradInput, ReadOnlySpan<T> gradTarget) where T : unmanaged
        {
            ReadOnlySpan<byte> p = MemoryMarshal.AsBytes(partials);
            if (p.Overlaps(MemoryMarshal.AsBytes(input))) throw Error.OutputOverlap("partials", "input");
            if (p.Overlaps(MemoryMarshal.AsBytes(target))) throw Error.OutputOverlap("partials", "target");
            if (p.Overlaps(MemoryMarshal.AsBytes(gradInput))) throw Error.OutputOverlap("partials", "gradInput");
            if (p.Overlaps(MemoryMarshal.AsBytes(gradTarget))) throw Error.OutputOverlap("partials", "gradTarget");
        }
    }
}
