// KlConstants.cs - the constants of native/src/vmath_constants.h, one for one.
//
// C# has no hexadecimal float literals, so each value is written in decimal
// with the C hex literal beside it. Float constants are the exact decimal
// value of the float (any parser gets them right); double constants are the
// shortest decimal that round-trips, which Roslyn's correctly rounded parser
// maps to the same bits. No test compares them one by one: a wrong one shows
// as a bit-identity failure between the managed and native backends.

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

        // log f32 (native/tools/log_f32_table.c): z = t / 2^k in [OFF, 2 OFF), OFF = 0.71875; the
        // bucket is the top 3 mantissa bits of bits(t) - bits(OFF); its invc ~ 1/c and
        // logc = -log(invc) are entry i of the tables; P(r) = C2 + r (C3 + r (C4 + r C5)).
        public const uint LogOffBitsF32 = 0x3f380000u;
        public static readonly float[] LogInvcF32 =
        {
            1.33309459686279296875f,       // 0x1.5545bp+0f
            1.23063623905181884765625f,    // 0x1.3b0afap+0f
            1.14257347583770751953125f,    // 0x1.247fb2p+0f
            1.06638514995574951171875f,    // 0x1.10fe9ep+0f
            1f,                            // 0x1p+0f
            0.889062404632568359375f,      // 0x1.c7333p-1f
            0.8001205921173095703125f,     // 0x1.99a968p-1f
            0.72738969326019287109375f,    // 0x1.746c6cp-1f
        };
        public static readonly float[] LogLogcF32 =
        {
            -0.2875030040740966796875f,    // -0x1.26673p-2f
            -0.2075313031673431396484375f, // -0x1.a9062cp-3f
            -0.13328315317630767822265625f, // -0x1.10f6c2p-3f
            -0.06427456438541412353515625f, // -0x1.0744c4p-4f
            0f,                            // 0x0p+0f
            0.11758784949779510498046875f, // 0x1.e1a3ccp-4f
            0.22299282252788543701171875f, // 0x1.c8b076p-3f
            0.318292915821075439453125f,   // 0x1.45ee94p-2f
        };
        public const float LogC2F32 = -0.49999916553497314453125f;                 // -0x1.ffffc8p-2f
        public const float LogC3F32 = 0.333338201045989990234375f;                 // 0x1.55569cp-2f
        public const float LogC4F32 = -0.250790894031524658203125f;                // -0x1.00cf54p-2f
        public const float LogC5F32 = 0.198343098163604736328125f;                 // 0x1.9634e8p-3f

        // Bit pattern of sqrt(1/2) rounded: the float64 log takes the mantissa in [sqrt(1/2), sqrt(2)).
        public const ulong SqrtHalfBitsF64 = 0x3fe6a09e667f3bcdUL;

        // log f64: R(z) = z * (L1 + z * (L2 + ...)): minimax fits (spec v2).

        public const double LogL1F64 = 0.666666666666591;                          // 0x1.55555555552acp-1
        public const double LogL2F64 = 0.40000000004781333;                        // 0x1.9999999a6be2ap-2
        public const double LogL3F64 = 0.2857142757443696;                         // 0x1.249248794a218p-2
        public const double LogL4F64 = 0.22222315683901722;                        // 0x1.c71cef384cb6ap-3
        public const double LogL5F64 = 0.1817761847783474;                         // 0x1.744712868469ep-3
        public const double LogL6F64 = 0.15462716133661705;                        // 0x1.3cad2a481cd91p-3
        public const double LogL7F64 = 0.1334129549273331;                         // 0x1.113acfb234771p-3

        // exp f32: p(r) = 1 + r (1 + r (E2 + r (E3 + ...))): minimax fits (spec v2).
        public const float ExpE2F32 = 0.499999940395355224609375f;                 // 0x1.fffffcp-2f
        public const float ExpE3F32 = 0.16666519641876220703125f;                  // 0x1.555490p-3f
        public const float ExpE4F32 = 0.041668407618999481201171875f;              // 0x1.5558fcp-5f
        public const float ExpE5F32 = 0.008368914015591144561767578125f;           // 0x1.123b8ap-7f
        public const float ExpE6F32 = 0.00138141843490302562713623046875f;         // 0x1.6a216cp-10f

        // exp f64 (native/tools/exp_f64_fit.c): x = (8k + j) ln2/8 + r, |r| <= ln2/16,
        // e^x = 2^k S[j] (1 + q(r)), S[j] = 2^(j/8) rounded (as bits),
        // q(r) = r + r^2 (C2 + r (C3 + r (C4 + r (C5 + r (C6 + r C7))))).
        public static readonly ulong[] ExpSBitsF64 =
        {
            0x3ff0000000000000UL,
            0x3ff172b83c7d517bUL,
            0x3ff306fe0a31b715UL,
            0x3ff4bfdad5362a27UL,
            0x3ff6a09e667f3bcdUL,
            0x3ff8ace5422aa0dbUL,
            0x3ffae89f995ad3adUL,
            0x3ffd5818dcfba487UL,
        };
        public const double Exp8Log2EF64 = 11.541560327111707;                      // 0x1.71547652b82fep+3
        public const double ExpLn2Over8HiF64 = 0.08664339756999316;                 // 0x1.62e42fefa39efp-4
        public const double ExpLn2Over8LoF64 = 2.8988085173078744e-18;              // 0x1.abc9e3b39803fp-59
        public const double ExpC2F64 = 0.50000000000003;                            // 0x1.000000000010ep-1
        public const double ExpC3F64 = 0.16666666666664853;                         // 0x1.55555555552c8p-3
        public const double ExpC4F64 = 0.04166666656954033;                         // 0x1.55555547fc011p-5
        public const double ExpC5F64 = 0.008333333354283894;                        // 0x1.1111111c95989p-7
        public const double ExpC6F64 = 0.0013889782744050015;                       // 0x1.6c1cc10dbf051p-10
        public const double ExpC7F64 = 0.00019841153720936324;                      // 0x1.a0196207e430fp-13

        // exp2 f32 (the float32 distillation, in base 2): x = k + r, r = x - round(x) exact,
        // 2^r ~ 1 + r (C1 + r (C2 + r (C3 + r (C4 + r C5)))), fitted to the error in ulps.
        public const float Exp2C1F32 = 0.69314682483673095703125f;                 // 0x1.62e424p-1f
        public const float Exp2C2F32 = 0.2402223646640777587890625f;               // 0x1.ebf9b4p-3f
        public const float Exp2C3F32 = 0.0555089153349399566650390625f;            // 0x1.c6baa2p-5f
        public const float Exp2C4F32 = 0.009671763516962528228759765625f;          // 0x1.3ceca2p-7f
        public const float Exp2C5F32 = 0.001322570838965475559234619140625f;       // 0x1.5ab43ap-10f
        // 2^-151 rounds to +0, 2^129 overflows; for x in [FastLo, FastHi], p 2^k is normal.
        public const float Exp2LoF32 = -151.0f;
        public const float Exp2HiF32 = 129.0f;
        public const float Exp2FastLoF32 = -125.0f;
        public const float Exp2FastHiF32 = 127.0f;

        // exp input clamps: below Lo the result is 0, above Hi +inf; they keep
        // 2^k representable as two normal factors.
        public const float ExpLoF32 = -104.0f;
        public const float ExpHiF32 = 89.0f;
        public const double ExpLoF64 = -746.0;
        public const double ExpHiF64 = 710.0;

        // exp fast path of the vector code (no change in bits): for x in
        // [FastLo, FastHi], p 2^k is normal and one multiply by 2^k is exact.
        public const float ExpFastLoF32 = -86.0f;
        public const float ExpFastHiF32 = 88.0f;
        public const double ExpFastLoF64 = -700.0;
        public const double ExpFastHiF64 = 700.0;

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
