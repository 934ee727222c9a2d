using System.Globalization;
using System.Numerics;

namespace NativeKl.BindGen;

/// <summary>
/// C# spellings of float and double values that any correct parser maps back to the same bits
/// (C# has no hexadecimal float literals). A float is written as its exact decimal value (at most
/// 112 significant digits), so no rounding is involved at all; a double as the exact integer when
/// it is one, otherwise as the shortest decimal that round-trips, which Roslyn's correctly
/// rounded parser maps back (the full expansion of a small double runs to 700 digits).
/// </summary>
public static class CSharpLiteral
{
    /// <summary><paramref name="value"/> as a float literal (with the f suffix).</summary>
    public static string Float(float value)
    {
        if (float.IsNaN(value))
            throw new NotSupportedException("a NaN has no C# constant that fixes its bits: give the header its bit pattern as an unsigned integer (a _BITS_ macro)");
        if (float.IsInfinity(value)) return value > 0 ? "float.PositiveInfinity" : "float.NegativeInfinity";
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        int field = (int)((bits >> 23) & 0xff);
        ulong mantissa = bits & 0x7fffffu;
        int exponent = field == 0 ? -149 : field - 150;
        if (field != 0) mantissa |= 1u << 23;
        string text = ExactDecimal(mantissa, exponent, (bits >> 31) != 0) + "f";
        if (BitConverter.SingleToInt32Bits(float.Parse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture)) != (int)bits)
            throw new InvalidOperationException($"{text} does not parse back to 0x{bits:x8}");
        return text;
    }

    /// <summary><paramref name="value"/> as a double literal.</summary>
    public static string Double(double value)
    {
        if (double.IsNaN(value))
            throw new NotSupportedException("a NaN has no C# constant that fixes its bits: give the header its bit pattern as an unsigned integer (a _BITS_ macro)");
        if (double.IsInfinity(value)) return value > 0 ? "double.PositiveInfinity" : "double.NegativeInfinity";
        long bits = BitConverter.DoubleToInt64Bits(value);
        string text;
        if (value == Math.Floor(value) && Math.Abs(value) < 9223372036854775808.0) // 2^63
        {
            text = (bits < 0 ? "-" : "") + ((long)Math.Abs(value)).ToString(CultureInfo.InvariantCulture) + ".0";
        }
        else
        {
            text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
            if (!text.Contains('.') && !text.Contains('e')) text += ".0";
        }
        if (BitConverter.DoubleToInt64Bits(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)) != bits)
            throw new InvalidOperationException($"{text} does not parse back to 0x{bits:x16}");
        return text;
    }

    /// <summary>
    /// The exact decimal value of ±mantissa · 2^exponent: plain for values of 1e-5 and above
    /// (0.00138141843490302562713623046875), scientific below (1.9046542121259335544891655445098876953125e-9).
    /// </summary>
    public static string ExactDecimal(ulong mantissa, int exponent, bool negative)
    {
        string sign = negative ? "-" : "";
        if (mantissa == 0) return sign + "0.0";
        while ((mantissa & 1) == 0 && exponent < 0) { mantissa >>= 1; exponent++; }
        if (exponent >= 0) return sign + (new BigInteger(mantissa) << exponent).ToString(CultureInfo.InvariantCulture) + ".0";
        // m / 2^k = m 5^k / 10^k: the digits of m 5^k with the point k places from the right;
        // m is odd, so the last digit is 5 and no trailing zeros need trimming.
        int k = -exponent;
        string digits = (new BigInteger(mantissa) * BigInteger.Pow(5, k)).ToString(CultureInfo.InvariantCulture);
        int power = digits.Length - k - 1; // value = d.ddd · 10^power
        if (power >= -5)
        {
            string padded = digits.PadLeft(k + 1, '0');
            return sign + padded[..^k] + "." + padded[^k..];
        }
        string rest = digits.Length > 1 ? digits[1..] : "0";
        return sign + digits[0] + "." + rest + "e" + power.ToString(CultureInfo.InvariantCulture);
    }
}
