// NativeKl.Arm64Check: one FNV-1a digest of the result bits per case (KL pointwise, the three
// reductions, backward with both gradients, distillation loss and backward; float and double;
// every semantics; random and special inputs), for each managed kernel path this machine runs
// (KlIsa.Auto, Scalar, and Avx2 / Neon where present).
//   NativeKl.Arm64Check --write expected.txt   (on x64: the reference)
//   NativeKl.Arm64Check --check expected.txt   (anywhere: every path must give every digest)
//   NativeKl.Arm64Check --check expected.txt --quick   (under an emulator: lengths up to 1000 and the
//                                                      smaller distillation shapes, a subset of the digests)
// Exit 0: all equal; 1: a difference (listed); 2: usage or setup error.
using System.Diagnostics;
using System.Runtime.InteropServices;
using NativeKl;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length < 2 || args.Length > 3 || (args[0] != "--write" && args[0] != "--check")
            || (args.Length == 3 && (args[2] != "--quick" || args[0] != "--check")))
        {
            Console.Error.WriteLine("usage: NativeKl.Arm64Check --write expected.txt | --check expected.txt [--quick]");
            return 2;
        }
        s_quick = args.Length == 3;
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"{RuntimeInformation.ProcessArchitecture} {RuntimeInformation.FrameworkDescription}; backend {KlBackend.ActiveDescription}; " +
                          $"native available: {KlBackend.IsNativeAvailable}");
        var isas = new List<KlIsa> { KlIsa.Auto, KlIsa.Scalar };
        foreach (KlIsa isa in new[] { KlIsa.Avx2, KlIsa.Neon })
        {
            try { KlDivergence.Reduce(new float[] { -1f }, new float[] { 1f }, KlReduction.Sum, Options(isa)); isas.Add(isa); }
            catch (PlatformNotSupportedException) { }
        }
        Console.WriteLine("managed paths: " + string.Join(", ", isas));
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 && (!isas.Contains(KlIsa.Neon) || KlBackend.ManagedIsa != "neon"))
        {
            Console.WriteLine($"FAILED: on arm64 the managed backend must run NEON by default (it runs {KlBackend.ManagedIsa})");
            return 1;
        }
        var runs = isas.ToDictionary(isa => isa, isa => Cases(Options(isa)));
        var reference = runs[KlIsa.Scalar];
        int failures = 0;
        foreach (var (isa, run) in runs)
            foreach (var (name, digest) in run)
                if (reference[name] != digest)
                {
                    failures++;
                    if (failures <= 20) Console.WriteLine($"DIFF {isa} vs Scalar: {name}: {digest:x16} vs {reference[name]:x16}");
                }
        if (args[0] == "--write")
        {
            File.WriteAllLines(args[1], reference.Select(kv => $"{kv.Key}\t{kv.Value:x16}"));
            Console.WriteLine($"wrote {reference.Count} digests to {args[1]} in {clock.Elapsed.TotalSeconds:F1} s");
            return failures == 0 ? 0 : 1;
        }
        if (!File.Exists(args[1])) { Console.Error.WriteLine($"{args[1]} not found"); return 2; }
        var expected = File.ReadAllLines(args[1]).Select(l => l.Split('\t'))
            .ToDictionary(p => p[0], p => Convert.ToUInt64(p[1], 16));
        if (!s_quick && expected.Count != reference.Count) { Console.WriteLine($"DIFF: {expected.Count} expected cases, {reference.Count} computed"); failures++; }
        foreach (var (isa, run) in runs)
            foreach (var (name, digest) in run)
                if (!expected.TryGetValue(name, out ulong e) || e != digest)
                {
                    failures++;
                    if (failures <= 40) Console.WriteLine($"DIFF {isa} vs x64: {name}: {digest:x16} vs {(expected.ContainsKey(name) ? e.ToString("x16") : "missing")}");
                }
        Console.WriteLine(failures == 0
            ? $"OK: {reference.Count} cases x {isas.Count} paths{(s_quick ? " (quick)" : "")}, every digest equal to the x64 one ({clock.Elapsed.TotalSeconds:F1} s)"
            : $"FAILED: {failures} differences ({clock.Elapsed.TotalSeconds:F1} s)");
        return failures == 0 ? 0 : 1;
    }

    private static bool s_quick;

    private static KlOptions Options(KlIsa isa) => new KlOptions { Backend = KlBackendKind.Managed, Isa = isa };

    private static readonly int[] Lengths = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 255, 257, 1000, 16384, 16400 };

    private static SortedDictionary<string, ulong> Cases(KlOptions options)
    {
        var digests = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (bool logTarget in new[] { false, true })
        foreach (bool masked in new[] { false, true })
        foreach (int n in Lengths.Where(n => !s_quick || n <= 1000))
        foreach (bool special in new[] { false, true })
        {
            if (special && n == 0) continue;
            var o = options with { LogTarget = logTarget, Masked = masked };
            var (xd, td) = Data(n, logTarget, special, seed: (ulong)(n * 4 + (logTarget ? 2 : 0) + (masked ? 1 : 0)) + (special ? 1000UL : 0));
            float[] x = xd.Select(v => (float)v).ToArray(), t = td.Select(v => (float)v).ToArray();
            string key = $"kl lt={(logTarget ? 1 : 0)} m={(masked ? 1 : 0)} n={n}{(special ? " special" : "")}";
            Kl(digests, key + " f32", x, t, o);
            Kl(digests, key + " f64", xd, td, o);
        }
        foreach (bool logProbs in new[] { false, true })
        foreach (var (rows, cols) in new[] { (1, 1), (3, 7), (4, 33), (5, 100), (2, 1000) }.Where(s => !s_quick || s.Item2 <= 100))
        {
            var o = new DistillationOptions(2.5)
            {
                Backend = options.Backend, Isa = options.Isa,
                Teacher = logProbs ? TeacherKind.LogProbabilitiesAsGiven : TeacherKind.Logits,
            };
            var rng = new Rng((ulong)(rows * 131 + cols) + (logProbs ? 7UL : 0));
            double[] s = new double[rows * cols], u = new double[rows * cols];
            for (int i = 0; i < s.Length; i++) { s[i] = rng.Next() * 20 - 10; u[i] = rng.Next() * 20 - 10; }
            if (logProbs) LogSoftmaxRows(u, rows, cols);
            string key = $"distill lp={(logProbs ? 1 : 0)} {rows}x{cols}";
            Distill(digests, key + " f32", s.Select(v => (float)v).ToArray(), u.Select(v => (float)v).ToArray(), rows, cols, o);
            Distill(digests, key + " f64", s, u, rows, cols, o);
        }
        return digests;
    }

    private static void Kl<T>(SortedDictionary<string, ulong> digests, string key, T[] x, T[] t, KlOptions o) where T : unmanaged
    {
        int n = x.Length;
        var d = new Digest();
        var values = new T[n];
        var gx = new T[n];
        var gt = new T[n];
        if (typeof(T) == typeof(float))
        {
            float[] xf = (float[])(object)x, tf = (float[])(object)t;
            KlDivergence.Pointwise(xf, tf, (float[])(object)values, o);
            d.Add(values);
            foreach (var r in new[] { KlReduction.Sum, KlReduction.Mean, KlReduction.BatchMean(n == 0 ? 0 : 1) })
                if (n > 0 || r.Kind == KlReductionKind.Sum) d.Add(KlDivergence.Reduce(xf, tf, r, o));
            d.Add(KlDivergence.Backward(xf, tf, (float[])(object)gx, (float[])(object)gt, KlReduction.Sum, 0.75f, o));
            d.Add(gx); d.Add(gt);
            KlDivergence.PointwiseBackward(xf, tf, (float[])(object)gx, (float[])(object)gt, (float[])(object)values, 1.25f, o);
            d.Add(gx); d.Add(gt); d.Add(values);
        }
        else
        {
            double[] xf = (double[])(object)x, tf = (double[])(object)t;
            KlDivergence.Pointwise(xf, tf, (double[])(object)values, o);
            d.Add(values);
            foreach (var r in new[] { KlReduction.Sum, KlReduction.Mean, KlReduction.BatchMean(n == 0 ? 0 : 1) })
                if (n > 0 || r.Kind == KlReductionKind.Sum) d.Add(KlDivergence.Reduce(xf, tf, r, o));
            d.Add(KlDivergence.Backward(xf, tf, (double[])(object)gx, (double[])(object)gt, KlReduction.Sum, 0.75, o));
            d.Add(gx); d.Add(gt);
            KlDivergence.PointwiseBackward(xf, tf, (double[])(object)gx, (double[])(object)gt, (double[])(object)values, 1.25, o);
            d.Add(gx); d.Add(gt); d.Add(values);
        }
        digests[key] = d.Value;
    }

    private static void Distill(SortedDictionary<string, ulong> digests, string key, float[] s, float[] u, int rows, int cols, DistillationOptions o)
    {
        var d = new Digest();
        d.Add(Distillation.Loss(s, u, rows, cols, KlReductionKind.BatchMean, o));
        var losses = new float[rows];
        Distillation.RowLosses(s, u, rows, cols, losses, o);
        d.Add(losses);
        float[] gs = new float[s.Length], gu = new float[u.Length];
        d.Add(Distillation.Backward(s, u, rows, cols, gs, gu, KlReductionKind.Mean, 0.5f, o));
        d.Add(gs); d.Add(gu);
        digests[key] = d.Value;
    }

    private static void Distill(SortedDictionary<string, ulong> digests, string key, double[] s, double[] u, int rows, int cols, DistillationOptions o)
    {
        var d = new Digest();
        d.Add(Distillation.Loss(s, u, rows, cols, KlReductionKind.BatchMean, o));
        var losses = new double[rows];
        Distillation.RowLosses(s, u, rows, cols, losses, o);
        d.Add(losses);
        double[] gs = new double[s.Length], gu = new double[u.Length];
        d.Add(Distillation.Backward(s, u, rows, cols, gs, gu, KlReductionKind.Mean, 0.5, o));
        d.Add(gs); d.Add(gu);
        digests[key] = d.Value;
    }

    private static void LogSoftmaxRows(double[] v, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = v.AsSpan(r * cols, cols);
            double m = double.NegativeInfinity;
            foreach (double a in row) m = Math.Max(m, a);
            double z = 0;
            foreach (double a in row) z += Math.Exp(a - m);
            double lz = m + Math.Log(z);
            for (int c = 0; c < cols; c++) row[c] -= lz;
        }
    }

    /// <summary>Log-probability inputs and probability (or log-probability) targets; "special" mixes in
    /// zeros, signed zeros, subnormals, infinities, NaNs, ones, negatives and huge values.</summary>
    private static (double[] X, double[] T) Data(int n, bool logTarget, bool special, ulong seed)
    {
        var rng = new Rng(seed + 1);
        double[] x = new double[n], t = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = Math.Log(rng.Next() + 1e-3) - 1;
            double p = rng.Next();
            t[i] = logTarget ? Math.Log(p + 1e-6) * (1 + 40 * rng.Next()) : p * p;
        }
        if (!special) return (x, t);
        double[] odd = { 0.0, -0.0, 1.0, -1.0, double.Epsilon, 1e-310, 1e-40, 1e-45, double.PositiveInfinity, double.NegativeInfinity,
                         double.NaN, 1e30, -1e30, 88.5, -87.5, -104, -745.2, 709.9, 0.5, 2.0 };
        for (int i = 0; i < n; i++)
        {
            if (rng.Next() < 0.5) x[i] = odd[(int)(rng.Next() * odd.Length)];
            if (rng.Next() < 0.5) t[i] = odd[(int)(rng.Next() * odd.Length)];
        }
        return (x, t);
    }

    /// <summary>xorshift64*: the same numbers on every machine and runtime.</summary>
    private sealed class Rng(ulong seed)
    {
        private ulong _s = seed * 0x9E3779B97F4A7C15UL | 1;

        public double Next()
        {
            _s ^= _s >> 12; _s ^= _s << 25; _s ^= _s >> 27;
            return ((_s * 0x2545F4914F6CDD1DUL) >> 11) * (1.0 / (1UL << 53));
        }
    }

    /// <summary>FNV-1a over the bits of every value added.</summary>
    private sealed class Digest
    {
        public ulong Value { get; private set; } = 0xcbf29ce484222325UL;

        private void Add(ulong bits)
        {
            for (int i = 0; i < 8; i++) { Value ^= (bits >> (8 * i)) & 0xff; Value *= 0x100000001b3UL; }
        }

        public void Add(float v) => Add((ulong)(uint)BitConverter.SingleToInt32Bits(v));
        public void Add(double v) => Add((ulong)BitConverter.DoubleToInt64Bits(v));
        public void Add(float[] v) { foreach (float f in v) Add(f); }
        public void Add(double[] v) { foreach (double f in v) Add(f); }
        public void Add<T>(T[] v) where T : unmanaged
        {
            if (v is float[] f) Add(f); else Add((double[])(object)v);
        }
    }
}
