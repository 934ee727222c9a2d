// ManagedKernels.cs - one elementwise op's whole-span entry points (pointwise,
// a chunk's partial, the sum over all chunks, forward and backward), on the
// path a call selected (ManagedPaths). Instantiated once per op and element
// type (ManagedKernels<T, TOp>), so the backend picks the op once per call
// and every loop below is specialised for it.

using System;
using System.Diagnostics;
using NativeKl.Core;

namespace NativeKl.Managed
{
    internal abstract class ManagedKernels<T> where T : unmanaged
    {
        /// <summary>out[i] = L(input[i], target[i]), a NaN as the library's; output may be exactly input or target.</summary>
        public abstract void Pointwise(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> output);

        /// <summary>The partial of one chunk (at most ChunkElements elements), a NaN field as the library's NaN
        /// (as nkl_kl_div_partials_f32/_f64 return it).</summary>
        public abstract KlPartial Chunk(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target);

        /// <summary>
        /// Forward and backward for one chunk: writes gradInput (gradTarget and the terms into values
        /// where those are not empty) and returns the terms' partial. s is the upstream gradient over the divisor.
        /// </summary>
        protected abstract KlPartial GradChunk(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target, T s,
                                               Span<T> values, Span<T> gradInput, Span<T> gradTarget);

        /// <summary>All chunks combined in order: Total(Sum(...)) is the SUM reduction in double
        /// (round it to float for float data).</summary>
        public KlPartial Sum(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target)
        {
            Debug.Assert(input.Length == target.Length);
            var acc = new KlPartial();
            for (int off = 0; off < input.Length; off += ManagedKl.ChunkElements)
            {
                int len = Math.Min(ManagedKl.ChunkElements, input.Length - off);
                CanonicalSum.Combine(ref acc, Chunk(path, input.Slice(off, len), target.Slice(off, len)));
            }
            return acc;
        }

        /// <summary>
        /// <see cref="ManagedKl.Total"/> of <see cref="Sum"/>, bit for bit (as nkl_kl_div_f32). For float data
        /// in one chunk that is 0.0 + the chunk's sum: a float partial's compensation is +0 (the float32
        /// lane fold), so TwoSum into {0, 0} changes nothing but -0 into +0, which the + 0.0 does too.
        /// A small call's time is one dependency chain; this spares it TwoSum's seven adds.
        /// </summary>
        public double Total(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target)
        {
            if (Num.IsFloat<T>() && input.Length <= ManagedKl.ChunkElements)
                return input.Length == 0 ? 0.0 : 0.0 + Chunk(path, input, target).Sum;
            return ManagedKl.Total(Sum(path, input, target));
        }

        /// <summary>One chunk's forward and backward (no values): its own partial, NaN canonical, as
        /// nkl_kl_div_backward_partials_* writes it.</summary>
        public KlPartial GradPiece(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target, T s,
                                   Span<T> gradInput, Span<T> gradTarget)
        {
            Debug.Assert(input.Length <= ManagedKl.ChunkElements);
            return CanonicalSum.CanonicalNaN(GradChunk(path, input, target, s, default, gradInput, gradTarget));
        }

        /// <summary>
        /// Forward and backward over all chunks in order (the chunk loop of api.c's backward): writes
        /// gradInput, and gradTarget and the pointwise terms (values) where those are not empty;
        /// returns the combined partial of the terms, the same partial <see cref="Sum"/> gives.
        /// s is the upstream gradient over the divisor, already rounded to T.
        /// </summary>
        public KlPartial Grad(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target, T s,
                              Span<T> values, Span<T> gradInput, Span<T> gradTarget)
        {
            Debug.Assert(input.Length == target.Length && gradInput.Length >= input.Length);
            Debug.Assert((values.IsEmpty || values.Length >= input.Length) && (gradTarget.IsEmpty || gradTarget.Length >= input.Length));
            bool hasValues = !values.IsEmpty, hasGradTarget = !gradTarget.IsEmpty;
            var acc = new KlPartial();
            for (int off = 0; off < input.Length; off += ManagedKl.ChunkElements)
            {
                int len = Math.Min(ManagedKl.ChunkElements, input.Length - off);
                CanonicalSum.Combine(ref acc, GradChunk(path, input.Slice(off, len), target.Slice(off, len), s,
                    hasValues ? values.Slice(off, len) : default, gradInput.Slice(off, len),
                    hasGradTarget ? gradTarget.Slice(off, len) : default));
            }
            return acc;
        }
    }

    /// <summary>The entry points of op TOp: the scalar kernels or the path's vector kernels, for T's element type.</summary>
    internal sealed class ManagedKernels<T, TOp> : ManagedKernels<T> where T : unmanaged where TOp : struct, IElementwiseOp
    {
        internal static readonly ManagedKernels<T, TOp> Instance = new ManagedKernels<T, TOp>();

        private ManagedKernels() { }

        public override void Pointwise(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> output)
        {
            Debug.Assert(input.Length == target.Length && output.Length >= input.Length);
            bool f32 = Num.IsFloat<T>();
#if NET8_0_OR_GREATER
            if (path == ManagedPath.Avx2)
            {
                if (f32) Avx2Kernels.Pointwise<TOp>(Num.AsFloat(input), Num.AsFloat(target), Num.AsFloat(output));
                else Avx2Kernels.Pointwise<TOp>(Num.AsDouble(input), Num.AsDouble(target), Num.AsDouble(output));
                return;
            }
            if (path == ManagedPath.Vector128)
            {
                if (f32) Vector128Kernels.Pointwise<TOp>(Num.AsFloat(input), Num.AsFloat(target), Num.AsFloat(output));
                else Vector128Kernels.Pointwise<TOp>(Num.AsDouble(input), Num.AsDouble(target), Num.AsDouble(output));
                return;
            }
#endif
            if (f32) ScalarKernels.Pointwise<float, F32Ops, TOp>(Num.AsFloat(input), Num.AsFloat(target), Num.AsFloat(output));
            else ScalarKernels.Pointwise<double, F64Ops, TOp>(Num.AsDouble(input), Num.AsDouble(target), Num.AsDouble(output));
        }

        public override KlPartial Chunk(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target)
        {
            Debug.Assert(input.Length == target.Length && input.Length <= ManagedKl.ChunkElements);
            bool f32 = Num.IsFloat<T>();
#if NET8_0_OR_GREATER
            if (path == ManagedPath.Avx2)
                return CanonicalSum.CanonicalNaN(f32
                    ? Avx2Kernels.Chunk<TOp>(Num.AsFloat(input), Num.AsFloat(target))
                    : Avx2Kernels.Chunk<TOp>(Num.AsDouble(input), Num.AsDouble(target)));
            if (path == ManagedPath.Vector128)
                return CanonicalSum.CanonicalNaN(f32
                    ? Vector128Kernels.Chunk<TOp>(Num.AsFloat(input), Num.AsFloat(target))
                    : Vector128Kernels.Chunk<TOp>(Num.AsDouble(input), Num.AsDouble(target)));
#endif
            return CanonicalSum.CanonicalNaN(f32
                ? ScalarKernels.Chunk<float, F32Ops, TOp>(Num.AsFloat(input), Num.AsFloat(target))
                : ScalarKernels.Chunk<double, F64Ops, TOp>(Num.AsDouble(input), Num.AsDouble(target)));
        }

        protected override KlPartial GradChunk(ManagedPath path, ReadOnlySpan<T> input, ReadOnlySpan<T> target, T s,
                                               Span<T> values, Span<T> gradInput, Span<T> gradTarget)
        {
            bool f32 = Num.IsFloat<T>();
#if NET8_0_OR_GREATER
            if (path == ManagedPath.Avx2)
                return f32
                    ? Avx2Kernels.Grad<TOp>(Num.AsFloat(input), Num.AsFloat(target), Num.ValueAsFloat(s),
                        Num.AsFloat(values), Num.AsFloat(gradInput), Num.AsFloat(gradTarget))
                    : Avx2Kernels.Grad<TOp>(Num.AsDouble(input), Num.AsDouble(target), Num.ValueAsDouble(s),
                        Num.AsDouble(values), Num.AsDouble(gradInput), Num.AsDouble(gradTarget));
            if (path == ManagedPath.Vector128)
                return f32
                    ? Vector128Kernels.Grad<TOp>(Num.AsFloat(input), Num.AsFloat(target), Num.ValueAsFloat(s),
                        Num.AsFloat(values), Num.AsFloat(gradInput), Num.AsFloat(gradTarget))
                    : Vector128Kernels.Grad<TOp>(Num.AsDouble(input), Num.AsDouble(target), Num.ValueAsDouble(s),
                        Num.AsDouble(values), Num.AsDouble(gradInput), Num.AsDouble(gradTarget));
#endif
            return f32
                ? ScalarKernels.Grad<float, F32Ops, TOp>(Num.AsFloat(input), Num.AsFloat(target), Num.ValueAsFloat(s),
                    Num.AsFloat(values), Num.AsFloat(gradInput), Num.AsFloat(gradTarget))
                : ScalarKernels.Grad<double, F64Ops, TOp>(Num.AsDouble(input), Num.AsDouble(target), Num.ValueAsDouble(s),
                    Num.AsDouble(values), Num.AsDouble(gradInput), Num.AsDouble(gradTarget));
        }
    }
}
