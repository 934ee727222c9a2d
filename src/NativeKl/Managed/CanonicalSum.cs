// CanonicalSum.cs - the summation steps of native/src/internal.h that make
// every path return the same bits: TwoSum, the lane fold, the chunk combine
// and the final total.
//
// Canonical order: a reduction cuts the data into chunks of ChunkElements
// from index 0. Inside a chunk, element i adds into lane i % Lanes (double
// lanes; double data also keeps a per-lane compensation); a tail shorter than
// Lanes adds +0 into the missing lanes. The lanes fold into one KlPartial in
// lane order, and partials combine in chunk order, both with TwoSum.

using System;
using System.Runtime.CompilerServices;

namespace NativeKl.Managed
{
    internal static class CanonicalSum
    {
        /// <summary>Accumulator lanes per chunk: element i goes to lane i % Lanes.</summary>
        public const int Lanes = 16;

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

        /// <summary>Folds Lanes lane sums (and compensations, when comp is not empty) in lane order.</summary>
        public static KlPartial FoldLanes(ReadOnlySpan<double> sum, ReadOnlySpan<double> comp)
        {
            bool hasComp = !comp.IsEmpty;
            var p = new KlPartial();
            for (int j = 0; j < Lanes; j++)
            {
                TwoSum(ref p.Sum, ref p.Compensation, sum[j]);
                if (hasComp) p.Compensation += comp[j];
            }
            return p;
        }

        /// <summary>Adds partial p into the running acc, in chunk order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Combine(ref KlPartial acc, KlPartial p)
        {
            TwoSum(ref acc.Sum, ref acc.Compensation, p.Sum);
            acc.Compensation += p.Compensation;
        }

        /// <summary>The value a combined partial stands for; an infinite or NaN sum as is.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Total(KlPartial acc) =>
            IsFinite(acc.Sum) ? acc.Sum + acc.Compensation : acc.Sum;

        // double.IsFinite is missing from netstandard2.0; x - x is 0 only for finite x.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool IsFinite(double x) => x - x == 0.0;
    }
}
