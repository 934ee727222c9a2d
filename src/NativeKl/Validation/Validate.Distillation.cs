using System;
using System.Runtime.InteropServices;
using NativeKl.Core;
using NativeKl.Managed;

namespace NativeKl.Validation
{
    internal static partial class Validate
    {
        /// <summary>
        /// Checks a <see cref="Distillation"/> call's shape, options, row weights and output
        /// lengths, and returns its plan. rowLossesName is the per-row output as the public method
        /// names it (RowLosses: destination; RowBackward: rowLosses), "" where there is none.
        /// </summary>
        internal static DistillPlan Distillation<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int rows, int columns,
                                                    KlReductionKind reduction, DistillationOptions options, ReadOnlySpan<T> rowWeights,
                                                    int rowLossesLength, string rowLossesName, bool backward,
                                                    int gradStudentLength, int gradTeacherLength) where T : unmanaged
        {
            // The public method's own output first: Loss and Backward refuse None, the per-row methods need rows.
            if (rowLossesName.Length == 0)
            {
                if (reduction == KlReductionKind.None)
                    throw Error.DistillReductionNone(backward ? nameof(NativeKl.Distillation.RowBackward) : nameof(NativeKl.Distillation.RowLosses));
            }
            else if ((!backward || rowLossesLength != 0) && rowLossesLength < Math.Max(rows, 0))
                throw Error.TooShort(rowLossesName, rowLossesLength, "`rows`", rows);

            if (rows < 0) throw Error.Negative("rows", rows);
            if (columns < 0) throw Error.Negative("columns", columns);
            if ((uint)reduction > (uint)KlReductionKind.BatchMean) throw Error.UnknownReduction(reduction);
            if (!options.Common.AreDefined || (uint)options.Teacher > (uint)TeacherKind.LogProbabilitiesAsGiven)
                throw Error.BadDistillationOptions(options);
            double t = options.Temperature;
            double logitScale = LogitScale<T>(t);
            if (!(t > 0 && t < double.PositiveInfinity && logitScale > 0 && logitScale < double.PositiveInfinity))
                throw Error.BadTemperature(t);
            if (!options.Common.ToleranceIsValid) throw Error.BadTolerance(options.RowSumTolerance);
            if (options.StudentStride < 0 || options.StudentStride > 0 && options.StudentStride < columns)
                throw Error.StrideTooSmall("options.StudentStride", options.StudentStride, columns);
            if (options.TeacherStride < 0 || options.TeacherStride > 0 && options.TeacherStride < columns)
                throw Error.StrideTooSmall("options.TeacherStride", options.TeacherStride, columns);
            int ss = options.StudentStride == 0 ? columns : options.StudentStride;
            int ts = options.TeacherStride == 0 ? columns : options.TeacherStride;
            long sNeeded = Extent(rows, columns, ss);
            long tNeeded = Extent(rows, columns, ts);
            if (student.Length < sNeeded) throw Error.RowsDoNotFit("student", student.Length, rows, columns, ss, sNeeded);
            if (teacher.Length < tNeeded) throw Error.RowsDoNotFit("teacher", teacher.Length, rows, columns, ts, tNeeded);
            if (rowWeights.Length != 0 && rowWeights.Length < rows) throw Error.TooShort("rowWeights", rowWeights.Length, "`rows`", rows);
            if (backward)
            {
                if (gradStudentLength < sNeeded) throw Error.RowsDoNotFit("gradStudent", gradStudentLength, rows, columns, ss, sNeeded);
                if (gradTeacherLength != 0 && gradTeacherLength < tNeeded)
                    throw Error.RowsDoNotFit("gradTeacher", gradTeacherLength, rows, columns, ts, tNeeded);
            }
            long keptRows = rows;
            if (!rowWeights.IsEmpty)
            {
                keptRows = 0;
                for (int r = 0; r < rows; r++)
                {
                    double w = Num.ToDouble(rowWeights[r]);
                    if (!(w >= 0.0 && w < double.PositiveInfinity)) throw Error.BadRowWeight(r, w);
                    if (w != 0.0) keptRows++;
                }
            }
            return new DistillPlan(rows, columns, ss, ts, (int)sNeeded, (int)tNeeded, reduction, logitScale, keptRows, options);
        }

        /// <summary>A piece's rows: firstRow .. firstRow + count − 1 must lie in [0, rows).</summary>
        internal static void RowRange(int firstRow, int count, int rows)
        {
            if (firstRow < 0) throw Error.Negative("firstRow", firstRow);
            if (firstRow > rows) throw Error.FirstRowPastRows(firstRow, rows);
            if (count > rows - firstRow) throw Error.RowPartialsPastRows(firstRow, count, rows);
        }

        /// <summary>A piece's row partials (doubles) must not share memory with the call's arrays.</summary>
        internal static void PartialsApart<T>(ReadOnlySpan<double> rowPartials, ReadOnlySpan<T> student, ReadOnlySpan<T> teacher,
                                              ReadOnlySpan<T> weights, ReadOnlySpan<T> gradStudent, ReadOnlySpan<T> gradTeacher)
            where T : unmanaged
        {
            ReadOnlySpan<byte> p = MemoryMarshal.AsBytes(rowPartials);
            if (p.Overlaps(MemoryMarshal.AsBytes(student))) throw Error.OutputOverlap("rowPartials", "student");
            if (p.Overlaps(MemoryMarshal.AsBytes(teacher))) throw Error.OutputOverlap("rowPartials", "teacher");
            if (p.Overlaps(MemoryMarshal.AsBytes(weights))) throw Error.OutputOverlap("rowPartials", "rowWeights");
            if (p.Overlaps(MemoryMarshal.AsBytes(gradStudent))) throw Error.OutputOverlap("rowPartials", "gradStudent");
            if (p.Overlaps(MemoryMarshal.AsBytes(gradTeacher))) throw Error.OutputOverlap("rowPartials", "gradTeacher");
        }

        /// <summary>
        /// Distillation.Finish's arguments: the call's rows, reduction, options and weights as the
        /// call checks them (the finish reads no logits, so strides play no part), and rows partials.
        /// </summary>
        internal static DistillPlan DistillationFinish<T>(int rowPartialsLength, int rows, int columns, KlReductionKind reduction,
                                                          DistillationOptions options, ReadOnlySpan<T> rowWeights) where T : unmanaged
        {
            if (columns < 0) throw Error.Negative("columns", columns);
            DistillationOptions dense = options with { StudentStride = 0, TeacherStride = 0 };
            DistillPlan rowsOnly = Distillation<T>(default, default, rows, 0, reduction, dense, rowWeights, 0, "", false, 0, 0);
            if (rowPartialsLength < rows) throw Error.TooShort("rowPartials", rowPartialsLength, "`rows`", rows);
            long keptRows = rows;
            if (!rowWeights.IsEmpty)
            {
                keptRows = 0;
                for (int r = 0; r < rows; r++) keptRows += Num.ToDouble(rowWeights[r]) != 0.0 ? 1 : 0;
            }
            return new DistillPlan(rows, columns, columns, columns, 0, 0, reduction, rowsOnly.LogitScale, keptRows, dense);
        }

        /// <summary>
        /// What the kernels multiply a logit by, in the data's type (the one computation of it in C#):
        /// float32 works in base 2, so log2(e)/T rounded to float (native/src/internal.h); float64 1/T.
        /// </summary>
        private static double LogitScale<T>(double temperature) where T : unmanaged =>
            Num.IsFloat<T>() ? (float)(KlConstants.Log2EF64 / temperature) : 1.0 / temperature;

        /// <summary>
        /// Outputs (already sliced; empty ones not wanted) must not share memory with the inputs or
        /// each other. The per-row output is named as the public method names it.
        /// </summary>
        internal static void DistillationOutputs<T>(ReadOnlySpan<T> rowLosses, string rowLossesName, ReadOnlySpan<T> gradStudent,
                                                    ReadOnlySpan<T> gradTeacher, ReadOnlySpan<T> student, ReadOnlySpan<T> teacher,
                                                    ReadOnlySpan<T> weights)
        {
            DistillationOutput(rowLosses, rowLossesName, student, teacher, weights);
            DistillationOutput(gradStudent, "gradStudent", student, teacher, weights);
            DistillationOutput(gradTeacher, "gradTeacher", student, teacher, weights);
            if (rowLosses.Overlaps(gradStudent)) throw Error.OutputOverlap("gradStudent", rowLossesName);
            if (rowLosses.Overlaps(gradTeacher)) throw Error.OutputOverlap("gradTeacher", rowLossesName);
            if (gradStudent.Overlaps(gradTeacher)) throw Error.OutputOverlap("gradTeacher", "gradStudent");
        }

        private static void DistillationOutput<T>(ReadOnlySpan<T> output, string name, ReadOnlySpan<T> student, ReadOnlySpan<T> teacher,
                                                  ReadOnlySpan<T> weights)
        {
            if (output.Overlaps(student)) throw Error.OutputOverlap(name, "student");
            if (output.Overlaps(teacher)) throw Error.OutputOverlap(name, "teacher");
            if (output.Overlaps(weights)) throw Error.OutputOverlap(name, "rowWeights");
        }

        /// <summary><see cref="DistillationOptions.ValidateInputs"/>'s pass, for either element type.</summary>
        internal static void DistillationInputs<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> rowWeights,
                                                   in DistillPlan plan, DistillationOptions options,
                                                   DistillationInputValidation.Call call) where T : unmanaged
        {
            DistillationInputValidation.Check(student, teacher, rowWeights, plan, options, call);
        }
    }
}
