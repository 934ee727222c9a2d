using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NativeKl.Interop
{
    /// <summary>
    /// Finds libnativekl: beside this assembly, then under runtimes/&lt;rid&gt;/native/ (the NuGet
    /// layout), then the runtime's own search (deps.json, LD_LIBRARY_PATH). On net8.0 a DllImport
    /// resolver does this; on netstandard2.0 the host's default probing applies.
    /// <para>
    /// The environment variable NATIVEKL_LIBRARY, if set, names the only file to load: whoever sets
    /// it tests that build. If the file is missing, is not a shared library (or not this process's
    /// architecture) or is not libnativekl, nothing else is loaded: the native backend is
    /// unavailable with the reason (naming NATIVEKL_LIBRARY and the loader's error), Auto stays
    /// native, and every call that needs the native library throws DllNotFoundException — no
    /// fallback to the bundled copy or to the managed backend (NATIVEKL_BACKEND=managed still
    /// selects managed). netstandard2.0 honours it through System.Runtime.InteropServices.NativeLibrary
    /// where the runtime has it (.NET Core 3.0 and later); elsewhere (.NET Framework, Mono) a set
    /// NATIVEKL_LIBRARY makes the native backend unavailable, saying so.
    /// </para>
    /// </summary>
    internal static class NativeLibraryLoader
    {
        internal const string PathVariable = "NATIVEKL_LIBRARY";

        /// <summary>The file NATIVEKL_LIBRARY names, or null when it is not set (or empty).</summary>
        internal static string? ExplicitPath =>
            Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? path : null;

        private static readonly object Gate = new object();
        private static bool _explicitTried;
        private static IntPtr _explicitHandle;
        private static string? _explicitError;

        /// <summary>
        /// Loads the file NATIVEKL_LIBRARY names (once per process) and makes it the library every
        /// P/Invoke of this assembly binds to. False, with the reason in one line, if it cannot be
        /// loaded; then nothing else is loaded either.
        /// </summary>
        internal static bool UseExplicit(string path, out string? error)
        {
            lock (Gate)
            {
                if (!_explicitTried)
                {
                    _explicitTried = true;
                    if (TryLoad(path, out _explicitHandle, out _explicitError))
                    {
#if !NET8_0_OR_GREATER
                        if (!RegisterResolver(out string? why))
                        {
                            _explicitHandle = IntPtr.Zero;
                            _explicitError = ExplicitError(path, why);
                        }
#endif
                    }
                }
                error = _explicitError;
                return _explicitHandle != IntPtr.Zero;
            }
        }

        /// <summary>Loads one file as a native library: its handle, or false and why not (one line, naming NATIVEKL_LIBRARY).</summary>
        internal static bool TryLoad(string path, out IntPtr handle, out string? error)
        {
            handle = IntPtr.Zero;
            string full;
            try { full = Path.GetFullPath(path); }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
            {
                error = ExplicitError(path, e.Message);
                return false;
            }
            if (!File.Exists(full))
            {
                error = ExplicitError(path, Directory.Exists(full) ? "it is a folder" : "there is no such file");
                return false;
            }
            try
            {
#if NET8_0_OR_GREATER
                handle = NativeLibrary.Load(full);
#else
                if (NativeLibraryApi == null)
                {
                    error = ExplicitError(path, $"this runtime ({RuntimeInformation.FrameworkDescription}) has no "
                        + "System.Runtime.InteropServices.NativeLibrary to load a given file with");
                    return false;
                }
                handle = (IntPtr)NativeLibraryApi.GetMethod("Load", new[] { typeof(string) })!.Invoke(null, new object[] { full })!;
#endif
                error = null;
                return true;
            }
            catch (Exception e) when (Unwrap(e) is DllNotFoundException || Unwrap(e) is BadImageFormatException)
            {
                error = ExplicitError(path, Unwrap(e).Message);
                return false;
            }
        }

        private static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

        /// <summary>The one-line reason a NATIVEKL_LIBRARY file is not used.</summary>
        internal static string ExplicitError(string path, string? detail) =>
            $"{PathVariable}={path} could not be loaded: "
            + string.Join(" ", (detail ?? "").Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries))
            + $". It names the one library to load, so neither the bundled library nor the managed backend stands in: "
            + $"correct it, or unset {PathVariable} (NATIVEKL_BACKEND=managed selects the managed backend)";

        /// <summary>Why the library NATIVEKL_LIBRARY named loaded but is not usable (wrong version), in the same words.</summary>
        internal static string ExplicitUnusable(string path, string detail) =>
            $"{PathVariable}={path} loaded, but {detail}; no other library stands in for it";

        // libnativekl.dll on Windows too: nativekl.dll would be NativeKl.dll, the managed assembly,
        // on a case-insensitive file system.
        internal static string FileName =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "lib" + NativeMethods.LibraryName + ".dll"
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "lib" + NativeMethods.LibraryName + ".dylib"
            : "lib" + NativeMethods.LibraryName + ".so";

        internal static string RuntimeIdentifier
        {
            get
            {
                string os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win"
                    : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx" : "linux";
                string arch = RuntimeInformation.ProcessArchitecture switch
                {
                    Architecture.X64 => "x64",
                    Architecture.X86 => "x86",
                    Architecture.Arm64 => "arm64",
                    Architecture.Arm => "arm",
                    var other => other.ToString().ToLowerInvariant(),
                };
                return os + "-" + arch;
            }
        }

        /// <summary>The files tried, in order, for an assembly in <paramref name="assemblyDirectory"/>.</summary>
        internal static List<string> CandidatePaths(string assemblyDirectory)
        {
            var paths = new List<string>();
            string? explicitPath = Environment.GetEnvironmentVariable(PathVariable);
            if (!string.IsNullOrEmpty(explicitPath)) return new List<string> { Path.GetFullPath(explicitPath!) };
            foreach (string dir in new[] { assemblyDirectory, AppContext.BaseDirectory })
            {
                if (string.IsNullOrEmpty(dir)) continue;
                foreach (string path in new[]
                         {
                             Path.Combine(dir, FileName),
                             Path.Combine(dir, "runtimes", RuntimeIdentifier, "native", FileName),
                         })
                {
                    string full = Path.GetFullPath(path);
                    if (!paths.Contains(full)) paths.Add(full);
                }
            }
            return paths;
        }

        /// <summary>This assembly's folder; in a single-file app (no location) the app's folder.</summary>
        internal static string AssemblyDirectory
        {
#if NET8_0_OR_GREATER
            [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty location falls back to AppContext.BaseDirectory.")]
#endif
            get
            {
                string location = typeof(NativeLibraryLoader).Assembly.Location;
                return string.IsNullOrEmpty(location) ? AppContext.BaseDirectory : Path.GetDirectoryName(location)!;
            }
        }

        /// <summary>What a user reads when the library cannot be loaded: the paths tried and how to build it.</summary>
        internal static string DescribeMissing(IEnumerable<string> tried, string? detail)
        {
            var lines = new List<string>();
            foreach (string path in tried)
                lines.Add($"  {path} ({(File.Exists(path) ? "exists but did not load" : "not found")})");
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PathVariable)))
                lines.Add("  the system search path (LD_LIBRARY_PATH, deps.json)");
            return $"{FileName} could not be loaded ({detail}). Tried:{Environment.NewLine}"
                + string.Join(Environment.NewLine, lines) + Environment.NewLine
                + $"Build it with `dotnet build src/NativeKl` (runs CMake on native/), or `cmake -S . -B build/native-Release "
                + "-DNKL_BUILD_TESTS=OFF && cmake --build build/native-Release --target nativekl`, and put "
                + $"{FileName} beside NativeKl.dll or set {PathVariable} to its path. The managed backend works without it.";
        }

#if !NET8_0_OR_GREATER
        // System.Runtime.InteropServices.NativeLibrary, where the runtime has it (.NET Core 3.0+).
        private static readonly Type? NativeLibraryApi = typeof(object).Assembly.GetType("System.Runtime.InteropServices.NativeLibrary");

        /// <summary>
        /// NativeLibrary.SetDllImportResolver(this assembly, ...), called through reflection: the
        /// netstandard2.0 build cannot name the API, but on .NET Core it is there.
        /// </summary>
        private static bool RegisterResolver(out string? why)
        {
            Type? resolverType = typeof(object).Assembly.GetType("System.Runtime.InteropServices.DllImportResolver");
            MethodInfo? set = NativeLibraryApi?.GetMethod("SetDllImportResolver");
            MethodInfo? resolve = typeof(NativeLibraryLoader).GetMethod(nameof(ResolveExplicit), BindingFlags.NonPublic | BindingFlags.Static);
            if (resolverType == null || set == null || resolve == null)
            {
                why = "this runtime has no NativeLibrary.SetDllImportResolver to bind the library with";
                return false;
            }
            try
            {
                set.Invoke(null, new object[] { typeof(NativeLibraryLoader).Assembly, Delegate.CreateDelegate(resolverType, resolve) });
                why = null;
                return true;
            }
            catch (Exception e)
            {
                why = "NativeLibrary.SetDllImportResolver failed: " + Unwrap(e).Message;
                return false;
            }
        }

        private static IntPtr ResolveExplicit(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (name != NativeMethods.LibraryName) return IntPtr.Zero;
            if (_explicitHandle != IntPtr.Zero) return _explicitHandle;
            throw new DllNotFoundException(_explicitError);
        }
#endif

#if NET8_0_OR_GREATER
        [ModuleInitializer]
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The resolver must be set before the first P/Invoke.")]
        internal static void Register() =>
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (name != NativeMethods.LibraryName) return IntPtr.Zero;
            if (ExplicitPath is { } explicitPath)
            {
                // IntPtr.Zero would let the runtime search on and find the bundled copy
                if (UseExplicit(explicitPath, out string? error)) return _explicitHandle;
                throw new DllNotFoundException(error);
            }
            foreach (string path in CandidatePaths(AssemblyDirectory))
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out IntPtr handle))
                    return handle;
            return NativeLibrary.TryLoad(name, assembly, searchPath, out IntPtr fallback) ? fallback : IntPtr.Zero;
        }
#endif
    }
}
