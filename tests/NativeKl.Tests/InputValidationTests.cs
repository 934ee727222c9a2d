namespace NativeKl.Tests;

/// <summary>KlOptions.ValidateInputs: off by default; on, the first offending element or row, by index.</summary>
public class InputValidationTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    private static KlInputException Fails(Action call) => Assert.Throws<KlInputException>(call);

    [Theory, MemberData(nameof(BackendNames))]
    public void Off_by_default_a_NaN_flows_through(string backend)
    {
        var o = Registry.Backends[backend];
        Assert.False(o.ValidateInputs);
        Assert.True(Reference.IsLibraryNaN(KlDivergence.Sum(new[] { -1f, float.NaN }, new[] { 0.5f, 0.5f }, o)));
        Assert.True(Reference.IsLibraryNaN(KlDivergence.Sum(new[] { -1.0, -1.0 }, new[] { 0.5, -0.5 }, o)));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void On_valid_data_gives_the_same_bits(string backend)
    {
        var o = Registry.Backends[backend];
        var v = o with { ValidateInputs = true };
        var (xd, td) = MakeRows(rows: 8, columns: 50, seed: 1);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        Assert.Equal(KlDivergence.BatchMean(x, t, 8, o), KlDivergence.BatchMean(x, t, 8, v));
        Assert.Equal(KlDivergence.Sum(xd, td, o), KlDivergence.Sum(xd, td, v));
        float[] a = new float[8], b = new float[8];
        KlDivergence.Rows(x, t, 8, 50, a, o);
        KlDivergence.Rows(x, t, 8, 50, b, v);
        Assert.Equal(a, b);
        // log targets: exp(t) sums to 1
        double[] lt = Array.ConvertAll(td, Math.Log);
        Assert.Equal(KlDivergence.BatchMean(xd, lt, 8, o with { LogTarget = true }), KlDivergence.BatchMean(xd, lt, 8, v with { LogTarget = true }));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void The_first_offending_element_by_index(string backend)
    {
        var v = Registry.Backends[backend] with { ValidateInputs = true };
        var (xd, td) = MakeRows(rows: 4, columns: 25, seed: 2);
        xd[37] = double.NaN;
        xd[60] = 0.5; // later: not reported
        var e = Fails(() => KlDivergence.Mean(xd, td, v));
        Assert.Equal(("input", 37L, -1, -1), (e.ParamName, e.Index, e.Row, e.Column));
        Assert.True(double.IsNaN(e.Value));
        Assert.Contains("`input`[37] = NaN", e.Message);

        float[] t = TestData.ToFloat(td);
        t[90] = -0.25f;
        e = Fails(() => KlDivergence.Pointwise(TestData.ToFloat(MakeRows(4, 25, 2).X), t, new float[100], v));
        Assert.Equal(("target", 90L, -0.25), (e.ParamName!, e.Index, e.Value));
        t[90] = float.PositiveInfinity;
        e = Fails(() => KlDivergence.Sum(TestData.ToFloat(MakeRows(4, 25, 2).X), t, v));
        Assert.Equal(90, e.Index);
        // a log target must be <= 0; -inf (probability 0) is fine when masked, and NaN (0·∞) when not
        var lt = Array.ConvertAll(MakeRows(4, 25, 3).T, Math.Log);
        lt[3] = double.NegativeInfinity;
        lt[11] = 1e-9;
        e = Fails(() => KlDivergence.Backward(MakeRows(4, 25, 3).X, lt, new double[100], default, KlReduction.Sum, 1.0, v with { LogTarget = true, Masked = true }));
        Assert.Equal(("target", 11L), (e.ParamName!, e.Index));
        e = Fails(() => KlDivergence.Backward(MakeRows(4, 25, 3).X, lt, new double[100], default, KlReduction.Sum, 1.0, v with { LogTarget = true }));
        Assert.Equal(("target", 3L), (e.ParamName!, e.Index));
        Assert.Contains("Masked = true", e.Message);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Rows_that_do_not_sum_to_one(string backend)
    {
        var v = Registry.Backends[backend] with { ValidateInputs = true };
        var (xd, td) = MakeRows(rows: 5, columns: 20, seed: 4);
        td[3 * 20 + 7] += 0.01; // row 3 sums to 1.01
        var e = Fails(() => KlDivergence.BatchMean(xd, td, 5, v));
        Assert.Equal(("target", 3, -1, 60L), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.Equal(1.01, e.Value, 1e-9);
        Assert.Contains("row 3", e.Message);
        // within a looser tolerance it passes; Sum and Mean know no rows, so they do not check sums
        KlDivergence.BatchMean(xd, td, 5, v with { RowSumTolerance = 0.02 });
        KlDivergence.Sum(xd, td, v);

        // strided rows: the index is the element's index in the span, padding is not read
        const int stride = 23;
        var x = new double[5 * stride];
        var t = new double[5 * stride];
        for (int r = 0; r < 5; r++)
        {
            Array.Copy(xd, r * 20, x, r * stride, 20);
            Array.Copy(td, r * 20, t, r * stride, 20);
            t[r * stride + 21] = double.NaN; // padding
        }
        e = Fails(() => KlDivergence.Rows(x, stride, t, stride, 5, 20, new double[5], v));
        Assert.Equal(("target", 3, -1, 3L * stride), (e.ParamName!, e.Row, e.Column, e.Index));
        t[2 * stride + 4] = 2.0;
        e = Fails(() => KlDivergence.Rows(x, stride, t, stride, 5, 20, new double[5], v));
        Assert.Equal(("target", 2, 4, 2L * stride + 4), (e.ParamName!, e.Row, e.Column, e.Index));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Rows_report_the_row_and_column_of_an_element(string backend)
    {
        var v = Registry.Backends[backend] with { ValidateInputs = true };
        var (xd, td) = MakeRows(rows: 4, columns: 10, seed: 5);
        const int xs = 13, ts = 11; // different strides: the index is in each span
        var x = new float[4 * xs];
        var t = new float[4 * ts];
        for (int r = 0; r < 4; r++)
        {
            Array.Copy(TestData.ToFloat(xd), r * 10, x, r * xs, 10);
            Array.Copy(TestData.ToFloat(td), r * 10, t, r * ts, 10);
        }
        x[2 * xs + 7] = 0.5f;         // input row 2, column 7
        t[3 * ts + 1] = float.NaN;    // later row: not reported
        var e = Fails(() => KlDivergence.Rows(x, xs, t, ts, 4, 10, new float[4], v));
        Assert.Equal(("input", 2, 7, 2L * xs + 7, 0.5), (e.ParamName!, e.Row, e.Column, e.Index, e.Value));
        Assert.Contains("`input`[2, 7] (element 33) = 0.5", e.Message);

        x[2 * xs + 7] = -1f;
        e = Fails(() => KlDivergence.Rows(x, xs, t, ts, 4, 10, new float[4], v));
        Assert.Equal(("target", 3, 1, 3L * ts + 1), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.True(double.IsNaN(e.Value));
        Assert.Contains("`target`[3, 1] (element 34) = NaN", e.Message);

        // contiguous rows, log target: the same row and column
        double[] lt = Array.ConvertAll(td, Math.Log);
        lt[1 * 10 + 9] = 0.25;
        e = Fails(() => KlDivergence.Rows(xd, lt, 4, 10, new double[4], v with { LogTarget = true }));
        Assert.Equal(("target", 1, 9, 19L), (e.ParamName!, e.Row, e.Column, e.Index));
        // the flat methods know no rows: the same element has Row and Column -1
        e = Fails(() => KlDivergence.Sum(xd, lt, v with { LogTarget = true }));
        Assert.Equal(("target", -1, -1, 19L), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.Contains("`target`[19] = 0.25", e.Message);
        // but BatchMean's batch makes rows: batch 4 of 40 elements, rows of 10
        e = Fails(() => KlDivergence.BatchMean(xd, lt, 4, v with { LogTarget = true }));
        Assert.Equal(("target", 1, 9, 19L), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.Contains("`target`[1, 9] (element 19) = 0.25", e.Message);
        e = Fails(() => KlDivergence.Backward(xd, lt, new double[40], default, KlReduction.BatchMean(4), 1.0, v with { LogTarget = true }));
        Assert.Equal(("target", 1, 9, 19L), (e.ParamName!, e.Row, e.Column, e.Index));
        float[] xf = TestData.ToFloat(xd);
        xf[37] = float.NaN;
        e = Fails(() => KlDivergence.BatchMean(xf, TestData.ToFloat(td), 4, v));
        Assert.Equal(("input", 3, 7, 37L), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.Contains("`input`[3, 7] (element 37) = NaN", e.Message);
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Pairs_that_give_NaN_by_row_and_column_and_what_such_data_wants(string backend)
    {
        var v = Registry.Backends[backend] with { ValidateInputs = true };
        var (xd, td) = MakeRows(rows: 3, columns: 4, seed: 6);
        // a masked log_softmax row: input -inf where the target is 0 (row 1, column 2)
        td[1 * 4 + 3] += td[1 * 4 + 2];
        td[1 * 4 + 2] = 0;
        xd[1 * 4 + 2] = double.NegativeInfinity;
        var e = Fails(() => KlDivergence.BatchMean(xd, td, 3, v));
        Assert.Equal(("input", 1, 2, 6L, double.NegativeInfinity), (e.ParamName!, e.Row, e.Column, e.Index, e.Value));
        Assert.StartsWith("`input`[1, 2] (element 6) = -Infinity where `target` is 0", e.Message);
        Assert.Contains("`Masked = true`", e.Message);
        Assert.Equal(KlDivergence.BatchMean(xd, td, 3, v with { Masked = true, ValidateInputs = false }),
                     KlDivergence.BatchMean(xd, td, 3, v with { Masked = true }));
        // its target gradient is NaN even where the input is finite: refused when asked for, unless masked
        xd[1 * 4 + 2] = -3;
        var g = new double[12];
        e = Fails(() => KlDivergence.Backward(xd, td, new double[12], g, KlReduction.BatchMean(3), 1.0, v));
        Assert.Equal(("target", 1, 2, 6L, 0.0), (e.ParamName!, e.Row, e.Column, e.Index, e.Value));
        Assert.Contains("target gradient", e.Message);
        KlDivergence.Backward(xd, td, new double[12], default, KlReduction.BatchMean(3), 1.0, v); // not asked for: fine
        KlDivergence.Backward(xd, td, new double[12], g, KlReduction.BatchMean(3), 1.0, v with { Masked = true });
        Assert.DoesNotContain(g, double.IsNaN);

        // strided rows: an input is reported at its index in the input's span, a target at its index in the target's
        const int xs = 6, ts = 5;
        float[] x = new float[3 * xs], t = new float[3 * ts];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) { x[r * xs + c] = (float)xd[r * 4 + c]; t[r * ts + c] = (float)Math.Log(td[r * 4 + c]); }
        var lv = v with { LogTarget = true };
        e = Fails(() => KlDivergence.Rows(x, xs, t, ts, 3, 4, new float[3], lv)); // log(0) = -inf, unmasked
        Assert.Equal(("target", 1, 2, 1L * ts + 2), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.StartsWith("`target`[1, 2] (element 7) = −∞ (probability 0)", e.Message);
        Assert.Contains("`Masked = true`", e.Message);
        KlDivergence.Rows(x, xs, t, ts, 3, 4, new float[3], lv with { Masked = true });
        // a log target whose probability underflows in float32 is not masked: with input -inf it is 0·∞
        t[1 * ts + 2] = -200f;
        t[2 * ts + 1] = -200f;
        x[2 * xs + 1] = float.NegativeInfinity;
        e = Fails(() => KlDivergence.Rows(x, xs, t, ts, 3, 4, new float[3], lv with { Masked = true, RowSumTolerance = 0.5 }));
        Assert.Equal(("input", 2, 1, 2L * xs + 1), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.Contains("underflows to 0 in float32", e.Message);
        // in float64 exp(-200) is 1.4e-87: +inf, not NaN
        Assert.Equal(double.PositiveInfinity, KlDivergence.Sum(new[] { double.NegativeInfinity }, new[] { -200.0 }, lv with { Masked = true }));

        // a gradient scale of 0 times the +inf of an input -inf where the target is not 0
        e = Fails(() => KlDivergence.PointwiseBackward(new[] { -1f, float.NegativeInfinity }, new[] { 0.5f, 0.5f }, new float[2], new float[2], default, 0f, v));
        Assert.Equal(("input", 1L, -1, double.NegativeInfinity), (e.ParamName!, e.Index, e.Row, e.Value));
        // gradOutput 1e-45 divided by the element count 2 is 0 in float32, not in float64
        Fails(() => KlDivergence.Backward(new[] { -1f, float.NegativeInfinity }, new[] { 0.5f, 0.5f }, new float[2], new float[2], KlReduction.Mean, 1e-45f, v));
        KlDivergence.Backward(new[] { -1.0, double.NegativeInfinity }, new[] { 0.5, 0.5 }, new double[2], new double[2], KlReduction.Mean, 1e-320, v);
        // not finite: refused whatever the data
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            e = Fails(() => KlDivergence.Backward(new[] { -1f }, new[] { 1f }, new float[1], default, KlReduction.Sum, bad, v));
            Assert.Equal("gradOutput", e.ParamName);
        }

        // empty input: Mean and BatchMean of batch 0 are 0/0
        e = Fails(() => KlDivergence.Mean(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, v));
        Assert.Equal(("input", 0L, -1), (e.ParamName!, e.Index, e.Row));
        Assert.Contains("is empty", e.Message);
        Fails(() => KlDivergence.Backward(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, default, default, KlReduction.BatchMean(0), 1f, v));
        Assert.Equal(0f, KlDivergence.Sum(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, v));
        Assert.Equal(0.0, KlDivergence.BatchMean(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 3, v));
    }

    /// <summary>Rows of log-softmax inputs and softmax targets (each target row sums to 1).</summary>
    private static (double[] X, double[] T) MakeRows(int rows, int columns, int seed)
    {
        var rng = new Random(seed);
        var x = new double[rows * columns];
        var t = new double[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            double sx = 0, st = 0;
            for (int c = 0; c < columns; c++)
            {
                x[r * columns + c] = rng.NextDouble() * 4;
                t[r * columns + c] = rng.NextDouble();
                sx += Math.Exp(x[r * columns + c]);
                st += t[r * columns + c];
            }
            for (int c = 0; c < columns; c++)
            {
                x[r * columns + c] -= Math.Log(sx);
                t[r * columns + c] /= st;
            }
        }
        return (x, t);
    }
}
