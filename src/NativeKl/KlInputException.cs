using System;

namespace NativeKl
{
    /// <summary>
    /// What <see cref="KlOptions.ValidateInputs"/> reports instead of a NaN result: the first element
    /// that is not a log-probability (input) or a probability (target), or the first target row that
    /// does not sum to 1. <see cref="ArgumentException.ParamName"/> is "input" or "target".
    /// </summary>
    public sealed class KlInputException : ArgumentException
    {
        internal KlInputException(string message, string paramName, long index, int row, double value)
            : base(message, paramName)
        {
            Index = index;
            Row = row;
            Value = value;
        }

        /// <summary>The index in the span of the offending element, or of the first element of the offending row.</summary>
        public long Index { get; }

        /// <summary>The offending row for a row-sum failure; −1 for an element.</summary>
        public int Row { get; }

        /// <summary>The offending element, or the row's sum.</summary>
        public double Value { get; }
    }
}
