// KlSemantics.cs - the four semantics of the KL term (log_target off/on x
// masked off/on) as types. A kernel generic over TSemantics reads
// default(TSemantics).LogTarget, a constant once the JIT specialises it for
// the struct, so each of the four instantiations has the branches of the
// others compiled away, as a `bool logTarget, bool masked` parameter could not.

namespace NativeKl.Managed
{
    /// <summary>Which term a kernel computes: the two flags of nkl's NKL_LOG_TARGET and NKL_MASKED.</summary>
    internal interface IKlSemantics
    {
        /// <summary>The target holds log-probabilities: L = exp(t)(t − x) instead of xlogy(t, t) − t x.</summary>
        bool LogTarget { get; }
        /// <summary>A zero-probability target (t = 0, or −∞ with LogTarget) gives exactly +0.</summary>
        bool Masked { get; }
    }

    /// <summary>PyTorch's default: the target holds probabilities.</summary>
    internal readonly struct ProbabilityTarget : IKlSemantics
    {
        public bool LogTarget => false;
        public bool Masked => false;
    }

    /// <summary>Probabilities, zero-probability targets masked to +0.</summary>
    internal readonly struct MaskedProbabilityTarget : IKlSemantics
    {
        public bool LogTarget => false;
        public bool Masked => true;
    }

    /// <summary>PyTorch's log_target=True.</summary>
    internal readonly struct LogProbabilityTarget : IKlSemantics
    {
        public bool LogTarget => true;
        public bool Masked => false;
    }

    /// <summary>log_target=True, −∞ targets masked to +0.</summary>
    internal readonly struct MaskedLogProbabilityTarget : IKlSemantics
    {
        public bool LogTarget => true;
        public bool Masked => true;
    }

    /// <summary>The semantics of a call as a number, for the one switch that picks the instantiation.</summary>
    internal static class KlSemantics
    {
        internal const int Probability = 0, MaskedProbability = 1, LogProbability = 2, MaskedLogProbability = 3;

        internal static int Of(bool logTarget, bool masked) => (logTarget ? 2 : 0) | (masked ? 1 : 0);
    }
}
