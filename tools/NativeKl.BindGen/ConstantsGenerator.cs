using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using static NativeKl.BindGen.LibClang;

namespace NativeKl.BindGen;

/// <summary>
/// Turns the vector math's constants header (native/src/vmath_constants.h) into the managed
/// math's constants (src/NativeKl/Managed/KlConstants.g.cs), so that the two share one copy.
/// Every object-like macro with a body is emitted, in the header's order and under the comment
/// that precedes it there: a scalar becomes a <c>const</c>, a brace list a <c>static readonly</c>
/// array. Values come from clang itself (each macro, or each element of a list, is the
/// initializer of a <c>static const __typeof__((M)) v = (M);</c> in a probe translation unit that
/// clang evaluates), never from parsing the literals here.
/// <para>
/// Names: drop <c>NKL_</c>, capitalise each <c>_</c>-separated word (NKL_LN2_HI_F32 → Ln2HiF32,
/// NKL_EXP2_C1_F32 → Exp2C1F32), except the words in <see cref="Words"/> (LOG2E → Log2E,
/// SQRTHALF → SqrtHalf, NAN → NaN) and the macros in <see cref="Renamed"/>. The macros in
/// <see cref="AlsoAsBits"/> are emitted a second time as their bit pattern (NKL_ROUND_F32 →
/// RoundF32 and RoundBitsF32), for the integer tricks that read them back.
/// </para>
/// </summary>
public static unsafe class ConstantsGenerator
{
    public const string HeaderPath = "native/src/vmath_constants.h";
    public const string OutputPath = "src/NativeKl/Managed/KlConstants.g.cs";

    /// <summary>Macros the word rule would name badly (LN2_8 is ln2/8, not "Ln28").</summary>
    public static readonly IReadOnlyDictionary<string, string> Renamed = new Dictionary<string, string>
    {
        ["NKL_EXP_LN2_8_HI_F64"] = "ExpLn2Over8HiF64",
        ["NKL_EXP_LN2_8_LO_F64"] = "ExpLn2Over8LoF64",
    };

    /// <summary>Words that are not capitalised as one word.</summary>
    public static readonly IReadOnlyDictionary<string, string> Words = new Dictionary<string, string>
    {
        ["LOG2E"] = "Log2E",
        ["8LOG2E"] = "8Log2E",
        ["SQRTHALF"] = "SqrtHalf",
        ["NAN"] = "NaN",
    };

    /// <summary>Float macros also emitted as their bits, named with BITS before the type (RoundBitsF32).</summary>
    public static readonly IReadOnlyList<string> AlsoAsBits = new[] { "NKL_ROUND_F32", "NKL_ROUND_F64" };

    public enum ValueKind { Float, Double, UInt32, UInt64, Int32, Int64 }

    /// <summary>A value as C has it: the IEEE bits of a float or double, or the integer (two's complement).</summary>
    public readonly record struct CValue(ValueKind Kind, ulong Bits, string CText);

    /// <summary>
    /// One emitted constant: its C# <paramref name="Name"/>, the <paramref name="Macro"/> it comes
    /// from, and its values (one for a scalar). <paramref name="BitsOf"/>: the bit pattern of that
    /// float macro's value (an <see cref="AlsoAsBits"/> entry).
    /// </summary>
    public sealed record Constant(string Macro, string Name, ValueKind Kind, bool IsArray,
        IReadOnlyList<CValue> Values, bool BitsOf, IReadOnlyList<string> Comment);

    public static string Generate(string repoRoot) => Render(Evaluate(repoRoot));

    /// <summary>The C# name of a macro (see the class remarks for the rule).</summary>
    public static string CSharpName(string macro)
    {
        if (Renamed.TryGetValue(macro, out string? renamed)) return renamed;
        if (!macro.StartsWith("NKL_", StringComparison.Ordinal))
            throw new NotSupportedException($"{macro}: constants in {HeaderPath} are named NKL_*");
        var sb = new StringBuilder();
        foreach (string word in macro["NKL_".Length..].Split('_'))
        {
            if (word.Length == 0) throw new NotSupportedException($"{macro}: empty word between underscores");
            sb.Append(Words.TryGetValue(word, out string? spelled)
                ? spelled
                : char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant());
        }
        string name = sb.ToString();
        if (!char.IsLetter(name[0])) throw new NotSupportedException($"{macro}: C# name {name} starts with a digit; add it to Renamed");
        return name;
    }

    private static string BitsMacro(string macro)
    {
        int last = macro.LastIndexOf('_');
        return macro[..last] + "_BITS" + macro[last..];
    }

    /// <summary>The header's constants with the values clang gives them, in the header's order.</summary>
    public static IReadOnlyList<Constant> Evaluate(string repoRoot)
    {
        string header = Path.GetFullPath(Path.Combine(repoRoot, HeaderPath));
        if (!File.Exists(header)) throw new FileNotFoundException($"header not found: {header}", header);
        var comments = CommentsBefore(File.ReadAllText(header));

        void* index = clang_createIndex(0, 0);
        try
        {
            // Macro name, then its elements (a scalar is its own single element: the macro itself).
            var macros = new List<(string Name, bool IsArray, List<(string Expr, string Text)> Elements)>();
            void* tu = Generator.Parse(index, header, null);
            try
            {
                foreach (var c in Children(clang_getTranslationUnitCursor(tu)))
                {
                    if (c.kind != CXCursor_MacroDefinition || clang_Location_isFromMainFile(clang_getCursorLocation(c)) == 0) continue;
                    if (clang_Cursor_isMacroFunctionLike(c) != 0) continue;
                    var tokens = Tokens(tu, c);
                    if (tokens.Count < 2) continue; // the include guard
                    string name = tokens[0].Text;
                    var body = tokens.GetRange(1, tokens.Count - 1);
                    if (body[0].Text == "{")
                        macros.Add((name, true, SplitBraceList(name, body)));
                    else
                        macros.Add((name, false, new() { (name, Join(body)) }));
                }
            }
            finally { clang_disposeTranslationUnit(tu); }

            var probe = new StringBuilder();
            probe.Append("#include \"").Append(Path.GetFileName(header)).Append("\"\n");
            for (int m = 0; m < macros.Count; m++)
                for (int e = 0; e < macros[m].Elements.Count; e++)
                {
                    string expr = macros[m].Elements[e].Expr;
                    probe.Append($"static const __typeof__(({expr})) {ProbeName(m, e)} = ({expr});\n");
                }
            var values = new Dictionary<string, (ValueKind Kind, ulong Bits)>();
            string probeFile = Path.Combine(Path.GetDirectoryName(header)!, "nkl_bindgen_constants.c");
            tu = Generator.Parse(index, probeFile, probe.ToString());
            try
            {
                foreach (var c in Children(clang_getTranslationUnitCursor(tu)))
                {
                    if (c.kind != CXCursor_VarDecl || clang_Location_isFromMainFile(clang_getCursorLocation(c)) == 0) continue;
                    values[Spelling(c)] = EvaluateVariable(c);
                }
            }
            finally { clang_disposeTranslationUnit(tu); }

            var result = new List<Constant>();
            var names = new HashSet<string>();
            for (int m = 0; m < macros.Count; m++)
            {
                var (macro, isArray, elements) = macros[m];
                var cvalues = new List<CValue>();
                for (int e = 0; e < elements.Count; e++)
                {
                    if (!values.TryGetValue(ProbeName(m, e), out var v))
                        throw new InvalidOperationException($"clang gave no value for {macro} (element {e}: {elements[e].Text})");
                    cvalues.Add(new CValue(v.Kind, v.Bits, elements[e].Text));
                }
                var kind = cvalues[0].Kind;
                if (cvalues.Any(v => v.Kind != kind))
                    throw new NotSupportedException($"{macro}: elements of different types ({string.Join(", ", cvalues.Select(v => v.Kind).Distinct())}); give every element the same suffix");
                string name = CSharpName(macro);
                if (!names.Add(name)) throw new NotSupportedException($"{macro}: C# name {name} is taken; add it to Renamed");
                result.Add(new Constant(macro, name, kind, isArray, cvalues, false, comments.GetValueOrDefault(macro, Array.Empty<string>())));
                if (AlsoAsBits.Contains(macro))
                {
                    if (isArray || kind is not (ValueKind.Float or ValueKind.Double))
                        throw new NotSupportedException($"{macro}: only a float or double scalar has bits to emit");
                    string bitsName = CSharpName(BitsMacro(macro));
                    if (!names.Add(bitsName)) throw new NotSupportedException($"{macro}: C# name {bitsName} is taken");
                    var bitsKind = kind == ValueKind.Float ? ValueKind.UInt32 : ValueKind.UInt64;
                    result.Add(new Constant(macro, bitsName, bitsKind, false,
                        new[] { new CValue(bitsKind, cvalues[0].Bits, cvalues[0].CText) }, true, Array.Empty<string>()));
                }
            }
            foreach (string macro in AlsoAsBits)
                if (!result.Any(c => c.Macro == macro))
                    throw new InvalidOperationException($"{macro} (in AlsoAsBits) is not in {HeaderPath}");
            return result;
        }
        finally { clang_disposeIndex(index); }
    }

    private static string ProbeName(int macro, int element) => $"nkl_bindgen_{macro}_{element}";

    /// <summary>The elements of a brace-list macro, split at its top-level commas.</summary>
    private static List<(string Expr, string Text)> SplitBraceList(string macro, List<(int Kind, string Text)> body)
    {
        if (body[^1].Text != "}") throw new NotSupportedException($"{macro}: a brace list must end with }}");
        var elements = new List<(string, string)>();
        var current = new List<(int Kind, string Text)>();
        int depth = 0;
        foreach (var t in body.GetRange(1, body.Count - 2))
        {
            if (t.Text is "{" or "}") throw new NotSupportedException($"{macro}: nested brace lists");
            if (t.Text == "(") depth++;
            if (t.Text == ")") depth--;
            if (t.Text == "," && depth == 0)
            {
                elements.Add(Element(macro, current));
                current = new();
            }
            else current.Add(t);
        }
        if (current.Count > 0) elements.Add(Element(macro, current)); // a trailing comma adds nothing
        if (elements.Count == 0) throw new NotSupportedException($"{macro}: empty brace list");
        return elements;
    }

    private static (string Expr, string Text) Element(string macro, List<(int Kind, string Text)> tokens)
    {
        if (tokens.Count == 0) throw new NotSupportedException($"{macro}: empty element");
        return (string.Join(" ", tokens.Select(t => t.Text)), Join(tokens));
    }

    /// <summary>Tokens as C text for a comment: a space only between two words (-0x1p-2f, not - 0x1p-2f).</summary>
    private static string Join(List<(int Kind, string Text)> tokens)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            bool word = tokens[i].Kind is CXToken_Identifier or CXToken_Literal;
            if (i > 0 && (word == (tokens[i - 1].Kind is CXToken_Identifier or CXToken_Literal))) sb.Append(' ');
            sb.Append(tokens[i].Text);
        }
        return sb.ToString();
    }

    private static (ValueKind, ulong) EvaluateVariable(CXCursor c)
    {
        string name = Spelling(c);
        CXType type = clang_getCanonicalType(clang_getCursorType(c));
        long size = clang_Type_getSizeOf(type);
        ValueKind kind = type.kind switch
        {
            CXType_Float => ValueKind.Float,
            CXType_Double => ValueKind.Double,
            CXType_UInt => ValueKind.UInt32,
            CXType_Int => ValueKind.Int32,
            CXType_ULong or CXType_ULongLong when size == 8 => ValueKind.UInt64,
            CXType_Long or CXType_LongLong when size == 8 => ValueKind.Int64,
            _ => throw new NotSupportedException($"{name}: type '{Spelling(type)}' has no C# constant type here (use a f, u or ull suffix)"),
        };
        void* eval = clang_Cursor_Evaluate(c);
        if (eval == null) throw new InvalidOperationException($"clang could not evaluate {name}");
        try
        {
            int evalKind = clang_EvalResult_getKind(eval);
            switch (kind)
            {
                case ValueKind.Float or ValueKind.Double:
                    if (evalKind != CXEval_Float) throw new InvalidOperationException($"clang evaluated {name} to kind {evalKind}, not a float");
                    // libclang hands every floating result over as a double: exact for float and double.
                    double d = clang_EvalResult_getAsDouble(eval);
                    if (kind == ValueKind.Double) return (kind, (ulong)BitConverter.DoubleToInt64Bits(d));
                    if (!double.IsNaN(d) && (double)(float)d != d) throw new InvalidOperationException($"{name}: {d} is not a float");
                    return (kind, (uint)BitConverter.SingleToInt32Bits((float)d));
                default:
                    if (evalKind != CXEval_Int) throw new InvalidOperationException($"clang evaluated {name} to kind {evalKind}, not an integer");
                    bool unsigned = kind is ValueKind.UInt32 or ValueKind.UInt64;
                    ulong bits = unsigned ? clang_EvalResult_getAsUnsigned(eval) : (ulong)clang_EvalResult_getAsLongLong(eval);
                    if (kind == ValueKind.UInt32 && bits > uint.MaxValue || kind == ValueKind.Int32 && (long)bits is < int.MinValue or > int.MaxValue)
                        throw new InvalidOperationException($"{name}: {bits} does not fit {kind}");
                    return (kind, bits);
            }
        }
        finally { clang_EvalResult_dispose(eval); }
    }

    /// <summary>
    /// The comments between each #define and the one before it, by macro name, as lines of text
    /// (so the generated file carries the header's explanations; the header's opening comment
    /// precedes the include guard and is not repeated).
    /// </summary>
    private static Dictionary<string, string[]> CommentsBefore(string text)
    {
        string[] lines = text.Replace("\r\n", "\n").Split('\n');
        var result = new Dictionary<string, string[]>();
        int regionStart = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var define = Regex.Match(lines[i], @"^\s*#\s*define\s+(\w+)");
            if (!define.Success) continue;
            string region = string.Join("\n", lines[regionStart..i]);
            var commentLines = new List<string>();
            foreach (Match m in Regex.Matches(region, @"/\*(.*?)\*/|//([^\n]*)", RegexOptions.Singleline))
            {
                string body = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
                var bodyLines = body.Split('\n').Select(l => Regex.Replace(l.Trim(), @"^\*( |$)", "").TrimEnd()).ToList();
                while (bodyLines.Count > 0 && bodyLines[0].Length == 0) bodyLines.RemoveAt(0);
                while (bodyLines.Count > 0 && bodyLines[^1].Length == 0) bodyLines.RemoveAt(bodyLines.Count - 1);
                commentLines.AddRange(bodyLines);
            }
            result[define.Groups[1].Value] = commentLines.ToArray();
            while (lines[i].TrimEnd().EndsWith('\\') && i + 1 < lines.Length) i++;
            regionStart = i + 1;
        }
        return result;
    }

    // ------------------------------------------------------------------ output

    private static string TypeName(ValueKind kind) => kind switch
    {
        ValueKind.Float => "float",
        ValueKind.Double => "double",
        ValueKind.UInt32 => "uint",
        ValueKind.UInt64 => "ulong",
        ValueKind.Int32 => "int",
        _ => "long",
    };

    /// <summary>The C# literal of a value, and the C text to show beside it (null where the two read alike).</summary>
    private static (string Literal, string? Note) Literal(CValue v) => v.Kind switch
    {
        ValueKind.Float => (CSharpLiteral.Float(BitConverter.Int32BitsToSingle((int)(uint)v.Bits)), HexFloat(v.CText)),
        ValueKind.Double => (CSharpLiteral.Double(BitConverter.Int64BitsToDouble((long)v.Bits)), HexFloat(v.CText)),
        ValueKind.UInt32 => ("0x" + v.Bits.ToString("x8", CultureInfo.InvariantCulture) + "u", null),
        ValueKind.UInt64 => ("0x" + v.Bits.ToString("x16", CultureInfo.InvariantCulture) + "UL", null),
        ValueKind.Int32 => (((int)(long)v.Bits).ToString(CultureInfo.InvariantCulture), null),
        _ => (((long)v.Bits).ToString(CultureInfo.InvariantCulture), null),
    };

    // The C spelling is worth showing when it is not decimal: a hex float, or a macro name.
    private static string? HexFloat(string cText) =>
        Regex.IsMatch(cText, @"^-?[0-9.]+(e[-+]?[0-9]+)?[fF]?$") ? null : cText;

    private const int CommentColumn = 88;

    private static string Render(IReadOnlyList<Constant> constants)
    {
        var sb = new StringBuilder();
        sb.Append("// <auto-generated>\n");
        sb.Append($"// Generated from {HeaderPath} by tools/NativeKl.BindGen (libclang evaluates\n");
        sb.Append("// every macro). Do not edit: run `dotnet run --project tools/NativeKl.BindGen` after changing\n");
        sb.Append("// the header; its comments are repeated here. Names: NKL_LN2_HI_F32 -> Ln2HiF32 (the rule and\n");
        sb.Append("// its exceptions: tools/NativeKl.BindGen/ConstantsGenerator.cs). A float is written as its exact\n");
        sb.Append("// decimal value, a double as the shortest decimal that round-trips; the C literal is beside it.\n");
        sb.Append("// </auto-generated>\n");
        sb.Append("#nullable enable\n\n");
        sb.Append("namespace NativeKl.Managed\n{\n");
        sb.Append($"    /// <summary>The constants of the vector math: {HeaderPath}, bit for bit.</summary>\n");
        sb.Append("    internal static class KlConstants\n    {\n");
        bool first = true;
        foreach (var k in constants)
        {
            if (k.Comment.Count > 0)
            {
                if (!first) sb.Append('\n');
                foreach (string line in k.Comment) sb.Append(line.Length == 0 ? "        //\n" : $"        // {line}\n");
            }
            first = false;
            string type = TypeName(k.Kind);
            if (k.IsArray)
            {
                sb.Append($"        public static readonly {type}[] {k.Name} =\n        {{\n");
                foreach (var v in k.Values)
                {
                    var (literal, note) = Literal(v);
                    sb.Append(WithNote($"            {literal},", note));
                }
                sb.Append("        };\n");
            }
            else
            {
                var (literal, note) = Literal(k.Values[0]);
                if (k.BitsOf) note = $"bits of {k.Macro}";
                sb.Append(WithNote($"        public const {type} {k.Name} = {literal};", note));
            }
        }
        sb.Append("    }\n}\n");
        return sb.ToString();
    }

    private static string WithNote(string code, string? note) =>
        note is null ? code + "\n" : code.PadRight(CommentColumn - 1) + " // " + note + "\n";
}
