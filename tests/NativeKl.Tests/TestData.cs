namespace NativeKl.Tests;

/// <summary>Deterministic test inputs and the repository's location.</summary>
internal static class TestData
{
    /// <summary>
    /// n pairs: input log-probabilities in [-12, 0] (some -inf where masked semantics make sense),
    /// targets: probabilities with ~6% exact zeros, or their logs (-inf for those zeros).
    /// </summary>
    public static (double[] X, double[] T) Make(int n, bool logTarget, bool masked, int seed)
    {
        var rng = new Random(seed * 7919 + n);
        var x = new double[n];
        var t = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = -12.0 * rng.NextDouble();
            // Unmasked log targets keep clear of -inf: exp(-inf)·(-inf - x) is NaN there and would hide the rest.
            bool zero = (!logTarget || masked) && rng.NextDouble() < 0.06;
            double p = zero ? 0.0 : rng.NextDouble();
            t[i] = logTarget ? Math.Log(p) : p;          // log(0) = -inf
            // A masked log_softmax row: -inf input exactly where the target has probability 0.
            if (zero && masked && rng.NextDouble() < 0.5) x[i] = double.NegativeInfinity;
        }
        return (x, t);
    }

    /// <summary>A reduction by kind, as tests that loop over kinds need it (None has no KlReduction).</summary>
    public static KlReduction Reduction(KlReductionKind kind, int batch) => kind switch
    {
        KlReductionKind.Sum => KlReduction.Sum,
        KlReductionKind.Mean => KlReduction.Mean,
        KlReductionKind.BatchMean => KlReduction.BatchMean(batch),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no KlReduction"),
    };

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);
    public static double[] Widen(float[] a) => Array.ConvertAll(a, v => (double)v);

    /// <summary>Lengths of the sweep: every length 0..257 (all tail shapes of both vector widths) and 1,000,003.</summary>
    public static IEnumerable<int> SweepLengths => Enumerable.Range(0, 258);
    public const int LargeLength = 1_000_003;

    private static string? s_repoRoot;

    public static string RepoRoot => s_repoRoot ??= FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeKl.sln"))) return dir.FullName;
        throw new InvalidOperationException("NativeKl.sln not found above " + AppContext.BaseDirectory);
    }
}
