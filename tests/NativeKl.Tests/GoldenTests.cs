using System.Text.Json;

namespace NativeKl.Tests;

/// <summary>
/// PyTorch 2.10's own results (tests/golden, format in its README.md): every kl_div case, on every
/// backend, within the tolerance the README suggests; where PyTorch has any NaN the result is the
/// library's NaN bit for bit (PyTorch's sign is the CPU's, not a contract), infinities match in sign.
/// </summary>
public class GoldenTests
{
    internal static readonly string Root = Path.Combine(TestData.RepoRoot, "tests", "golden");
    internal static readonly Lazy<JsonElement[]> Cases = new(LoadCases);

    private static JsonElement[] LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "manifest.json")));
        var m = doc.RootElement;
        Assert.Equal("nativekl-golden", m.GetProperty("format").GetString());
        Assert.Equal(1, m.GetProperty("format_version").GetInt32());
        Assert.Equal("little", m.GetProperty("byte_order").GetString());
        return m.GetProperty("cases").EnumerateArray()
            .Where(c => c.GetProperty("op").GetString() == "kl_div")
            .Select(c => c.Clone()).ToArray();
    }

    public static TheoryData<string, string> AllCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in Cases.Value)
            foreach (var backend in Registry.Backends.Keys)
                data.Add(c.GetProperty("name").GetString()!, backend);
        return data;
    }

    [Fact]
    public void The_set_holds_kl_div_cases_of_every_group()
    {
        var groups = Cases.Value.Select(c => c.GetProperty("group").GetString()).Distinct().ToArray();
        Assert.Contains("seed", groups);
        Assert.Contains("random", groups);
        Assert.Contains("edge", groups);
        Assert.True(Cases.Value.Length >= 100, $"only {Cases.Value.Length} kl_div cases");
    }

    /// <summary>Reads an array as doubles (float32 files widened exactly).</summary>
    internal static double[] Load(JsonElement descriptor)
    {
        string dtype = descriptor.GetProperty("dtype").GetString()!;
        int size = dtype == "float32" ? 4 : 8;
        long count = 1;
        foreach (var d in descriptor.GetProperty("shape").EnumerateArray()) count *= d.GetInt64();
        long offset = descriptor.GetProperty("offset").GetInt64() * size;
        byte[] bytes = File.ReadAllBytes(Path.Combine(Root, descriptor.GetProperty("file").GetString()!));
        Assert.True(bytes.Length >= offset + count * size, $"{descriptor}: file too short");
        var result = new double[count];
        for (long i = 0; i < count; i++)
        {
            var span = bytes.AsSpan((int)(offset + i * size), size);
            result[i] = size == 4
                ? BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(span))
                : BitConverter.Int64BitsToDouble(System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(span));
        }
        return result;
    }

    [Theory, MemberData(nameof(AllCases))]
    public void Matches_PyTorch(string name, string backend)
    {
        var c = Cases.Value.Single(k => k.GetProperty("name").GetString() == name);
        bool f32 = c.GetProperty("dtype").GetString() == "float32";
        bool logTarget = c.GetProperty("log_target").GetBoolean();
        string reduction = c.GetProperty("reduction").GetString()!;
        var shape = c.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var arrays = c.GetProperty("arrays");
        double[] x = Load(arrays.GetProperty("input")), t = Load(arrays.GetProperty("target"));
        if (!arrays.TryGetProperty("output", out var outputDescriptor)) return; // summarized (large) outputs are not in this subset
        double[] expected = Load(outputDescriptor);
        var options = Registry.With(backend, logTarget, masked: false);
        double eps = f32 ? Reference.Float32Epsilon : Reference.Float64Epsilon;
        int n = x.Length;
        // functional.py: batchmean divides by input.size(0), except for a 0-d input.
        int batch = shape.Length == 0 ? 1 : shape[0];

        double[] actual;
        if (f32)
        {
            float[] xf = TestData.ToFloat(x), tf = TestData.ToFloat(t);
            actual = reduction switch
            {
                "none" => TestData.Widen(Pointwise(xf, tf, options)),
                "sum" => new double[] { KlDivergence.Sum(xf, tf, options) },
                "mean" => new double[] { KlDivergence.Mean(xf, tf, options) },
                _ => new double[] { KlDivergence.BatchMean(xf, tf, batch, options) },
            };
        }
        else
        {
            actual = reduction switch
            {
                "none" => Pointwise(x, t, options),
                "sum" => new[] { KlDivergence.Sum(x, t, options) },
                "mean" => new[] { KlDivergence.Mean(x, t, options) },
                _ => new[] { KlDivergence.BatchMean(x, t, batch, options) },
            };
        }

        Assert.Equal(expected.Length, actual.Length);
        double divisor = reduction switch { "mean" => n, "batchmean" => batch, _ => 1 };
        double totalScale = 0;
        for (int i = 0; i < n; i++) totalScale += Reference.Scale(x[i], t[i], logTarget, false);
        double k = 4;
#if NKL_NETSTANDARD_BUILD
        // netstandard2.0 has no fused multiply-add: the managed exp/log lose a few ulps there.
        if (Registry.IsManaged(backend)) k = 16;
#endif
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = reduction == "none" ? Reference.Scale(x[i], t[i], logTarget, false) : totalScale / divisor;
            Assert.True(Reference.Close(actual[i], expected[i], scale, eps, k),
                $"{name} [{backend}] element {i}: {actual[i]:R}, PyTorch {expected[i]:R}");
        }
    }

    [Fact]
    public void Seed_example_matches_the_published_float32_values()
    {
        float[] logits = { 0.5f, 1.0f, 0.8f, 0.2f, 0.4f, 0.6f };
        float[] target = { 0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f };
        var input = new float[6];
        for (int r = 0; r < 2; r++)
        {
            double z = 0;
            for (int c = 0; c < 3; c++) z += Math.Exp(logits[r * 3 + c]);
            for (int c = 0; c < 3; c++) input[r * 3 + c] = MathF.Log((float)(Math.Exp(logits[r * 3 + c]) / z));
        }
        Assert.Equal(0.115592, KlDivergence.Sum(input, target), 6);
        Assert.Equal(0.057796, KlDivergence.BatchMean(input, target, 2), 6);
        Assert.Equal(0.019265, KlDivergence.Mean(input, target), 6);
    }

    private static float[] Pointwise(float[] x, float[] t, KlOptions o) { var d = new float[x.Length]; KlDivergence.Pointwise(x, t, d, o); return d; }
    private static double[] Pointwise(double[] x, double[] t, KlOptions o) { var d = new double[x.Length]; KlDivergence.Pointwise(x, t, d, o); return d; }
}
