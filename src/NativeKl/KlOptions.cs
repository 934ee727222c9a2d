using System;
using NativeKl.Core;

namespace NativeKl
{
    /// <summary>
    /// The options of a KL call besides the reduction. <c>default</c> is PyTorch's default:
    /// probabilities as target, PyTorch's semantics, the process-wide backend.
    /// </summary>
    public readonly struct KlOptions : IEquatable<KlOptions>
    {
        /// <summary>Options with the given semantics on the process-wide backend.</summary>
        public KlOptions(bool logTarget, bool masked = false)
        {
            LogTarget = logTarget;
            Masked = masked;
            _common = default;
        }

        /// <summary>Backend, Isa, ValidateInputs and RowSumTolerance, shared with <see cref="DistillationOptions"/>.</summary>
        internal CommonOptions Common => _common;
        private readonly CommonOptions _common;

        /// <summary>
        /// The target holds log-probabilities (PyTorch's <c>log_target=True</c>): the term is
        /// exp(t)·(t − x) instead of xlogy(t, t) − t·x.
        /// </summary>
        public bool LogTarget { get; init; }

        /// <summary>
        /// Semantics PyTorch lacks: a zero-probability target (t = 0, or t = −∞ with
        /// <see cref="LogTarget"/>) contributes exactly +0 whatever the input holds, so a masked
        /// log_softmax row (x = −∞ there) gives a finite result instead of NaN.
        /// </summary>
        public bool Masked { get; init; }

        /// <summary>The backend for this call; <see cref="KlBackendKind.Auto"/> uses <see cref="KlBackend.Active"/>.</summary>
        public KlBackendKind Backend { get => Common.Backend; init => _common = _common with { Backend = value }; }

        /// <summary>The instruction set for this call (tests and benchmarks), on either backend: see <see cref="KlIsa"/>.</summary>
        public KlIsa Isa { get => Common.Isa; init => _common = _common with { Isa = value }; }

        /// <summary>
        /// Input validation (off by default): with it on, a call either throws
        /// <see cref="KlInputException"/> or returns no NaN, in the value or any output element.
        /// Before computing, one pass checks that input holds log-probabilities (≤ 0, not NaN) and
        /// target probabilities in [0, 1] (log-probabilities ≤ 0 with <see cref="LogTarget"/>, not
        /// NaN), and, where the call knows the rows
        /// (<see cref="KlDivergence.Rows(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int, int, Span{float}, KlOptions, int)"/>,
        /// BatchMean), that each target row sums to 1 within <see cref="RowSumTolerance"/>; and that
        /// no pair makes PyTorch's formula NaN: an input −∞ where the target is 0 (a masked
        /// log_softmax row: such data wants <see cref="Masked"/>), a log target of −∞ unless masked,
        /// an input −∞ where exp(log target) underflows to 0 in the data's type (masked or not); for
        /// the backward calls, a gradOutput that is not finite, and, when the target gradient is
        /// asked for, a target of 0 unless masked (log t + 1 − x is NaN there, as in PyTorch) and an
        /// input −∞ where the target's probability is not 0 while gradOutput ÷ divisor is 0; and an
        /// empty input for Mean, or BatchMean of batch 0 (0/0). The first offence throws
        /// <see cref="KlInputException"/> with its index (and, from Rows, its row and column).
        /// </summary>
        public bool ValidateInputs { get => Common.ValidateInputs; init => _common = _common with { ValidateInputs = value }; }

        /// <summary>
        /// How far a target row's sum (of exp(t) with <see cref="LogTarget"/>) may be from 1 when
        /// <see cref="ValidateInputs"/> is on; 0 means the default, <see cref="DefaultRowSumTolerance"/>.
        /// </summary>
        public double RowSumTolerance { get => Common.RowSumTolerance; init => _common = _common with { RowSumTolerance = value }; }

        /// <summary>The row-sum tolerance when <see cref="RowSumTolerance"/> is 0: 1e-3, the reach of a float32 softmax over ~10⁴ classes.</summary>
        public const double DefaultRowSumTolerance = 1e-3;

        /// <summary>PyTorch's <c>log_target=True</c>.</summary>
        public static KlOptions LogTargetOn => new KlOptions(logTarget: true);

        /// <inheritdoc/>
        public bool Equals(KlOptions other) =>
            LogTarget == other.LogTarget && Masked == other.Masked && Common.Equals(other.Common);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is KlOptions other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(LogTarget, Masked, Common);

        /// <summary>Equality of all the options.</summary>
        public static bool operator ==(KlOptions left, KlOptions right) => left.Equals(right);

        /// <summary>Inequality of any option.</summary>
        public static bool operator !=(KlOptions left, KlOptions right) => !left.Equals(right);

        /// <inheritdoc/>
        public override string ToString() =>
            $"LogTarget={LogTarget}, Masked={Masked}, {Common}";
    }
}
