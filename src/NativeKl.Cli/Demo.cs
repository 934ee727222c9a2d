using NativeKl;

/// <summary>
/// The seed example: logits [[0.5,1.0,0.8],[0.2,0.4,0.6]] → softmax over each row → log gives the
/// input; target [[0.3,0.4,0.3],[0.1,0.5,0.4]]. Everything printed is computed here.
/// PyTorch (float32) gives sum 0.115592, batchmean 0.057796, mean 0.019265.
/// </summary>
internal static class Demo
{
    internal static int Run(KlBackendKind backend)
    {
        const int rows = 2, columns = 3;
        float[] logits = { 0.5f, 1.0f, 0.8f, 0.2f, 0.4f, 0.6f };
        float[] target = { 0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f };

        float[] probabilities = Softmax(logits, rows, columns);
        float[] input = probabilities.Select(p => MathF.Log(p)).ToArray();

        var options = new KlOptions { Backend = backend };
        float[] pointwise = new float[input.Length];
        KlDivergence.Pointwise(input, target, pointwise, options);
        float sum = KlDivergence.Sum(input, target, options);
        float mean = KlDivergence.Mean(input, target, options);
        float batchMean = KlDivergence.BatchMean(input, target, rows, options);
        float[] perRow = new float[rows];
        KlDivergence.Rows(input, target, rows, columns, perRow, options);

        Console.WriteLine("logits             " + Matrix(logits, rows, columns));
        Console.WriteLine("softmax(logits)    " + Matrix(probabilities, rows, columns));
        Console.WriteLine("input = log(...)   " + Matrix(input, rows, columns));
        Console.WriteLine("target             " + Matrix(target, rows, columns));
        Console.WriteLine();
        Console.WriteLine("kl_div(input, target, reduction=...)");
        Console.WriteLine("  none       " + Matrix(pointwise, rows, columns));
        Console.WriteLine($"  sum        {sum:F6}");
        Console.WriteLine($"  batchmean  {batchMean:F6}   (per row: {string.Join(", ", perRow.Select(v => v.ToString("F6")))})");
        Console.WriteLine($"  mean       {mean:F6}");
        Console.WriteLine();
        var ran = backend == KlBackendKind.Auto ? KlBackend.Active : backend;
        string isa = ran == KlBackendKind.Native ? KlBackend.NativeIsa! : KlBackend.ManagedIsa;
        Console.WriteLine($"backend: {ran}, ISA: {isa} ({(backend == KlBackendKind.Auto ? KlBackend.ActiveReason : "chosen with --backend")})");
        return 0;
    }

    private static float[] Softmax(float[] logits, int rows, int columns)
    {
        var p = new float[logits.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * columns, columns);
            float max = float.NegativeInfinity;
            foreach (float v in row) max = MathF.Max(max, v);
            float total = 0;
            for (int c = 0; c < columns; c++) total += p[r * columns + c] = MathF.Exp(row[c] - max);
            for (int c = 0; c < columns; c++) p[r * columns + c] /= total;
        }
        return p;
    }

    private static string Matrix(float[] values, int rows, int columns) =>
        "[" + string.Join(", ", Enumerable.Range(0, rows).Select(r =>
            "[" + string.Join(", ", values.Skip(r * columns).Take(columns).Select(v => v.ToString("F6"))) + "]")) + "]";
}
