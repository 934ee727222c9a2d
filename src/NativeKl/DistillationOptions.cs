using System;
using NativeKl.Core;

namespace NativeKl
{
    /// <summary>Where the teacher's distribution comes from in a <see cref="Distillation"/> call.</summary>
    public enum TeacherKind
    {
        /// <summary>
        /// Teacher logits u: p = softmax(u / T), tempered like the student's. This is PyTorch's
        /// distillation composite in both of its spellings: <c>kl_div(log_softmax(s / T), softmax(u / T))</c>
        /// and the log-target one, <c>kl_div(log_softmax(s / T), log_softmax(u / T), log_target=True)</c>
        /// (the same loss; the log target only avoids exp of log).
        /// </summary>
        Logits = 0,
        /// <summary>
        /// Teacher log-probabilities l, used as given: p = exp(l), with no softmax and no
        /// temperature (T divides only the student's logits). Equals PyTorch's
        /// <c>kl_div(log_softmax(s / T), l, log_target=True)</c> with l passed unchanged; this is
        /// NOT PyTorch's log-target distillation, which tempers the teacher
        /// (<c>log_softmax(u / T)</c>) and is <see cref="Logits"/> given the teacher's logits u.
        /// Use it for a teacher distribution that is already final (cached log-probabilities,
        /// a policy's log-probabilities). Tempering is then the caller's: l = log_softmax(u / T)
        /// gives <see cref="Logits"/>' loss (up to rounding).
        /// </summary>
        LogProbabilitiesAsGiven = 1,
    }

    /// <summary>
    /// The options of a <see cref="Distillation"/> call. <c>default</c>: temperature 1, teacher
    /// logits, the loss not multiplied by T² (the plain KL), dense rows, the process-wide backend,
    /// no input validation. For Hinton's convention (the loss × T²) use <see cref="Hinton(double)"/>.
    /// </summary>
    public readonly struct DistillationOptions : IEquatable<DistillationOptions>
    {
        private readonly double? _temperature;

        /// <summary>
        /// Options with the given temperature (and the defaults otherwise): the loss is the plain
        /// KL(softmax(u / T) ‖ softmax(s / T)), NOT multiplied by T². PyTorch:
        /// <c>F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction='batchmean')</c>.
        /// </summary>
        public DistillationOptions(double temperature) : this() => _temperature = temperature;

        /// <summary>
        /// Hinton's distillation loss at temperature T: the KL multiplied by T²
        /// (<see cref="MultiplyLossByTemperatureSquared"/> on), so that the gradients keep their size
        /// as T changes. PyTorch:
        /// <c>F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction='batchmean') * T * T</c>.
        /// </summary>
        public static DistillationOptions Hinton(double temperature) =>
            new DistillationOptions(temperature) { MultiplyLossByTemperatureSquared = true };

        /// <summary>The temperature T (default 1): finite and &gt; 0. Both distributions are softmax(logits / T).</summary>
        public double Temperature { get => _temperature ?? 1.0; init => _temperature = value; }

        /// <summary>What the teacher rows hold (default <see cref="TeacherKind.Logits"/>).</summary>
        public TeacherKind Teacher { get; init; }

        /// <summary>
        /// Multiply every row's loss, and so the gradients, by T² (Hinton's convention); off by
        /// default. Off, the loss is the plain KL(softmax(u / T) ‖ softmax(s / T)), PyTorch's
        /// <c>F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction='batchmean')</c>, whose
        /// gradients shrink as 1/T² when T grows. On, it is that expression <c>* T * T</c>, the
        /// usual distillation composite (Hinton et al. 2015), whose gradients are comparable across
        /// temperatures. With T = 1 the two agree.
        /// </summary>
        public bool MultiplyLossByTemperatureSquared { get; init; }

        /// <summary>Elements from one student row's start to the next; 0 (default) means dense (= columns). Gradients of the student use the same layout.</summary>
        public int StudentStride { get; init; }

        /// <summary>Elements from one teacher row's start to the next; 0 (default) means dense (= columns). Gradients of the teacher use the same layout.</summary>
        public int TeacherStride { get; init; }

        /// <summary>The backend for this call; <see cref="KlBackendKind.Auto"/> uses <see cref="KlBackend.Active"/>.</summary>
        public KlBackendKind Backend { get => Common.Backend; init => _common = _common with { Backend = value }; }

        /// <summary>The instruction set for this call (tests and benchmarks), on either backend: see <see cref="KlIsa"/>.</summary>
        public KlIsa Isa { get => Common.Isa; init => _common = _common with { Isa = value }; }

        /// <summary>
        /// Input validation (off by default): with it on, a call either throws
        /// <see cref="KlInputException"/> or returns no NaN, in the loss, a row loss or a gradient.
        /// Before computing, two reads of each row the call uses (rows of weight 0 are not read, nor
        /// the padding between rows) check, row by row, the student's row before the teacher's: a
        /// logit that is NaN or +∞, or becomes +∞ when divided by the temperature, and a row of
        /// logits that are all −∞; for teacher log-probabilities (<see cref="TeacherKind.LogProbabilitiesAsGiven"/>),
        /// a value that is NaN or above 0 by more than min(log(1 + tolerance), log 2), and a row whose
        /// probabilities exp(l) do not sum to 1 within <see cref="RowSumTolerance"/> (the sum comes
        /// from a max-shifted log-sum-exp); then a student logit of −∞ where the teacher's class is not
        /// −∞ (−∞ masks a class when both have it: otherwise the loss is +∞ and its teacher gradient
        /// NaN), and a finite logit more than 2^120 (float32, after the scale log2(e)/T) or 2^960
        /// (float64; teacher logits too) below its row's largest. For the whole call: BatchMean with
        /// no kept row, or Mean with no kept row or no column (0/0); in float64, T² of 0 or ∞ with
        /// <see cref="MultiplyLossByTemperatureSquared"/>; for a backward call, a gradOutput that is not
        /// finite, or a row's gradient scale (gradOutput × weight × T² ÷ divisor ÷ T) that overflows
        /// the data's type; for a reduction, row weights × T² × logit spreads whose sum could
        /// overflow. The first offence throws <see cref="KlInputException"/> naming the argument
        /// ("student", "teacher", "rowWeights", "rows", "columns", "gradOutput" or "options") with its
        /// <see cref="KlInputException.Row"/>, <see cref="KlInputException.Column"/> (−1 for a row),
        /// <see cref="KlInputException.Index"/> in the span and <see cref="KlInputException.Value"/>,
        /// and nothing is written. Off, a call only tests the flag; on, it allocates nothing either.
        /// </summary>
        public bool ValidateInputs { get => Common.ValidateInputs; init => _common = _common with { ValidateInputs = value }; }

        /// <summary>
        /// How far a teacher row's probability sum may be from 1 when <see cref="ValidateInputs"/> is on
        /// with <see cref="TeacherKind.LogProbabilitiesAsGiven"/>; 0 (default) means
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
            && MultiplyLossByTemperatureSquared == other.MultiplyLossByTemperatureSquared && StudentStride == other.StudentStride
            && TeacherStride == other.TeacherStride && Common.Equals(other.Common);

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is DistillationOptions other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() =>
            HashCode.Combine(Temperature, Teacher, MultiplyLossByTemperatureSquared, StudentStride, TeacherStride, Common);

        /// <summary>Equality of all options.</summary>
        public static bool operator ==(DistillationOptions left, DistillationOptions right) => left.Equals(right);

        /// <summary>Inequality of any option.</summary>
        public static bool operator !=(DistillationOptions left, DistillationOptions right) => !left.Equals(right);

        /// <inheritdoc/>
        public override string ToString() =>
            $"Temperature={Temperature}, Teacher={Teacher}, MultiplyLossByTemperatureSquared={MultiplyLossByTemperatureSquared}, " +
            $"StudentStride={StudentStride}, TeacherStride={TeacherStride}, {Common}";
    }
}
