using System.Numerics;
using System.Runtime.InteropServices;

namespace NativeKl.Benchmarks;

/// <summary>
/// The data of one elementwise case: input = log_softmax of student logits, target = softmax of
/// teacher logits (log_softmax with a log target), logits 3·N(0, 1), seeded. N = 6 is the seed
/// example's [2, 3] itself; otherwise rows of 1000 classes (1024 where 1000 does not divide N), so
/// `batchmean` divides by the row count. Without masked classes the target has no exact zero, so
/// every peer computes a finite value (a plain t·log t gives NaN at t = 0, where xlogy gives 0).
/// </summary>
public sealed class ElementwiseData<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public ElementwiseData(int n, bool logTarget)
    {
        N = n;
        LogTarget = logTarget;
        Columns = n == 6 ? 3 : n % 1000 == 0 ? 1000 : 1024;
        Rows = n / Columns;
        Input = new T[n];
        Target = new T[n];
        if (n == 6)
        {
            LogSoftmaxRows(new[] { 0.5, 1.0, 0.8, 0.2, 0.4, 0.6 }, Input);
            double[] seedTarget = { 0.3, 0.4, 0.3, 0.1, 0.5, 0.4 };
            for (int i = 0; i < n; i++)
                Target[i] = T.CreateTruncating(logTarget ? Math.Log(seedTarget[i]) : seedTarget[i]);
        }
        else
        {
            var rng = new Random(n * 7 + (logTarget ? 1 : 0));
            LogSoftmaxRows(Logits(rng, n), Input);
            LogSoftmaxRows(Logits(rng, n), Target);
            if (!logTarget)
                for (int i = 0; i < n; i++) Target[i] = T.Exp(Target[i]);
        }
    }

    public int N { get; }
    public bool LogTarget { get; }
    public int Rows { get; }
    public int Columns { get; }
    public T[] Input { get; }
    public T[] Target { get; }

    /// <summary>
    /// The float64 reference of the sum: each term in double from the stored values (exact
    /// conversions), summed with Neumaier's compensation.
    /// </summary>
    public double ReferenceSum()
    {
        double sum = 0, compensation = 0;
        for (int i = 0; i < N; i++)
        {
            double x = double.CreateTruncating(Input[i]), t = double.CreateTruncating(Target[i]);
            double term = LogTarget ? Math.Exp(t) * (t - x) : t * (Math.Log(t) - x);
            double next = sum + term;
            compensation += Math.Abs(sum) >= Math.Abs(term) ? (sum - next) + term : (term - next) + sum;
            sum = next;
        }
        return sum + compensation;
    }

    private void LogSoftmaxRows(double[] logits, T[] destination)
    {
        for (int row = 0; row < Rows; row++)
        {
            ReadOnlySpan<double> z = logits.AsSpan(row * Columns, Columns);
            double max = double.NegativeInfinity, sum = 0;
            foreach (double v in z) max = Math.Max(max, v);
            foreach (double v in z) sum += Math.Exp(v - max);
            double logSum = max + Math.Log(sum);
            for (int c = 0; c < Columns; c++) destination[row * Columns + c] = T.CreateTruncating(z[c] - logSum);
        }
    }

    private static double[] Logits(Random rng, int n)
    {
        var logits = new double[n];
        for (int i = 0; i < n; i++)
        {
            // Box–Muller; 1 - NextDouble() is in (0, 1], so the log is finite.
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));
            logits[i] = 3.0 * radius * Math.Cos(2.0 * Math.PI * rng.NextDouble());
        }
        return logits;
    }
}

/// <summary>NativeKl's float and double overloads behind one generic signature (the JIT keeps one branch).</summary>
internal static class Kl<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Reduce(ReadOnlySpan<T> x, ReadOnlySpan<T> t, KlReduction reduction, KlOptions options, int degreeOfParallelism = 1) =>
        typeof(T) == typeof(float)
            ? (T)(object)KlDivergence.Reduce(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(t), reduction, options, degreeOfParallelism)
            : (T)(object)KlDivergence.Reduce(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(t), reduction, options, degreeOfParallelism);

    public static void Pointwise(ReadOnlySpan<T> x, ReadOnlySpan<T> t, Span<T> destination, KlOptions options)
    {
        if (typeof(T) == typeof(float))
            KlDivergence.Pointwise(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(t), MemoryMarshal.Cast<T, float>(destination), options);
        else
            KlDivergence.Pointwise(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(t), MemoryMarshal.Cast<T, double>(destination), options);
    }

    public static T Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> t, Span<T> gradInput, Span<T> gradTarget, KlReduction reduction,
                             KlOptions options) =>
        typeof(T) == typeof(float)
            ? (T)(object)KlDivergence.Backward(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(t),
                MemoryMarshal.Cast<T, float>(gradInput), MemoryMarshal.Cast<T, float>(gradTarget), reduction, 1f, options)
            : (T)(object)KlDivergence.Backward(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(t),
                MemoryMarshal.Cast<T, double>(gradInput), MemoryMarshal.Cast<T, double>(gradTarget), reduction, 1.0, options);

    public static void PointwiseBackward(ReadOnlySpan<T> x, ReadOnlySpan<T> t, Span<T> gradInput, Span<T> gradTarget, Span<T> values,
                                         KlOptions options)
    {
        if (typeof(T) == typeof(float))
            KlDivergence.PointwiseBackward(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(t), MemoryMarshal.Cast<T, float>(gradInput),
                MemoryMarshal.Cast<T, float>(gradTarget), MemoryMarshal.Cast<T, float>(values), 1f, options);
        else
            KlDivergence.PointwiseBackward(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(t), MemoryMarshal.Cast<T, double>(gradInput),
                MemoryMarshal.Cast<T, double>(gradTarget), MemoryMarshal.Cast<T, double>(values), 1.0, options);
    }
}
