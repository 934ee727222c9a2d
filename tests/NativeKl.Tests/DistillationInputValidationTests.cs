namespace NativeKl.Tests;

/// <summary>
/// DistillationOptions.ValidateInputs on every backend and through every entry point (Loss,
/// RowLosses, Backward, RowBackward; float and double): the first logit or teacher row that would
/// give NaN, by argument, row, column, index and value, with nothing written; valid data gives the
/// same bits as with the mode off; rows of weight 0 and the padding between rows are not read; no
/// allocation.
/// </summary>
public class DistillationInputValidationTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    // Strided on both sides, so padding (NaN) lies between the rows.
    private const int Rows = 5, Cols = 13, Ss = 16, Ts = 14;

    private static DistillationOptions On(string backend, TeacherKind teacher = TeacherKind.Logits) =>
        new DistillationOptions(1.5)
        {
            Backend = Registry.Backends[backend].Backend, Isa = Registry.Backends[backend].Isa, Teacher = teacher,
            MultiplyLossByTemperatureSquared = true, StudentStride = Ss, TeacherStride = Ts, ValidateInputs = true,
        };

    /// <summary>Valid rows, NaN padding; teacher log-probabilities are log-softmax rows; weights all &gt; 0.</summary>
    private static (double[] S, double[] U, double[] W) Valid(TeacherKind teacher, int seed = 1)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var s = new double[(Rows - 1) * Ss + Cols];
        var u = new double[(Rows - 1) * Ts + Cols];
        Array.Fill(s, double.NaN);
        Array.Fill(u, double.NaN);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++) { s[r * Ss + c] = 3 * Normal(); u[r * Ts + c] = 3 * Normal(); }
            if (teacher == TeacherKind.LogProbabilitiesAsGiven) LogSoftmax(u, r * Ts);
        }
        var w = Enumerable.Range(0, Rows).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        return (s, u, w);
    }

    private static void LogSoftmax(double[] u, int start)
    {
        double m = double.NegativeInfinity, z = 0;
        for (int c = 0; c < Cols; c++) m = Math.Max(m, u[start + c]);
        for (int c = 0; c < Cols; c++) z += Math.Exp(u[start + c] - m);
        for (int c = 0; c < Cols; c++) u[start + c] -= m + Math.Log(z);
    }

    // ------------------------------------------------------------ every entry point

    /// <summary>Every output of one call, filled with 7 beforehand.</summary>
    private sealed class Outputs
    {
        public readonly float[] RowsF = Filled<float>(Rows, 7f), GsF = Filled<float>((Rows - 1) * Ss + Cols, 7f), GuF = Filled<float>((Rows - 1) * Ts + Cols, 7f);
        public readonly double[] RowsD = Filled<double>(Rows, 7.0), GsD = Filled<double>((Rows - 1) * Ss + Cols, 7.0), GuD = Filled<double>((Rows - 1) * Ts + Cols, 7.0);

        private static T[] Filled<T>(int n, T v) { var a = new T[n]; Array.Fill(a, v); return a; }

        public void Untouched(string entry)
        {
            Assert.True(RowsF.Concat(GsF).Concat(GuF).All(v => v == 7f), $"{entry} wrote a float output");
            Assert.True(RowsD.Concat(GsD).Concat(GuD).All(v => v == 7.0), $"{entry} wrote a double output");
        }

        public ulong[] Bits(double value) =>
            new[] { BitConverter.DoubleToUInt64Bits(value) }
                .Concat(RowsF.Concat(GsF).Concat(GuF).Select(v => (ulong)BitConverter.SingleToUInt32Bits(v)))
                .Concat(RowsD.Concat(GsD).Concat(GuD).Select(BitConverter.DoubleToUInt64Bits)).ToArray();
    }

    private delegate double Entry(double[] s, double[] u, double[] w, DistillationOptions o, Outputs out_);

    private static float[] F(double[] a) => a.Select(x => (float)x).ToArray();

    private static readonly (string Name, bool Single, Entry Run)[] Entries =
    {
        ("Loss f32", true, (s, u, w, o, b) => Distillation.Loss(F(s), F(u), Rows, Cols, KlReductionKind.BatchMean, o, F(w))),
        ("RowLosses f32", true, (s, u, w, o, b) => { Distillation.RowLosses(F(s), F(u), Rows, Cols, b.RowsF, o, F(w)); return 0; }),
        ("Backward f32", true, (s, u, w, o, b) => Distillation.Backward(F(s), F(u), Rows, Cols, b.GsF, b.GuF, KlReductionKind.Mean, 0.5f, o, F(w))),
        ("RowBackward f32", true, (s, u, w, o, b) => { Distillation.RowBackward(F(s), F(u), Rows, Cols, b.GsF, b.GuF, b.RowsF, 0.5f, o, F(w)); return 0; }),
        ("Loss f64", false, (s, u, w, o, b) => Distillation.Loss(s, u, Rows, Cols, KlReductionKind.Sum, o, w)),
        ("RowLosses f64", false, (s, u, w, o, b) => { Distillation.RowLosses(s, u, Rows, Cols, b.RowsD, o, w); return 0; }),
        ("Backward f64", false, (s, u, w, o, b) => Distillation.Backward(s, u, Rows, Cols, b.GsD, b.GuD, KlReductionKind.BatchMean, 0.5, o, w)),
        ("RowBackward f64", false, (s, u, w, o, b) => { Distillation.RowBackward(s, u, Rows, Cols, b.GsD, b.GuD, b.RowsD, 0.5, o, w); return 0; }),
    };

    /// <summary>
    /// Every entry point (of the type asked for, or both) throws KlInputException for the element
    /// [row, column] (column −1: the row) at index, with the value (a float call sees (float)value;
    /// a row sum is compared within 1e-5), and writes nothing.
    /// </summary>
    private static void Fails(double[] s, double[] u, double[] w, DistillationOptions o,
                              string param, int row, int column, long index, double value, bool? single = null)
    {
        foreach (var (name, isSingle, run) in Entries.Where(e => single == null || e.Single == single))
        {
            var b = new Outputs();
            var e = Assert.Throws<KlInputException>(() => run(s, u, w, o, b));
            Assert.True((param, row, column, index) == (e.ParamName, e.Row, e.Column, e.Index),
                $"{name}: ({e.ParamName}, row {e.Row}, column {e.Column}, index {e.Index}), expected ({param}, {row}, {column}, {index}): {e.Message}");
            double want = isSingle && column >= 0 ? (float)value : value;
            bool same = double.IsNaN(want) ? double.IsNaN(e.Value)
                      : column >= 0 || double.IsInfinity(want) ? e.Value == want
                      : Math.Abs(e.Value - want) <= 1e-5;
            Assert.True(same, $"{name}: value {e.Value:R}, expected {want:R}");
            string head = column >= 0 ? $"`{param}`[{row}, {column}] (element {index}) = " : $"`{param}` row {row} (from element {index}) ";
            Assert.StartsWith(head, e.Message);
            b.Untouched(name);
        }
    }

    /// <summary>Every entry point (of the type asked for, or both) accepts the data.</summary>
    private static void Passes(double[] s, double[] u, double[] w, DistillationOptions o, bool? single = null)
    {
        foreach (var (name, isSingle, run) in Entries.Where(e => single == null || e.Single == single))
        {
            var ex = Record.Exception(() => run(s, u, w, o, new Outputs()));
            Assert.True(ex == null, $"{name}: {ex?.Message}");
        }
    }

    // ------------------------------------------------------------ rules

    [Theory, MemberData(nameof(BackendNames))]
    public void Off_by_default_a_NaN_flows_through(string backend)
    {
        var o = On(backend) with { ValidateInputs = false };
        Assert.False(default(DistillationOptions).ValidateInputs);
        Assert.False(new DistillationOptions(2).ValidateInputs);
        var (s, u, w) = Valid(TeacherKind.Logits);
        s[2 * Ss + 5] = double.NaN;
        Assert.True(Reference.IsLibraryNaN(Distillation.Loss(s, u, Rows, Cols, KlReductionKind.Sum, o, w)));
        Assert.True(Reference.IsLibraryNaN(Distillation.Loss(F(s), F(u), Rows, Cols, KlReductionKind.Sum, o, F(w))));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Student_logits_NaN_or_plus_infinity(string backend)
    {
        var o = On(backend);
        var (s, u, w) = Valid(TeacherKind.Logits);
        s[0] = double.NegativeInfinity;      // earlier, allowed: a class masked in both
        u[0] = double.NegativeInfinity;
        s[3 * Ss] = double.PositiveInfinity; // later: not reported
        s[2 * Ss + 5] = double.NaN;
        Fails(s, u, w, o, "student", 2, 5, 2 * Ss + 5, double.NaN);
        s[2 * Ss + 5] = double.PositiveInfinity;
        Fails(s, u, w, o, "student", 2, 5, 2 * Ss + 5, double.PositiveInfinity);
        s[2 * Ss + 5] = 1;
        Fails(s, u, w, o, "student", 3, 0, 3 * Ss, double.PositiveInfinity);
        s[3 * Ss] = 1;
        Passes(s, u, w, o);
        // the same with teacher log-probabilities: the student's rules do not change
        var (_, lu, _) = Valid(TeacherKind.LogProbabilitiesAsGiven);
        lu[0] = double.NegativeInfinity;
        LogSoftmax(lu, 0);
        s[4 * Ss + 12] = double.NaN;
        Fails(s, lu, w, o with { Teacher = TeacherKind.LogProbabilitiesAsGiven }, "student", 4, 12, 4 * Ss + 12, double.NaN);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Teacher_logits_NaN_or_plus_infinity(string backend)
    {
        var o = On(backend);
        var (s, u, w) = Valid(TeacherKind.Logits);
        u[1 * Ts + 12] = double.NaN;
        u[1 * Ts + 3] = double.NegativeInfinity; // allowed
        Fails(s, u, w, o, "teacher", 1, 12, Ts + 12, double.NaN);
        u[1 * Ts + 12] = double.PositiveInfinity;
        Fails(s, u, w, o, "teacher", 1, 12, Ts + 12, double.PositiveInfinity);
        // rows in order, and in a row the student's before the teacher's
        s[2 * Ss] = double.NaN;
        Fails(s, u, w, o, "teacher", 1, 12, Ts + 12, double.PositiveInfinity);
        s[1 * Ss + 12] = double.NaN;
        Fails(s, u, w, o, "student", 1, 12, Ss + 12, double.NaN);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Rows_whose_logits_are_all_minus_infinity(string backend)
    {
        var o = On(backend);
        var (s, u, w) = Valid(TeacherKind.Logits);
        for (int c = 1; c < Cols; c++)
        {
            s[3 * Ss + c] = u[3 * Ts + c] = double.NegativeInfinity; // masked in both
            u[2 * Ts + c] = double.NegativeInfinity;
        }
        Passes(s, u, w, o); // one class left in each: fine
        s[3 * Ss] = double.NegativeInfinity;
        Fails(s, u, w, o, "student", 3, -1, 3 * Ss, double.NegativeInfinity);
        u[2 * Ts] = double.NegativeInfinity;
        Fails(s, u, w, o, "teacher", 2, -1, 2 * Ts, double.NegativeInfinity);
        Assert.Contains("no logit above −∞", Assert.Throws<KlInputException>(() => Distillation.Loss(s, u, Rows, Cols, options: o)).Message);
        // the student's rule with teacher log-probabilities too
        var (_, lu, _) = Valid(TeacherKind.LogProbabilitiesAsGiven);
        Fails(s, lu, w, o with { Teacher = TeacherKind.LogProbabilitiesAsGiven }, "student", 3, -1, 3 * Ss, double.NegativeInfinity);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Logits_that_overflow_when_divided_by_the_temperature(string backend)
    {
        var o = On(backend) with { Temperature = 0.5 };
        var (s, u, w) = Valid(TeacherKind.Logits);
        // finite in both types but +inf × 2 in float only
        s[1 * Ss + 3] = 3e38;
        Fails(s, u, w, o, "student", 1, 3, Ss + 3, 3e38, single: true);
        Assert.Contains("temperature 0.5", Assert.Throws<KlInputException>(() => Distillation.Loss(F(s), F(u), Rows, Cols, options: o)).Message);
        Passes(s, u, w, o, single: false);
        // 3e38 / 1.5 is finite, but in float32 (times log2(e)) 2^127 above the row's other logits: the
        // kernels' differences could overflow (2^120 is the limit); in float64 it is fine
        Fails(s, u, w, o with { Temperature = 1.5 }, "student", 1, 0, Ss, s[Ss], single: true);
        Assert.Contains("more than 2^120 below its row's largest", Assert.Throws<KlInputException>(
            () => Distillation.Loss(F(s), F(u), Rows, Cols, options: o with { Temperature = 1.5 })).Message);
        Passes(s, u, w, o with { Temperature = 1.5 }, single: false);
        // +inf × 2 in double (in float it is +inf already)
        s[1 * Ss + 3] = 1e308;
        Fails(s, u, w, o, "student", 1, 3, Ss + 3, 1e308);
        s[1 * Ss + 3] = 1;
        u[4 * Ts] = 1e308;
        Fails(s, u, w, o, "teacher", 4, 0, 4 * Ts, 1e308);
        u[4 * Ts] = 1;
        // a row of finite logits that all become -inf
        for (int c = 0; c < Cols; c++) s[2 * Ss + c] = -1e308;
        Fails(s, u, w, o, "student", 2, -1, 2 * Ss, double.NegativeInfinity);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void A_student_class_at_minus_infinity_where_the_teacher_has_one(string backend)
    {
        foreach (var teacher in new[] { TeacherKind.Logits, TeacherKind.LogProbabilitiesAsGiven })
        {
            var o = On(backend, teacher);
            var (s, u, w) = Valid(teacher);
            s[3 * Ss + 4] = double.NegativeInfinity; // the loss would be +inf, the teacher gradient NaN
            Fails(s, u, w, o, "student", 3, 4, 3 * Ss + 4, double.NegativeInfinity);
            Assert.Contains("−∞ in the teacher too", Assert.Throws<KlInputException>(() => Distillation.Loss(s, u, Rows, Cols, options: o)).Message);
            u[3 * Ts + 4] = double.NegativeInfinity; // masked in both: fine
            if (teacher == TeacherKind.LogProbabilitiesAsGiven) LogSoftmax(u, 3 * Ts);
            Passes(s, u, w, o);
            // a finite student logit that becomes -inf divided by the temperature counts too
            s[1 * Ss + 7] = -1e308;
            Fails(s, u, w, o with { Temperature = 0.5 }, "student", 1, 7, Ss + 7, -1e308, single: false);
            Assert.Contains("becomes −∞ divided by the temperature 0.5", Assert.Throws<KlInputException>(
                () => Distillation.Loss(s, u, Rows, Cols, options: o with { Temperature = 0.5 })).Message);
        }
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Nothing_to_average_is_a_NaN_loss(string backend)
    {
        var o = On(backend) with { StudentStride = 0, TeacherStride = 0 };
        float[] s = { 1, 2, 3, 4 }, u = { 4, 3, 2, 1 };
        foreach (var (reduction, rows, columns, weights, param) in new[]
                 {
                     (KlReductionKind.BatchMean, 0, 2, Array.Empty<float>(), "rows"),
                     (KlReductionKind.Mean, 2, 0, Array.Empty<float>(), "columns"),
                     (KlReductionKind.BatchMean, 2, 2, new[] { 0f, 0f }, "rowWeights"),
                 })
        {
            Assert.True(float.IsNaN(Distillation.Loss(s, u, rows, columns, reduction, o with { ValidateInputs = false }, weights)));
            var e = Assert.Throws<KlInputException>(() => Distillation.Loss(s, u, rows, columns, reduction, o, weights));
            Assert.Equal(param, e.ParamName);
            Assert.Contains("NaN", e.Message);
            Assert.Throws<KlInputException>(() => Distillation.Backward(s, u, rows, columns, new float[4], new float[4], reduction, 1f, o, weights));
            // Sum and the per-row losses have nothing to divide
            Distillation.Loss(s, u, rows, columns, KlReductionKind.Sum, o, weights);
            Distillation.RowLosses(s, u, rows, columns, new float[2], o, weights);
        }
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Teacher_log_probabilities(string backend)
    {
        var o = On(backend, TeacherKind.LogProbabilitiesAsGiven);
        var (s, u, w) = Valid(TeacherKind.LogProbabilitiesAsGiven);
        Passes(s, u, w, o);
        u[2 * Ts + 6] = double.NaN;
        Fails(s, u, w, o, "teacher", 2, 6, 2 * Ts + 6, double.NaN);
        u[2 * Ts + 6] = 0.25;
        Fails(s, u, w, o, "teacher", 2, 6, 2 * Ts + 6, 0.25);
        Assert.Contains("is not a log-probability", Assert.Throws<KlInputException>(() => Distillation.Loss(s, u, Rows, Cols, options: o)).Message);
        u[2 * Ts + 6] = double.PositiveInfinity;
        Fails(s, u, w, o, "teacher", 2, 6, 2 * Ts + 6, double.PositiveInfinity);

        // one class of probability 1 (the rest -inf, probability 0): a little above 0 passes within
        // log(1 + tolerance) = 9.995e-4, and more does not
        for (int c = 0; c < Cols; c++) u[2 * Ts + c] = double.NegativeInfinity;
        u[2 * Ts + 6] = 0.0009;
        Passes(s, u, w, o);
        u[2 * Ts + 6] = 0.0011;
        Fails(s, u, w, o, "teacher", 2, 6, 2 * Ts + 6, 0.0011);
        Passes(s, u, w, o with { RowSumTolerance = 0.002 });
        u[2 * Ts + 6] = 0;

        // a row that sums to 1.01
        for (int c = 0; c < Cols; c++) u[3 * Ts + c] += Math.Log(1.01);
        Fails(s, u, w, o, "teacher", 3, -1, 3 * Ts, 1.01);
        Assert.Contains("sums to 1.0", Assert.Throws<KlInputException>(() => Distillation.Loss(s, u, Rows, Cols, options: o)).Message);
        Passes(s, u, w, o with { RowSumTolerance = 0.02 });
        LogSoftmax(u, 3 * Ts);
        Passes(s, u, w, o);

        // far below 0 but for one class: sums to 1; all far below 0: sums to 0
        for (int c = 0; c < Cols; c++) u[4 * Ts + c] = -5000.0 * c;
        LogSoftmax(u, 4 * Ts);
        Passes(s, u, w, o);
        for (int c = 0; c < Cols; c++) u[4 * Ts + c] -= 1000;
        Fails(s, u, w, o, "teacher", 4, -1, 4 * Ts, 0.0);
        // a row of all -inf: probability sum 0
        for (int c = 0; c < Cols; c++) u[4 * Ts + c] = double.NegativeInfinity;
        Fails(s, u, w, o, "teacher", 4, -1, 4 * Ts, 0.0);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void A_bad_row_sum_tolerance_is_an_argument_error(string backend)
    {
        var (s, u, w) = Valid(TeacherKind.LogProbabilitiesAsGiven);
        foreach (bool validate in new[] { false, true })
            foreach (double tolerance in new[] { -1e-3, double.NaN, double.PositiveInfinity })
            {
                var o = On(backend, TeacherKind.LogProbabilitiesAsGiven) with { ValidateInputs = validate, RowSumTolerance = tolerance };
                foreach (var (name, _, run) in Entries)
                {
                    var b = new Outputs();
                    var e = Assert.Throws<ArgumentOutOfRangeException>(() => run(s, u, w, o, b));
                    Assert.Equal("options", e.ParamName);
                    b.Untouched(name);
                }
            }
    }

    // ------------------------------------------------------------ what is not checked

    [Theory, MemberData(nameof(BackendNames))]
    public void Ignored_rows_and_padding_are_not_read(string backend)
    {
        foreach (var teacher in new[] { TeacherKind.Logits, TeacherKind.LogProbabilitiesAsGiven })
        {
            var o = On(backend, teacher);
            var (s, u, w) = Valid(teacher); // padding: NaN
            Assert.True(double.IsNaN(s[Cols]) && double.IsNaN(u[Cols]));
            w[2] = 0;
            for (int c = 0; c < Cols; c++) { s[2 * Ss + c] = double.NaN; u[2 * Ts + c] = double.PositiveInfinity; }
            w[3] = 0;
            for (int c = 0; c < Cols; c++) { s[3 * Ss + c] = double.NegativeInfinity; u[3 * Ts + c] = c == 0 ? double.NaN : double.NegativeInfinity; }
            foreach (var (name, _, run) in Entries)
            {
                var on = new Outputs();
                var off = new Outputs();
                double von = run(s, u, w, o, on), voff = run(s, u, w, o with { ValidateInputs = false }, off);
                Assert.True(on.Bits(von).SequenceEqual(off.Bits(voff)), $"{teacher} {name}");
            }
            // a row of small weight is read
            w[3] = 1e-30;
            Fails(s, u, w, o, "student", 3, -1, 3 * Ss, double.NegativeInfinity);
        }
        // no columns: nothing to read, nothing to report
        var none = new DistillationOptions(2) { Backend = Registry.Backends[backend].Backend, Isa = Registry.Backends[backend].Isa, ValidateInputs = true };
        Assert.Equal(0f, Distillation.Loss(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 3, 0, KlReductionKind.Sum, none));
        Assert.Equal(0.0, Distillation.Loss(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 3, 0, KlReductionKind.Sum, none with { Teacher = TeacherKind.LogProbabilitiesAsGiven }));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Valid_input_gives_the_same_bits_with_the_mode_on(string backend)
    {
        foreach (var teacher in new[] { TeacherKind.Logits, TeacherKind.LogProbabilitiesAsGiven })
        {
            var o = On(backend, teacher);
            var (s, u, w) = Valid(teacher, seed: 7);
            s[0] = u[0] = double.NegativeInfinity; // classes masked in both
            s[2 * Ss + 4] = u[2 * Ts + 4] = double.NegativeInfinity;
            s[4 * Ss + 1] = 1e30;           // a far-off logit
            if (teacher == TeacherKind.Logits) { u[Ts + 2] = double.NegativeInfinity; u[3 * Ts] = -1e30; }
            else
            {
                u[Ts + 2] = double.NegativeInfinity; // masked in the teacher only: fine
                LogSoftmax(u, 0);
                LogSoftmax(u, Ts);
                LogSoftmax(u, 2 * Ts);
            }
            w[1] = 0;
            foreach (var weights in new[] { w, Array.Empty<double>() })
                foreach (var (name, _, run) in Entries)
                {
                    var on = new Outputs();
                    var off = new Outputs();
                    double von = run(s, u, weights, o, on), voff = run(s, u, weights, o with { ValidateInputs = false }, off);
                    Assert.True(on.Bits(von).SequenceEqual(off.Bits(voff)), $"{teacher} {name} weights {weights.Length}");
                }
        }
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Calls_allocate_nothing_with_the_mode_on(string backend)
    {
        var (sd, ud, wd) = Valid(TeacherKind.Logits, seed: 11);
        var (_, ld, _) = Valid(TeacherKind.LogProbabilitiesAsGiven, seed: 12);
        wd[1] = 0;
        float[] s = F(sd), u = F(ud), l = F(ld), w = F(wd), gs = new float[s.Length], gu = new float[u.Length], rows = new float[Rows];
        double[] gsd = new double[sd.Length], gud = new double[ud.Length], rowsd = new double[Rows];
        var o = On(backend);
        var lp = On(backend, TeacherKind.LogProbabilitiesAsGiven);
        void Calls()
        {
            Distillation.Loss(s, u, Rows, Cols, KlReductionKind.BatchMean, o);
            Distillation.RowLosses(s, l, Rows, Cols, rows, lp, w);
            Distillation.Backward(s, u, Rows, Cols, gs, gu, KlReductionKind.Sum, 1f, o, w);
            Distillation.RowBackward(s, l, Rows, Cols, gs, default, rows, 1f, lp);
            Distillation.Loss(sd, ud, Rows, Cols, KlReductionKind.Mean, o, wd);
            Distillation.RowLosses(sd, ld, Rows, Cols, rowsd, lp);
            Distillation.Backward(sd, ld, Rows, Cols, gsd, gud, KlReductionKind.BatchMean, 1.0, lp, wd);
            Distillation.RowBackward(sd, ud, Rows, Cols, gsd, gud, rowsd, 1.0, o, wd);
        }
        for (int i = 0; i < 20; i++) Calls();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Calls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void The_options_compare_and_print_the_mode()
    {
        var a = new DistillationOptions(2) { ValidateInputs = true, RowSumTolerance = 0.01 };
        Assert.NotEqual(a, a with { ValidateInputs = false });
        Assert.NotEqual(a, a with { RowSumTolerance = 0.02 });
        Assert.Equal(a, new DistillationOptions(2) { ValidateInputs = true, RowSumTolerance = 0.01 });
        Assert.Equal(a.GetHashCode(), new DistillationOptions(2) { ValidateInputs = true, RowSumTolerance = 0.01 }.GetHashCode());
        Assert.Contains("ValidateInputs=True, RowSumTolerance=", a.ToString());
    }
}
