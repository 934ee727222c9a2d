namespace NativeKl.Tests;

/// <summary>Every argument error: its type, the parameter it names, and the values in its message.</summary>
public class ValidationTests
{
    private static readonly float[] Six = { -1, -2, -3, -1, -2, -3 };
    private static readonly float[] Five = { 0.1f, 0.2f, 0.3f, 0.2f, 0.2f };
    private static readonly float[] SixT = { 0.1f, 0.2f, 0.3f, 0.2f, 0.1f, 0.1f };

    private static void Throws<T>(string param, string messagePart, Action action) where T : ArgumentException
    {
        var e = Assert.Throws<T>(action);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(messagePart, e.Message);
    }

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Target_length_mismatch(string backend)
    {
        var o = Registry.Backends[backend];
        const string message = "`target` length 5 does not match `input` length 6";
        Throws<ArgumentException>("target", message, () => KlDivergence.Sum(Six, Five, o));
        Throws<ArgumentException>("target", message, () => KlDivergence.Mean(Six, Five, o));
        Throws<ArgumentException>("target", message, () => KlDivergence.BatchMean(Six, Five, 2, o));
        Throws<ArgumentException>("target", message, () => KlDivergence.Reduce(TestData.Widen(Six), TestData.Widen(Five), KlReduction.Sum, o));
        Throws<ArgumentException>("target", message, () => KlDivergence.Pointwise(Six, Five, new float[6], o));
        Throws<ArgumentException>("target", message, () => KlDivergence.Rows(Six, Five, 2, 3, new float[2], o));
    }

    [Fact]
    public void Destination_too_short() =>
        Throws<ArgumentException>("destination", "`destination` length 5 is shorter than `input` length 6",
            () => KlDivergence.Pointwise(Six, SixT, new float[5]));

    [Fact]
    public void Destination_partly_overlapping_an_input()
    {
        var buffer = new float[12];
        Six.CopyTo(buffer, 0);
        Throws<ArgumentException>("destination", "partly overlaps `input`",
            () => KlDivergence.Pointwise(buffer.AsSpan(0, 6), SixT, buffer.AsSpan(2, 6)));
        Throws<ArgumentException>("destination", "partly overlaps `target`",
            () => KlDivergence.Pointwise(Six, buffer.AsSpan(0, 6), buffer.AsSpan(1, 6)));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void In_place_is_allowed(string backend)
    {
        var o = Registry.Backends[backend];
        var expected = new float[6];
        KlDivergence.Pointwise(Six, SixT, expected, o);
        var x = (float[])Six.Clone();
        KlDivergence.Pointwise(x, SixT, x, o);
        Assert.Equal(expected, x);
        var t = (float[])SixT.Clone();
        KlDivergence.Pointwise(Six, t, t, o);
        Assert.Equal(expected, t);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void BatchMean_batch_size_not_positive(int batch) =>
        Throws<ArgumentOutOfRangeException>("batchSize", $"`batchSize` {batch} must be > 0 for BatchMean (`input` length 6)",
            () => KlDivergence.BatchMean(Six, SixT, batch));

    [Fact]
    public void BatchMean_batch_size_not_dividing() =>
        Throws<ArgumentException>("batchSize", "`batchSize` 4 does not divide `input` length 6",
            () => KlDivergence.BatchMean(Six, SixT, 4));

    [Fact]
    public void Degree_of_parallelism_below_one() =>
        Throws<ArgumentOutOfRangeException>("degreeOfParallelism", "`degreeOfParallelism` 0 must be at least 1",
            () => KlDivergence.Reduce(Six, SixT, KlReduction.Sum, degreeOfParallelism: 0));

    [Fact]
    public void Undefined_options()
    {
        Throws<ArgumentOutOfRangeException>("options", "Backend (9)", () => KlDivergence.Sum(Six, SixT, new KlOptions { Backend = (KlBackendKind)9 }));
        Throws<ArgumentOutOfRangeException>("options", "Isa (5)", () => KlDivergence.Pointwise(Six, SixT, new float[6], new KlOptions { Isa = (KlIsa)5 }));
    }

    [Fact]
    public void Rows_errors()
    {
        var dest = new float[4];
        Throws<ArgumentOutOfRangeException>("rows", "`rows` -1 must not be negative", () => KlDivergence.Rows(Six, 3, SixT, 3, -1, 3, dest));
        Throws<ArgumentOutOfRangeException>("columns", "`columns` -2 must not be negative", () => KlDivergence.Rows(Six, 3, SixT, 3, 2, -2, dest));
        Throws<ArgumentOutOfRangeException>("inputStride", "`inputStride` 2 is smaller than `columns` 3", () => KlDivergence.Rows(Six, 2, SixT, 3, 2, 3, dest));
        Throws<ArgumentOutOfRangeException>("targetStride", "`targetStride` 1 is smaller than `columns` 3", () => KlDivergence.Rows(Six, 3, SixT, 1, 2, 3, dest));
        Throws<ArgumentException>("input", "`input` length 6 is shorter than the 7 elements that 2 rows of 3 columns at stride 4 span",
            () => KlDivergence.Rows(Six, 4, SixT, 3, 2, 3, dest));
        Throws<ArgumentException>("target", "`target` length 6 is shorter than the 8 elements that 2 rows of 3 columns at stride 5 span",
            () => KlDivergence.Rows(Six, 3, SixT, 5, 2, 3, dest));
        Throws<ArgumentException>("destination", "`destination` length 1 is shorter than `rows` 2",
            () => KlDivergence.Rows(Six, 3, SixT, 3, 2, 3, new float[1]));
        Throws<ArgumentException>("input", "`input` length 6 is not `rows` 4 × `columns` 2",
            () => KlDivergence.Rows(Six, SixT, 4, 2, dest));
        var shared = new float[8];
        Throws<ArgumentException>("destination", "`destination` overlaps `input`",
            () => KlDivergence.Rows(shared.AsSpan(0, 6), 3, SixT, 3, 2, 3, shared.AsSpan(5, 2)));
        Throws<ArgumentException>("destination", "`destination` overlaps `target`",
            () => KlDivergence.Rows(Six, 3, shared.AsSpan(0, 6), 3, 2, 3, shared.AsSpan(0, 2)));
    }

    [Fact]
    public void NativeBuffer_negative_length() =>
        Throws<ArgumentOutOfRangeException>("length", "`length` -3 must not be negative", () => new NativeBuffer<float>(-3));

    [Fact]
    public void Every_native_status_becomes_an_exception_through_one_funnel()
    {
        foreach (var status in Enum.GetValues<NativeKl.Interop.nkl_status>())
        {
            if (status == NativeKl.Interop.nkl_status.NKL_OK)
            {
                NativeKl.Error.Check(status, "f");
                continue;
            }
            var e = Assert.ThrowsAny<Exception>(() => NativeKl.Error.Check(status, "nkl_test"));
            Assert.Contains("nkl_test returned " + status, e.Message);
            Assert.DoesNotContain("unknown status code", e.Message);
            switch (status)
            {
                case NativeKl.Interop.nkl_status.NKL_ERROR_OUT_OF_MEMORY: Assert.IsType<OutOfMemoryException>(e); break;
                case NativeKl.Interop.nkl_status.NKL_ERROR_ISA_UNAVAILABLE: Assert.IsType<PlatformNotSupportedException>(e); break;
                default:
                    var k = Assert.IsType<NativeKlException>(e);
                    Assert.Equal((int)status, k.StatusCode);
                    Assert.Equal(status.ToString(), k.StatusName);
                    break;
            }
        }
    }
}
