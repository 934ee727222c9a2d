using System;

namespace NativeKl
{
    /// <summary>
    /// What <see cref="KlOptions.ValidateInputs"/> and <see cref="DistillationOptions.ValidateInputs"/>
    /// report instead of a NaN result: the first element that is not a log-probability (input) or a
    /// probability (target), or whose pair would make the result NaN, the first logit that would make
    /// a distillation row NaN, the first row that does not sum to 1 or holds no class, or a call whose
    /// scale or divisor would. <see cref="ArgumentException.ParamName"/> is "input", "target" or
    /// "gradOutput" (<see cref="KlDivergence"/>), "student", "teacher", "rowWeights", "rows",
    /// "columns", "gradOutput" or "options" (<see cref="Distillation"/>); for an argument that is not
    /// a span, <see cref="Index"/> is 0 and <see cref="Value"/> the argument (0 for an empty input).
    /// </summary>
    public sealed class KlInputException : ArgumentException
    {
        internal KlInputException(string message, string paramName, long index, int row, double value, int column = -1)
            : base(message, paramName)
        {
            Index = index;
            Row = row;
            Column = column;
            Value = value;
        }

        /// <summary>The index in the span of the offending element, or of the first element of the offending row.</summary>
        public long Index { get; }

        /// <summary>
        /// The offending row, or the row of the offending element in a [rows, columns] call
        /// (<see cref="Distillation"/>, <c>KlDivergence.Rows</c>, and a <c>BatchMean</c> reduction, whose
        /// batch makes rows of length / batch); −1 for an element of any other <see cref="KlDivergence"/> call.
        /// </summary>
        public int Row { get; }

        /// <summary>
        /// The column of the offending element in a [rows, columns] call (<see cref="Distillation"/>,
        /// <c>KlDivergence.Rows</c>, a <c>BatchMean</c> reduction); −1 when the whole row is at fault,
        /// and for an element of any other <see cref="KlDivergence"/> call.
        /// </summary>
        public int Column { get; }

        /// <summary>
        /// The offending element; for a row, its sum (of exp(t) for log-probabilities), or −∞ for a
        /// distillation row whose logits are all −∞.
        /// </summary>
        public double Value { get; }
    }
}
