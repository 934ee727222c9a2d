using System;

namespace NativeKl.Core
{
    /// <summary>
    /// The options <see cref="KlOptions"/> and <see cref="DistillationOptions"/> share: where a call
    /// runs and whether its input is validated. Both public structs hold one of these, so the
    /// shared properties, their checks and their equality are written once.
    /// </summary>
    internal readonly struct CommonOptions : IEquatable<CommonOptions>
    {
        public KlBackendKind Backend { get; init; }
        public KlIsa Isa { get; init; }
        public bool ValidateInputs { get; init; }
        public double RowSumTolerance { get; init; }

        /// <summary>The tolerance in force: <see cref="RowSumTolerance"/>, or the default for 0.</summary>
        public double Tolerance => RowSumTolerance == 0.0 ? KlOptions.DefaultRowSumTolerance : RowSumTolerance;

        /// <summary>Whether Backend and Isa hold defined values.</summary>
        public bool AreDefined => (uint)Backend <= (uint)KlBackendKind.Managed && (uint)Isa <= (uint)KlIsa.Neon;

        /// <summary>Whether RowSumTolerance is finite and ≥ 0.</summary>
        public bool ToleranceIsValid => RowSumTolerance >= 0.0 && RowSumTolerance <= double.MaxValue;

        public bool Equals(CommonOptions other) =>
            Backend == other.Backend && Isa == other.Isa && ValidateInputs == other.ValidateInputs
            && RowSumTolerance.Equals(other.RowSumTolerance);

        public override bool Equals(object? obj) => obj is CommonOptions other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(Backend, Isa, ValidateInputs, RowSumTolerance);

        public override string ToString() =>
            $"Backend={Backend}, Isa={Isa}, ValidateInputs={ValidateInputs}, RowSumTolerance={RowSumTolerance}";
    }
}
