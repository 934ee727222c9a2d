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
    /// <para>
    /// Threads: with <c>degreeOfParallelism</c> 1 (the default) a call starts no thread and allocates
    /// nothing. Above 1 the rows are split into contiguous blocks of whole rows, one per worker (at
    /// most that many, and none of fewer than 16384 elements, below which a thread does not pay: a
    /// smaller call runs on the calling thread); the result has the same bits for any degree. Such a
    /// call allocates Parallel.For's closure, options and tasks (about 2 KB) and, for Loss and
    /// Backward, the rows' losses in float64 (8 bytes a row). An exception of a worker surfaces as
    /// itself. For a job system of your own, run the pieces yourself, allocating nothing:
    /// <see cref="Partials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{double}, DistillationOptions, ReadOnlySpan{float})"/>
    /// (or <see cref="BackwardPartials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, Span{float}, Span{double}, KlReductionKind, float, DistillationOptions, ReadOnlySpan{float})"/>)
    /// on any split of the rows, on any threads, then
    /// <see cref="Finish(ReadOnlySpan{double}, int, int, KlReductionKind, DistillationOptions, ReadOnlySpan{float})"/>
    /// once: the value has Loss's (and Backward's) bits. For per-row losses no piece API is needed:
    /// call RowLosses or RowBackward on a block of rows (the spans sliced to it).
    /// </para>
    /// </summary>
    public static class Distillation
    {
        /// <summary>
        /// The distillation loss of [rows, columns] student and teacher logits, reduced:
        /// <see cref="KlReductionKind.BatchMean"/> (default; ÷ kept rows), <see cref="KlReductionKind.Sum"/> or
        /// <see cref="KlReductionKind.Mean"/> (÷ kept rows × columns). For one value per row call
        /// <see cref="RowLosses(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, DistillationOptions, ReadOnlySpan{float}, int)"/>.
        /// <paramref name="rowWeights"/>: empty, or one finite weight ≥ 0 per row (0 ignores the row).
        /// </summary>
        public static float Loss(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                 KlReductionKind reduction = KlReductionKind.BatchMean, DistillationOptions options = default,
                                 ReadOnlySpan<float> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", false, 0f, default, default, degreeOfParallelism);

        /// <summary>One loss per row (reduction 'none'): destination[r] = w_r · KL_r [· T²]; ignored rows get 0.</summary>
        public static void RowLosses(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                     Span<float> destination, DistillationOptions options = default,
                                     ReadOnlySpan<float> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, destination, nameof(destination), false, 0f, default, default, degreeOfParallelism);

        /// <summary>
        /// The reduced loss and its gradients in one call: <paramref name="gradStudent"/> = d loss / d student
        /// (laid out like <paramref name="student"/>) and, unless empty, <paramref name="gradTeacher"/> =
        /// d loss / d teacher (laid out like <paramref name="teacher"/>), times <paramref name="gradOutput"/>.
        /// Each row is read once for the value and once more for the gradients.
        /// </summary>
        public static float Backward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                     Span<float> gradStudent, Span<float> gradTeacher = default,
                                     KlReductionKind reduction = KlReductionKind.BatchMean, float gradOutput = 1f,
                                     DistillationOptions options = default, ReadOnlySpan<float> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", true, gradOutput, gradStudent, gradTeacher, degreeOfParallelism);

        /// <summary>
        /// The gradients of the per-row losses' sum times <paramref name="gradOutput"/> (reduction 'none'),
        /// and, unless <paramref name="rowLosses"/> is empty, the per-row losses (the bits of RowLosses).
        /// </summary>
        public static void RowBackward(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                       Span<float> gradStudent, Span<float> gradTeacher = default, Span<float> rowLosses = default,
                                       float gradOutput = 1f, DistillationOptions options = default,
                                       ReadOnlySpan<float> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, rowLosses, nameof(rowLosses), true, gradOutput, gradStudent, gradTeacher, degreeOfParallelism);

        /// <summary>
        /// A piece of <see cref="Loss(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, KlReductionKind, DistillationOptions, ReadOnlySpan{float}, int)"/>
        /// for a job system: the losses of rows <paramref name="firstRow"/> .. <paramref name="firstRow"/> +
        /// rowPartials.Length − 1 in float64, unrounded (w_r · KL_r [· T²]; 0 for an ignored row), into
        /// <paramref name="rowPartials"/>. The other arguments describe the WHOLE call (all its rows and
        /// weights), as for Loss. Pieces of one call may run at the same time on any threads; give every
        /// row's partial to <see cref="Finish(ReadOnlySpan{double}, int, int, KlReductionKind, DistillationOptions, ReadOnlySpan{float})"/>.
        /// Allocates nothing, starts no thread. With <see cref="DistillationOptions.ValidateInputs"/> each
        /// piece validates the whole call's inputs (one more read of all rows).
        /// </summary>
        public static void Partials(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns, int firstRow,
                                    Span<double> rowPartials, DistillationOptions options = default, ReadOnlySpan<float> rowWeights = default) =>
            DistillCore.Piece(student, teacher, rows, columns, firstRow, rowPartials, KlReductionKind.Sum, options, rowWeights, false, 0f, default, default);

        /// <summary>
        /// A piece of <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, Span{float}, KlReductionKind, float, DistillationOptions, ReadOnlySpan{float}, int)"/>:
        /// the row partials of <see cref="Partials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{double}, DistillationOptions, ReadOnlySpan{float})"/>
        /// and those rows' gradients, scaled by the whole call's divisor (the <paramref name="reduction"/> over
        /// all rows' weights). <paramref name="gradStudent"/> and <paramref name="gradTeacher"/> (empty: not
        /// wanted) are the WHOLE gradients, laid out as for Backward; only the piece's rows are written.
        /// </summary>
        public static void BackwardPartials(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns, int firstRow,
                                            Span<float> gradStudent, Span<float> gradTeacher, Span<double> rowPartials,
                                            KlReductionKind reduction = KlReductionKind.BatchMean, float gradOutput = 1f,
                                            DistillationOptions options = default, ReadOnlySpan<float> rowWeights = default) =>
            DistillCore.Piece(student, teacher, rows, columns, firstRow, rowPartials, reduction, options, rowWeights, true, gradOutput, gradStudent, gradTeacher);

        /// <summary>
        /// The reduced value from the pieces' <paramref name="rowPartials"/> of all <paramref name="rows"/> rows:
        /// summed in row order as Loss sums them, divided as <paramref name="reduction"/> divides (over the
        /// kept rows of <paramref name="rowWeights"/>), rounded: Loss's and Backward's bits. The element
        /// type of <paramref name="rowWeights"/> picks the result's type: pass <c>ReadOnlySpan&lt;float&gt;.Empty</c>
        /// for no weights. The options are the call's (strides and the input pass play no part). Allocates nothing.
        /// </summary>
        public static float Finish(ReadOnlySpan<double> rowPartials, int rows, int columns, KlReductionKind reduction,
                                   DistillationOptions options, ReadOnlySpan<float> rowWeights) =>
            DistillCore.Finish(rowPartials, rows, columns, reduction, options, rowWeights);

        // The double overloads: the same contract as the float ones above.

        /// <inheritdoc cref="Loss(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, KlReductionKind, DistillationOptions, ReadOnlySpan{float}, int)"/>
        public static double Loss(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                 KlReductionKind reduction = KlReductionKind.BatchMean, DistillationOptions options = default,
                                 ReadOnlySpan<double> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", false, 0.0, default, default, degreeOfParallelism);

        /// <inheritdoc cref="RowLosses(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, DistillationOptions, ReadOnlySpan{float}, int)"/>
        public static void RowLosses(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                     Span<double> destination, DistillationOptions options = default,
                                     ReadOnlySpan<double> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, destination, nameof(destination), false, 0.0, default, default, degreeOfParallelism);

        /// <inheritdoc cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, Span{float}, KlReductionKind, float, DistillationOptions, ReadOnlySpan{float}, int)"/>
        public static double Backward(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                     Span<double> gradStudent, Span<double> gradTeacher = default,
                                     KlReductionKind reduction = KlReductionKind.BatchMean, double gradOutput = 1.0,
                                     DistillationOptions options = default, ReadOnlySpan<double> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, reduction, options, rowWeights, default, "", true, gradOutput, gradStudent, gradTeacher, degreeOfParallelism);

        /// <inheritdoc cref="RowBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, Span{float}, Span{float}, Span{float}, float, DistillationOptions, ReadOnlySpan{float}, int)"/>
        public static void RowBackward(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                       Span<double> gradStudent, Span<double> gradTeacher = default, Span<double> rowLosses = default,
                                       double gradOutput = 1.0, DistillationOptions options = default,
                                       ReadOnlySpan<double> rowWeights = default, int degreeOfParallelism = 1) =>
            DistillCore.Run(student, teacher, rows, columns, KlReductionKind.None, options, rowWeights, rowLosses, nameof(rowLosses), true, gradOutput, gradStudent, gradTeacher, degreeOfParallelism);

        /// <inheritdoc cref="Partials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{double}, DistillationOptions, ReadOnlySpan{float})"/>
        public static void Partials(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns, int firstRow,
                                    Span<double> rowPartials, DistillationOptions options = default, ReadOnlySpan<double> rowWeights = default) =>
            DistillCore.Piece(student, teacher, rows, columns, firstRow, rowPartials, KlReductionKind.Sum, options, rowWeights, false, 0.0, default, default);

        /// <inheritdoc cref="BackwardPartials(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, Span{float}, Span{double}, KlReductionKind, float, DistillationOptions, ReadOnlySpan{float})"/>
        public static void BackwardPartials(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns, int firstRow,
                                            Span<double> gradStudent, Span<double> gradTeacher, Span<double> rowPartials,
                                            KlReductionKind reduction = KlReductionKind.BatchMean, double gradOutput = 1.0,
                                            DistillationOptions options = default, ReadOnlySpan<double> rowWeights = default) =>
            DistillCore.Piece(student, teacher, rows, columns, firstRow, rowPartials, reduction, options, rowWeights, true, gradOutput, gradStudent, gradTeacher);

        /// <inheritdoc cref="Finish(ReadOnlySpan{double}, int, int, KlReductionKind, DistillationOptions, ReadOnlySpan{float})"/>
        public static double Finish(ReadOnlySpan<double> rowPartials, int rows, int columns, KlReductionKind reduction,
                                    DistillationOptions options, ReadOnlySpan<double> rowWeights) =>
            DistillCore.Finish(rowPartials, rows, columns, reduction, options, rowWeights);
    }
}
