using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NativeKl.Core
{
    /// <summary>
    /// The two element types behind the generic core. netstandard2.0 has no generic math, so the
    /// core tests <c>typeof(T) == typeof(float)</c>, which the JIT folds for each instantiation:
    /// nothing here costs a branch, a box or a copy at run time.
    /// </summary>
    internal static class Num
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static bool IsFloat<T>() where T : unmanaged => typeof(T) == typeof(float);

        /// <summary>A double result in the data's type: rounded once to float for float data, as is for double.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static T FromDouble<T>(double value) where T : unmanaged
        {
            if (typeof(T) == typeof(float))
            {
                float f = (float)value;
                return Unsafe.As<float, T>(ref f);
            }
            return Unsafe.As<double, T>(ref value);
        }

        /// <summary>The value in double (exact for float).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static double ToDouble<T>(T value) where T : unmanaged =>
            typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref value) : Unsafe.As<T, double>(ref value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static float ValueAsFloat<T>(T value) where T : unmanaged => Unsafe.As<T, float>(ref value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static double ValueAsDouble<T>(T value) where T : unmanaged => Unsafe.As<T, double>(ref value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static ReadOnlySpan<float> AsFloat<T>(ReadOnlySpan<T> span) where T : unmanaged => MemoryMarshal.Cast<T, float>(span);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Span<float> AsFloat<T>(Span<T> span) where T : unmanaged => MemoryMarshal.Cast<T, float>(span);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static ReadOnlySpan<double> AsDouble<T>(ReadOnlySpan<T> span) where T : unmanaged => MemoryMarshal.Cast<T, double>(span);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Span<double> AsDouble<T>(Span<T> span) where T : unmanaged => MemoryMarshal.Cast<T, double>(span);
    }
}
