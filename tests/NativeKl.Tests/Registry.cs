namespace NativeKl.Tests;

/// <summary>
/// Every implementation the contract tests run over (NSec's tests/Registry.cs): the native library
/// on its active ISA, the native scalar path (NKL_FORCE_SCALAR), AVX2 or NEON forced where the CPU has
/// it, and the managed backend on its best path, on its scalar path (KlIsa.Scalar), and on its AVX2 and
/// 128-bit (KlIsa.Neon: AdvSimd on arm64, FMA on x64) paths where this build and CPU have them.
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
            ["managed-scalar"] = new KlOptions { Backend = KlBackendKind.Managed, Isa = KlIsa.Scalar },
        };
        // a vector ISA forced where the CPU has it (AVX2 on x64, NEON on arm64), skipped elsewhere
        if (KlBackend.NativeIsa == "avx2")
            b["native-avx2"] = new KlOptions { Backend = KlBackendKind.Native, Isa = KlIsa.Avx2 };
        if (KlBackend.NativeIsa == "neon")
            b["native-neon"] = new KlOptions { Backend = KlBackendKind.Native, Isa = KlIsa.Neon };
        if (KlBackend.ManagedIsa == "avx2")
            b["managed-avx2"] = new KlOptions { Backend = KlBackendKind.Managed, Isa = KlIsa.Avx2 };
        // the 128-bit kernels arm64 runs, on x64 through FMA (the same code)
        if (NativeKl.Managed.ManagedPaths.Vector128Supported)
            b["managed-neon"] = new KlOptions { Backend = KlBackendKind.Managed, Isa = KlIsa.Neon };
        return b;
    }

    /// <summary>Whether the entry runs the managed backend (on netstandard2.0: no fused multiply-add).</summary>
    public static bool IsManaged(string backend) => Registry.Backends[backend].Backend == KlBackendKind.Managed;

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
