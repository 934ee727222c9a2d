using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text;
using NativeKl.BindGen;
using NativeKl.Managed;

namespace NativeKl.Tests;

/// <summary>
/// The managed math's constants (KlConstants.g.cs) are generated from native/src/vmath_constants.h:
/// the checked-in file is what the header generates, and its values, as the C# compiler reads them,
/// have the bits a C compiler gives the header's macros.
/// </summary>
public class ConstantsTests
{
    [Fact]
    public void Checked_in_constants_match_what_the_header_generates()
    {
        string generated = ConstantsGenerator.Generate(TestData.RepoRoot);
        string checkedIn = File.ReadAllText(Path.Combine(TestData.RepoRoot, ConstantsGenerator.OutputPath));
        Assert.True(generated == checkedIn,
            $"{ConstantsGenerator.OutputPath} is stale: run `dotnet run --project tools/NativeKl.BindGen`");
    }

    [Fact]
    public void Editing_one_digit_of_the_header_changes_the_generated_constants()
    {
        string header = File.ReadAllText(Path.Combine(TestData.RepoRoot, ConstantsGenerator.HeaderPath));
        const string original = "#define NKL_LOG_C5_F32 0x1.9634e8p-3f", edited = "#define NKL_LOG_C5_F32 0x1.9634eap-3f";
        Assert.Contains(original, header);
        string root = Directory.CreateTempSubdirectory("nkl-consts-").FullName;
        try
        {
            string path = Path.Combine(root, ConstantsGenerator.HeaderPath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, header.Replace(original, edited));
            var c5 = ConstantsGenerator.Evaluate(root).Single(c => c.Name == "LogC5F32");
            Assert.Equal(BitConverter.SingleToUInt32Bits(KlConstants.LogC5F32) + 1, (uint)c5.Values[0].Bits);
            Assert.NotEqual(File.ReadAllText(Path.Combine(TestData.RepoRoot, ConstantsGenerator.OutputPath)),
                ConstantsGenerator.Generate(root));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    /// <summary>
    /// gcc compiles a program that prints the bits of every macro (and of every element of a brace
    /// list); each must be the bits of the KlConstants field the generator named for it, as read
    /// from the compiled assembly. This checks libclang's evaluation and the C# literals at once.
    /// </summary>
    [Fact]
    public void Constants_have_the_bits_a_C_compiler_gives_the_header()
    {
        var constants = ConstantsGenerator.Evaluate(TestData.RepoRoot);
        var program = new StringBuilder();
        program.Append("#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n#include \"vmath_constants.h\"\n");
        program.Append("static void out(const char *name, int i, const void *p, size_t n) {\n");
        program.Append("    uint64_t b = 0; memcpy(&b, p, n); printf(\"%s %d %zu %016llx\\n\", name, i, n, (unsigned long long)b);\n}\n");
        program.Append("int main(void) {\n");
        foreach (var k in constants)
        {
            if (k.IsArray)
            {
                string cType = k.Kind switch
                {
                    ConstantsGenerator.ValueKind.Float => "float",
                    ConstantsGenerator.ValueKind.Double => "double",
                    ConstantsGenerator.ValueKind.UInt32 => "uint32_t",
                    ConstantsGenerator.ValueKind.UInt64 => "uint64_t",
                    ConstantsGenerator.ValueKind.Int32 => "int32_t",
                    _ => "int64_t",
                };
                program.Append($"    {{ static const {cType} a[] = {k.Macro}; for (int i = 0; i < (int)(sizeof a / sizeof a[0]); i++) out(\"{k.Name}\", i, &a[i], sizeof a[i]); }}\n");
            }
            else
                program.Append($"    {{ __typeof__(({k.Macro})) v = ({k.Macro}); out(\"{k.Name}\", -1, &v, sizeof v); }}\n");
        }
        program.Append("    return 0;\n}\n");

        string dir = Directory.CreateTempSubdirectory("nkl-consts-").FullName;
        try
        {
            string source = Path.Combine(dir, "constants.c"), exe = Path.Combine(dir, "constants");
            File.WriteAllText(source, program.ToString());
            var cc = ProcessRunner.Run("gcc", new[] { "-std=c11", "-Wall", "-Werror", "-I", Path.Combine(TestData.RepoRoot, "native", "src"), "-o", exe, source });
            Assert.True(cc.ExitCode == 0, $"gcc failed: {cc}");
            var run = ProcessRunner.Run(exe, Array.Empty<string>());
            Assert.True(run.ExitCode == 0, run.ToString());

            var fromC = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .Select(f => (Name: f[0], Index: int.Parse(f[1], CultureInfo.InvariantCulture),
                              Size: int.Parse(f[2], CultureInfo.InvariantCulture),
                              Bits: f[3]))
                .ToList();
            var fromCSharp = new List<(string Name, int Index, int Size, string Bits)>();
            foreach (var field in typeof(KlConstants).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                object value = field.GetValue(null)!;
                if (value is Array array)
                    for (int i = 0; i < array.Length; i++) fromCSharp.Add(Bits(field.Name, i, array.GetValue(i)!));
                else fromCSharp.Add(Bits(field.Name, -1, value));
            }
            Assert.NotEmpty(fromC);
            Assert.Equal(fromC.OrderBy(v => v.Name).ThenBy(v => v.Index), fromCSharp.OrderBy(v => v.Name).ThenBy(v => v.Index));
        }
        finally { Directory.Delete(dir, recursive: true); }

        // As the C program prints them: 16 hex digits of the value's bytes, zero-extended.
        static (string, int, int, string) Bits(string name, int index, object value) => value switch
        {
            float f => (name, index, 4, Hex(BitConverter.SingleToUInt32Bits(f))),
            double d => (name, index, 8, Hex(BitConverter.DoubleToUInt64Bits(d))),
            uint u => (name, index, 4, Hex(u)),
            ulong u => (name, index, 8, Hex(u)),
            int i => (name, index, 4, Hex((uint)i)),
            long l => (name, index, 8, Hex((ulong)l)),
            _ => throw new InvalidOperationException($"{name}: unexpected type {value.GetType()}"),
        };
        static string Hex(ulong bits) => bits.ToString("x16", CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("NKL_LN2_HI_F32", "Ln2HiF32")]
    [InlineData("NKL_LOG2E_F64", "Log2EF64")]
    [InlineData("NKL_EXP_8LOG2E_F64", "Exp8Log2EF64")]
    [InlineData("NKL_EXP_LN2_8_HI_F64", "ExpLn2Over8HiF64")]
    [InlineData("NKL_SQRTHALF_BITS_F64", "SqrtHalfBitsF64")]
    [InlineData("NKL_LOG_INVC_F32", "LogInvcF32")]
    [InlineData("NKL_EXP2_FAST_LO_F32", "Exp2FastLoF32")]
    [InlineData("NKL_QUIET_NAN_BITS_F64", "QuietNaNBitsF64")]
    public void Macro_names_map_to_the_managed_names(string macro, string name) =>
        Assert.Equal(name, ConstantsGenerator.CSharpName(macro));

    [Theory]
    [InlineData(1UL, -1, false, "0.5")]
    [InlineData(3UL, 1, true, "-6.0")]
    [InlineData(0UL, 0, true, "-0.0")]
    [InlineData(1UL, -10, false, "0.0009765625")]
    [InlineData(1UL, -16, false, "0.0000152587890625")]
    [InlineData(1UL, -17, false, "7.62939453125e-6")]
    [InlineData(1UL, -18, false, "3.814697265625e-6")]
    [InlineData(1UL, -149, false, "1.40129846432481707092372958328991613128026194187651577175706828388979108268586060148663818836212158203125e-45")]
    [InlineData(0xffffffUL, 104, false, "340282346638528859811704183484516925440.0")]
    public void Exact_decimal_is_exact(ulong mantissa, int exponent, bool negative, string expected) =>
        Assert.Equal(expected, CSharpLiteral.ExactDecimal(mantissa, exponent, negative));

    /// <summary>The literals parse back to the same bits, over every exponent of both types.</summary>
    [Fact]
    public void Literals_round_trip()
    {
        var rng = new Random(15);
        for (int n = 0; n < 20000; n++)
        {
            uint fb = (uint)rng.NextInt64(0, 1L << 32);
            float f = BitConverter.UInt32BitsToSingle(fb);
            if (float.IsFinite(f))
            {
                string s = CSharpLiteral.Float(f);
                Assert.EndsWith("f", s);
                Assert.Equal(fb, BitConverter.SingleToUInt32Bits(float.Parse(s[..^1], CultureInfo.InvariantCulture)));
                // exact: the decimal times a power of two is the integer mantissa
                Assert.Equal(ExactValue(s[..^1]), ExactValue(f));
            }
            ulong db = (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63);
            double d = BitConverter.UInt64BitsToDouble(db);
            if (double.IsFinite(d))
                Assert.Equal(db, BitConverter.DoubleToUInt64Bits(double.Parse(CSharpLiteral.Double(d), CultureInfo.InvariantCulture)));
        }
        Assert.Equal("float.NegativeInfinity", CSharpLiteral.Float(float.NegativeInfinity));
        Assert.Throws<NotSupportedException>(() => CSharpLiteral.Float(float.NaN));
        Assert.Equal("18014398509481984.0", CSharpLiteral.Double(18014398509481984.0));
    }

    // A decimal string and a float as the fraction numerator / 10^40 · 2^160 (both exact for floats
    // of magnitude >= 2^-149: 10^e · 2^160 with e <= 40 covers the digits, compared as rationals).
    private static (BigInteger Numerator, BigInteger Denominator) ExactValue(string s)
    {
        int e = 0;
        int at = s.IndexOf('e');
        if (at >= 0) { e = int.Parse(s[(at + 1)..], CultureInfo.InvariantCulture); s = s[..at]; }
        bool negative = s.StartsWith('-');
        s = s.TrimStart('-');
        int point = s.IndexOf('.');
        string digits = s.Remove(point, 1);
        int scale = s.Length - point - 1 - e; // value = digits / 10^scale
        var num = BigInteger.Parse(digits, CultureInfo.InvariantCulture) * (negative ? -1 : 1);
        var den = BigInteger.One;
        if (scale >= 0) den = BigInteger.Pow(10, scale); else num *= BigInteger.Pow(10, -scale);
        return Reduce(num, den);
    }

    private static (BigInteger, BigInteger) ExactValue(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        int field = (int)((bits >> 23) & 0xff);
        BigInteger m = bits & 0x7fffff;
        if (field != 0) m += 1 << 23;
        int exp = field == 0 ? -149 : field - 150;
        if ((bits >> 31) != 0) m = -m;
        return exp >= 0 ? Reduce(m << exp, 1) : Reduce(m, BigInteger.One << -exp);
    }

    private static (BigInteger, BigInteger) Reduce(BigInteger n, BigInteger d)
    {
        if (n.IsZero) return (0, 1);
        var g = BigInteger.GreatestCommonDivisor(n, d);
        return (n / g, d / g);
    }
}
