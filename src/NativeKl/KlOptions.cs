using System;
using NativeKl.Interop;

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
            Backend = KlBackendKind.Auto;
            Isa = KlIsa.Auto;
        }

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
        public KlBackendKind Backend { get; init; }

        /// <summary>The native instruction set for this call (tests and benchmarks); the managed backend ignores it.</summary>
        public KlIsa Isa { get; init; }

        /// <summary>PyTorch's <c>log_target=True</c>.</summary>
        public static KlOptions LogTargetOn => new KlOptions(logTarget: true);

        /// <summary>The flags of the C API these options stand for.</summary>
        internal uint NativeFlags =>
            (LogTarget ? NativeMethods.NKL_LOG_TARGET : 0u)
            | (Masked ? NativeMethods.NKL_MASKED : 0u)
            | (Isa == KlIsa.Scalar ? NativeMethods.NKL_FORCE_SCALAR : 0u)
            | (Isa == KlIsa.Avx2 ? NativeMethods.NKL_FORCE_AVX2 : 0u);

        /// <inheritdoc/>
        public bool Equals(KlOptions other) =>
            LogTarget == other.LogTarget && Masked == other.Masked && Backend == other.Backend && Isa == other.Isa;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is KlOptions other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(LogTarget, Masked, Backend, Isa);

        /// <summary>Equality of all four options.</summary>
        public static bool operator ==(KlOptions left, KlOptions right) => left.Equals(right);

        /// <summary>Inequality of any option.</summary>
        public static bool operator !=(KlOptions left, KlOptions right) => !left.Equals(right);

        /// <inheritdoc/>
        public override string ToString() =>
            $"LogTarget={LogTarget}, Masked={Masked}, Backend={Backend}, Isa={Isa}";
    }
}
