using System.Reflection;

namespace NativeKl.Tests;

/// <summary>
/// The public API's shape: one parameter order for every backward method, a BatchMean that needs
/// its batch size, and the distillation options' documented meaning (teacher kinds, the T² factor)
/// against PyTorch's expressions computed here in double.
/// </summary>
public class ApiConsistencyTests
{
    /// <summary>The order every backward method follows; a parameter's place is its role.</summary>
    private enum Role { Input, Shape, Gradient, Values, Reduction, Scalar, Options, RowWeights, Parallelism }

    private static Role RoleOf(ParameterInfo p)
    {
        Type t = p.ParameterType;
        if (p.Name == "rowWeights") return Role.RowWeights;
        if (p.Name == "degreeOfParallelism") return Role.Parallelism; // always last, as Reduce's
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>)) return Role.Input;
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Span<>))
            return p.Name!.StartsWith("grad", StringComparison.Ordinal) ? Role.Gradient : Role.Values; // partials are forward values
        if (t == typeof(int)) return Role.Shape;
        if (t == typeof(KlReduction) || t == typeof(KlReductionKind)) return Role.Reduction;
        if (t == typeof(float) || t == typeof(double)) return Role.Scalar;
        if (t == typeof(KlOptions) || t == typeof(DistillationOptions)) return Role.Options;
        throw new InvalidOperationException($"no role for {p}");
    }

    [Fact]
    public void Every_backward_method_takes_its_parameters_in_one_order()
    {
        var methods = new[] { typeof(KlDivergence), typeof(Distillation) }
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.Name.Contains("Backward"))
            .ToList();
        // KlDivergence.Backward, PointwiseBackward, BackwardPartials; Distillation.Backward, RowBackward,
        // BackwardPartials; float and double
        Assert.Equal(12, methods.Count);
        var offenders = new List<string>();
        foreach (var m in methods)
        {
            Role[] roles = m.GetParameters().Select(RoleOf).ToArray();
            for (int i = 1; i < roles.Length; i++)
                if (roles[i] < roles[i - 1]) { offenders.Add($"{m.DeclaringType!.Name}.{m}: {string.Join(", ", roles)}"); break; }
            // the first output is required: a call without any gradient output does not compile
            ParameterInfo first = m.GetParameters().First(p => RoleOf(p) == Role.Gradient);
            if (first.IsOptional) offenders.Add($"{m}: {first.Name} is optional");
        }
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void KlDivergence_takes_no_batch_size_apart_from_the_reduction()
    {
        // The batch size lives in KlReduction.BatchMean(int) (or BatchMean's own parameter): no
        // method takes a KlReduction next to a separate, optional batch size that can be left out.
        var offenders = typeof(KlDivergence).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m.GetParameters().Any(p => p.Name == "batchSize" && (p.IsOptional || m.Name != nameof(KlDivergence.BatchMean))))
            .Select(m => m.ToString()).ToList();
        Assert.Empty(offenders);
        Assert.True(typeof(KlReduction).IsValueType && !typeof(KlReduction).IsEnum);
        Assert.Empty(typeof(KlReduction).GetConstructors()); // only the factories build one
        MemberInfo[] batchMean = typeof(KlReduction).GetMember(nameof(KlReduction.BatchMean));
        Assert.Equal(typeof(int), Assert.IsAssignableFrom<MethodInfo>(Assert.Single(batchMean)).GetParameters().Single().ParameterType);
    }

    [Fact]
    public void KlReduction_values()
    {
        Assert.Equal(KlReductionKind.Mean, default(KlReduction).Kind); // PyTorch's default
        Assert.Equal(KlReduction.Mean, default(KlReduction));
        Assert.Equal(KlReductionKind.Sum, KlReduction.Sum.Kind);
        Assert.Equal(0, KlReduction.Sum.BatchSize);
        Assert.Equal((KlReductionKind.BatchMean, 8), (KlReduction.BatchMean(8).Kind, KlReduction.BatchMean(8).BatchSize));
        Assert.True(KlReduction.BatchMean(8) == KlReduction.BatchMean(8));
        Assert.True(KlReduction.BatchMean(8) != KlReduction.BatchMean(4));
        Assert.NotEqual(KlReduction.Sum, KlReduction.Mean);
        Assert.Equal(KlReduction.BatchMean(3).GetHashCode(), KlReduction.BatchMean(3).GetHashCode());
        Assert.Equal("BatchMean(8)", KlReduction.BatchMean(8).ToString());
        Assert.Equal("Mean", default(KlReduction).ToString());

        // Backward's default reduction is Mean, as F.kl_div's; BatchMean divides by the batch given.
        float[] x = { -1, -2, -3, -1, -2, -3 }, t = { 0.1f, 0.2f, 0.7f, 0.2f, 0.2f, 0.6f };
        var g = new float[6];
        Assert.Equal(KlDivergence.Mean(x, t), KlDivergence.Backward(x, t, g));
        Assert.Equal(KlDivergence.BatchMean(x, t, 2), KlDivergence.Backward(x, t, g, reduction: KlReduction.BatchMean(2)));
        Assert.Equal(KlDivergence.BatchMean(x, t, 3), KlDivergence.Reduce(x, t, KlReduction.BatchMean(3)));
    }

    private const int Rows = 3, Cols = 5;
    private const double T = 2.5;

    private static (double[] S, double[] U) Logits()
    {
        var rng = new Random(15);
        double[] s = new double[Rows * Cols], u = new double[Rows * Cols];
        for (int i = 0; i < s.Length; i++) { s[i] = 8 * rng.NextDouble() - 4; u[i] = 8 * rng.NextDouble() - 4; }
        return (s, u);
    }

    private static double[] LogSoftmax(double[] z, double scale)
    {
        var o = new double[z.Length];
        for (int r = 0; r < Rows; r++)
        {
            var row = z.Skip(r * Cols).Take(Cols).Select(v => v * scale).ToArray();
            double m = row.Max(), lse = m + Math.Log(row.Sum(v => Math.Exp(v - m)));
            for (int c = 0; c < Cols; c++) o[r * Cols + c] = row[c] - lse;
        }
        return o;
    }

    /// <summary>kl_div(input, target, reduction='batchmean', log_target=True) over [Rows, Cols], in double.</summary>
    private static double KlDivLogTargetBatchMean(double[] input, double[] logTarget) =>
        input.Select((x, i) => Math.Exp(logTarget[i]) * (logTarget[i] - x)).Sum() / Rows;

    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Abs(expected), $"{expected:R} vs {actual:R}");

    [Theory]
    [InlineData("native")]
    [InlineData("managed")]
    public void Teacher_kinds_and_the_T2_factor_are_the_PyTorch_expressions_they_name(string backend)
    {
        var b = backend == "native" ? KlBackendKind.Native : KlBackendKind.Managed;
        var (s, u) = Logits();
        double[] student = LogSoftmax(s, 1 / T);

        // PyTorch's log-target distillation, kl_div(log_softmax(s/T), log_softmax(u/T), log_target=True): teacher LOGITS.
        double composite = KlDivLogTargetBatchMean(student, LogSoftmax(u, 1 / T));
        Close(composite, Distillation.Loss(s, u, Rows, Cols, options: new DistillationOptions(T) { Backend = b }));

        // Log-probabilities as given: the teacher is not tempered, whatever T is.
        double[] l = LogSoftmax(u, 1);
        var asGiven = new DistillationOptions(T) { Teacher = TeacherKind.LogProbabilitiesAsGiven, Backend = b };
        Close(KlDivLogTargetBatchMean(student, l), Distillation.Loss(s, l, Rows, Cols, options: asGiven));
        Assert.True(Math.Abs(Distillation.Loss(s, l, Rows, Cols, options: asGiven) - composite) > 1e-3 * composite);
        // ...so the caller's own tempered log-probabilities give the composite.
        Close(composite, Distillation.Loss(s, LogSoftmax(u, 1 / T), Rows, Cols, options: asGiven));

        // Hinton: the composite * T * T; Hinton(T) is the flag on.
        var hinton = DistillationOptions.Hinton(T) with { Backend = b };
        Assert.Equal(new DistillationOptions(T) { MultiplyLossByTemperatureSquared = true, Backend = b }, hinton);
        Close(composite * T * T, Distillation.Loss(s, u, Rows, Cols, options: hinton));
        Assert.False(new DistillationOptions(T).MultiplyLossByTemperatureSquared);
        Assert.False(default(DistillationOptions).MultiplyLossByTemperatureSquared);
    }
}
