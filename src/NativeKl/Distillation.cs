using System;
using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl
{
    /// <summary>
    /// Knowledge distillation (and policy matching) from raw logits, fused: for [rows, columns]
    /// student logits s and teacher logits u and a temperature T, each row's
    /// KL(softmax(u / T) ‖ softmax(s / T)) — PyTorch's
    /// <c>F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction) [* T²]</c> — and its
    /// gradients, in one read of each row for the value and one more for the gradients, with no
    /// temporary of the data's size. Stable for logits of any magnitude (online log-sum-exp); -∞
    /// logits mask classes out (p = 0 contributes exactly 0). Options: the temperature, teacher
    /// logits or log-probabilities, the T² scale, row strides, per-row weights (0 ignores a row:
    /// it contributes 0 and is not counted by BatchMean or Mean), and an input validation mode
    /// (<see cref="DistillationOptions.ValidateInputs"/>: a <see cref="KlInputException"/> naming the
    /// first logit or teacher row that would give NaN, instead of NaN). Semantics in full:
    /// native/include/nativekl.h ("distillation from logits"). Allocates nothing, starts no thread,
    /// and gives the same bits on every ISA, alignment and backend; every NaN it returns or writes
    /// is the positive quiet NaN (bits 0x7FC00000 / 0x7FF8000000000000; not float.NaN's or
    /// double.NaN's, which have the sign bit set).
    /// </summary>
    public static class Distillation
    {
        /// <summary>The checked shape of a call (strides resolved, extents computed).</summary>
        private readonly struct Shape
        {
            public readonly int Rows, Columns, StudentStride, TeacherStride, StudentExtent, TeacherExtent;
            public readonly double Temperature;
            public readonly KlReduction Reduction;

            private Shape(int rows, int columns, int ss, int ts, double temperature, KlReduction reduction)
            {
                Rows = rows; Columns = columns; StudentStride = ss; TeacherStride = ts;
                StudentExtent = Extent(rows, columns, ss); TeacherExtent = Extent(rows, columns, ts);
                Temperature = temperature; Reduction = reduction;
            }

            private static int Extent(int rows, int columns, int stride) =>
                rows == 0 || columns == 0 ? 0 : (int)((long)(rows - 1) * stride + columns);

            public static Shape Check(int studentLength, int teacherLength, int rows, int columns, KlReduction reduction,
                                      DistillationOptions options, int weightsLength, bool backward,
                                      int gradStudentLength, int gradTeacherLength, int elementSize)
            {
                if (rows < 0) throw Error.Negative("rows", rows);
                if (columns < 0) throw Error.Negative("columns", columns);
                if ((uint)reduction > (uint)KlReduction.BatchMean) throw Error.UnknownReduction(reduction);
                if ((uint)options.Backend > (uint)KlBackendKind.Managed || (uint)options.Isa > (uint)KlIsa.Avx2
                    || (uint)options.Teacher > (uint)TeacherKind.LogProbabilities)
                    throw Error.BadDistillationOptions(options);
                double t = options.Temperature;
                // float32 scales logits by log2(e)/T (native/src/internal.h); float64 by 1/T
                bool finiteInverse = elementSize == sizeof(float)
                    ? (float)(KlConstants.Log2EF64 / t) > 0f && (float)(KlConstants.Log2EF64 / t) < float.PositiveInfinity
                    : 1.0 / t < double.PositiveInfinity;
                if (!(t > 0 && t < double.PositiveInfinity && finiteInverse)) throw Error.BadTemperature(t);
                if (!(options.RowSumTolerance >= 0.0 && options.RowSumTolerance <= double.MaxValue))
                    throw Error.BadTolerance(options.RowSumTolerance);
                if (options.StudentStride < 0 || options.StudentStride > 0 && options.StudentStride < columns)
                    throw Error.StrideTooSmall("options.StudentStride", options.StudentStride, columns);
                if (options.TeacherStride < 0 || options.TeacherStride > 0 && options.TeacherStride < columns)
                    throw Error.StrideTooSmall("options.TeacherStride", options.TeacherStride, columns);
                int ss = options.StudentStride == 0 ? columns : options.StudentStride;
                int ts = options.TeacherStride == 0 ? columns : options.TeacherStride;
                long sNeeded = rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * ss + columns;
                long tNeeded = rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * ts + columns;
                if (studentLength < sNeeded) throw Error.RowsDoNotFit("student", studentLength, rows, columns, ss, sNeeded);
                if (teacherLength < tNeeded) throw Error.RowsDoNotFit("teacher", teacherLength, rows, columns, ts, tNeeded);
                if (weightsLength != 0 && weightsLength < rows) throw Error.TooShort("rowWeights", weightsLength, "`rows`", rows);
                if (backward)
                {
                    if (gradStudentLength < sNeeded) throw Error.RowsDoNotFit("gradStudent", gradStudentLength, rows, columns, ss, sNeeded);
                    if (gradTeacherLength != 0 && gradTeacherLength < tNeeded)
                        throw Error.RowsDoNotFit("gradTeacher", gradTeacherLength, rows, columns, ts, tNeeded);
                }
                return new Shape(rows, columns, ss, ts, t, reduction);
            }

            public nkl_distill_desc Descriptor(DistillationOptions options) => new nkl_distill_desc
            {
                rows = (nuint)Rows,
                cols = (nuint)Columns,
                student_stride = (nuint)StudentStride,
                teacher_stride = (nuint)TeacherStride,
                temperature = Temperature,
                reduction = (int)Reduction,
                flags = options.NativeFlags,
            };
        }

        /// <summary>
        /// Outputs must not share memory with the inputs or each other. The per-row output is named
        /// as the public method names it (RowLosses: destination; RowBackward: rowLosses).
        /// </summary>
        private static class Outputs
        {
            public static void Disjoint<T>(Span<T> rowLosses, string rowLossesName, Span<T> gradStudent, Span<T> gradTeacher,
                                           ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> weights)
            {
                Check(rowLosses, rowLossesName, student, teacher, weights);
                Check(gradStudent, "gradStudent", student, teacher, weights);
                Check(gradTeacher, "gradTeacher", student, teacher, weights);
                if (rowLosses.Overlaps(gradStudent)) throw Error.OutputOverlap("gradStudent", rowLossesName);
                if (rowLosses.Overlaps(gradTeacher)) throw Error.OutputOverlap("gradTeacher", rowLossesName);
                if (gradStudent.Overlaps(gradTeacher)) throw Error.OutputOverlap("gradTeacher", "gradStudent");
            }

            private static void Check<T>(Span<T> output, string name, ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> weights)
            {
                ReadOnlySpan<T> o = output;
                if (o.Overlaps(student)) throw Error.OutputOverlap(name, "student");
                if (o.Overlaps(teacher)) throw Error.OutputOverlap(name, "teacher");
                if (o.Overlaps(weights)) throw Error.OutputOverlap(name, "rowWeights");
            }
        }

        // ----------------------------------------------------------------- float

        /// <summary>
        /// The distillation loss of [rows, columns] student and teacher logits, reduced:
        /// <see cref="KlReduction.BatchMean"/> (default; ÷ kept rows), <see cref="KlReduction.Sum"/> or
        /// <see cref="KlReduction.Mean"/> (÷ kept rows × columns). For one value per row call
        /// <see cref="RowLosses(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, DistillationOptions, ReadOnlySpan{float})"/>.
        /// <paramref name="rowWeights"/>: empty, or one finite weight ≥ 0 per row (0 ignores the row).
        /// </summary>
        public static float Loss(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                 KlReduction reduction = KlReduction.BatchMean, DistillationOptions options = default,
                                 ReadOnlySpan<float> rowWeights = default)
        {
            if (reduction == KlReduction.None) throw Error.DistillReductionNone(nameof(RowLosses));
            return Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", false, 0f, default, default);
        }

        /// <summary>One loss per row (reduction 'none'): destination[r] = w_r · KL_r [· T²]; ignored rows get 0.</summary>
        public static void RowLosses(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                     Span<float> destination, DistillationOptions options = default,
                                     ReadOnlySpan<float> rowWeights = default)
        {
            if (destination.Length < Math.Max(rows, 0)) throw Error.TooShort(nameof(destination), destination.Length, "`rows`", rows);
            Run(student, teacher, rows, columns, KlReduction.None, options, rowWeights, destination, nameof(destination), false, 0f, default, default);
        }

        /// <summary>
        /// The reduced loss and its gradients in one call: <paramref name="gradStudent"/> = d loss / d student
        /// (laid out like <paramref name="student"/>) and, unless empty, <paramref name="gradTeacher"/> =
        /// d loss / d teacher (laid out like <paramref name="teacher"/>), times <paramref name="gradOutput"/>.
        /// Each row is read once for the value and once more for the gradients.
        /// </summary>
        public static float Backward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                     Span<float> gradStudent, Span<float> gradTeacher = default,
                                     KlReduction reduction = KlReduction.BatchMean, float gradOutput = 1f,
                                     DistillationOptions options = default, ReadOnlySpan<float> rowWeights = default)
        {
            if (reduction == KlReduction.None) throw Error.DistillReductionNone(nameof(RowBackward));
            return Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", true, gradOutput, gradStudent, gradTeacher);
        }

        /// <summary>
        /// Per-row losses (reduction 'none') and the gradients of their sum times <paramref name="gradOutput"/>;
        /// <paramref name="rowLosses"/> may be empty when only the gradients are wanted.
        /// </summary>
        public static void RowBackward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                       Span<float> rowLosses, Span<float> gradStudent, Span<float> gradTeacher = default,
                                       float gradOutput = 1f, DistillationOptions options = default,
                                       ReadOnlySpan<float> rowWeights = default)
        {
            if (!rowLosses.IsEmpty && rowLosses.Length < Math.Max(rows, 0)) throw Error.TooShort(nameof(rowLosses), rowLosses.Length, "`rows`", rows);
            Run(student, teacher, rows, columns, KlReduction.None, options, rowWeights, rowLosses, nameof(rowLosses), true, gradOutput, gradStudent, gradTeacher);
        }

        private static unsafe float Run(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                        KlReduction reduction, DistillationOptions options, ReadOnlySpan<float> rowWeights,
                                        Span<float> rowLosses, string rowLossesName, bool backward, float gradOutput,
                                        Span<float> gradStudent, Span<float> gradTeacher)
        {
            var shape = Shape.Check(student.Length, teacher.Length, rows, columns, reduction, options, rowWeights.Length,
                                    backward, gradStudent.Length, gradTeacher.Length, sizeof(float));
            for (int r = 0; r < rowWeights.Length && r < rows; r++)
                if (!(rowWeights[r] >= 0f && rowWeights[r] < float.PositiveInfinity)) throw Error.BadRowWeight(r, rowWeights[r]);
            student = student.Slice(0, shape.StudentExtent);
            teacher = teacher.Slice(0, shape.TeacherExtent);
            rowWeights = rowWeights.Slice(0, rowWeights.IsEmpty ? 0 : rows);
            if (reduction == KlReduction.None && !rowLosses.IsEmpty) rowLosses = rowLosses.Slice(0, rows);
            if (backward)
            {
                gradStudent = gradStudent.Slice(0, shape.StudentExtent);
                if (!gradTeacher.IsEmpty) gradTeacher = gradTeacher.Slice(0, shape.TeacherExtent);
            }
            Outputs.Disjoint(rowLosses, rowLossesName, gradStudent, gradTeacher, student, teacher, rowWeights);
            if (options.ValidateInputs)
                DistillationInputValidation.Check(student, shape.StudentStride, teacher, shape.TeacherStride, rows, columns, rowWeights, options);

            if (KlBackend.Resolve(options.Backend) == KlBackendKind.Native)
            {
                nkl_distill_desc desc = shape.Descriptor(options);
                float value = 0f;
                fixed (float* s = student)
                fixed (float* u = teacher)
                fixed (float* w = rowWeights)
                fixed (float* rl = rowLosses)
                fixed (float* gs = gradStudent)
                fixed (float* gu = gradTeacher)
                {
                    float* v = reduction == KlReduction.None ? rl : &value;
                    if (!backward)
                        NativeChecked.nkl_distill_f32(&desc, s, u, w, v);
                    else
                        NativeChecked.nkl_distill_backward_f32(&desc, s, u, w, gradOutput, v, gs, desc.student_stride,
                            gu, desc.teacher_stride);
                }
                return value;
            }
            return ManagedDistill.Run(student, shape.StudentStride, teacher, shape.TeacherStride, rows, columns, options.Temperature,
                reduction, options.Teacher == TeacherKind.LogProbabilities, options.ScaleByTemperatureSquared,
                rowWeights, rowLosses, backward, gradOutput, gradStudent, gradTeacher);
        }

        // ----------------------------------------------------------------- double

        /// <summary>
        /// The distillation loss of [rows, columns] student and teacher logits, reduced:
        /// <see cref="KlReduction.BatchMean"/> (default; ÷ kept rows), <see cref="KlReduction.Sum"/> or
        /// <see cref="KlReduction.Mean"/> (÷ kept rows × columns). For one value per row call
        /// <see cref="RowLosses(ReadOnlySpan{double}, ReadOnlySpan{double}, int, int, Span{double}, DistillationOptions, ReadOnlySpan{double})"/>.
        /// <paramref name="rowWeights"/>: empty, or one finite weight ≥ 0 per row (0 ignores the row).
        /// </summary>
        public static double Loss(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                 KlReduction reduction = KlReduction.BatchMean, DistillationOptions options = default,
                                 ReadOnlySpan<double> rowWeights = default)
        {
            if (reduction == KlReduction.None) throw Error.DistillReductionNone(nameof(RowLosses));
            return Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", false, 0.0, default, default);
        }

        /// <summary>One loss per row (reduction 'none'): destination[r] = w_r · KL_r [· T²]; ignored rows get 0.</summary>
        public static void RowLosses(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                     Span<double> destination, DistillationOptions options = default,
                                     ReadOnlySpan<double> rowWeights = default)
        {
            if (destination.Length < Math.Max(rows, 0)) throw Error.TooShort(nameof(destination), destination.Length, "`rows`", rows);
            Run(student, teacher, rows, columns, KlReduction.None, options, rowWeights, destination, nameof(destination), false, 0.0, default, default);
        }

        /// <summary>
        /// The reduced loss and its gradients in one call: <paramref name="gradStudent"/> = d loss / d student
        /// (laid out like <paramref name="student"/>) and, unless empty, <paramref name="gradTeacher"/> =
        /// d loss / d teacher (laid out like <paramref name="teacher"/>), times <paramref name="gradOutput"/>.
        /// Each row is read once for the value and once more for the gradients.
        /// </summary>
        public static double Backward(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                     Span<double> gradStudent, Span<double> gradTeacher = default,
                                     KlReduction reduction = KlReduction.BatchMean, double gradOutput = 1.0,
                                     DistillationOptions options = default, ReadOnlySpan<double> rowWeights = default)
        {
            if (reduction == KlReduction.None) throw Error.DistillReductionNone(nameof(RowBackward));
            return Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", true, gradOutput, gradStudent, gradTeacher);
        }

        /// <summary>
        /// Per-row losses (reduction 'none') and the gradients of their sum times <paramref name="gradOutput"/>;
        /// <paramref name="rowLosses"/> may be empty when only the gradients are wanted.
        /// </summary>
        public static void RowBackward(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                       Span<double> rowLosses, Span<double> gradStudent, Span<double> gradTeacher = default,
                                       double gradOutput = 1.0, DistillationOptions options = default,
                                       ReadOnlySpan<double> rowWeights = default)
        {
            if (!rowLosses.IsEmpty && rowLosses.Length < Math.Max(rows, 0)) throw Error.TooShort(nameof(rowLosses), rowLosses.Length, "`rows`", rows);
            Run(student, teacher, rows, columns, KlReduction.None, options, rowWeights, rowLosses, nameof(rowLosses), true, gradOutput, gradStudent, gradTeacher);
        }

        private static unsafe double Run(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                        KlReduction reduction, DistillationOptions options, ReadOnlySpan<double> rowWeights,
                                        Span<double> rowLosses, string rowLossesName, bool backward, double gradOutput,
                                        Span<double> gradStudent, Span<double> gradTeacher)
        {
            var shape = Shape.Check(student.Length, teacher.Length, rows, columns, reduction, options, rowWeights.Length,
                                    backward, gradStudent.Length, gradTeacher.Length, sizeof(double));
            for (int r = 0; r < rowWeights.Length && r < rows; r++)
                if (!(rowWeights[r] >= 0.0 && rowWeights[r] < double.PositiveInfinity)) throw Error.BadRowWeight(r, rowWeights[r]);
            student = student.Slice(0, shape.StudentExtent);
            teacher = teacher.Slice(0, shape.TeacherExtent);
            rowWeights = rowWeights.Slice(0, rowWeights.IsEmpty ? 0 : rows);
            if (reduction == KlReduction.None && !rowLosses.IsEmpty) rowLosses = rowLosses.Slice(0, rows);
            if (backward)
            {
                gradStudent = gradStudent.Slice(0, shape.StudentExtent);
                if (!gradTeacher.IsEmpty) gradTeacher = gradTeacher.Slice(0, shape.TeacherExtent);
            }
            Outputs.Disjoint(rowLosses, rowLossesName, gradStudent, gradTeacher, student, teacher, rowWeights);
            if (options.ValidateInputs)
                DistillationInputValidation.Check(student, shape.StudentStride, teacher, shape.TeacherStride, rows, columns, rowWeights, options);

            if (KlBackend.Resolve(options.Backend) == KlBackendKind.Native)
            {
                nkl_distill_desc desc = shape.Descriptor(options);
                double value = 0.0;
                fixed (double* s = student)
                fixed (double* u = teacher)
                fixed (double* w = rowWeights)
                fixed (double* rl = rowLosses)
                fixed (double* gs = gradStudent)
                fixed (double* gu = gradTeacher)
                {
                    double* v = reduction == KlReduction.None ? rl : &value;
                    if (!backward)
                        NativeChecked.nkl_distill_f64(&desc, s, u, w, v);
                    else
                        NativeChecked.nkl_distill_backward_f64(&desc, s, u, w, gradOutput, v, gs, desc.student_stride,
                            gu, desc.teacher_stride);
                }
                return value;
            }
            return ManagedDistill.Run(student, shape.StudentStride, teacher, shape.TeacherStride, rows, columns, options.Temperature,
                reduction, options.Teacher == TeacherKind.LogProbabilities, options.ScaleByTemperatureSquared,
                rowWeights, rowLosses, backward, gradOutput, gradStudent, gradTeacher);
        }
    }
}
