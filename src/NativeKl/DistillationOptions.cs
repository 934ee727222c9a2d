using System;
using NativeKl.Interop;

namespace NativeKl
{
    /// <summary>Where the teacher's distribution comes from in a <see cref="Distillation"/> call.</summary>
    public enum TeacherKind
    {
        /// <summary>Teacher logits u: p = softmax(u / T), like the student's.</summary>
        Logits = 0,
        /// <summary>
        /// Teacher log-probabilities l, used as given: p = exp(l), no softmax and no temperature
        /// (PyTorch's <c>kl_div(log_softmax(s / T), l, log_target=True)</c>).
        /// </summary>
        LogProbabilities = 1,
    }

    /// <summary>
    /// The options of a <see cref="Distillation"/> call. <c>default</c>: temperature 1, teacher
    /// logits, no T² scale, dense rows, the process-wide backend.
    /// </summary>
    public readonly struct DistillationOptions : IEquatable<DistillationOptions>
    {
        private readonly double? _temperature;

        /// <summary>Options with the given temperature (and the defaults otherwise).</summary>
        public DistillationOptions(double temperature) : this() => _temperature = temperature;

        /// <summary>The temperature T (default 1): finite and &gt; 0. Both distributions are softmax(logits / T).</summary>
        public double Temperature { get => _temperature ?? 1.0; init => _temperature = value; }

        /// <summary>What the teacher rows hold (default <see cref="TeacherKind.Logits"/>).</summary>
        public TeacherKind Teacher { get; init; }

        /// <summary>Multiply each row's loss and gradients by T² (Hinton's convention; off by default).</summary>
        public bool ScaleByTemperatureSquared { get; init; }

        /// <summary>Elements from one student row's start to the next; 0 (default) means dense (= columns). Gradients of the student use the same layout.</summary>
        public int StudentStride { get; init; }

        /// <summary>Elements from one teacher row's start to the next; 0 (default) means dense (= columns). Gradients of the teacher use the same layout.</summary>
        public int TeacherStride { get; init; }

        /// <summary>The backend for this call; <see cref="KlBackendKind.Auto"/> uses <see cref="KlBackend.Active"/>.</summary>
        public KlBackendKind Backend { get; init; }

        /// <summary>The native instruction set for this call (tests and benchmarks); the managed backend ignores it.</summary>
        public KlIsa Isa { get; init; }

        internal uint NativeFlags =>
            (Teacher == TeacherKind.LogProbabilities ? NativeMethods.NKL_TEACHER_LOG_PROBS : 0u)
            | (ScaleByTemperatureSquared ? NativeMethods.NKL_SCALE_T2 : 0u)
            | (Isa == KlIsa.Scalar ? NativeMethods.NKL_FORCE_SCALAR : 0u)
            | (Isa == KlIsa.Avx2 ? NativeMethods.NKL_FORCE_AVX2 : 0u);

        /// <inheritdoc/>
        public bool Equals(DistillationOptions other) =>
            Temperature.Equals(other.Temperature) && Teacher == other.Teacher
            && ScaleByTemperatureSquared == other.ScaleByTemperatureSquared && StudentStride == other.StudentStride
            && TeacherStride == other.TeacherStride && Backend == other.Backend && Isa == other.Isa;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is DistillationOptions other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() =>
            HashCode.Combine(Temperature, Teacher, ScaleByTemperatureSquared, StudentStride, TeacherStride, Backend, Isa);

        /// <summary>Equality of all options.</summary>
        public static bool operator ==(DistillationOptions left, DistillationOptions right) => left.Equals(right);

        /// <summary>Inequality of any option.</summary>
        public static bool operator !=(DistillationOptions left, DistillationOptions right) => !left.Equals(right);

        /// <inheritdoc/>
        public override string ToString() =>
            $"Temperature={Temperature}, Teacher={Teacher}, ScaleByTemperatureSquared={ScaleByTemperatureSquared}, " +
            $"StudentStride={StudentStride}, TeacherStride={TeacherStride}, Backend={Backend}, Isa={Isa}";
    }
}
