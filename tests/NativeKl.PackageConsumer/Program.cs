using System.Globalization;
using NativeKl;

// The seed example: log(softmax(logits)) per row as input, against the target. Exit 0 only when it
// ran on the native library and gave the known value; 1 otherwise, saying which.
float[] logits = { 0.5f, 1.0f, 0.8f, 0.2f, 0.4f, 0.6f };
float[] target = { 0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f };
var input = new float[6];
for (int r = 0; r < 2; r++)
{
    var row = logits.AsSpan(r * 3, 3);
    float max = MathF.Max(row[0], MathF.Max(row[1], row[2]));
    float total = MathF.Exp(row[0] - max) + MathF.Exp(row[1] - max) + MathF.Exp(row[2] - max);
    for (int c = 0; c < 3; c++) input[r * 3 + c] = MathF.Log(MathF.Exp(row[c] - max) / total);
}
float batchMean = KlDivergence.BatchMean(input, target, batchSize: 2);
Console.WriteLine("batchmean " + batchMean.ToString("R", CultureInfo.InvariantCulture));
Console.WriteLine($"backend {KlBackend.Active}: {KlBackend.ActiveReason}");
Console.WriteLine($"runtime {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}, "
                  + $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");

int status = 0;
if (KlBackend.Active != KlBackendKind.Native)
{
    Console.WriteLine("FAILED: expected the native backend (KlBackend.Active == Native)");
    status = 1;
}
// PyTorch: F.kl_div(log_softmax(logits), target, reduction='batchmean') = 0.0577962 for these rows.
if (Math.Abs(batchMean - 0.0577962) > 5e-7)
{
    Console.WriteLine("FAILED: expected batchmean 0.0577962");
    status = 1;
}
return status;
