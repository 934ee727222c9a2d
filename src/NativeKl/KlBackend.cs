using System;
using NativeKl.Backends;
using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl
{
    /// <summary>
    /// Which backend computes calls made with <see cref="KlBackendKind.Auto"/>, and why. Chosen once,
    /// on first use: the environment variable NATIVEKL_BACKEND (auto, native or managed) if set,
    /// otherwise native when libnativekl loads and passes its self-check, managed if not.
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
        /// The instruction set the native backend runs by default ("avx2", "scalar"); null when the
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

        /// <summary>The instruction set the managed backend runs ("avx2" on .NET 8+ x64 with AVX2+FMA, else "scalar").</summary>
        public static string ManagedIsa => ManagedKl.UsesAvx2 ? "avx2" : "scalar";

        /// <summary>The ISA of the active backend, e.g. "native avx2" or "managed scalar".</summary>
        public static string ActiveDescription =>
            Active == KlBackendKind.Native ? "native " + NativeIsa : "managed " + ManagedIsa;

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
        /// </summary>
        internal static (KlBackendKind Backend, string Reason) Choose(string? requested, bool nativeAvailable, string? nativeError)
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
                    return nativeAvailable
                        ? (KlBackendKind.Native, "auto: the native library loaded")
                        : (KlBackendKind.Managed, "auto: the native library is unavailable, so the managed backend runs: " + nativeError);
                default:
                    return (KlBackendKind.Managed,
                        $"{SelectionVariable}={requested} is not auto, native or managed; using the managed backend");
            }
        }

        /// <summary>Probes the native library: loads it, checks its version and a constant against this build's.</summary>
        internal static (bool Available, string? Error, string? Version) ProbeNative()
        {
            string? explicitPath = Environment.GetEnvironmentVariable(NativeLibraryLoader.PathVariable);
            if (!string.IsNullOrEmpty(explicitPath) && !System.IO.File.Exists(explicitPath))
                return (false, NativeLibraryLoader.DescribeMissing(NativeLibraryLoader.CandidatePaths(NativeLibraryLoader.AssemblyDirectory),
                    $"{NativeLibraryLoader.PathVariable} names no file"), null);
            try
            {
                uint version = NativeLibraryInfo.Version();
                string versionString = NativeLibraryInfo.VersionString();
                if (version != (uint)NativeMethods.NKL_VERSION)
                    return (false, $"the library is version {versionString}, but this assembly was generated for {NativeMethods.NKL_VERSION_STRING}", versionString);
                if (NativeLibraryInfo.ChunkCount(NativeMethods.NKL_CHUNK_ELEMENTS + 1) != 2)
                    return (false, "the library's chunk size differs from NKL_CHUNK_ELEMENTS", versionString);
                return (true, null, versionString);
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException || e is BadImageFormatException)
            {
                return (false, NativeLibraryLoader.DescribeMissing(NativeLibraryLoader.CandidatePaths(NativeLibraryLoader.AssemblyDirectory), e.Message), null);
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
                (Active, Reason) = Choose(Environment.GetEnvironmentVariable(SelectionVariable), NativeAvailable, NativeError);
            }
        }
    }
}
