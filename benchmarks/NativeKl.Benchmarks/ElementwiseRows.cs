using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeKl.Benchmarks;

/// <summary>
/// Every row of the elementwise benchmark on one case's data, for one reduction, log_target and
/// pass: NativeKl's backends, the managed peers (a TensorPrimitives composition, a naive loop) and
/// the streaming-read floor. Each returns the value (0 for 'none'); 'none' writes the terms to
/// <see cref="Values"/>, forward+backward writes both gradients. All buffers are made once, here,
/// so no row allocates per call (the TensorPrimitives composition reuses two scratch arrays).
/// </summary>
public sealed class ElementwiseRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _x, _t, _gradInput, _gradTarget, _values, _scratch1, _scratch2;

    public ElementwiseRows(ElementwiseData<T> data, KlReductionKind reduction, bool backward)
    {
        Data = data;
        Reduction = reduction;
        IsBackward = backward;
        _x = data.Input;
        _t = data.Target;
        int n = data.N;
        _values = new T[n];
        _gradInput = backward ? new T[n] : Array.Empty<T>();
        _gradTarget = backward ? new T[n] : Array.Empty<T>();
        _scratch1 = new T[n];
        _scratch2 = new T[n];
        Scale = reduction == KlReductionKind.BatchMean ? T.One / T.CreateTruncating(data.Rows) : T.One;
    }

    public ElementwiseData<T> Data { get; }
    public KlReductionKind Reduction { get; }
    public bool IsBackward { get; }
    public T[] Values => _values;
    public T[] GradInput => _gradInput;
    public T[] GradTarget => _gradTarget;

    /// <summary>The upstream gradient divided by the reduction's divisor (1 or 1/rows).</summary>
    private T Scale { get; }

    /// <summary>The reduction as KlDivergence takes it (None has none: Pointwise is called instead).</summary>
    private KlReduction SpanReduction =>
        Reduction == KlReductionKind.BatchMean ? KlReduction.BatchMean(Data.Rows) : Reduction == KlReductionKind.Sum ? KlReduction.Sum : KlReduction.Mean;

    /// <summary>NativeKl with the given options (backend, ISA, log_target).</summary>
    public T NativeKl(KlOptions options)
    {
        if (!IsBackward)
        {
            if (Reduction != KlReductionKind.None) return Kl<T>.Reduce(_x, _t, SpanReduction, options);
            Kl<T>.Pointwise(_x, _t, _values, options);
            return T.Zero;
        }
        if (Reduction != KlReductionKind.None) return Kl<T>.Backward(_x, _t, _gradInput, _gradTarget, SpanReduction, options);
        Kl<T>.PointwiseBackward(_x, _t, _gradInput, _gradTarget, _values, options);
        return T.Zero;
    }

    /// <summary>The parallel overload, forward reductions only (NativeKl has no parallel backward or pointwise).</summary>
    public T NativeKlParallel(KlOptions options, int degreeOfParallelism) =>
        Kl<T>.Reduce(_x, _t, SpanReduction, options, degreeOfParallelism);

    /// <summary>
    /// The formula composed from TensorPrimitives calls the way a C# user would write it:
    /// t·(log t − x) or exp(t)·(t − x) into a scratch array, then Sum (which accumulates in T);
    /// the gradients −t·s, (log t − x + 1)·s or −exp(t)·s, exp(t)·((t − x) + 1)·s likewise.
    /// </summary>
    public T TensorPrimitivesComposition()
    {
        ReadOnlySpan<T> x = _x, t = _t;
        Span<T> term = Reduction == KlReductionKind.None ? _values : _scratch2;
        Span<T> difference = _scratch1;
        Span<T> expT = Data.LogTarget ? _scratch2 : default;
        if (Data.LogTarget)
        {
            term = Reduction == KlReductionKind.None ? _values : IsBackward ? _gradInput : _scratch1;
            TensorPrimitives.Exp(t, expT);                       // e = exp(t)
            TensorPrimitives.Subtract(t, x, difference);         // d = t − x
            TensorPrimitives.Multiply(expT, difference, term);   // L = e·d
        }
        else
        {
            TensorPrimitives.Log(t, difference);                 // log t
            TensorPrimitives.Subtract(difference, x, difference); // d = log t − x
            TensorPrimitives.Multiply(t, difference, term);      // L = t·d
        }
        T value = Reduction == KlReductionKind.None ? T.Zero : TensorPrimitives.Sum<T>(term) * Scale;
        if (!IsBackward) return value;
        T s = Scale;
        TensorPrimitives.Add(difference, T.One, _gradTarget);    // d + 1
        if (Data.LogTarget)
        {
            TensorPrimitives.Multiply<T>(_gradTarget, expT, _gradTarget); // e·(d + 1)
            TensorPrimitives.Multiply(_gradTarget, s, _gradTarget);
            TensorPrimitives.Multiply(expT, -s, _gradInput);              // −e·s
        }
        else
        {
            TensorPrimitives.Multiply(_gradTarget, s, _gradTarget);       // (log t − x + 1)·s
            TensorPrimitives.Multiply(t, -s, _gradInput);                 // −t·s
        }
        return value;
    }

    /// <summary>A plain loop as a C# user would write it: T.Log / T.Exp per element, the sum in T.</summary>
    public T NaiveLoop()
    {
        T[] x = _x, t = _t;
        T sum = T.Zero, s = Scale;
        bool none = Reduction == KlReductionKind.None;
        if (!IsBackward)
        {
            for (int i = 0; i < x.Length; i++)
            {
                T term = Data.LogTarget ? T.Exp(t[i]) * (t[i] - x[i]) : t[i] * (T.Log(t[i]) - x[i]);
                if (none) _values[i] = term; else sum += term;
            }
            return sum * s;
        }
        for (int i = 0; i < x.Length; i++)
        {
            T term, gradInput, gradTarget;
            if (Data.LogTarget)
            {
                T e = T.Exp(t[i]), d = t[i] - x[i];
                term = e * d;
                gradInput = -e * s;
                gradTarget = e * (d + T.One) * s;
            }
            else
            {
                T d = T.Log(t[i]) - x[i];
                term = t[i] * d;
                gradInput = -t[i] * s;
                gradTarget = (d + T.One) * s;
            }
            if (none) _values[i] = term; else sum += term;
            _gradInput[i] = gradInput;
            _gradTarget[i] = gradTarget;
        }
        return sum * s;
    }

    /// <summary>
    /// The memory floor: the same traffic with no arithmetic to speak of. Forward reads x and t
    /// (and writes one array for 'none'); forward+backward also writes two gradient arrays.
    /// Vector256, four accumulators, one pass.
    /// </summary>
    public T StreamingRead()
    {
        ref T x = ref MemoryMarshal.GetArrayDataReference(_x);
        ref T t = ref MemoryMarshal.GetArrayDataReference(_t);
        bool none = Reduction == KlReductionKind.None;
        int n = _x.Length, width = Vector256<T>.Count, i = 0;
        Vector256<T> a0 = Vector256<T>.Zero, a1 = a0, a2 = a0, a3 = a0;
        if (!IsBackward && !none)
        {
            for (; i <= n - 4 * width; i += 4 * width)
            {
                a0 += Vector256.LoadUnsafe(ref x, (nuint)i) + Vector256.LoadUnsafe(ref t, (nuint)i);
                a1 += Vector256.LoadUnsafe(ref x, (nuint)(i + width)) + Vector256.LoadUnsafe(ref t, (nuint)(i + width));
                a2 += Vector256.LoadUnsafe(ref x, (nuint)(i + 2 * width)) + Vector256.LoadUnsafe(ref t, (nuint)(i + 2 * width));
                a3 += Vector256.LoadUnsafe(ref x, (nuint)(i + 3 * width)) + Vector256.LoadUnsafe(ref t, (nuint)(i + 3 * width));
            }
        }
        else
        {
            ref T values = ref MemoryMarshal.GetArrayDataReference(_values);
            ref T gradInput = ref MemoryMarshal.GetArrayDataReference(_gradInput);
            ref T gradTarget = ref MemoryMarshal.GetArrayDataReference(_gradTarget);
            for (; i <= n - width; i += width)
            {
                Vector256<T> xv = Vector256.LoadUnsafe(ref x, (nuint)i), tv = Vector256.LoadUnsafe(ref t, (nuint)i);
                if (none) (xv + tv).StoreUnsafe(ref values, (nuint)i); else a0 += xv + tv;
                if (IsBackward)
                {
                    (xv - tv).StoreUnsafe(ref gradInput, (nuint)i);
                    (xv * tv).StoreUnsafe(ref gradTarget, (nuint)i);
                }
            }
        }
        T sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref x, i) + Unsafe.Add(ref t, i);
            if (none) _values[i] = v; else sum += v;
            if (IsBackward)
            {
                _gradInput[i] = Unsafe.Add(ref x, i) - Unsafe.Add(ref t, i);
                _gradTarget[i] = Unsafe.Add(ref x, i) * Unsafe.Add(ref t, i);
            }
        }
        return sum;
    }
}
