namespace NativeKl.Tests;

/// <summary>
/// The promise of <c>ValidateInputs</c> (KlOptions and DistillationOptions): a call either throws
/// KlInputException or returns no NaN anywhere: not in the value, not in any element of any output.
/// Inputs are drawn from special values (±∞, ±largest, ±tiny, ±0, NaN, values where exp underflows,
/// ordinary values), every pair of them through every KlDivergence entry point, and random rows of
/// them through KlDivergence's reductions and every Distillation entry point, with special gradient
/// scales, row weights, temperatures and tolerances; on every backend, float and double.
/// </summary>
public class NoNaNWhenValidatingTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    private const double E = 2.718281828459045;

    /// <summary>Special values of the data type (as double; a float call converts them, exactly).</summary>
    private static double[] Special(bool single) => new[]
    {
        double.NegativeInfinity, single ? -float.MaxValue : -double.MaxValue, single ? -1e30 : -1e300, -1000, -200, -1,
        single ? -float.Epsilon : -double.Epsilon, -0.0, 0.0, single ? float.Epsilon : double.Epsilon, single ? 1e-30 : 1e-300,
        0.25, 1 / E, 0.5, 1, 2, single ? 1e30 : 1e300, single ? float.MaxValue : double.MaxValue, double.PositiveInfinity, double.NaN,
    };

    private static readonly double[] GradOutputs = { 1, -1, 0, -0.0, 1e-45, 1e-310, 1e30, 3e38, 1e300, double.PositiveInfinity, double.NegativeInfinity, double.NaN };

    private static float[] F(double[] a) => Array.ConvertAll(a, v => (float)v);

    private static double[] W(float[] a) => Array.ConvertAll(a, v => (double)v);

    // ------------------------------------------------------------ KlDivergence

    /// <summary>One KlDivergence call: every output it writes, as double.</summary>
    private delegate double[] KlEntry(double[] x, double[] t, KlOptions o, bool single, double gradOutput);

    private static readonly (string Name, bool UsesGradOutput, KlEntry Run)[] KlEntries =
    {
        ("Sum", false, (x, t, o, f, g) => new[] { f ? KlDivergence.Sum(F(x), F(t), o) : KlDivergence.Sum(x, t, o) }),
        ("Mean", false, (x, t, o, f, g) => new[] { f ? KlDivergence.Mean(F(x), F(t), o) : KlDivergence.Mean(x, t, o) }),
        ("BatchMean rows of 1", false, (x, t, o, f, g) => new[] { f ? KlDivergence.BatchMean(F(x), F(t), x.Length, o) : KlDivergence.BatchMean(x, t, x.Length, o) }),
        ("BatchMean one row", false, (x, t, o, f, g) => new[] { f ? KlDivergence.BatchMean(F(x), F(t), Math.Min(1, x.Length), o) : KlDivergence.BatchMean(x, t, Math.Min(1, x.Length), o) }),
        ("BatchMean batch 0", false, (x, t, o, f, g) => x.Length > 0 ? Array.Empty<double>()
            : new[] { f ? KlDivergence.BatchMean(F(x), F(t), 0, o) : KlDivergence.BatchMean(x, t, 0, o) }),
        ("Pointwise", false, (x, t, o, f, g) =>
        {
            if (f) { var d = new float[x.Length]; KlDivergence.Pointwise(F(x), F(t), d, o); return W(d); }
            var dd = new double[x.Length]; KlDivergence.Pointwise(x, t, dd, o); return dd;
        }),
        ("Rows one row", false, (x, t, o, f, g) =>
        {
            if (f) { var d = new float[1]; KlDivergence.Rows(F(x), F(t), 1, x.Length, d, o); return W(d); }
            var dd = new double[1]; KlDivergence.Rows(x, t, 1, x.Length, dd, o); return dd;
        }),
        ("Rows of 1", false, (x, t, o, f, g) =>
        {
            if (f) { var d = new float[x.Length]; KlDivergence.Rows(F(x), F(t), x.Length, 1, d, o); return W(d); }
            var dd = new double[x.Length]; KlDivergence.Rows(x, t, x.Length, 1, dd, o); return dd;
        }),
        ("Backward Sum", true, (x, t, o, f, g) => Backward(x, t, o, f, g, KlReductionKind.Sum, 0, gradTarget: true)),
        ("Backward Sum no gradTarget", true, (x, t, o, f, g) => Backward(x, t, o, f, g, KlReductionKind.Sum, 0, gradTarget: false)),
        ("Backward Mean", true, (x, t, o, f, g) => Backward(x, t, o, f, g, KlReductionKind.Mean, 0, gradTarget: true)),
        ("Backward BatchMean", true, (x, t, o, f, g) => Backward(x, t, o, f, g, KlReductionKind.BatchMean, x.Length, gradTarget: true)),
        ("Backward BatchMean no gradTarget", true, (x, t, o, f, g) => Backward(x, t, o, f, g, KlReductionKind.BatchMean, Math.Min(1, x.Length), gradTarget: false)),
        ("PointwiseBackward", true, (x, t, o, f, g) => PointwiseBackward(x, t, o, f, g, gradTarget: true)),
        ("PointwiseBackward no gradTarget", true, (x, t, o, f, g) => PointwiseBackward(x, t, o, f, g, gradTarget: false)),
    };

    private static double[] Backward(double[] x, double[] t, KlOptions o, bool f, double g, KlReductionKind reduction, int batch, bool gradTarget)
    {
        int n = x.Length;
        if (f)
        {
            float[] gx = new float[n], gt = gradTarget ? new float[n] : Array.Empty<float>();
            float v = KlDivergence.Backward(F(x), F(t), gx, gt, TestData.Reduction(reduction, batch), (float)g, o);
            return W(gx).Concat(W(gt)).Append(v).ToArray();
        }
        double[] gxd = new double[n], gtd = gradTarget ? new double[n] : Array.Empty<double>();
        double vd = KlDivergence.Backward(x, t, gxd, gtd, TestData.Reduction(reduction, batch), g, o);
        return gxd.Concat(gtd).Append(vd).ToArray();
    }

    private static double[] PointwiseBackward(double[] x, double[] t, KlOptions o, bool f, double g, bool gradTarget)
    {
        int n = x.Length;
        if (f)
        {
            float[] gx = new float[n], gt = gradTarget ? new float[n] : Array.Empty<float>(), v = new float[n];
            KlDivergence.PointwiseBackward(F(x), F(t), gx, gt, v, (float)g, o);
            return W(gx).Concat(W(gt)).Concat(W(v)).ToArray();
        }
        double[] gxd = new double[n], gtd = gradTarget ? new double[n] : Array.Empty<double>(), vd = new double[n];
        KlDivergence.PointwiseBackward(x, t, gxd, gtd, vd, g, o);
        return gxd.Concat(gtd).Concat(vd).ToArray();
    }

    /// <summary>Runs one call; a NaN output under validation is a problem, and so is any exception but KlInputException.</summary>
    private static bool RunKl(string entry, KlEntry run, double[] x, double[] t, KlOptions o, bool single, double g, List<string> problems)
    {
        double[] outputs;
        try { outputs = run(x, t, o, single, g); }
        catch (KlInputException) { return false; }
        catch (Exception e)
        {
            problems.Add($"{Describe(entry, x, t, o, single, g)}: {e.GetType().Name} {e.Message}");
            return false;
        }
        if (outputs.Any(double.IsNaN)) problems.Add($"{Describe(entry, x, t, o, single, g)}: NaN ({string.Join(", ", outputs.Select(v => v.ToString("R")))})");
        return true;
    }

    private static string Describe(string entry, double[] x, double[] t, KlOptions o, bool single, double g) =>
        $"{(single ? "f32" : "f64")} {entry} x=[{string.Join(", ", x.Select(v => v.ToString("R")))}] t=[{string.Join(", ", t.Select(v => v.ToString("R")))}] "
        + $"gradOutput={g:R} LogTarget={o.LogTarget} Masked={o.Masked}";

    private static IEnumerable<KlOptions> Semantics(string backend)
    {
        foreach (bool logTarget in new[] { false, true })
            foreach (bool masked in new[] { false, true })
                foreach (double tolerance in new[] { 0.0, 1e300 }) // 1e300: no row sum is refused, the terms are the test
                    yield return Registry.With(backend, logTarget, masked) with { ValidateInputs = true, RowSumTolerance = tolerance };
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void KlDivergence_every_pair_of_special_values(string backend)
    {
        var problems = new List<string>();
        int passed = 0;
        foreach (bool single in new[] { true, false })
        {
            double[] special = Special(single);
            foreach (KlOptions o in Semantics(backend))
                foreach (double x in special)
                    foreach (double t in special)
                        foreach (var (name, usesG, run) in KlEntries)
                            foreach (double g in usesG ? GradOutputs : new[] { 1.0 })
                                if (RunKl(name, run, new[] { x }, new[] { t }, o, single, g, problems)) passed++;
        }
        Assert.True(problems.Count == 0, $"{problems.Count} problems, e.g.:\n" + string.Join("\n", problems.Take(40)));
        Assert.True(passed > 10_000, $"only {passed} calls passed validation: the test would not see a NaN");
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void KlDivergence_random_rows_of_special_values(string backend)
    {
        var rng = new Random(20261130);
        var problems = new List<string>();
        int passed = 0;
        foreach (bool single in new[] { true, false })
        {
            double[] special = Special(single);
            // Mostly valid values, so that whole arrays pass: log-probabilities and probabilities, and the specials.
            double[] inputs = special.Concat(new[] { -0.5, -2.0, -30.0 }).ToArray();
            foreach (KlOptions o in Semantics(backend))
                for (int trial = 0; trial < 60; trial++)
                {
                    int n = rng.Next(0, 40);
                    var x = new double[n];
                    var t = new double[n];
                    for (int i = 0; i < n; i++)
                    {
                        x[i] = rng.NextDouble() < 0.3 ? inputs[rng.Next(inputs.Length)] : -5 * rng.NextDouble();
                        t[i] = rng.NextDouble() < 0.3 ? special[rng.Next(special.Length)]
                             : o.LogTarget ? -5 * rng.NextDouble() : rng.NextDouble();
                    }
                    foreach (var (name, usesG, run) in KlEntries)
                        if (RunKl(name, run, x, t, o, single, usesG ? GradOutputs[rng.Next(GradOutputs.Length)] : 1.0, problems)) passed++;
                }
        }
        Assert.True(problems.Count == 0, $"{problems.Count} problems, e.g.:\n" + string.Join("\n", problems.Take(40)));
        Assert.True(passed > 1_000, $"only {passed} calls passed validation");
    }

    // ------------------------------------------------------------ Distillation

    private sealed record DistillCase(int Rows, int Cols, double[] S, double[] U, double[] Weights, DistillationOptions Options,
                                      KlReductionKind Reduction, double GradOutput, bool GradTeacher)
    {
        public override string ToString() =>
            $"[{Rows}x{Cols}] T={Options.Temperature:R} T2={Options.MultiplyLossByTemperatureSquared} {Options.Teacher} {Reduction} "
            + $"tolerance={Options.RowSumTolerance:R} gradOutput={GradOutput:R} gradTeacher={GradTeacher} "
            + $"w=[{string.Join(", ", Weights.Select(v => v.ToString("R")))}] s=[{string.Join(", ", S.Select(v => v.ToString("R")))}] "
            + $"u=[{string.Join(", ", U.Select(v => v.ToString("R")))}]";
    }

    /// <summary>Runs the case through the forward call and the backward call; returns whether either passed validation.</summary>
    private static int RunDistill(DistillCase c, bool single, List<string> problems)
    {
        int passed = 0;
        foreach (bool backward in new[] { false, true })
        {
            double[] outputs;
            try
            {
                outputs = single ? DistillF(c, backward) : DistillD(c, backward);
            }
            catch (KlInputException) { continue; }
            catch (Exception e)
            {
                problems.Add($"{(single ? "f32" : "f64")} {(backward ? "backward" : "forward")} {c}: {e.GetType().Name} {e.Message}");
                continue;
            }
            passed++;
            if (outputs.Any(double.IsNaN))
                problems.Add($"{(single ? "f32" : "f64")} {(backward ? "backward" : "forward")} {c}: NaN "
                    + $"({string.Join(", ", outputs.Select(v => v.ToString("R")))})");
        }
        return passed;
    }

    private static double[] DistillF(DistillCase c, bool backward)
    {
        float[] s = F(c.S), u = F(c.U), w = F(c.Weights);
        int n = c.Rows * c.Cols;
        if (!backward)
        {
            if (c.Reduction != KlReductionKind.None) return new double[] { Distillation.Loss(s, u, c.Rows, c.Cols, c.Reduction, c.Options, w) };
            var rows = new float[c.Rows];
            Distillation.RowLosses(s, u, c.Rows, c.Cols, rows, c.Options, w);
            return W(rows);
        }
        float[] gs = new float[n], gu = c.GradTeacher ? new float[n] : Array.Empty<float>();
        if (c.Reduction != KlReductionKind.None)
        {
            float v = Distillation.Backward(s, u, c.Rows, c.Cols, gs, gu, c.Reduction, (float)c.GradOutput, c.Options, w);
            return W(gs).Concat(W(gu)).Append(v).ToArray();
        }
        var rl = new float[c.Rows];
        Distillation.RowBackward(s, u, c.Rows, c.Cols, gs, gu, rl, (float)c.GradOutput, c.Options, w);
        return W(gs).Concat(W(gu)).Concat(W(rl)).ToArray();
    }

    private static double[] DistillD(DistillCase c, bool backward)
    {
        int n = c.Rows * c.Cols;
        if (!backward)
        {
            if (c.Reduction != KlReductionKind.None) return new[] { Distillation.Loss(c.S, c.U, c.Rows, c.Cols, c.Reduction, c.Options, c.Weights) };
            var rows = new double[c.Rows];
            Distillation.RowLosses(c.S, c.U, c.Rows, c.Cols, rows, c.Options, c.Weights);
            return rows;
        }
        double[] gs = new double[n], gu = c.GradTeacher ? new double[n] : Array.Empty<double>();
        if (c.Reduction != KlReductionKind.None)
        {
            double v = Distillation.Backward(c.S, c.U, c.Rows, c.Cols, gs, gu, c.Reduction, c.GradOutput, c.Options, c.Weights);
            return gs.Concat(gu).Append(v).ToArray();
        }
        var rl = new double[c.Rows];
        Distillation.RowBackward(c.S, c.U, c.Rows, c.Cols, gs, gu, rl, c.GradOutput, c.Options, c.Weights);
        return gs.Concat(gu).Concat(rl).ToArray();
    }

    /// <summary>
    /// A random case: logits mostly N(0, 3²) with special values mixed in, teacher log-probabilities a
    /// log-softmax row with special values mixed in, weights, temperature, T² scale, reduction and
    /// gradient scale drawn from their special values.
    /// </summary>
    private static DistillCase RandomDistill(Random rng, bool single, string backend)
    {
        double[] special = Special(single);
        T Pick<T>(T[] a) => a[rng.Next(a.Length)];
        int rows = rng.Next(0, 4), cols = Pick(new[] { 0, 1, 2, 3, 5, 9, 17, 33, 40 });
        double mix = Pick(new[] { 0.0, 0.05, 0.2, 0.5 });
        var teacher = rng.NextDouble() < 0.5 ? TeacherKind.Logits : TeacherKind.LogProbabilitiesAsGiven;
        double Normal() => 3 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var s = new double[rows * cols];
        var u = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                s[r * cols + c] = rng.NextDouble() < mix ? Pick(special) : Normal();
                u[r * cols + c] = Normal();
            }
            if (teacher == TeacherKind.LogProbabilitiesAsGiven && cols > 0)
            {
                double m = u.Skip(r * cols).Take(cols).Max(), z = u.Skip(r * cols).Take(cols).Sum(v => Math.Exp(v - m));
                for (int c = 0; c < cols; c++) u[r * cols + c] -= m + Math.Log(z);
            }
            for (int c = 0; c < cols; c++)
                if (rng.NextDouble() < mix) u[r * cols + c] = Pick(special.Concat(new[] { Math.Log(2), 0.5 * Math.Log(1.001), 100, 700, 709.7 }).ToArray());
        }
        double[] weights = rng.NextDouble() < 0.4 ? Array.Empty<double>()
            : Enumerable.Range(0, rows).Select(_ => Pick(new[] { 0.0, 0.0, 1.0, 0.5, 2.0, 1e-30, single ? 1e-45 : 5e-324, single ? 3e38 : 1e300, single ? 1e30 : 1e200 })).ToArray();
        double temperature = Pick(single ? new[] { 1e-38, 1e-30, 1e-3, 0.5, 1.0, 2.0, 1e10, 1e30, 1e38 } : new[] { 1e-300, 1e-160, 1e-3, 0.5, 1.0, 2.0, 1e10, 1e160, 1e300 });
        var o = new DistillationOptions(temperature)
        {
            Backend = Registry.Backends[backend].Backend, Isa = Registry.Backends[backend].Isa, Teacher = teacher,
            MultiplyLossByTemperatureSquared = rng.NextDouble() < 0.5, ValidateInputs = true,
            RowSumTolerance = Pick(new[] { 0.0, 0.0, 0.5, 1e300, double.MaxValue }),
        };
        var reduction = Pick(new[] { KlReductionKind.None, KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean });
        return new DistillCase(rows, cols, s, u, weights, o, reduction, Pick(GradOutputs), rng.NextDouble() < 0.7);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Distillation_random_rows_of_special_values(string backend)
    {
        var rng = new Random(1130);
        var problems = new List<string>();
        int passed = 0;
        foreach (bool single in new[] { true, false })
            for (int trial = 0; trial < 6000; trial++)
                passed += RunDistill(RandomDistill(rng, single, backend), single, problems);
        Assert.True(problems.Count == 0, $"{problems.Count} problems, e.g.:\n" + string.Join("\n", problems.Take(30)));
        Assert.True(passed > 2_000, $"only {passed} calls passed validation");
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Distillation_every_pair_of_special_values(string backend)
    {
        // Rows of 9 classes, ordinary but for a pair of special values: two student logits, two teacher
        // values, or a student logit and the teacher's of the same class; the pair at classes 0 and 8
        // (one lane of both types' value passes) or 0 and 1 (two lanes). Teacher log-probabilities fill
        // the ordinary classes with what is left of 1.
        var problems = new List<string>();
        int passed = 0;
        foreach (bool single in new[] { true, false })
        {
            double[] special = Special(single);
            foreach (var teacher in new[] { TeacherKind.Logits, TeacherKind.LogProbabilitiesAsGiven })
                foreach (double temperature in new[] { 1.0, 2.0 })
                    foreach (string family in new[] { "ss", "uu", "su" })
                        foreach (int second in new[] { 8, 1 })
                            foreach (double v0 in special)
                                foreach (double v1 in teacher == TeacherKind.LogProbabilitiesAsGiven && family != "ss" ? special.Append(Math.Log(0.5)).Append(100) : special)
                                {
                                    var s = Enumerable.Range(0, 9).Select(c => 0.25 * c - 1).ToArray();
                                    var u = Enumerable.Range(0, 9).Select(c => 0.5 - 0.125 * c).ToArray();
                                    if (family == "ss") { s[0] = v0; s[second] = v1; }
                                    else if (family == "uu") { u[0] = v0; u[second] = v1; }
                                    else { s[0] = v0; u[0] = v1; }
                                    if (teacher == TeacherKind.LogProbabilitiesAsGiven)
                                    {
                                        int[] set = family == "uu" ? new[] { 0, second } : family == "su" ? new[] { 0 } : Array.Empty<int>();
                                        double rest = 1 - set.Sum(c => Math.Exp(u[c]));
                                        for (int c = 0; c < 9; c++)
                                            if (!set.Contains(c)) u[c] = rest > 0 ? Math.Log(rest / (9 - set.Length)) : double.NegativeInfinity;
                                    }
                                    foreach (bool gradTeacher in new[] { false, true })
                                    {
                                        var o = new DistillationOptions(temperature)
                                        {
                                            Backend = Registry.Backends[backend].Backend, Isa = Registry.Backends[backend].Isa, Teacher = teacher,
                                            MultiplyLossByTemperatureSquared = true, ValidateInputs = true,
                                        };
                                        passed += RunDistill(new DistillCase(1, 9, s, u, Array.Empty<double>(), o,
                                            gradTeacher ? KlReductionKind.BatchMean : KlReductionKind.None, 1.0, gradTeacher), single, problems);
                                    }
                                }
        }
        Assert.True(problems.Count == 0, $"{problems.Count} problems, e.g.:\n" + string.Join("\n", problems.Take(30)));
        Assert.True(passed > 5_000, $"only {passed} calls passed validation");
    }

    // ------------------------------------------------------------ each rule, by hand

    /// <summary>
    /// Inputs found by hand that give NaN with the mode off: with it on, each throws KlInputException
    /// naming the argument (and, where masking is the cure, saying so). One per rule of
    /// InputValidation and DistillationInputValidation, so that no rule is dead.
    /// </summary>
    public static TheoryData<string, string> Hazards()
    {
        var data = new TheoryData<string, string>();
        foreach (string backend in Registry.Backends.Keys)
            foreach (string hazard in HazardCases.Keys) data.Add(backend, hazard);
        return data;
    }

    private static readonly float M = float.MaxValue;

    /// <summary>name → (the call, as double[] outputs, given options with the backend and the mode; the argument named; a phrase of the message).</summary>
    private static readonly Dictionary<string, (Func<KlOptions, DistillationOptions, double[]> Run, string Param, string Phrase)> HazardCases = new()
    {
        ["masked log_softmax input"] = ((o, d) => new double[] { KlDivergence.Sum(new[] { -1f, float.NegativeInfinity }, new[] { 1f, 0f }, o) }, "input", "Masked = true"),
        ["log target of -inf"] = ((o, d) => new[] { KlDivergence.BatchMean(new[] { -0.5, -1.0 }, new[] { 0.0, double.NegativeInfinity }, 1, o with { LogTarget = true }) }, "target", "Masked = true"),
        ["log target whose exp underflows, input -inf"] = ((o, d) => new double[] { KlDivergence.Sum(new[] { 0f, float.NegativeInfinity }, new[] { 0f, -200f }, o with { LogTarget = true, Masked = true }) }, "input", "Masked = true"),
        ["target gradient at t = 0"] = ((o, d) => { var g = new double[4]; KlDivergence.Backward(new[] { -1.0, -1.0 }, new[] { 0.0, 1.0 }, g.AsSpan(0, 2), g.AsSpan(2, 2), KlReduction.Sum, 1.0, o); return g; }, "target", "Masked = true"),
        ["target gradient of -inf input times 0"] = ((o, d) => { var g = new float[4]; KlDivergence.PointwiseBackward(new[] { -1f, float.NegativeInfinity }, new[] { 0.5f, 0.5f }, g.AsSpan(0, 2), g.AsSpan(2, 2), default, 0f, o); return W(g); }, "input", "is 0"),
        ["infinite gradOutput"] = ((o, d) => { var g = new double[2]; KlDivergence.Backward(new[] { -1.0, -1.0 }, new[] { 0.0, 1.0 }, g, default, KlReduction.Mean, double.PositiveInfinity, o); return g; }, "gradOutput", "not finite"),
        ["empty mean"] = ((o, d) => new double[] { KlDivergence.Mean(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, o) }, "input", "empty"),
        ["empty batchmean"] = ((o, d) => new[] { KlDivergence.BatchMean(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 0, o) }, "input", "empty"),

        ["distillation: no rows, BatchMean"] = ((o, d) => new double[] { Distillation.Loss(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 0, 3, KlReductionKind.BatchMean, d) }, "rows", "NaN"),
        ["distillation: every weight 0, Mean"] = ((o, d) => new[] { Distillation.Loss(new[] { 0.0, 1 }, new[] { 1.0, 0 }, 1, 2, KlReductionKind.Mean, d, new[] { 0.0 }) }, "rowWeights", "NaN"),
        ["distillation: no columns, Mean"] = ((o, d) => new double[] { Distillation.Loss(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 2, 0, KlReductionKind.Mean, d) }, "columns", "NaN"),
        ["distillation: T² overflows"] = ((o, d) => new[] { Distillation.Loss(new[] { 1.0, 2 }, new[] { 1.0, 2 }, 1, 2, KlReductionKind.Sum, d with { Temperature = 1e200, MultiplyLossByTemperatureSquared = true }) }, "options", "squared"),
        ["distillation: NaN gradOutput"] = ((o, d) => { var g = new float[2]; Distillation.Backward(new[] { 1f, 2f }, new[] { 1f, 0f }, 1, 2, g, default, KlReductionKind.Sum, float.NaN, d); return W(g); }, "gradOutput", "not finite"),
        ["distillation: student -inf where the teacher is not"] = ((o, d) => { var g = new double[4]; Distillation.Backward(new[] { double.NegativeInfinity, 0 }, new[] { 0.0, 0 }, 1, 2, g.AsSpan(0, 2), g.AsSpan(2, 2), KlReductionKind.Sum, 1.0, d); return g; }, "student", "−∞ in the teacher too"),
        ["distillation: student -inf where the teacher's probability underflows"] = ((o, d) =>
            new double[] { Distillation.Loss(new[] { float.NegativeInfinity, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
                new[] { 0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1000 }, 1, 33, KlReductionKind.Sum, d) }, "student", "underflows"),
        ["distillation: float32 student logits 2^128 apart in one lane"] = ((o, d) => { var g = new float[18];
            Distillation.Backward(new[] { M, 0, 0, 0, 0, 0, 0, 0, -M }, new float[9], 1, 9, g.AsSpan(0, 9), g.AsSpan(9, 9), KlReductionKind.Sum, 1f, d with { Temperature = 2 }); return W(g); }, "student", "below its row's largest"),
        ["distillation: float64 student logits 2^1024 apart"] = ((o, d) => { var g = new double[6];
            Distillation.Backward(new[] { 1e308, -1e308, 0 }, new double[3], 1, 3, g.AsSpan(0, 3), g.AsSpan(3, 3), KlReductionKind.Sum, 1.0, d); return g; }, "student", "below its row's largest"),
        ["distillation: float64 teacher logits 2^1024 apart"] = ((o, d) => new[] { Distillation.Loss(new double[3], new[] { 1e308, -1e308, 0 }, 1, 3, KlReductionKind.Sum, d) }, "teacher", "below its row's largest"),
        ["distillation: float32 logit that overflows times log2(e)"] = ((o, d) => new double[] { Distillation.Loss(new[] { 3e38f, 0 }, new[] { 0f, 0 }, 1, 2, KlReductionKind.Sum, d) }, "student", "becomes +∞"),
        ["distillation: float32 teacher log-probability 100 with a huge tolerance"] = ((o, d) =>
            new double[] { Distillation.Loss(new[] { 0f, 0, 0 }, new[] { 100f, -1, 0 }, 1, 3, KlReductionKind.Sum, d with { Teacher = TeacherKind.LogProbabilitiesAsGiven, RowSumTolerance = 1e300 }) }, "teacher", "log 2"),
        ["distillation: student gradient scale overflows"] = ((o, d) => { var g = new double[2];
            Distillation.Backward(new[] { 0.0, 0 }, new[] { 0.0, 0 }, 1, 2, g, default, KlReductionKind.Sum, 1e300, d with { Temperature = 1e-10 }); return g; }, "gradOutput", "student gradient scale"),
        ["distillation: teacher gradient scale overflows"] = ((o, d) => { var g = new float[4];
            Distillation.Backward(new[] { -200.0625f, 0 }, new[] { -101f, 0 }, 1, 2, g.AsSpan(0, 2), g.AsSpan(2, 2), KlReductionKind.Sum, 3e38f,
                d with { Temperature = 2, Teacher = TeacherKind.LogProbabilitiesAsGiven }, new[] { 2f }); return W(g); }, "gradOutput", "teacher gradient scale"),
        ["distillation: row losses of both signs overflow"] = ((o, d) =>
        {
            // row 0's KL rounds to −4.4e-16 (finite logits, the teacher's a hair off the student's); scaled by 2^40
            // with T = 2^40 the logits divided by T are the same, and T² = 2^80 times the weights overflows
            double t = Math.Pow(2, 40);
            var s = new[] { -0.65 * t, -0.71 * t, 0, 0 };
            var u = new[] { -0.6499999874624156 * t, -0.7100000036538147 * t, 0, t };
            return new[] { Distillation.Loss(s, u, 2, 2, KlReductionKind.Sum, d with { Temperature = t, MultiplyLossByTemperatureSquared = true }, new[] { 1e300, 1e300 }) };
        }, "rowWeights", "overflow"),
    };

    [Theory, MemberData(nameof(Hazards))]
    public void Each_rule_refuses_an_input_that_gives_NaN(string backend, string hazard)
    {
        var (run, param, phrase) = HazardCases[hazard];
        var o = Registry.Backends[backend];
        var d = new DistillationOptions(1) { Backend = o.Backend, Isa = o.Isa };
        double[] off = run(o, d);
        Assert.True(off.Any(double.IsNaN), $"{hazard}: no NaN with the mode off: [{string.Join(", ", off)}]");
        var e = Assert.Throws<KlInputException>(() => run(o with { ValidateInputs = true }, d with { ValidateInputs = true }));
        Assert.Equal(param, e.ParamName);
        Assert.Contains(phrase, e.Message);
    }
}
