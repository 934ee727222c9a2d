
namespace NativeKl.Tests;

/// <summary>
/// Bit identity between implementations over the whole sweep (every length 0..257 and 1,000,003,
/// pointwise and the three reductions, both semantics, log_target, float and double).
/// Native AVX2 vs native scalar: always identical (the C core's guarantee). Native vs managed:
/// identical on the net8.0 build (.NET 8+ has fused multiply-add and Vector256); the
/// netstandard2.0 build has no fused multiply-add, so there the differences are counted and
/// reported, and the sweep tests hold it to the reference's tolerance instead.
/// </summary>
public class BitIdentityTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        data.Add("native", "managed");
        data.Add("native", "managed-scalar");
        data.Add("native", "native-scalar");
        if (Registry.Backends.ContainsKey("native-avx2")) data.Add("native-avx2", "native-scalar");
        if (Registry.Backends.ContainsKey("native-neon")) data.Add("native-neon", "native-scalar");
        if (Registry.Backends.ContainsKey("managed-avx2")) data.Add("managed-avx2", "managed-scalar");
        if (Registry.Backends.ContainsKey("managed-neon"))
        {
            data.Add("native", "managed-neon");
            data.Add("managed-neon", "managed-scalar");
        }
        return data;
    }

    [Theory, MemberData(nameof(Pairs))]
    public void Backends_agree_bit_for_bit(string a, string b)
    {
        long compared = 0, differing = 0;
        var examples = new List<string>();
        foreach (bool logTarget in new[] { false, true })
        foreach (bool masked in new[] { false, true })
        foreach (int n in TestData.SweepLengths.Append(TestData.LargeLength))
        {
            var oa = Registry.With(a, logTarget, masked);
            var ob = Registry.With(b, logTarget, masked);
            var (xd, td) = TestData.Make(n, logTarget, masked, seed: 6);
            float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
            int batch = n == 0 ? 0 : 1;

            void Count(string what, long bitsA, long bitsB)
            {
                compared++;
                if (bitsA == bitsB) return;
                differing++;
                if (examples.Count < 5) examples.Add($"{what} n={n} logTarget={logTarget} masked={masked}");
            }

            var pa = new float[n]; var pb = new float[n];
            KlDivergence.Pointwise(x, t, pa, oa); KlDivergence.Pointwise(x, t, pb, ob);
            for (int i = 0; i < n; i++) Count($"float pointwise[{i}]", BitConverter.SingleToInt32Bits(pa[i]), BitConverter.SingleToInt32Bits(pb[i]));
            var qa = new double[n]; var qb = new double[n];
            KlDivergence.Pointwise(xd, td, qa, oa); KlDivergence.Pointwise(xd, td, qb, ob);
            for (int i = 0; i < n; i++) Count($"double pointwise[{i}]", BitConverter.DoubleToInt64Bits(qa[i]), BitConverter.DoubleToInt64Bits(qb[i]));
            foreach (var r in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
            {
                Count($"float {r}", BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, TestData.Reduction(r, batch), oa)),
                                    BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, TestData.Reduction(r, batch), ob)));
                Count($"double {r}", BitConverter.DoubleToInt64Bits(KlDivergence.Reduce(xd, td, TestData.Reduction(r, batch), oa)),
                                     BitConverter.DoubleToInt64Bits(KlDivergence.Reduce(xd, td, TestData.Reduction(r, batch), ob)));
            }
        }

        string build =
#if NKL_NETSTANDARD_BUILD
            "netstandard2.0";
#else
            "net8.0";
#endif
        output.WriteLine($"bit identity {a} vs {b} ({build} build, managed ISA {KlBackend.ManagedIsa}): " +
                         $"{compared - differing} of {compared} results identical, {differing} differ" +
                         (examples.Count > 0 ? "; e.g. " + string.Join("; ", examples) : ""));
#if NKL_NETSTANDARD_BUILD
        if (Registry.IsManaged(b)) return; // measured and reported above; no fused multiply-add on netstandard2.0
#endif
        Assert.True(differing == 0, $"{differing} of {compared} results differ between {a} and {b}, e.g. {string.Join("; ", examples)}");
    }
}
