using System;
using System.Runtime.InteropServices;
using NativeKl.Backends;
using NativeKl.Validation;

namespace NativeKl.Core
{
    /// <summary>
    /// The one body of every <see cref="Distillation"/> entry point, for float and double alike:
    /// validate into a plan, slice every span to what the rows span, check the outputs, run the
    /// optional input pass, and call the backend chosen once (on this thread, or on up to
    /// degreeOfParallelism workers: <see cref="ParallelDistillation"/>).
    /// </summary>
    internal static class DistillCore
    {
        /// <summary>
        /// rowLossesName: the per-row output as the public method names it, "" for the reduced
        /// methods (Loss, Backward); backward: whether gradients are wanted.
        /// </summary>
        internal static T Run<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int rows, int columns, KlReductionKind reduction,
                                 DistillationOptions options, ReadOnlySpan<T> rowWeights, Span<T> rowLosses, string rowLossesName,
                                 bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher, int degreeOfParallelism = 1)
            where T : unmanaged
        {
            if (degreeOfParallelism < 1) throw Error.DegreeOfParallelism(degreeOfParallelism);
            DistillPlan plan = Validate.Distillation(student, teacher, rows, columns, reduction, options, rowWeights,
                rowLosses.Length, rowLossesName, backward, gradStudent.Length, gradTeacher.Length);
            Slice(ref student, ref teacher, ref rowWeights, ref gradStudent, ref gradTeacher, backward, plan);
            if (reduction == KlReductionKind.None && !rowLosses.IsEmpty) rowLosses = rowLosses.Slice(0, rows);
            Validate.DistillationOutputs<T>(rowLosses, rowLossesName, gradStudent, gradTeacher, student, teacher, rowWeights);
            if (options.ValidateInputs)
                Validate.DistillationInputs(student, teacher, rowWeights, plan, options,
                    new DistillationInputValidation.Call(reduction, backward, Num.ToDouble(gradOutput), !gradTeacher.IsEmpty));
            IKlBackend<T> backend = KlBackend.Select<T>(options.Backend);
            int workers = ParallelDistillation.Workers(plan, degreeOfParallelism);
            if (workers > 1)
                return ParallelDistillation.Run(backend, student, teacher, rowWeights, rowLosses, backward, gradOutput,
                    gradStudent, gradTeacher, plan, workers);
            return backend.Distill(student, teacher, rowWeights, rowLosses, backward, gradOutput, gradStudent, gradTeacher, plan);
        }

        /// <summary>Every span sliced to what the rows span (the gradients only when wanted).</summary>
        private static void Slice<T>(ref ReadOnlySpan<T> student, ref ReadOnlySpan<T> teacher, ref ReadOnlySpan<T> rowWeights,
                                     ref Span<T> gradStudent, ref Span<T> gradTeacher, bool backward, in DistillPlan plan)
        {
            student = student.Slice(0, plan.StudentExtent);
            teacher = teacher.Slice(0, plan.TeacherExtent);
            rowWeights = rowWeights.Slice(0, rowWeights.IsEmpty ? 0 : plan.Rows);
            if (backward)
            {
                gradStudent = gradStudent.Slice(0, plan.StudentExtent);
                if (!gradTeacher.IsEmpty) gradTeacher = gradTeacher.Slice(0, plan.TeacherExtent);
            }
        }

        /// <summary>
        /// A piece (Distillation.Partials / BackwardPartials): rows firstRow .. firstRow +
        /// rowPartials.Length − 1 of the whole call the other arguments describe, on this thread.
        /// The forward pieces do not read the reduction (Sum stands for it).
        /// </summary>
        internal static void Piece<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int rows, int columns, int firstRow,
                                      Span<double> rowPartials, KlReductionKind reduction, DistillationOptions options,
                                      ReadOnlySpan<T> rowWeights, bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher)
            where T : unmanaged
        {
            DistillPlan plan = Validate.Distillation(student, teacher, rows, columns, backward ? reduction : KlReductionKind.Sum, options,
                rowWeights, 0, "", backward, gradStudent.Length, gradTeacher.Length);
            Validate.RowRange(firstRow, rowPartials.Length, rows);
            Slice(ref student, ref teacher, ref rowWeights, ref gradStudent, ref gradTeacher, backward, plan);
            Validate.DistillationOutputs<T>(default, "", gradStudent, gradTeacher, student, teacher, rowWeights);
            Validate.PartialsApart(rowPartials, student, teacher, rowWeights, gradStudent, gradTeacher);
            // the whole call's pass: its checks (a row's, the divisor's, the sum's bound) are the call's
            if (options.ValidateInputs)
                Validate.DistillationInputs(student, teacher, rowWeights, plan, options,
                    new DistillationInputValidation.Call(plan.Reduction, backward, Num.ToDouble(gradOutput), !gradTeacher.IsEmpty));
            KlBackend.Select<T>(options.Backend).DistillPartials(student, teacher, rowWeights, firstRow, rowPartials, backward, gradOutput,
                gradStudent, gradTeacher, plan);
        }

        /// <summary>Distillation.Finish: the pieces' row partials of all rows into the reduced value.</summary>
        internal static T Finish<T>(ReadOnlySpan<double> rowPartials, int rows, int columns, KlReductionKind reduction,
                                    DistillationOptions options, ReadOnlySpan<T> rowWeights) where T : unmanaged
        {
            DistillPlan plan = Validate.DistillationFinish(rowPartials.Length, rows, columns, reduction, options, rowWeights);
            return KlBackend.Select<T>(options.Backend).DistillFinish(rowPartials.Slice(0, rows),
                rowWeights.Slice(0, rowWeights.IsEmpty ? 0 : rows), plan);
        }
    }
}
