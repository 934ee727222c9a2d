// FloatOps.cs - the scalar arithmetic of one element type, so that a scalar
// kernel is written once, generic over T, and the JIT specialises it for
// float and double (empty structs: every call inlines to the operator itself).
// Each operation rounds exactly as the C operator it stands for.

using System;
using System.Runtime.CompilerServices;

namespace NativeKl.Managed
{
    /// <summary>Arithmetic, the library's log and exp, and the canonical block sum for one element type.</summary>
    internal interface IFloatOps<T> where T : unmanaged
    {
        T Zero { get; }
        T One { get; }
        T Add(T a, T b);
        T Subtract(T a, T b);
        T Multiply(T a, T b);
        T Divide(T a, T b);
        T Negate(T a);
        /// <summary>a b + c, one rounding (<see cref="ManagedMath.Fma(float, float, float)"/>).</summary>
        T Fma(T a, T b, T c);
        bool IsZero(T a);
        bool IsNegativeInfinity(T a);
        T Log(T a);
        T Exp(T a);
        T CanonicalNaN(T a);
        /// <summary>The exponential of distillation's passes: 2^a for float32 (its base 2), e^a for float64.</summary>
        T PassExp(T a);

        /// <summary>Adds one block of <see cref="CanonicalSum.Block"/> terms into the lanes, in the type's canonical pattern.</summary>
        void AddBlock(Span<double> sum, Span<double> compensation, ReadOnlySpan<T> terms);
        /// <summary>The lanes folded into one partial, in the type's canonical order.</summary>
        KlPartial Fold(ReadOnlySpan<double> sum, ReadOnlySpan<double> compensation);
    }

    internal readonly struct F32Ops : IFloatOps<float>
    {
        public float Zero => 0.0f;
        public float One => 1.0f;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Add(float a, float b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Subtract(float a, float b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Multiply(float a, float b) => a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Divide(float a, float b) => a / b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Negate(float a) => -a;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Fma(float a, float b, float c) => ManagedMath.Fma(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public bool IsZero(float a) => a == 0.0f;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public bool IsNegativeInfinity(float a) => a == float.NegativeInfinity;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Log(float a) => ManagedMath.Log(a);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Exp(float a) => ManagedMath.Exp(a);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float CanonicalNaN(float a) => ManagedMath.CanonicalNaN(a);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float PassExp(float a) => ManagedMath.Exp2(a);

        /// <summary>float data: lane j (0..7) += (double)(L[j] + L[j + 8]), the pair added in float.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AddBlock(Span<double> sum, Span<double> compensation, ReadOnlySpan<float> l)
        {
            for (int j = 0; j < CanonicalSum.LanesF32; j++)
                sum[j] += (double)(l[j] + l[j + 8]);
        }

        public KlPartial Fold(ReadOnlySpan<double> sum, ReadOnlySpan<double> compensation) => CanonicalSum.FoldF32Lanes(sum);
    }

    internal readonly struct F64Ops : IFloatOps<double>
    {
        public double Zero => 0.0;
        public double One => 1.0;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Add(double a, double b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Subtract(double a, double b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Multiply(double a, double b) => a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Divide(double a, double b) => a / b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Negate(double a) => -a;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Fma(double a, double b, double c) => ManagedMath.Fma(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public bool IsZero(double a) => a == 0.0;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public bool IsNegativeInfinity(double a) => a == double.NegativeInfinity;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Log(double a) => ManagedMath.Log(a);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Exp(double a) => ManagedMath.Exp(a);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double CanonicalNaN(double a) => ManagedMath.CanonicalNaN(a);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double PassExp(double a) => ManagedMath.Exp(a);

        /// <summary>double data: lane j (0..3) += (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12]), compensated (TwoSum).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AddBlock(Span<double> sum, Span<double> compensation, ReadOnlySpan<double> l)
        {
            for (int j = 0; j < CanonicalSum.LanesF64; j++)
                CanonicalSum.TwoSum(ref sum[j], ref compensation[j], (l[j] + l[j + 4]) + (l[j + 8] + l[j + 12]));
        }

        public KlPartial Fold(ReadOnlySpan<double> sum, ReadOnlySpan<double> compensation) =>
            CanonicalSum.FoldLanes(sum, compensation, CanonicalSum.LanesF64);
    }
}
