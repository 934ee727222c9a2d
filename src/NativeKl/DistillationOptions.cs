using System;
using NativeKl.Core;

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
    /// logits, no T² scale, dense rows, the process-wide backend, no input validation.
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
        public KlBackendKind Backend { get => Common.Backend; init => _common = _common with { Backend = value }; }

        /// <summary>The native instruction set for this call (tests and benchmarks); the managed backend ignores it.</summary>
        public KlIsa Isa { get => Common.Isa; init => _common = _common with { Isa = value }; }

        /// <summary>
        /// Input validation (off by default): before computing, one read of each row the call uses
        /// (rows of weight 0 are not read, nor the padding between rows) checks, row by row, the
        /// student's row before the teacher's, what would otherwise give a NaN loss: a logit that is
        /// NaN or +∞, or becomes +∞ when divided by the temperature (−∞ is allowed: it masks a class),
        /// and a row of logits that are all −∞; for teacher log-probabilities
        /// (<see cref="TeacherKind.LogProbabilities"/>), a value that is NaN or above 0 by more than
        /// log(1 + tolerance), and a row whose probabilities exp(l) do not sum to 1 within
        /// <see cref="RowSumTolerance"/> (the sum comes from a max-shifted log-sum-exp). The first
        /// offence throws <see cref="KlInputException"/> naming "student" or "teacher" with its
        /// <see cref="KlInputException.Row"/>, <see cref="KlInputException.Column"/> (−1 for a row),
        /// <see cref="KlInputException.Index"/> in the span and <see cref="KlInputException.Value"/>,
        /// and nothing is written. Off, a call only tests the flag; on, it allocates nothing either.
        /// </summary>
        public bool ValidateInputs { get => Common.ValidateInputs; init => _common = _common with { ValidateInputs = value }; }

        /// <summary>
        /// How far a teacher row's probability sum may be from 1 when <see cref="ValidateInputs"/> is on
        /// with <see cref="TeacherKind.LogProbabilities"/>; 0 (default) means
        /// <see cref="KlOptions.DefaultRowSumTolerance"/>, as for <see cref="KlOptions.RowSumTolerance"/>.
        /// Finite and ≥ 0.
        /// </summary>
        public double RowSumTolerance { get => Common.RowSumTolerance; init => _common = _common with { RowSumTolerance = value }; }

        /// <summary>Backend, Isa, ValidateInputs and RowSumTolerance, shared with <see cref="KlOptions"/>.</summary>
        internal CommonOptions Common => _common;
        private readonly CommonOptions _common;

        /// <inheritdoc/>
        public bool Equals(DistillationOptions other) =>
            Temperature.Equals(other.Temperature) && Teacher == other.Teacher
            && ScaleByTemperatureSquared == other.ScaleByTemperatureSquared && StudentStride == other.StudentStride
            && TeacherStride == other.TeacherStride && Common.Equals(other.Common);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is DistillationOptions other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() =>
            HashCode.Combine(Temperature, Teacher, ScaleByTemperatureSquared, StudentStride, TeacherStride, Common);

        /// <summary>Equality of all options.</summary>
        public static bool operator ==(DistillationOptions left, DistillationOptions right) => left.Equals(right);

        /// <summary>Inequality of any option.</summary>
        public static bool operator !=(DistillationOptions left, DistillationOptions right) => !left.Equals(right);

        /// <inheritdoc/>
        public override string ToString() =>
            $"Temperature={Temperature}, Teacher={Teacher}, ScaleByTemperatureSquared={ScaleByTemperatureSquared}, " +
            $"StudentStride={StudentStride}, TeacherStride={TeacherStride}, {Common}";
    }
}
