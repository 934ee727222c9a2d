using System;
using System.Runtime.CompilerServices;
using NativeKl.Backends;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Interop
{
    /// <summary>
    /// The native implementation of the seam, and the only code that pins memory and calls the
    /// generated P/Invokes: arguments are already validated, and every status goes through the
    /// generated <see cref="NativeChecked"/> wrappers (<see cref="Error.Check"/>). Each method picks
    /// the f32 or f64 entry point by the element type (a test the JIT folds away).
    /// </summary>
    internal sealed unsafe class NativeBackend<T> : IKlBackend<T> where T : unmanaged
    {
        internal static readonly NativeBackend<T> Instance = new NativeBackend<T>();

        private NativeBackend() { }

        private static bool F32 => typeof(T) == typeof(float);

        public T Reduce(ReadOnlySpan<T> input, ReadOnlySpan<T> target, in KlPlan plan)
        {
            T result;
            fixed (T* x = input)
            fixed (T* t = target)
                KlDiv(x, t, plan.Length, plan.Reduction, plan.BatchSize, Flags(plan), &result);
            return result;
        }

        [MethodImpl(MethodImplOptions.NoInlining)] // as KlDiv
        public void Pointwise(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, in KlPlan plan)
        {
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (T* d = destination)
            {
                if (F32)
                {
                    if (Short(plan.Length))
                        NativeChecked.nkl_kl_div_pointwise_f32_short((float*)x, (float*)t, (nuint)plan.Length, Flags(plan), (float*)d);
                    else
                        NativeChecked.nkl_kl_div_pointwise_f32((float*)x, (float*)t, (nuint)plan.Length, Flags(plan), (float*)d);
                }
                else
                {
                    if (Short(plan.Length))
                        NativeChecked.nkl_kl_div_pointwise_f64_short((double*)x, (double*)t, (nuint)plan.Length, Flags(plan), (double*)d);
                    else
                        NativeChecked.nkl_kl_div_pointwise_f64((double*)x, (double*)t, (nuint)plan.Length, Flags(plan), (double*)d);
                }
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)] // as KlDiv
        public void Rows(ReadOnlySpan<T> input, int inputStride, ReadOnlySpan<T> target, int targetStride, int rows,
                         Span<T> destination, in KlPlan plan)
        {
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (T* d = destination)
            {
                if (F32)
                {
                    if (Short((long)rows * plan.Length))
                        NativeChecked.nkl_kl_div_rows_f32_short((float*)x, (nuint)inputStride, (float*)t, (nuint)targetStride,
                            (nuint)rows, (nuint)plan.Length, Flags(plan), (float*)d);
                    else
                        NativeChecked.nkl_kl_div_rows_f32((float*)x, (nuint)inputStride, (float*)t, (nuint)targetStride,
                            (nuint)rows, (nuint)plan.Length, Flags(plan), (float*)d);
                }
                else
                {
                    if (Short((long)rows * plan.Length))
                        NativeChecked.nkl_kl_div_rows_f64_short((double*)x, (nuint)inputStride, (double*)t, (nuint)targetStride,
                            (nuint)rows, (nuint)plan.Length, Flags(plan), (double*)d);
                    else
                        NativeChecked.nkl_kl_div_rows_f64((double*)x, (nuint)inputStride, (double*)t, (nuint)targetStride,
                            (nuint)rows, (nuint)plan.Length, Flags(plan), (double*)d);
                }
            }
        }

        /// <summary>
        /// nkl_kl_div_backward_* (the reduced value is returned), or for None
        /// nkl_kl_div_pointwise_backward_* (the terms go to values, which may be empty; 0 is returned).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)] // as KlDiv
        public T Backward(ReadOnlySpan<T> input, ReadOnlySpan<T> target, T gradOutput, Span<T> values, Span<T> gradInput,
                          Span<T> gradTarget, in KlPlan plan)
        {
            T value = default;
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (T* vs = values)
            fixed (T* gx = gradInput)
            fixed (T* gt = gradTarget)
            {
                var n = (nuint)plan.Length;
                var reduction = (nkl_reduction)plan.Reduction;
                bool pointwise = plan.Reduction == KlReductionKind.None;
                if (pointwise && F32)
                {
                    if (Short(plan.Length))
                        NativeChecked.nkl_kl_div_pointwise_backward_f32_short((float*)x, (float*)t, n, Flags(plan),
                            Num.ValueAsFloat(gradOutput), (float*)vs, (float*)gx, (float*)gt);
                    else
                        NativeChecked.nkl_kl_div_pointwise_backward_f32((float*)x, (float*)t, n, Flags(plan),
                            Num.ValueAsFloat(gradOutput), (float*)vs, (float*)gx, (float*)gt);
                }
                else if (pointwise)
                {
                    if (Short(plan.Length))
                        NativeChecked.nkl_kl_div_pointwise_backward_f64_short((double*)x, (double*)t, n, Flags(plan),
                            Num.ValueAsDouble(gradOutput), (double*)vs, (double*)gx, (double*)gt);
                    else
                        NativeChecked.nkl_kl_div_pointwise_backward_f64((double*)x, (double*)t, n, Flags(plan),
                            Num.ValueAsDouble(gradOutput), (double*)vs, (double*)gx, (double*)gt);
                }
                else if (F32)
                {
                    if (Short(plan.Length))
                        NativeChecked.nkl_kl_div_backward_f32_short((float*)x, (float*)t, n, reduction, (nuint)plan.BatchSize,
                            Flags(plan), Num.ValueAsFloat(gradOutput), (float*)&value, (float*)gx, (float*)gt);
                    else
                        NativeChecked.nkl_kl_div_backward_f32((float*)x, (float*)t, n, reduction, (nuint)plan.BatchSize,
                            Flags(plan), Num.ValueAsFloat(gradOutput), (float*)&value, (float*)gx, (float*)gt);
                }
                else
                {
                    if (Short(plan.Length))
                        NativeChecked.nkl_kl_div_backward_f64_short((double*)x, (double*)t, n, reduction, (nuint)plan.BatchSize,
                            Flags(plan), Num.ValueAsDouble(gradOutput), (double*)&value, (double*)gx, (double*)gt);
                    else
                        NativeChecked.nkl_kl_div_backward_f64((double*)x, (double*)t, n, reduction, (nuint)plan.BatchSize,
                            Flags(plan), Num.ValueAsDouble(gradOutput), (double*)&value, (double*)gx, (double*)gt);
                }
            }
            return value;
        }

        public void Partials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials, in KlPlan plan)
        {
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (KlPartial* p = partials)
            {
                if (F32)
                    NativeChecked.nkl_kl_div_partials_f32((float*)x, (float*)t, (nuint)input.Length, Flags(plan),
                        (nuint)firstChunk, (nuint)partials.Length, (nkl_partial*)p);
                else
                    NativeChecked.nkl_kl_div_partials_f64((double*)x, (double*)t, (nuint)input.Length, Flags(plan),
                        (nuint)firstChunk, (nuint)partials.Length, (nkl_partial*)p);
            }
        }

        public void BackwardPartials(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int firstChunk, Span<KlPartial> partials,
                                     Span<T> gradInput, Span<T> gradTarget, T gradOutput, in KlPlan plan)
        {
            fixed (T* x = input)
            fixed (T* t = target)
            fixed (KlPartial* p = partials)
            fixed (T* gx = gradInput)
            fixed (T* gt = gradTarget)
            {
                var n = (nuint)input.Length;
                var reduction = (nkl_reduction)plan.Reduction;
                if (F32)
                    NativeChecked.nkl_kl_div_backward_partials_f32((float*)x, (float*)t, n, reduction, (nuint)plan.BatchSize,
                        Flags(plan), Num.ValueAsFloat(gradOutput), (nuint)firstChunk, (nuint)partials.Length, (nkl_partial*)p,
                        (float*)gx, (float*)gt);
                else
                    NativeChecked.nkl_kl_div_backward_partials_f64((double*)x, (double*)t, n, reduction, (nuint)plan.BatchSize,
                        Flags(plan), Num.ValueAsDouble(gradOutput), (nuint)firstChunk, (nuint)partials.Length, (nkl_partial*)p,
                        (double*)gx, (double*)gt);
            }
        }

        public double Finish(ReadOnlySpan<KlPartial> partials, in KlPlan plan)
        {
            double result;
            fixed (KlPartial* p = partials)
                NativeChecked.nkl_partials_finish((nkl_partial*)p, (nuint)partials.Length, (nuint)plan.Length,
                    (nkl_reduction)plan.Reduction, (nuint)plan.BatchSize, &result);
            return result;
        }

        private static nkl_distill_desc Desc(in DistillPlan plan) => new nkl_distill_desc
        {
            rows = (nuint)plan.Rows,
            cols = (nuint)plan.Columns,
            student_stride = (nuint)plan.StudentStride,
            teacher_stride = (nuint)plan.TeacherStride,
            temperature = plan.Temperature,
            reduction = (int)plan.Reduction,
            flags = Flags(plan),
        };

        public void DistillPartials(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, int firstRow,
                                    Span<double> rowPartials, bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher,
                                    in DistillPlan plan)
        {
            nkl_distill_desc desc = Desc(plan);
            nuint first = (nuint)firstRow, count = (nuint)rowPartials.Length;
            fixed (T* s = student)
            fixed (T* u = teacher)
            fixed (T* w = rowWeights)
            fixed (double* p = rowPartials)
            fixed (T* gs = gradStudent)
            fixed (T* gu = gradTeacher)
            {
                if (!backward && F32)
                    NativeChecked.nkl_distill_partials_f32(&desc, (float*)s, (float*)u, (float*)w, first, count, p);
                else if (!backward)
                    NativeChecked.nkl_distill_partials_f64(&desc, (double*)s, (double*)u, (double*)w, first, count, p);
                else if (F32)
                    NativeChecked.nkl_distill_backward_partials_f32(&desc, (float*)s, (float*)u, (float*)w, Num.ValueAsFloat(gradOutput),
                        first, count, p, (float*)gs, desc.student_stride, (float*)gu, desc.teacher_stride);
                else
                    NativeChecked.nkl_distill_backward_partials_f64(&desc, (double*)s, (double*)u, (double*)w, Num.ValueAsDouble(gradOutput),
                        first, count, p, (double*)gs, desc.student_stride, (double*)gu, desc.teacher_stride);
            }
        }

        public T DistillFinish(ReadOnlySpan<double> rowPartials, ReadOnlySpan<T> rowWeights, in DistillPlan plan)
        {
            nkl_distill_desc desc = Desc(plan);
            T value = default;
            fixed (T* w = rowWeights)
            fixed (double* p = rowPartials)
            {
                if (F32) NativeChecked.nkl_distill_finish_f32(&desc, (float*)w, p, (float*)&value);
                else NativeChecked.nkl_distill_finish_f64(&desc, (double*)w, p, (double*)&value);
            }
            return value;
        }

        [MethodImpl(MethodImplOptions.NoInlining)] // as KlDiv
        public T Distill(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights, Span<T> rowLosses,
                         bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher, in DistillPlan plan)
        {
            nkl_distill_desc desc = Desc(plan);
            T value = default;
            fixed (T* s = student)
            fixed (T* u = teacher)
            fixed (T* w = rowWeights)
            fixed (T* rl = rowLosses)
            fixed (T* gs = gradStudent)
            fixed (T* gu = gradTeacher)
            {
                // None: the rows entry points, one loss per row into rowLosses (which the backward may leave empty)
                if (plan.Reduction == KlReductionKind.None)
                {
                    if (!backward && F32)
                    {
                        if (Short((long)plan.Rows * plan.Columns))
                            NativeChecked.nkl_distill_rows_f32_short(&desc, (float*)s, (float*)u, (float*)w, (float*)rl);
                        else
                            NativeChecked.nkl_distill_rows_f32(&desc, (float*)s, (float*)u, (float*)w, (float*)rl);
                    }
                    else if (!backward)
                    {
                        if (Short((long)plan.Rows * plan.Columns))
                            NativeChecked.nkl_distill_rows_f64_short(&desc, (double*)s, (double*)u, (double*)w, (double*)rl);
                        else
                            NativeChecked.nkl_distill_rows_f64(&desc, (double*)s, (double*)u, (double*)w, (double*)rl);
                    }
                    else if (F32)
                    {
                        if (Short((long)plan.Rows * plan.Columns))
                            NativeChecked.nkl_distill_rows_backward_f32_short(&desc, (float*)s, (float*)u, (float*)w, Num.ValueAsFloat(gradOutput),
                                (float*)rl, (float*)gs, desc.student_stride, (float*)gu, desc.teacher_stride);
                        else
                            NativeChecked.nkl_distill_rows_backward_f32(&desc, (float*)s, (float*)u, (float*)w, Num.ValueAsFloat(gradOutput),
                                (float*)rl, (float*)gs, desc.student_stride, (float*)gu, desc.teacher_stride);
                    }
                    else
                    {
                        if (Short((long)plan.Rows * plan.Columns))
                            NativeChecked.nkl_distill_rows_backward_f64_short(&desc, (double*)s, (double*)u, (double*)w, Num.ValueAsDouble(gradOutput),
                                (double*)rl, (double*)gs, desc.student_stride, (double*)gu, desc.teacher_stride);
                        else
                            NativeChecked.nkl_distill_rows_backward_f64(&desc, (double*)s, (double*)u, (double*)w, Num.ValueAsDouble(gradOutput),
                                (double*)rl, (double*)gs, desc.student_stride, (double*)gu, desc.teacher_stride);
                    }
                }
                else if (!backward && F32)
                {
                    if (Short((long)plan.Rows * plan.Columns))
                        NativeChecked.nkl_distill_f32_short(&desc, (float*)s, (float*)u, (float*)w, (float*)&value);
                    else
                        NativeChecked.nkl_distill_f32(&desc, (float*)s, (float*)u, (float*)w, (float*)&value);
                }
                else if (!backward)
                {
                    if (Short((long)plan.Rows * plan.Columns))
                        NativeChecked.nkl_distill_f64_short(&desc, (double*)s, (double*)u, (double*)w, (double*)&value);
                    else
                        NativeChecked.nkl_distill_f64(&desc, (double*)s, (double*)u, (double*)w, (double*)&value);
                }
                else if (F32)
                {
                    if (Short((long)plan.Rows * plan.Columns))
                        NativeChecked.nkl_distill_backward_f32_short(&desc, (float*)s, (float*)u, (float*)w, Num.ValueAsFloat(gradOutput),
                            (float*)&value, (float*)gs, desc.student_stride, (float*)gu, desc.teacher_stride);
                    else
                        NativeChecked.nkl_distill_backward_f32(&desc, (float*)s, (float*)u, (float*)w, Num.ValueAsFloat(gradOutput),
                            (float*)&value, (float*)gs, desc.student_stride, (float*)gu, desc.teacher_stride);
                }
                else
                {
                    if (Short((long)plan.Rows * plan.Columns))
                        NativeChecked.nkl_distill_backward_f64_short(&desc, (double*)s, (double*)u, (double*)w, Num.ValueAsDouble(gradOutput),
                            (double*)&value, (double*)gs, desc.student_stride, (double*)gu, desc.teacher_stride);
                    else
                        NativeChecked.nkl_distill_backward_f64(&desc, (double*)s, (double*)u, (double*)w, Num.ValueAsDouble(gradOutput),
                            (double*)&value, (double*)gs, desc.student_stride, (double*)gu, desc.teacher_stride);
                }
            }
            return value;
        }

        // Never inlined into the caller (KlCore.Reduce, through guarded devirtualization): there, with a
        // profile dominated by the managed backend, the JIT can judge this block rarely run, and it does
        // not inline a P/Invoke in a rarely run block; a 6-element Sum on Native then took 200-247 ns in
        // BenchmarkDotNet (SmallNBenchmarks) instead of 32.8 ns with this attribute.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void KlDiv(T* input, T* target, int length, KlReductionKind reduction, int batchSize, uint flags, T* output)
        {
            if (F32)
            {
                if (Short(length))
                    NativeChecked.nkl_kl_div_f32_short((float*)input, (float*)target, (nuint)length, (nkl_reduction)reduction,
                        (nuint)batchSize, flags, (float*)output);
                else
                    NativeChecked.nkl_kl_div_f32((float*)input, (float*)target, (nuint)length, (nkl_reduction)reduction,
                        (nuint)batchSize, flags, (float*)output);
            }
            else
            {
                if (Short(length))
                    NativeChecked.nkl_kl_div_f64_short((double*)input, (double*)target, (nuint)length, (nkl_reduction)reduction,
                        (nuint)batchSize, flags, (double*)output);
                else
                    NativeChecked.nkl_kl_div_f64((double*)input, (double*)target, (nuint)length, (nkl_reduction)reduction,
                        (nuint)batchSize, flags, (double*)output);
            }
        }

        /// <summary>
        /// The most elements a call may take through the *_short imports, which skip the GC
        /// transition ([SuppressGCTransition], generated by BindGen for every compute entry point).
        /// While such a call runs the GC cannot suspend this thread, so a collection on any other
        /// thread waits for it: the import is only for calls bounded to be short. 1,024 elements
        /// take about 0.6 µs forward on AVX2 (a few µs for a backward, a distillation block or the
        /// scalar path), while the transition costs a few ns per call, which matters only at such
        /// lengths. Longer calls keep the transition, so a 16M-element call (~10 ms) never holds
        /// up a collection. docs/maintaining.md states the rule.
        /// </summary>
        internal const long ShortCallElements = 1024;

        private static bool Short(long elements) => elements <= ShortCallElements;

        /// <summary>The C API's flags for a plan's semantics and ISA.</summary>
        private static uint Flags(in KlPlan plan) =>
            (plan.LogTarget ? NativeMethods.NKL_LOG_TARGET : 0u) | (plan.Masked ? NativeMethods.NKL_MASKED : 0u) | IsaFlags(plan.Isa);

        private static uint Flags(in DistillPlan plan) =>
            (plan.TeacherLogProbabilities ? NativeMethods.NKL_TEACHER_LOG_PROBS_AS_GIVEN : 0u)
            | (plan.MultiplyLossByTemperatureSquared ? NativeMethods.NKL_MULTIPLY_LOSS_BY_T2 : 0u)
            | IsaFlags(plan.Isa);

        private static uint IsaFlags(KlIsa isa) => isa switch
        {
            KlIsa.Scalar => NativeMethods.NKL_FORCE_SCALAR,
            KlIsa.Avx2 => NativeMethods.NKL_FORCE_AVX2,
            KlIsa.Neon => NativeMethods.NKL_FORCE_NEON,
            _ => 0u,
        };
    }
}
