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
        // a log target must be <= 0; -inf (probability 0) is fine
        var lt = Array.ConvertAll(MakeRows(4, 25, 3).T, Math.Log);
        lt[3] = double.NegativeInfinity;
        lt[11] = 1e-9;
        e = Fails(() => KlDivergence.Backward(MakeRows(4, 25, 3).X, lt, KlReduction.Sum, new double[100], default, 0, 1.0, v with { LogTarget = true }));
        Assert.Equal(("target", 11L), (e.ParamName!, e.Index));
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
        e = Fails(() => KlDivergence.Backward(xd, lt, KlReduction.BatchMean, new double[40], default, 4, 1.0, v with { LogTarget = true }));
        Assert.Equal(("target", 1, 9, 19L), (e.ParamName!, e.Row, e.Column, e.Index));
        float[] xf = TestData.ToFloat(xd);
        xf[37] = float.NaN;
        e = Fails(() => KlDivergence.BatchMean(xf, TestData.ToFloat(td), 4, v));
        Assert.Equal(("input", 3, 7, 37L), (e.ParamName!, e.Row, e.Column, e.Index));
        Assert.Contains("`input`[3, 7] (element 37) = NaN", e.Message);
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
