// KlConstants.cs - the constants of native/src/vmath_constants.h, one for one.
//
// C# has no hexadecimal float literals, so each value is written in decimal
// with the C hex literal beside it. Float constants are the exact decimal
// value of the float (any parser gets them right); double constants are the
// shortest decimal that round-trips, which Roslyn's correctly rounded parser
// maps to the same bits. The scratch harness checks every one against its
// hex pattern.

namespace NativeKl.Managed
{
    internal static class KlConstants
    {
        // ln 2 = Ln2Hi + Ln2Lo, split so that k * Ln2Hi is exact.
        public const float Ln2HiF32 = 0.693147182464599609375f;                    // 0x1.62e430p-1f
        public const float Ln2LoF32 = -1.9046542121259335544891655445098876953125e-9f; // -0x1.05c610p-29f
        public const float Log2EF32 = 1.44269502162933349609375f;                  // 0x1.715476p+0f
        public const double Ln2HiF64 = 0.6931471805599453;                         // 0x1.62e42fefa39efp-1
        public const double Ln2LoF64 = 2.3190468138462996e-17;                     // 0x1.abc9e3b39803fp-56
        public const double Log2EF64 = 1.4426950408889634;                         // 0x1.71547652b82fep+0

        // Bit patterns of sqrt(1/2) rounded: log takes the mantissa in [sqrt(1/2), sqrt(2)).
        public const uint SqrtHalfBitsF32 = 0x3f3504f3u;
        public const ulong SqrtHalfBitsF64 = 0x3fe6a09e667f3bcdUL;

        // log: R(z) = z * (L1 + z * (L2 + ...)), Lj = 2 / (2j + 1).
        public const float LogL1F32 = 0.666666686534881591796875f;                 // 0x1.555556p-1f
        public const float LogL2F32 = 0.4000000059604644775390625f;                // 0x1.99999ap-2f
        public const float LogL3F32 = 0.2857142984867095947265625f;                // 0x1.24924ap-2f
        public const float LogL4F32 = 0.22222222387790679931640625f;               // 0x1.c71c72p-3f

        public const double LogL1F64 = 0.6666666666666666;                         // 0x1.5555555555555p-1
        public const double LogL2F64 = 0.4;                                        // 0x1.999999999999ap-2
        public const double LogL3F64 = 0.2857142857142857;                         // 0x1.2492492492492p-2
        public const double LogL4F64 = 0.2222222222222222;                         // 0x1.c71c71c71c71cp-3
        public const double LogL5F64 = 0.18181818181818182;                        // 0x1.745d1745d1746p-3
        public const double LogL6F64 = 0.15384615384615385;                        // 0x1.3b13b13b13b14p-3
        public const double LogL7F64 = 0.13333333333333333;                        // 0x1.1111111111111p-3
        public const double LogL8F64 = 0.11764705882352941;                        // 0x1.e1e1e1e1e1e1ep-4
        public const double LogL9F64 = 0.10526315789473684;                        // 0x1.af286bca1af28p-4

        // exp: p(r) = 1 + r + E2 r^2 + ...; En = 1 / n!.
        public const float ExpE2F32 = 0.5f;                                        // 0x1.000000p-1f
        public const float ExpE3F32 = 0.16666667163372039794921875f;               // 0x1.555556p-3f
        public const float ExpE4F32 = 0.0416666679084300994873046875f;             // 0x1.555556p-5f
        public const float ExpE5F32 = 0.008333333767950534820556640625f;           // 0x1.111112p-7f
        public const float ExpE6F32 = 0.001388888922519981861114501953125f;        // 0x1.6c16c2p-10f
        public const float ExpE7F32 = 0.000198412701138295233249664306640625f;     // 0x1.a01a02p-13f

        public const double ExpE2F64 = 0.5;                                        // 0x1.0000000000000p-1
        public const double ExpE3F64 = 0.16666666666666666;                        // 0x1.5555555555555p-3
        public const double ExpE4F64 = 0.041666666666666664;                       // 0x1.5555555555555p-5
        public const double ExpE5F64 = 0.008333333333333333;                       // 0x1.1111111111111p-7
        public const double ExpE6F64 = 0.001388888888888889;                       // 0x1.6c16c16c16c17p-10
        public const double ExpE7F64 = 0.0001984126984126984;                      // 0x1.a01a01a01a01ap-13
        public const double ExpE8F64 = 2.48015873015873e-05;                       // 0x1.a01a01a01a01ap-16
        public const double ExpE9F64 = 2.7557319223985893e-06;                     // 0x1.71de3a556c734p-19
        public const double ExpE10F64 = 2.755731922398589e-07;                     // 0x1.27e4fb7789f5cp-22
        public const double ExpE11F64 = 2.505210838544172e-08;                     // 0x1.ae64567f544e4p-26
        public const double ExpE12F64 = 2.08767569878681e-09;                      // 0x1.1eed8eff8d898p-29
        public const double ExpE13F64 = 1.6059043836821613e-10;                    // 0x1.6124613a86d09p-33

        // exp input clamps: below Lo the result is 0, above Hi +inf; they keep
        // 2^k representable as two normal factors.
        public const float ExpLoF32 = -104.0f;
        public const float ExpHiF32 = 89.0f;
        public const double ExpLoF64 = -746.0;
        public const double ExpHiF64 = 710.0;

        // x + Round - Round rounds x to an integer (ties to even) for |x| < 2^22 / 2^51.
        public const float RoundF32 = 12582912.0f;                                 // 0x1.8p23f
        public const uint RoundBitsF32 = 0x4b400000u;
        public const double RoundF64 = 6755399441055744.0;                         // 0x1.8p52
        public const ulong RoundBitsF64 = 0x4338000000000000UL;

        // Smallest normal numbers, and the factors that lift a subnormal into
        // the normal range (log subtracts the exponent back).
        public const float MinNormalF32 = 1.1754943508222875079687365372222456778186655567720875215087517062784172594547271728515625e-38f; // 0x1p-126f
        public const float SubnormalScaleF32 = 33554432.0f;                        // 0x1p25f
        public const float SubnormalExponentF32 = -25.0f;
        public const double MinNormalF64 = 2.2250738585072014e-308;                // 0x1p-1022
        public const double SubnormalScaleF64 = 18014398509481984.0;               // 0x1p54
        public const double SubnormalExponentF64 = -54.0;

        // Bit patterns of C's NAN (a positive quiet NaN; float.NaN is negative).
        public const uint QuietNaNBitsF32 = 0x7fc00000u;
        public const ulong QuietNaNBitsF64 = 0x7ff8000000000000UL;
    }
}
