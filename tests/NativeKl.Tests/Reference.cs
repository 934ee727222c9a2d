namespace NativeKl.Tests;

/// <summary>
/// The independent oracle: torch.nn.functional.kl_div's pointwise term written plainly in double
/// precision with Math.Log/Math.Exp (not the library's vector math), and the error bound a
/// correct implementation must meet. Special values follow from IEEE arithmetic, as in nativekl.h.
/// </summary>
internal static class Reference
{
    public static double Xlogy(double t) => t == 0 ? 0.0 : t * Math.Log(t);   // NaN stays NaN (NaN == 0 is false)

    public static double Term(double x, double t, bool logTarget, bool masked)
    {
        if (!logTarget)
        {
            if (masked && t == 0) return 0.0;
            return Xlogy(t) - t * x;
        }
        if (masked && double.IsNegativeInfinity(t)) return 0.0;
        return Math.Exp(t) * (t - x);
    }

    /// <summary>The magnitude the term's rounding error scales with (the two parts can cancel).</summary>
    public static double Scale(double x, double t, bool logTarget, bool masked)
    {
        if (!logTarget) return masked && t == 0 ? 0 : Math.Abs(Xlogy(t)) + Math.Abs(t * x);
        return masked && double.IsNegativeInfinity(t) ? 0 : Math.Exp(t) * (Math.Abs(t) + Math.Abs(x));
    }

    /// <summary>Sum of the terms and of their error scales, in index order, in double.</summary>
    public static (double Sum, double Scale) Sum(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked)
    {
        double sum = 0, scale = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += Term(x[i], t[i], logTarget, masked);
            scale += Scale(x[i], t[i], logTarget, masked);
        }
        return (sum, scale);
    }

    /// <summary>
    /// d(L·s)/dx, PyTorch's autograd of the formula: −t·s, or −exp(t)·s with a log target;
    /// +0 where masked semantics zero the term.
    /// </summary>
    public static double GradInput(double x, double t, bool logTarget, bool masked, double s)
    {
        if (!logTarget) return masked && t == 0 ? 0.0 : -t * s;
        return masked && double.IsNegativeInfinity(t) ? 0.0 : -Math.Exp(t) * s;
    }

    /// <summary>
    /// d(L·s)/dt: (log t + t/t − x)·s (xlogy's gradient: NaN at t = 0 and t = +inf), or
    /// exp(t)·((t − x) + 1)·s with a log target; +0 where masked semantics zero the term.
    /// </summary>
    public static double GradTarget(double x, double t, bool logTarget, bool masked, double s)
    {
        if (!logTarget) return masked && t == 0 ? 0.0 : (Math.Log(t) + t / t - x) * s;
        return masked && double.IsNegativeInfinity(t) ? 0.0 : Math.Exp(t) * ((t - x) + 1) * s;
    }

    /// <summary>The magnitude the rounding error of <see cref="GradTarget"/> scales with (its parts can cancel).</summary>
    public static double GradTargetScale(double x, double t, bool logTarget, bool masked, double s)
    {
        if (!logTarget) return masked && t == 0 ? 0 : (Math.Abs(Math.Log(t)) + 1 + Math.Abs(x)) * Math.Abs(s);
        return masked && double.IsNegativeInfinity(t) ? 0 : Math.Exp(t) * (Math.Abs(t) + Math.Abs(x) + 1) * Math.Abs(s);
    }

    /// <summary>The magnitude of <see cref="GradInput"/>.</summary>
    public static double GradInputScale(double x, double t, bool logTarget, bool masked, double s) =>
        Math.Abs(GradInput(x, t, logTarget, masked, s));

    public const double Float32Epsilon = 1.0 / (1 << 23);
    public const double Float64Epsilon = 1.0 / (1L << 52);

    /// <summary>The library's one NaN (nativekl.h NKL_NAN_BITS_F32 / _F64): the positive quiet NaN.</summary>
    public const uint NaNBitsF32 = 0x7fc00000u;
    public const ulong NaNBitsF64 = 0x7ff8000000000000ul;

    /// <summary>Whether v is the library's NaN bit for bit (not float.NaN, whose sign bit is set).</summary>
    public static bool IsLibraryNaN(float v) => BitConverter.SingleToUInt32Bits(v) == NaNBitsF32;

    /// <summary>Whether v is the library's NaN bit for bit; also for a float result widened to double
    /// (widening keeps a NaN's sign and payload).</summary>
    public static bool IsLibraryNaN(double v) => BitConverter.DoubleToUInt64Bits(v) == NaNBitsF64;

    /// <summary>
    /// Whether <paramref name="actual"/> is <paramref name="expected"/> within k·eps·scale (plus the
    /// rounding of the result to its type); where the reference is NaN (any NaN), the result must be
    /// the library's NaN bit for bit; infinities must match in sign.
    /// </summary>
    public static bool Close(double actual, double expected, double scale, double eps, double k = 8)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual)) return double.IsNaN(expected) && IsLibraryNaN(actual);
        if (double.IsInfinity(expected) || double.IsInfinity(actual)) return actual == expected;
        return Math.Abs(actual - expected) <= k * eps * scale + eps * Math.Abs(expected) + double.Epsilon;
    }
}
