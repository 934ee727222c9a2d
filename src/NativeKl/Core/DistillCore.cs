using System;
using NativeKl.Backends;
using NativeKl.Validation;

namespace NativeKl.Core
{
    /// <summary>
    /// The one body of every <see cref="Distillation"/> entry point, for float and double alike:
    /// validate into a plan, slice every span to what the rows span, check the outputs, run the
    /// optional input pass, and call the backend chosen once.
    /// </summary>
    internal static class DistillCore
    {
        /// <summary>
        /// rowLossesName: the per-row output as the public method names it, "" for the reduced
        /// methods (Loss, Backward); backward: whether gradients are wanted.
        /// </summary>
        internal static T Run<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, int rows, int columns, KlReduction reduction,
                                 DistillationOptions options, ReadOnlySpan<T> rowWeights, Span<T> rowLosses, string rowLossesName,
                                 bool backward, T gradOutput, Span<T> gradStudent, Span<T> gradTeacher) where T : unmanaged
        {
            DistillPlan plan = Validate.Distillation(student, teacher, rows, columns, reduction, options, rowWeights,
                rowLosses.Length, rowLossesName, backward, gradStudent.Length, gradTeacher.Length);
            student = student.Slice(0, plan.StudentExtent);
            teacher = teacher.Slice(0, plan.TeacherExtent);
            rowWeights = rowWeights.Slice(0, rowWeights.IsEmpty ? 0 : rows);
            if (reduction == KlReduction.None && !rowLosses.IsEmpty) rowLosses = rowLosses.Slice(0, rows);
            if (backward)
            {
                gradStudent = gradStudent.Slice(0, plan.StudentExtent);
                if (!gradTeacher.IsEmpty) gradTeacher = gradTeacher.Slice(0, plan.TeacherExtent);
            }
            Validate.DistillationOutputs<T>(rowLosses, rowLossesName, gradStudent, gradTeacher, student, teacher, rowWeights);
            if (options.ValidateInputs) Validate.DistillationInputs(student, teacher, rowWeights, plan, options);
            return KlBackend.Select<T>(options.Backend).Distill(student, teacher, rowWeights, rowLosses, backward, gradOutput,
                gradStudent, gradTeacher, plan);
        }
    }
}
