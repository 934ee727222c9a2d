using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using static NativeKl.BindGen.LibClang;

namespace NativeKl.BindGen;

/// <summary>
/// Turns the public C header into C# interop declarations: object-like macros with a constant
/// value become constants, enums become enums of the same underlying type, structs get the
/// field offsets and size clang computed, functions become blittable DllImports. C names are
/// kept verbatim (as NSec's Interop files do), so the header remains the manual.
/// </summary>
public static unsafe class Generator
{
    public const string HeaderPath = "native/include/nativekl.h";
    public const string OutputPath = "src/NativeKl/Interop/Interop.NativeKl.g.cs";

    /// <summary>Generates the interop file for the repository at <paramref name="repoRoot"/>.</summary>
    public static string Generate(string repoRoot)
    {
        string header = Path.GetFullPath(Path.Combine(repoRoot, HeaderPath));
        if (!File.Exists(header))
            throw new FileNotFoundException($"header not found: {header}", header);

        void* index = clang_createIndex(0, 0);
        try
        {
            var macros = new List<Constant>();
            var enums = new List<string>();
            var structs = new List<string>();
            var functions = new List<string>();
            var checkedFunctions = new List<string>();

            void* tu = Parse(index, header, null);
            try
            {
                var candidates = new List<(string Name, List<(int Kind, string Text)> Body)>();
                foreach (var c in Children(clang_getTranslationUnitCursor(tu)))
                {
                    if (clang_Location_isFromMainFile(clang_getCursorLocation(c)) == 0) continue;
                    switch (c.kind)
                    {
                        case CXCursor_MacroDefinition when clang_Cursor_isMacroFunctionLike(c) == 0:
                            var tokens = Tokens(tu, c);
                            if (tokens.Count > 1) candidates.Add((tokens[0].Text, tokens.GetRange(1, tokens.Count - 1)));
                            break;
                        case CXCursor_EnumDecl:
                            enums.Add(EmitEnum(c));
                            break;
                        case CXCursor_StructDecl when Children(c).Count > 0:
                            structs.Add(EmitStruct(c));
                            break;
                        case CXCursor_FunctionDecl:
                            functions.Add(EmitFunction(c));
                            if (EmitChecked(c) is string wrapper) checkedFunctions.Add(wrapper);
                            if (IsCompute(c))
                            {
                                functions.Add(EmitFunction(c, ShortSuffix));
                                checkedFunctions.Add(EmitChecked(c, ShortSuffix)!);
                            }
                            break;
                    }
                }
                macros = EvaluateMacros(index, header, candidates);
            }
            finally { clang_disposeTranslationUnit(tu); }

            return Render(macros, enums, structs, functions, checkedFunctions);
        }
        finally { clang_disposeIndex(index); }
    }

    private sealed record Constant(string Name, string Type, string Value);

    internal static void* Parse(void* index, string file, string? unsavedContents)
    {
        var args = new List<string> { "-x", "c", "-std=c11", "-isystem", CompilerIncludeDirectory() };
        var utf8Args = args.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        nint fileName = Marshal.StringToCoTaskMemUTF8(file);
        nint contents = unsavedContents is null ? 0 : Marshal.StringToCoTaskMemUTF8(unsavedContents);
        try
        {
            var unsaved = new CXUnsavedFile
            {
                Filename = (byte*)fileName,
                Contents = (byte*)contents,
                Length = (nuint)(unsavedContents is null ? 0 : Encoding.UTF8.GetByteCount(unsavedContents)),
            };
            void* tu;
            int error;
            fixed (nint* argv = utf8Args)
                error = clang_parseTranslationUnit2(index, (byte*)fileName, (byte**)argv, utf8Args.Length,
                    unsavedContents is null ? null : &unsaved, unsavedContents is null ? 0u : 1u,
                    CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_SkipFunctionBodies, &tu);
            if (error != 0) throw new InvalidOperationException($"libclang could not parse {file} (CXErrorCode {error})");
            var errors = new List<string>();
            for (uint i = 0, n = clang_getNumDiagnostics(tu); i < n; i++)
            {
                void* d = clang_getDiagnostic(tu, i);
                if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error)
                    errors.Add(Take(clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions())));
                clang_disposeDiagnostic(d);
            }
            if (errors.Count > 0)
            {
                clang_disposeTranslationUnit(tu);
                throw new InvalidOperationException($"errors parsing {file}:\n" + string.Join("\n", errors));
            }
            return tu;
        }
        finally
        {
            foreach (var a in utf8Args) Marshal.FreeCoTaskMem(a);
            Marshal.FreeCoTaskMem(fileName);
            if (contents != 0) Marshal.FreeCoTaskMem(contents);
        }
    }

    /// <summary>
    /// libclang.runtime ships no compiler builtin headers (stddef.h), so borrow the system compiler's.
    /// </summary>
    private static string CompilerIncludeDirectory()
    {
        foreach (var compiler in new[] { "gcc", "clang", "cc" })
        {
            try
            {
                var psi = new ProcessStartInfo(compiler, "-print-file-name=include")
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                using var p = Process.Start(psi)!;
                string dir = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit();
                if (p.ExitCode == 0 && File.Exists(Path.Combine(dir, "stddef.h"))) return dir;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        throw new InvalidOperationException("no C compiler found to provide stddef.h (install gcc)");
    }

    // ------------------------------------------------------------------ macros

    /// <summary>
    /// Values of object-like macros, computed by clang itself: each candidate becomes
    /// <c>static const __typeof__((NAME)) v = (NAME);</c> in a second translation unit that includes
    /// the header, and clang evaluates the initializer (so expressions such as NKL_VERSION work).
    /// Macros whose body names anything but literals and other macros (NKL_API's attribute, the
    /// include guard) are not constants and are skipped.
    /// </summary>
    private static List<Constant> EvaluateMacros(void* index, string header,
        List<(string Name, List<(int Kind, string Text)> Body)> candidates)
    {
        var names = candidates.Select(c => c.Name).ToHashSet();
        var result = new List<Constant>();
        var numeric = new List<(string Name, bool Hex)>();
        foreach (var (name, body) in candidates)
        {
            if (body.Any(t => t.Kind == CXToken_Identifier && !names.Contains(t.Text))) continue;
            if (body.Any(t => t.Kind != CXToken_Identifier && t.Kind != CXToken_Literal && !IsOperator(t.Text))) continue;
            if (body.Count == 1 && body[0].Text.StartsWith('"'))
            {
                string s = body[0].Text[1..^1];
                if (s.Contains('\\')) throw new NotSupportedException($"escape sequences in macro {name}");
                result.Add(new Constant(name, "string", "\"" + s + "\""));
                continue;
            }
            numeric.Add((name, body.Count == 1 && body[0].Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)));
        }

        var source = new StringBuilder();
        source.Append("#include \"").Append(Path.GetFileName(header)).Append("\"\n");
        foreach (var (name, _) in numeric)
            source.Append($"static const __typeof__(({name})) nkl_bindgen_{name} = ({name});\n");
        string probe = Path.Combine(Path.GetDirectoryName(header)!, "nkl_bindgen_macros.c");
        void* tu = Parse(index, probe, source.ToString());
        try
        {
            var values = new Dictionary<string, Constant>();
            foreach (var c in Children(clang_getTranslationUnitCursor(tu)))
            {
                if (c.kind != CXCursor_VarDecl || clang_Location_isFromMainFile(clang_getCursorLocation(c)) == 0) continue;
                string name = Spelling(c)["nkl_bindgen_".Length..];
                string type = IntegerType(clang_getCanonicalType(clang_getCursorType(c)), name);
                void* eval = clang_Cursor_Evaluate(c);
                if (eval == null || clang_EvalResult_getKind(eval) != CXEval_Int)
                    throw new InvalidOperationException($"clang could not evaluate macro {name}");
                bool hex = numeric.First(m => m.Name == name).Hex;
                bool unsigned = clang_EvalResult_isUnsignedInt(eval) != 0;
                string value = unsigned
                    ? (hex ? "0x" + clang_EvalResult_getAsUnsigned(eval).ToString("X", CultureInfo.InvariantCulture)
                           : clang_EvalResult_getAsUnsigned(eval).ToString(CultureInfo.InvariantCulture))
                    : clang_EvalResult_getAsLongLong(eval).ToString(CultureInfo.InvariantCulture);
                clang_EvalResult_dispose(eval);
                values[name] = new Constant(name, type, value);
            }
            foreach (var (name, _) in numeric) result.Add(values[name]);
        }
        finally { clang_disposeTranslationUnit(tu); }

        // Keep the header's order.
        var order = candidates.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i);
        return result.OrderBy(c => order[c.Name]).ToList();
    }

    private static bool IsOperator(string token) =>
        token is "(" or ")" or "<<" or ">>" or "|" or "&" or "+" or "-" or "~" or "*" or "/";

    // ------------------------------------------------------------------- types

    private static string IntegerType(CXType canonical, string context) => canonical.kind switch
    {
        CXType_Char_U or CXType_UChar => "byte",
        CXType_Char_S or CXType_SChar => "sbyte",
        CXType_UShort => "ushort",
        CXType_Short => "short",
        CXType_UInt => "uint",
        CXType_Int => "int",
        CXType_ULongLong => "ulong",
        CXType_LongLong => "long",
        _ => throw new NotSupportedException($"{context}: no fixed-size C# type for '{Spelling(canonical)}'"),
    };

    /// <summary>Blittable C# spelling of a C type: fixed-width typedefs by name, then the canonical type.</summary>
    private static string MapType(CXType type, string context)
    {
        if (type.kind == CXType_Pointer)
        {
            CXType pointee = clang_getPointeeType(type);
            return (clang_getCanonicalType(pointee).kind == CXType_Void ? "void" : MapType(pointee, context)) + "*";
        }
        string spelled = Spelling(type).Replace("const ", "").Trim();
        switch (spelled)
        {
            case "size_t" or "uintptr_t": return "nuint";
            case "ptrdiff_t" or "intptr_t": return "nint";
            case "uint8_t": return "byte";
            case "int8_t": return "sbyte";
            case "uint16_t": return "ushort";
            case "int16_t": return "short";
            case "uint32_t": return "uint";
            case "int32_t": return "int";
            case "uint64_t": return "ulong";
            case "int64_t": return "long";
            case "char": return "byte"; // C strings are UTF-8 bytes
        }
        CXType canonical = clang_getCanonicalType(type);
        return canonical.kind switch
        {
            CXType_Void => "void",
            CXType_Float => "float",
            CXType_Double => "double",
            CXType_Enum or CXType_Record => Spelling(clang_getTypeDeclaration(canonical)),
            CXType_Long or CXType_ULong => throw new NotSupportedException($"{context}: C long differs between platforms; use a fixed-width type"),
            _ => IntegerType(canonical, context),
        };
    }

    private static readonly HashSet<string> Keywords = new()
    {
        "out", "ref", "in", "base", "object", "string", "params", "event", "checked", "fixed",
        "lock", "operator", "internal", "public", "private", "protected", "namespace", "class",
        "struct", "delegate", "decimal", "implicit", "explicit", "is", "as", "new", "this",
        "typeof", "sizeof", "default", "case", "switch", "char", "int", "long", "short", "float",
        "double", "bool", "byte", "void", "const", "static", "readonly", "virtual", "override",
    };

    private static string Identifier(string name) => Keywords.Contains(name) ? "@" + name : name;

    // ------------------------------------------------------------ declarations

    private static string EmitEnum(CXCursor c)
    {
        string name = Spelling(c);
        string underlying = IntegerType(clang_getCanonicalType(clang_getEnumDeclIntegerType(c)), name);
        bool unsigned = underlying is "byte" or "ushort" or "uint" or "ulong";
        var sb = new StringBuilder();
        sb.Append($"    internal enum {name} : {underlying}\n    {{\n");
        foreach (var k in Children(c).Where(k => k.kind == CXCursor_EnumConstantDecl))
        {
            string value = unsigned
                ? clang_getEnumConstantDeclUnsignedValue(k).ToString(CultureInfo.InvariantCulture)
                : clang_getEnumConstantDeclValue(k).ToString(CultureInfo.InvariantCulture);
            sb.Append($"        {Spelling(k)} = {value},\n");
        }
        sb.Append("    }\n");
        return sb.ToString();
    }

    private static string EmitStruct(CXCursor c)
    {
        string name = Spelling(c);
        long size = clang_Type_getSizeOf(clang_getCursorType(c));
        var sb = new StringBuilder();
        sb.Append($"    [StructLayout(LayoutKind.Explicit, Size = {size})]\n");
        sb.Append($"    internal struct {name}\n    {{\n");
        sb.Append($"        /// <summary>sizeof({name}) as clang computed it.</summary>\n");
        sb.Append($"        internal const int SizeOf = {size};\n\n");
        foreach (var f in Children(c).Where(f => f.kind == CXCursor_FieldDecl))
        {
            long bits = clang_Cursor_getOffsetOfField(f);
            if (bits < 0 || bits % 8 != 0) throw new NotSupportedException($"{name}.{Spelling(f)}: bit-field or unknown offset");
            sb.Append($"        [FieldOffset({bits / 8})] internal {MapType(clang_getCursorType(f), name)} {Identifier(Spelling(f))};\n");
        }
        sb.Append("    }\n");
        return sb.ToString();
    }

    /// <summary>The suffix of a compute entry point's second import, the one without the GC transition.</summary>
    internal const string ShortSuffix = "_short";

    /// <summary>
    /// A compute entry point (nkl_kl_div_*, nkl_distill_*: status-returning, short for short data,
    /// never blocking, never calling back) gets a second import, <c>name_short</c>, with
    /// [SuppressGCTransition]: the same C function without the transition to preemptive mode. The
    /// GC cannot suspend a thread while it runs such a call, so it is for calls bounded to be
    /// short only (NativeBackend.ShortCallElements; docs/maintaining.md); the plain import
    /// stays for every other call.
    /// </summary>
    private static bool IsCompute(CXCursor c)
    {
        string name = Spelling(c);
        return (name.StartsWith("nkl_kl_div_", StringComparison.Ordinal) || name.StartsWith("nkl_distill_", StringComparison.Ordinal))
               && IsStatus(c);
    }

    private static bool IsStatus(CXCursor c)
    {
        CXType result = clang_getCursorResultType(c);
        return clang_getCanonicalType(result).kind == CXType_Enum && MapType(result, Spelling(c)) == StatusType;
    }

    private static string EmitFunction(CXCursor c, string suffix = "")
    {
        string name = Spelling(c);
        var parameters = new List<string>();
        for (uint i = 0, n = (uint)clang_Cursor_getNumArguments(c); i < n; i++)
        {
            CXCursor p = clang_Cursor_getArgument(c, i);
            parameters.Add($"{MapType(clang_getCursorType(p), name)} {Identifier(Spelling(p))}");
        }
        string result = MapType(clang_getCursorResultType(c), name);
        return (suffix.Length == 0 ? "" : $"        /// <summary>{name} without the GC transition: for calls bounded to be short only.</summary>\n")
             + "        [DllImport(LibraryName, EntryPoint = \"" + name + "\", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]\n"
             + (suffix.Length == 0 ? "" : "        [SuppressGCTransition]\n")
             + $"        internal static extern {result} {name}{suffix}({string.Join(", ", parameters)});\n";
    }

    /// <summary>The type whose values are statuses: a function returning it gets a checked wrapper.</summary>
    private const string StatusType = "nkl_status";

    /// <summary>
    /// For a function that returns <see cref="StatusType"/>: a wrapper with the same parameters that
    /// returns nothing and passes the status to Error.Check with the function's name, so callers
    /// cannot pair a call with the wrong name.
    /// </summary>
    private static string? EmitChecked(CXCursor c, string suffix = "")
    {
        if (!IsStatus(c)) return null;
        string name = Spelling(c);
        var parameters = new List<string>();
        var arguments = new List<string>();
        for (uint i = 0, n = (uint)clang_Cursor_getNumArguments(c); i < n; i++)
        {
            CXCursor p = clang_Cursor_getArgument(c, i);
            string id = Identifier(Spelling(p));
            parameters.Add($"{MapType(clang_getCursorType(p), name)} {id}");
            arguments.Add(id);
        }
        return "        [MethodImpl(MethodImplOptions.AggressiveInlining)]\n"
             + $"        internal static void {name}{suffix}({string.Join(", ", parameters)}) =>\n"
             + $"            global::NativeKl.Error.Check(NativeMethods.{name}{suffix}({string.Join(", ", arguments)}), nameof(NativeMethods.{name}));\n";
    }

    private static string Render(List<Constant> constants, List<string> enums, List<string> structs, List<string> functions,
        List<string> checkedFunctions)
    {
        var sb = new StringBuilder();
        sb.Append("// <auto-generated>\n");
        sb.Append($"// Generated from {HeaderPath} by tools/NativeKl.BindGen (libclang). Do not edit:\n");
        sb.Append("// run `dotnet run --project tools/NativeKl.BindGen` after changing the header.\n");
        sb.Append("// The header is the manual for every declaration below.\n");
        sb.Append("// </auto-generated>\n");
        sb.Append("#nullable enable\n");
        sb.Append("using System.Runtime.CompilerServices;\n");
        sb.Append("using System.Runtime.InteropServices;\n\n");
        sb.Append("namespace NativeKl.Interop\n{\n");
        sb.Append("    internal static unsafe partial class NativeMethods\n    {\n");
        sb.Append("        /// <summary>\n");
        sb.Append("        /// The name DllImport resolves: libnativekl.dll on Windows (the runtime appends .dll; the lib prefix keeps it\n");
        sb.Append("        /// apart from the managed NativeKl.dll on a case-insensitive file system), libnativekl.so, libnativekl.dylib.\n");
        sb.Append("        /// </summary>\n");
        sb.Append("        internal const string LibraryName = \"libnativekl\";\n\n");
        foreach (var k in constants)
            sb.Append($"        internal const {k.Type} {k.Name} = {k.Value};\n");
        sb.Append('\n');
        sb.Append(string.Join("\n", functions));
        sb.Append("    }\n\n");
        sb.Append($"    /// <summary>The functions that return {StatusType}, checked: a status other than NKL_OK becomes the\n");
        sb.Append("    /// exception Error.Check makes, naming the function.</summary>\n");
        sb.Append("    internal static unsafe class NativeChecked\n    {\n");
        sb.Append(string.Join("\n", checkedFunctions));
        sb.Append("    }\n");
        foreach (var e in enums) sb.Append('\n').Append(e);
        foreach (var s in structs) sb.Append('\n').Append(s);
        sb.Append("}\n");
        return sb.ToString();
    }
}
