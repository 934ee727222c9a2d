using System.Runtime.InteropServices;

namespace NativeKl.BindGen;

// The part of libclang's C API (clang-c/Index.h) the generator uses. The library comes from the
// NuGet package libclang.runtime.linux-x64, the same native library ClangSharp wraps.
internal static unsafe partial class LibClang
{
    private const string Library = "libclang";

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXCursor { public int kind; public int xdata; public void* data0, data1, data2; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXType { public int kind; public void* data0, data1; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXString { public void* data; public uint private_flags; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXSourceLocation { public void* ptr0, ptr1; public uint int_data; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXSourceRange { public void* ptr0, ptr1; public uint begin_int_data, end_int_data; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXToken { public uint int0, int1, int2, int3; public void* ptr_data; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CXUnsavedFile { public byte* Filename; public byte* Contents; public nuint Length; }

    // enum CXCursorKind
    internal const int CXCursor_StructDecl = 2, CXCursor_EnumDecl = 5, CXCursor_FieldDecl = 6,
        CXCursor_EnumConstantDecl = 7, CXCursor_FunctionDecl = 8, CXCursor_VarDecl = 9,
        CXCursor_MacroDefinition = 501;

    // enum CXTypeKind
    internal const int CXType_Void = 2, CXType_Char_U = 4, CXType_UChar = 5, CXType_UShort = 8,
        CXType_UInt = 9, CXType_ULong = 10, CXType_ULongLong = 11, CXType_Char_S = 13,
        CXType_SChar = 14, CXType_Short = 16, CXType_Int = 17, CXType_Long = 18,
        CXType_LongLong = 19, CXType_Float = 21, CXType_Double = 22, CXType_LongDouble = 23, CXType_Pointer = 101,
        CXType_Record = 105, CXType_Enum = 106;

    internal const uint CXTranslationUnit_DetailedPreprocessingRecord = 0x01;
    internal const uint CXTranslationUnit_SkipFunctionBodies = 0x40;
    internal const int CXChildVisit_Continue = 1;
    internal const int CXEval_Int = 1, CXEval_Float = 2;
    internal const int CXToken_Identifier = 2, CXToken_Literal = 3;
    internal const int CXDiagnostic_Error = 3;

    [DllImport(Library)] internal static extern void* clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [DllImport(Library)] internal static extern void clang_disposeIndex(void* index);
    [DllImport(Library)] internal static extern int clang_parseTranslationUnit2(void* index, byte* sourceFilename, byte** commandLineArgs, int numCommandLineArgs, CXUnsavedFile* unsavedFiles, uint numUnsavedFiles, uint options, void** outTu);
    [DllImport(Library)] internal static extern void clang_disposeTranslationUnit(void* tu);
    [DllImport(Library)] internal static extern CXCursor clang_getTranslationUnitCursor(void* tu);
    [DllImport(Library)] internal static extern uint clang_visitChildren(CXCursor parent, delegate* unmanaged<CXCursor, CXCursor, void*, int> visitor, void* clientData);
    [DllImport(Library)] internal static extern CXString clang_getCursorSpelling(CXCursor cursor);
    [DllImport(Library)] internal static extern byte* clang_getCString(CXString s);
    [DllImport(Library)] internal static extern void clang_disposeString(CXString s);
    [DllImport(Library)] internal static extern CXString clang_getClangVersion();
    [DllImport(Library)] internal static extern CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [DllImport(Library)] internal static extern int clang_Location_isFromMainFile(CXSourceLocation location);
    [DllImport(Library)] internal static extern CXType clang_getCursorType(CXCursor cursor);
    [DllImport(Library)] internal static extern CXType clang_getCanonicalType(CXType type);
    [DllImport(Library)] internal static extern CXString clang_getTypeSpelling(CXType type);
    [DllImport(Library)] internal static extern CXType clang_getPointeeType(CXType type);
    [DllImport(Library)] internal static extern CXCursor clang_getTypeDeclaration(CXType type);
    [DllImport(Library)] internal static extern CXType clang_getCursorResultType(CXCursor cursor);
    [DllImport(Library)] internal static extern int clang_Cursor_getNumArguments(CXCursor cursor);
    [DllImport(Library)] internal static extern CXCursor clang_Cursor_getArgument(CXCursor cursor, uint index);
    [DllImport(Library)] internal static extern long clang_getEnumConstantDeclValue(CXCursor cursor);
    [DllImport(Library)] internal static extern ulong clang_getEnumConstantDeclUnsignedValue(CXCursor cursor);
    [DllImport(Library)] internal static extern CXType clang_getEnumDeclIntegerType(CXCursor cursor);
    [DllImport(Library)] internal static extern long clang_Type_getSizeOf(CXType type);
    [DllImport(Library)] internal static extern long clang_Cursor_getOffsetOfField(CXCursor cursor);
    [DllImport(Library)] internal static extern uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);
    [DllImport(Library)] internal static extern CXSourceRange clang_getCursorExtent(CXCursor cursor);
    [DllImport(Library)] internal static extern void clang_tokenize(void* tu, CXSourceRange range, CXToken** tokens, uint* numTokens);
    [DllImport(Library)] internal static extern CXString clang_getTokenSpelling(void* tu, CXToken token);
    [DllImport(Library)] internal static extern int clang_getTokenKind(CXToken token);
    [DllImport(Library)] internal static extern void clang_disposeTokens(void* tu, CXToken* tokens, uint numTokens);
    [DllImport(Library)] internal static extern void* clang_Cursor_Evaluate(CXCursor cursor);
    [DllImport(Library)] internal static extern int clang_EvalResult_getKind(void* result);
    [DllImport(Library)] internal static extern uint clang_EvalResult_isUnsignedInt(void* result);
    [DllImport(Library)] internal static extern ulong clang_EvalResult_getAsUnsigned(void* result);
    [DllImport(Library)] internal static extern long clang_EvalResult_getAsLongLong(void* result);
    [DllImport(Library)] internal static extern double clang_EvalResult_getAsDouble(void* result);
    [DllImport(Library)] internal static extern void clang_EvalResult_dispose(void* result);
    [DllImport(Library)] internal static extern uint clang_getNumDiagnostics(void* tu);
    [DllImport(Library)] internal static extern void* clang_getDiagnostic(void* tu, uint index);
    [DllImport(Library)] internal static extern int clang_getDiagnosticSeverity(void* diagnostic);
    [DllImport(Library)] internal static extern CXString clang_formatDiagnostic(void* diagnostic, uint options);
    [DllImport(Library)] internal static extern uint clang_defaultDiagnosticDisplayOptions();
    [DllImport(Library)] internal static extern void clang_disposeDiagnostic(void* diagnostic);

    /// <summary>Copies a CXString into a managed string and disposes it.</summary>
    internal static string Take(CXString s)
    {
        try { return Marshal.PtrToStringUTF8((nint)clang_getCString(s)) ?? ""; }
        finally { clang_disposeString(s); }
    }

    internal static string Spelling(CXCursor c) => Take(clang_getCursorSpelling(c));
    internal static string Spelling(CXType t) => Take(clang_getTypeSpelling(t));

    /// <summary>The direct children of a cursor, in source order.</summary>
    internal static List<CXCursor> Children(CXCursor parent)
    {
        var list = new List<CXCursor>();
        var handle = GCHandle.Alloc(list);
        try { clang_visitChildren(parent, &Visit, (void*)GCHandle.ToIntPtr(handle)); }
        finally { handle.Free(); }
        return list;
    }

    [UnmanagedCallersOnly]
    private static int Visit(CXCursor cursor, CXCursor parent, void* clientData)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr((nint)clientData).Target!).Add(cursor);
        return CXChildVisit_Continue;
    }

    /// <summary>The tokens a cursor spans (a macro definition: its name, then its body).</summary>
    internal static List<(int Kind, string Text)> Tokens(void* tu, CXCursor cursor)
    {
        CXToken* tokens;
        uint count;
        clang_tokenize(tu, clang_getCursorExtent(cursor), &tokens, &count);
        var list = new List<(int, string)>((int)count);
        for (uint i = 0; i < count; i++)
            list.Add((clang_getTokenKind(tokens[i]), Take(clang_getTokenSpelling(tu, tokens[i]))));
        clang_disposeTokens(tu, tokens, count);
        return list;
    }
}
