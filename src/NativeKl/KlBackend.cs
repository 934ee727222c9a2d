using System;
using NativeKl.Backends;
using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl
{
    /// <summary>
    /// Which backend computes calls made with <see cref="KlBackendKind.Auto"/>, and why. Chosen once,
    /// on first use: the environment variable NATIVEKL_BACKEND (auto, native or managed) if set,
    /// otherwise native when libnativekl loads and passes its self-check, managed if not — unless
    /// NATIVEKL_LIBRARY names the library: then Auto is native even when that file cannot be loaded
    /// (<see cref="IsNativeAvailable"/> false, <see cref="NativeLoadError"/> naming the file and the
    /// loader's error), so every call on the Auto or Native backend throws
    /// <see cref="DllNotFoundException"/> instead of running another library or the managed backend.
    /// </summary>
    public static class KlBackend
    {
        internal const string SelectionVariable = "NATIVEKL_BACKEND";

        /// <summary>The backend Auto resolves to: <see cref="KlBackendKind.Native"/> or <see cref="KlBackendKind.Managed"/>.</summary>
        public static KlBackendKind Active => State.Active;

        /// <summary>Why <see cref="Active"/> was chosen, in words (the load error when native was not available).</summary>
        public static string ActiveReason => State.Reason;

        /// <summary>Whether libnativekl loaded and matches this assembly.</summary>
        public static bool IsNativeAvailable => State.NativeAvailable;

        /// <summary>Why the native library is unavailable, or null when it is available.</summary>
        public static string? NativeLoadError => State.NativeError;

        /// <summary>The version of the loaded native library ("0.1.0"), or null.</summary>
        public static string? NativeVersion => State.NativeVersion;

        /// <summary>
        /// The instruction set the native backend runs by default ("avx2", "neon", "scalar"); null when the
        /// library is unavailable; "none (...)", saying why, while the environment variable NKL_ISA
        /// holds a value the library does not know (native calls without <see cref="KlOptions.Isa"/>
        /// then throw <see cref="NativeKlException"/>).
        /// </summary>
        public static string? NativeIsa
        {
            get
            {
                if (!State.NativeAvailable) return null;
                nkl_isa isa = NativeLibraryInfo.ActiveIsa();
                // The library reports no active ISA only for an unknown NKL_ISA value.
                if (isa == nkl_isa.NKL_ISA_AUTO) return $"none ({Error.IsaVariableProblem()})";
                return NativeLibraryInfo.IsaName(isa);
            }
        }

        /// <summary>The instruction set the managed backend runs with <see cref="KlIsa.Auto"/>: "avx2" on .NET 8+ x64 with AVX2+FMA,
        /// "neon" on .NET 8+ arm64, "vector128" on .NET 8+ x64 with FMA but no AVX2, else "scalar".</summary>
        public static string ManagedIsa => ManagedPaths.Name(ManagedPaths.Best);

        /// <summary>The ISA of the active backend, e.g. "native avx2" or "managed scalar".</summary>
        public static string ActiveDescription =>
            Active == KlBackendKind.Native ? (IsNativeAvailable ? "native " + NativeIsa : "native (unavailable)") : "managed " + ManagedIsa;

        /// <summary>The concrete backend for one call; throws if native is asked for and missing.</summary>
        internal static KlBackendKind Resolve(KlBackendKind requested)
        {
            switch (requested)
            {
                case KlBackendKind.Auto:
                    if (State.Active == KlBackendKind.Native && !State.NativeAvailable)
                        throw Error.NativeUnavailable(State.NativeError!);
                    return State.Active;
                case KlBackendKind.Native:
                    if (!State.NativeAvailable) throw Error.NativeUnavailable(State.NativeError!);
                    return KlBackendKind.Native;
                default: return KlBackendKind.Managed;
            }
        }

        /// <summary>The backend that computes one call: the one place the native-or-managed choice is made.</summary>
        internal static IKlBackend<T> Select<T>(KlBackendKind requested) where T : unmanaged =>
            Resolve(requested) == KlBackendKind.Native ? NativeBackend<T>.Instance : ManagedBackend<T>.Instance;

        /// <summary>
        /// The choice itself, separate from the probing so tests can feed it a failed load:
        /// (backend, reason) for a requested selection ("auto", "native", "managed" or null).
        /// explicitLibrary: NATIVEKL_LIBRARY names the library, so Auto does not fall back.
        /// </summary>
        internal static (KlBackendKind Backend, string Reason) Choose(string? requested, bool nativeAvailable, string? nativeError,
                                                                     bool explicitLibrary = false)
        {
            switch ((requested ?? "auto").Trim().ToLowerInvariant())
            {
                case "managed":
                    return (KlBackendKind.Managed, $"{SelectionVariable}=managed");
                case "native":
                    return (KlBackendKind.Native, nativeAvailable
                        ? $"{SelectionVariable}=native"
                        : $"{SelectionVariable}=native, but the library is unavailable (calls will throw): {nativeError}");
                case "auto":
                case "":
                    if (nativeAvailable)
                        return (KlBackendKind.Native, explicitLibrary
                            ? $"auto: the native library loaded, from {NativeLibraryLoader.PathVariable}"
                            : "auto: the native library loaded");
                    return explicitLibrary
                        ? (KlBackendKind.Native, $"auto: {NativeLibraryLoader.PathVariable} names the native library, and it is unavailable, "
                            + "so calls on the Auto and Native backends throw rather than run another: " + nativeError)
                        : (KlBackendKind.Managed, "auto: the native library is unavailable, so the managed backend runs: " + nativeError);
                default:
                    return (KlBackendKind.Managed,
                        $"{SelectionVariable}={requested} is not auto, native or managed; using the managed backend");
            }
        }

        /// <summary>Probes the native library: loads it, checks its version and a constant against this build's.</summary>
        internal static (bool Available, string? Error, string? Version) ProbeNative()
        {
            string? explicitPath = NativeLibraryLoader.ExplicitPath;
            // Loaded here, before any P/Invoke: the runtime's own search would find the bundled copy.
            if (explicitPath != null && !NativeLibraryLoader.UseExplicit(explicitPath, out string? loadError))
                return (false, loadError, null);
            string Unusable(string detail) =>
                explicitPath != null ? NativeLibraryLoader.ExplicitUnusable(explicitPath, detail) : detail;
            try
            {
                uint version = NativeLibraryInfo.Version();
                string versionString = NativeLibraryInfo.VersionString();
                if (version != (uint)NativeMethods.NKL_VERSION)
                    return (false, Unusable($"the library is version {versionString}, but this assembly was generated for {NativeMethods.NKL_VERSION_STRING}"), versionString);
                if (NativeLibraryInfo.ChunkCount(NativeMethods.NKL_CHUNK_ELEMENTS + 1) != 2)
                    return (false, Unusable("the library's chunk size differs from NKL_CHUNK_ELEMENTS"), versionString);
                return (true, null, versionString);
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException || e is BadImageFormatException)
            {
                return (false, explicitPath != null ? Unusable("it is not libnativekl: " + e.Message.TrimEnd('.'))
                    : NativeLibraryLoader.DescribeMissing(NativeLibraryLoader.CandidatePaths(NativeLibraryLoader.AssemblyDirectory), e.Message), null);
            }
        }

        private static class State
        {
            internal static readonly bool NativeAvailable;
            internal static readonly string? NativeError;
            internal static readonly string? NativeVersion;
            internal static readonly KlBackendKind Active;
            internal static readonly string Reason;

            static State()
            {
                (NativeAvailable, NativeError, NativeVersion) = ProbeNative();
                (Active, Reason) = Choose(Environment.GetEnvironmentVariable(SelectionVariable), NativeAvailable, NativeError,
                    NativeLibraryLoader.ExplicitPath != null);
            }
        }
    }
}
