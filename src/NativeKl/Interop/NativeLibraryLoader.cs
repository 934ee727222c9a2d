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
    /// layout), then the runtime's own search (deps.json, LD_LIBRARY_PATH). The environment
    /// variable NATIVEKL_LIBRARY, if set, names the only file to load (a name that is no file makes
    /// the native backend unavailable, which is how the managed fallback is exercised). On net8.0 a
    /// DllImport resolver does this; on netstandard2.0 the host's default probing applies.
    /// </summary>
    internal static class NativeLibraryLoader
    {
        internal const string PathVariable = "NATIVEKL_LIBRARY";

        internal static string FileName =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? NativeMethods.LibraryName + ".dll"
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

#if NET8_0_OR_GREATER
        [ModuleInitializer]
        [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The resolver must be set before the first P/Invoke.")]
        internal static void Register() =>
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (name != NativeMethods.LibraryName) return IntPtr.Zero;
            foreach (string path in CandidatePaths(AssemblyDirectory))
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out IntPtr handle))
                    return handle;
            return NativeLibrary.TryLoad(name, assembly, searchPath, out IntPtr fallback) ? fallback : IntPtr.Zero;
        }
#endif
    }
}
