using System.Reflection;
using System.Reflection.Emit;
using NativeKl.Interop;

namespace NativeKl.Tests;

/// <summary>
/// The layering rules of the C# library, held by reflection over its IL (LibGit2Sharp's
/// MetaFixture): only Interop/ calls the bindings, Managed/ never touches Interop/, every public
/// type is in the NativeKl namespace, and every public method that takes spans is in the bad-input
/// table.
/// </summary>
public class ConventionTests
{
    private static readonly Assembly Library = typeof(KlDivergence).Assembly;

    [Fact]
    public void Only_Interop_calls_the_bindings()
    {
        var offenders = References()
            .Where(r => r.Member.DeclaringType == typeof(NativeMethods) && r.From.Namespace != "NativeKl.Interop")
            .Select(r => $"{r.From.FullName}.{r.Method.Name} calls {r.Member.Name}")
            .Distinct().ToList();
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void Managed_never_touches_Interop()
    {
        var offenders = References()
            .Where(r => r.From.Namespace == "NativeKl.Managed" && r.Member.DeclaringType?.Namespace == "NativeKl.Interop")
            .Select(r => $"{r.From.FullName}.{r.Method.Name} uses {r.Member.DeclaringType!.Name}.{r.Member.Name}")
            .Concat(Library.GetTypes().Where(t => t.Namespace == "NativeKl.Managed")
                .SelectMany(t => t.GetFields(All)).Where(f => f.FieldType.Namespace == "NativeKl.Interop")
                .Select(f => $"{f.DeclaringType!.FullName}.{f.Name} is a {f.FieldType.Name}"))
            .Distinct().ToList();
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void Public_types_are_in_the_NativeKl_namespace()
    {
        var offenders = Library.GetExportedTypes().Where(t => t.Namespace != "NativeKl").Select(t => t.FullName).ToList();
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    /// <summary>The table names each case "[Distillation.]Method[ strided] f32|f64 ...".</summary>
    [Fact]
    public void Every_public_span_method_is_in_the_bad_input_table()
    {
        var cases = BadInputTableTests.Errors().Select(e => e.Case).ToList();
        var methods = Library.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters().Any(p => IsSpan(p.ParameterType)))
            .ToList();
        Assert.NotEmpty(methods);
        var missing = new List<string>();
        foreach (var m in methods)
        {
            Type element = m.GetParameters().Select(p => p.ParameterType).First(IsSpan).GetGenericArguments()[0];
            string prefix = (m.DeclaringType == typeof(KlDivergence) ? "" : m.DeclaringType!.Name + ".") + m.Name
                + (m.GetParameters().Any(p => p.Name == "inputStride") ? " strided" : "")
                + (element == typeof(float) ? " f32 " : " f64 ");
            if (!cases.Any(c => c.StartsWith(prefix, StringComparison.Ordinal))) missing.Add($"{m} (no case starts with '{prefix}')");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing));
    }

    private static bool IsSpan(Type t) =>
        t.IsGenericType && (t.GetGenericTypeDefinition() == typeof(Span<>) || t.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>));

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodeByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>Every member (method, constructor, field) a method body of the library refers to, with the type it is in.</summary>
    private static IEnumerable<(Type From, MethodBase Method, MemberInfo Member)> References()
    {
        foreach (Type type in Library.GetTypes())
        {
            IEnumerable<MethodBase> bodies = type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All));
            foreach (MethodBase method in bodies)
            {
                byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
                if (il == null) continue;
                Type[] typeArgs = type.IsGenericType ? type.GetGenericArguments() : Type.EmptyTypes;
                Type[] methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : Type.EmptyTypes;
                foreach (int token in MemberTokens(il))
                {
                    MemberInfo? member;
                    try { member = type.Module.ResolveMember(token, typeArgs, methodArgs); }
                    catch (ArgumentException) { continue; }
                    if (member != null) yield return (type, method, member);
                }
            }
        }
    }

    /// <summary>The tokens of the method, field and type operands in an IL body.</summary>
    private static IEnumerable<int> MemberTokens(byte[] il)
    {
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            OpCode op = OpCodeByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    yield return BitConverter.ToInt32(il, i);
                    i += 4;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8:
                case OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                default: i += 4; break;
            }
        }
    }
}
