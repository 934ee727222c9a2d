using System;
using NativeKl.Core;

namespace NativeKl
{
    /// <summary>
    /// Knowledge distillation (and policy matching) from raw logits, fused: for [rows, columns]
    /// student logits s and teacher logits u and a temperature T, each row's
    /// KL(softmax(u / T) ‖ softmax(s / T)) — PyTorch's
    /// <c>F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction)</c>, times T² only with
    /// <see cref="DistillationOptions.MultiplyLossByTemperatureSquared"/> (Hinton's convention,
    /// <see cref="DistillationOptions.Hinton(double)"/>) — and its
    /// gradients, in one read of each row for the value and one more for the gradients, with no
    /// temporary of the data's size. Stable for logits of any magnitude (online log-sum-exp). A −∞
    /// teacher logit masks its class (it contributes exactly 0, even under a −∞ student logit, where
    /// PyTorch gives NaN); a −∞ student logit under a finite teacher logit gives +∞, or NaN where the
    /// teacher's probability underflows to 0 (PyTorch's 0·−∞). Options: the temperature, teacher
    /// logits or log-probabilities used as given, the T² factor, row strides, per-row weights (0 ignores a row:
    /// it contributes 0 and is not counted by BatchMean or Mean), and an input validation mode
    /// (<see cref="DistillationOptions.ValidateInputs"/>: a <see cref="KlInputException"/> naming the
    /// first logit or teacher row that would give NaN, instead of NaN). Backward methods take their
    /// parameters in <see cref="KlDivergence"/>'s order: inputs, shape, outputs (gradients, then
    /// any per-row losses), the reduction, the upstream gradient, the options, the row weights.
    /// Semantics in full:
    /// native/include/nativekl.h ("distillation from logits"). Allocates nothing, starts no thread,
    /// and gives the same bits on every ISA, alignment and backend; every NaN it returns or writes
    /// is the positive quiet NaN (bits 0x7FC00000 / 0x7FF8000000000000; not float.NaN's or
    /// double.NaN's, which have the sign bit set).
    /// </summary>
    public static class Distillation
    {
        /// <summary>
        /// The distillation loss of [rows, columns] student and teacher logits, reduced:
        /// <see cref="KlReductionKind.BatchMean"/> (default; ÷ kept rows), <see cref="KlReductionKind.Sum"/> or
        /// <see cref="KlReductionKind.Mean"/> (÷ kept rows × columns). For one value per row call
        /// <see cref="RowLosses(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, DistillationOptions, ReadOnlySpan{float})"/>.
        /// <paramref name="rowWeights"/>: empty, or one finite weight ≥ 0 per row (0 ignores the row).
        /// </summary>
        public static float Loss(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                 KlReductionKind reduction = KlReductionKind.BatchMean, DistillationOptions options = default,
                                 ReadOnlySpan<float> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", false, 0f, default, default);

        /// <summary>One loss per row (reduction 'none'): destination[r] = w_r · KL_r [· T²]; ignored rows get 0.</summary>
        public static void RowLosses(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                     Span<float> destination, DistillationOptions options = default,
                                     ReadOnlySpan<float> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, destination, nameof(destination), false, 0f, default, default);

        /// <summary>
        /// The reduced loss and its gradients in one call: <paramref name="gradStudent"/> = d loss / d student
        /// (laid out like <paramref name="student"/>) and, unless empty, <paramref name="gradTeacher"/> =
        /// d loss / d teacher (laid out like <paramref name="teacher"/>), times <paramref name="gradOutput"/>.
        /// Each row is read once for the value and once more for the gradients.
        /// </summary>
        public static float Backward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                     Span<float> gradStudent, Span<float> gradTeacher = default,
                                     KlReductionKind reduction = KlReductionKind.BatchMean, float gradOutput = 1f,
                                     DistillationOptions options = default, ReadOnlySpan<float> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", true, gradOutput, gradStudent, gradTeacher);

        /// <summary>
        /// The gradients of the per-row losses' sum times <paramref name="gradOutput"/> (reduction 'none'),
        /// and, unless <paramref name="rowLosses"/> is empty, the per-row losses (the bits of RowLosses).
        /// </summary>
        public static void RowBackward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                       Span<float> gradStudent, Span<float> gradTeacher = default, Span<float> rowLosses = default,
                                       float gradOutput = 1f, DistillationOptions options = default,
                                       ReadOnlySpan<float> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, rowLosses, nameof(rowLosses), true, gradOutput, gradStudent, gradTeacher);

        // The double overloads: the same contract as the float ones above.

        /// <inheritdoc cref="Loss(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, KlReductionKind, DistillationOptions, ReadOnlySpan{float})"/>
        public static double Loss(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                 KlReductionKind reduction = KlReductionKind.BatchMean, DistillationOptions options = default,
                                 ReadOnlySpan<double> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", false, 0.0, default, default);

        /// <inheritdoc cref="RowLosses(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, DistillationOptions, ReadOnlySpan{float})"/>
        public static void RowLosses(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                     Span<double> destination, DistillationOptions options = default,
                                     ReadOnlySpan<double> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, destination, nameof(destination), false, 0.0, default, default);

        /// <inheritdoc cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, Span{float}, KlReductionKind, float, DistillationOptions, ReadOnlySpan{float})"/>
        public static double Backward(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                     Span<double> gradStudent, Span<double> gradTeacher = default,
                                     KlReductionKind reduction = KlReductionKind.BatchMean, double gradOutput = 1.0,
                                     DistillationOptions options = default, ReadOnlySpan<double> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", true, gradOutput, gradStudent, gradTeacher);

        /// <inheritdoc cref="RowBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, Span{float}, Span{float}, float, DistillationOptions, ReadOnlySpan{float})"/>
        public static void RowBackward(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                       Span<double> gradStudent, Span<double> gradTeacher = default, Span<double> rowLosses = default,
                                       double gradOutput = 1.0, DistillationOptions options = default,
                                       ReadOnlySpan<double> rowWeights = default) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, rowLosses, nameof(rowLosses), true, gradOutput, gradStudent, gradTeacher);
    }
}
