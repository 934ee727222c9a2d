// CanonicalSum.cs - the summation steps of native/src/internal.h that make
// every path return the same bits: TwoSum, the lane fold, the chunk combine
// and the final total.
//
// Canonical order: a reduction cuts the data into chunks of ChunkElements
// from index 0, and each chunk into blocks of Block = 16 elements. Inside a
// block, terms are pre-added in a fixed pattern, then added into double lanes:
//   float data:  lane j (0..7) += (double)(L[j] + L[j + 8])          (float add)
//   double data: lane j (0..3) += (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12]),
//                compensated per lane with TwoSum.
// A last block shorter than 16 uses +0 for the missing terms. The lanes fold
// into one KlPartial in lane order, and partials combine in chunk order, both
// with TwoSum.

using System;
using System.Runtime.CompilerServices;

namespace NativeKl.Managed
{
    internal static class CanonicalSum
    {
        /// <summary>Elements per block (NKL_BLOCK).</summary>
        public const int Block = 16;
        /// <summary>Double lanes for float data (NKL_LANES_F32).</summary>
        public const int LanesF32 = 8;
        /// <summary>Compensated double lanes for double data (NKL_LANES_F64).</summary>
        public const int LanesF64 = 4;

        /// <summary>
        /// s + v into (s, c): s takes the rounded sum, c gathers its exact
        /// rounding error (Knuth's TwoSum, branch-free like the vector lanes).
        /// Once s is infinite or NaN, c is meaningless: see Total.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void TwoSum(ref double s, ref double c, double v)
        {
            double sum = s + v;
            double vv = sum - s;
            double err = (s - (sum - vv)) + (v - vv);
            s = sum;
            c += err;
        }

        /// <summary>Folds `lanes` lane sums (and compensations, when comp is not empty) in lane order (float64 data).</summary>
        public static KlPartial FoldLanes(ReadOnlySpan<double> sum, ReadOnlySpan<double> comp, int lanes)
        {
            bool hasComp = !comp.IsEmpty;
            var p = new KlPartial();
            for (int j = 0; j < lanes; j++)
            {
                TwoSum(ref p.Sum, ref p.Compensation, sum[j]);
                if (hasComp) p.Compensation += comp[j];
            }
            return p;
        }

        /// <summary>
        /// The float32 lanes (double sums of float terms) fold by a fixed tree,
        /// ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), as nkl_fold_f32_lanes does.
        /// </summary>
        public static KlPartial FoldF32Lanes(ReadOnlySpan<double> a)
        {
            double v0 = a[0] + a[4], v1 = a[1] + a[5], v2 = a[2] + a[6], v3 = a[3] + a[7];
            return new KlPartial { Sum = (v0 + v2) + (v1 + v3), Compensation = 0.0 };
        }

        /// <summary>Adds partial p into the running acc, in chunk order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Combine(ref KlPartial acc, KlPartial p)
        {
            TwoSum(ref acc.Sum, ref acc.Compensation, p.Sum);
            acc.Compensation += p.Compensation;
        }

        /// <summary>p with a NaN sum or compensation as the library's NaN (nkl_canon_nan_partial): what
        /// the native chunk API returns, so partials compare bit for bit.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static KlPartial CanonicalNaN(KlPartial p) => new KlPartial
        {
            Sum = ManagedMath.CanonicalNaN(p.Sum),
            Compensation = ManagedMath.CanonicalNaN(p.Compensation),
        };

        /// <summary>The value a combined partial stands for; an infinite or NaN sum as is.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Total(KlPartial acc) =>
            IsFinite(acc.Sum) ? acc.Sum + acc.Compensation : acc.Sum;

        // double.IsFinite is missing from netstandard2.0; x - x is 0 only for finite x.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool IsFinite(double x) => x - x == 0.0;
    }
}
