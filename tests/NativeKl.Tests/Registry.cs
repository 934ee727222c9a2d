namespace NativeKl.Tests;

/// <summary>
/// Every implementation the contract tests run over (NSec's tests/Registry.cs): the native library
/// on its active ISA, the native scalar path (NKL_FORCE_SCALAR), AVX2 or NEON forced where the CPU has it,
/// and the managed backend.
/// </summary>
public static class Registry
{
    public static readonly Dictionary<string, KlOptions> Backends = Build();

    private static Dictionary<string, KlOptions> Build()
    {
        var b = new Dictionary<string, KlOptions>
        {
            ["native"] = new KlOptions { Backend = KlBackendKind.Native },
            ["native-scalar"] = new KlOptions { Backend = KlBackendKind.Native, Isa = KlIsa.Scalar },
            ["managed"] = new KlOptions { Backend = KlBackendKind.Managed },
        };
        // a vector ISA forced where the CPU has it (AVX2 on x64, NEON on arm64), skipped elsewhere
        if (KlBackend.NativeIsa == "avx2")
            b["native-avx2"] = new KlOptions { Backend = KlBackendKind.Native, Isa = KlIsa.Avx2 };
        if (KlBackend.NativeIsa == "neon")
            b["native-neon"] = new KlOptions { Backend = KlBackendKind.Native, Isa = KlIsa.Neon };
        return b;
    }

    public static KlOptions With(string backend, bool logTarget, bool masked) =>
        Backends[backend] with { LogTarget = logTarget, Masked = masked };

    public static TheoryData<string> BackendNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Backends.Keys) data.Add(name);
        return data;
    }

    /// <summary>backend × log_target × masked.</summary>
    public static TheoryData<string, bool, bool> BackendSemantics()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (var name in Backends.Keys)
            foreach (bool logTarget in new[] { false, true })
                foreach (bool masked in new[] { false, true })
                    data.Add(name, logTarget, masked);
        return data;
    }
}
