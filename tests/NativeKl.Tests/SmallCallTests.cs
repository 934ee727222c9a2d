namespace NativeKl.Tests;

/// <summary>
/// Auto reductions of up to <see cref="KlBackend.ManagedSmallCallLength"/> elements run on the
/// managed AVX2 kernels when Auto is native (KlCore.Reduce): the choice must never show in the
/// bits. Auto is compared with Native (and, where the managed backend is exact, with Managed) for
/// every length 0..300, so both sides of the limit and every tail shape, on data full of special
/// values; and the switch itself must leave Native, Managed, a forced ISA and long inputs alone.
/// </summary>
public class SmallCallTests
{
    private static readonly float[] Specials =
    {
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, 0.5f, 1e-45f, 1e-40f,
        float.MaxValue, float.Epsilon * 3, 1.17549435e-38f, -2.5f, 100f, -100f, 3e-8f,
    };

    /// <summary>Inputs and targets mixing log-probabilities and probabilities with the special values.</summary>
    private static (float[] X, float[] T) Data(int n, int seed, bool logTarget)
    {
        var rng = new Random(seed);
        var x = new float[n];
        var t = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = rng.Next(4) == 0 ? Specials[rng.Next(Specials.Length)] : (float)Math.Log(rng.NextDouble() + 1e-9);
            double p = rng.NextDouble();
            t[i] = rng.Next(4) == 0 ? Specials[rng.Next(Specials.Length)] : (float)(logTarget ? Math.Log(p + 1e-12) : p);
        }
        return (x, t);
    }

    /// <summary>Whether Native and Managed must agree bit for bit (netstandard2.0 has no fused multiply-add).</summary>
    private static bool ManagedExact =>
#if NKL_NETSTANDARD_BUILD
        false;
#else
        true;
#endif

    [Fact]
    public void Only_plain_auto_calls_of_small_inputs_switch()
    {
        string requested = (Environment.GetEnvironmentVariable("NATIVEKL_BACKEND") ?? "auto").Trim().ToLowerInvariant();
        bool expected = KlBackend.Active == KlBackendKind.Native && KlBackend.IsNativeAvailable
                        && KlBackend.ManagedIsa == "avx2" && requested is "auto" or "";
#if NKL_NETSTANDARD_BUILD
        Assert.False(expected); // the netstandard2.0 build has no AVX2 kernels: it always calls native
#endif
        int limit = KlBackend.ManagedSmallCallLength;
        Assert.Equal(expected, KlBackend.SmallCallOnManaged(KlBackendKind.Auto, 0, KlIsa.Auto));
        Assert.Equal(expected, KlBackend.SmallCallOnManaged(KlBackendKind.Auto, 6, KlIsa.Auto));
        Assert.Equal(expected, KlBackend.SmallCallOnManaged(KlBackendKind.Auto, limit, KlIsa.Auto));
        Assert.False(KlBackend.SmallCallOnManaged(KlBackendKind.Auto, limit + 1, KlIsa.Auto));
        Assert.False(KlBackend.SmallCallOnManaged(KlBackendKind.Native, 6, KlIsa.Auto));
        Assert.False(KlBackend.SmallCallOnManaged(KlBackendKind.Managed, 6, KlIsa.Auto));
        foreach (KlIsa isa in new[] { KlIsa.Scalar, KlIsa.Avx2, KlIsa.Neon })
            Assert.False(KlBackend.SmallCallOnManaged(KlBackendKind.Auto, 6, isa));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Auto_gives_the_bits_of_both_backends(bool logTarget, bool masked)
    {
        var auto = new KlOptions { LogTarget = logTarget, Masked = masked };
        var native = auto with { Backend = KlBackendKind.Native };
        var managed = auto with { Backend = KlBackendKind.Managed };
        var failures = new List<string>();
        for (int n = 0; n <= 300; n++)
        for (int seed = 0; seed < 3; seed++)
        {
            var (x, t) = Data(n, n * 7 + seed, logTarget);
            double[] xd = TestData.Widen(x), td = TestData.Widen(t);
            foreach (KlReduction r in new[] { KlReduction.Sum, KlReduction.Mean, KlReduction.BatchMean(n == 0 ? 0 : 1) })
            {
                int a = BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, r, auto));
                int b = BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, r, native));
                int c = ManagedExact ? BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, r, managed)) : b;
                if (a != b || a != c) failures.Add($"float {r.Kind} n={n} seed={seed}: auto {a:X8} native {b:X8} managed {c:X8}");
                long ad = BitConverter.DoubleToInt64Bits(KlDivergence.Reduce(xd, td, r, auto));
                long bd = BitConverter.DoubleToInt64Bits(KlDivergence.Reduce(xd, td, r, native));
                long cd = ManagedExact ? BitConverter.DoubleToInt64Bits(KlDivergence.Reduce(xd, td, r, managed)) : bd;
                if (ad != bd || ad != cd) failures.Add($"double {r.Kind} n={n} seed={seed}: auto {ad:X16} native {bd:X16} managed {cd:X16}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences, e.g.\n" + string.Join("\n", failures.Take(8)));
    }
}
