using System.Runtime.InteropServices;
using System.Text;

namespace NativeKl.Cli;

/// <summary>
/// Whether two paths name the same file, however spelt. Linux (x64, arm64): the same device and
/// inode from stat(2), so hard links, symbolic links and every spelling of a path are seen
/// through. Windows: the same volume serial number and file index (GetFileInformationByHandle).
/// Elsewhere, or where those calls fail: the same full path once every symbolic link in it is
/// resolved (hard links are not seen there). Both paths must name existing files.
/// </summary>
internal static unsafe class FileIdentity
{
    internal static bool Same(string a, string b)
    {
        if (Id(a) is { } idA && Id(b) is { } idB) return idA == idB;
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(RealPath(a), RealPath(b), comparison);
    }

    /// <summary>(device, inode) or (volume, file index) of the file at <paramref name="path"/>, links followed; null where unknown.</summary>
    internal static (ulong Device, ulong File)? Id(string path)
    {
        try
        {
            if (OperatingSystem.IsLinux()) return LinuxId(Path.GetFullPath(path));
            if (OperatingSystem.IsWindows()) return WindowsId(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EntryPointNotFoundException or DllNotFoundException)
        {
        }
        return null;
    }

    /// <summary>The full path with every symbolic link in it resolved (at most 40 in a chain, as Linux allows).</summary>
    internal static string RealPath(string path, int hops = 0)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        string? parent = Path.GetDirectoryName(full);
        if (parent == null) return full; // a root
        string candidate = Path.Combine(RealPath(parent, hops), Path.GetFileName(full));
        if (hops < 40 && new FileInfo(candidate).LinkTarget is { } target)
            return RealPath(Path.GetFullPath(target, Path.GetDirectoryName(candidate)!), hops + 1);
        return candidate;
    }

    // ---------------------------------------------------------------- Linux

    /// <summary>
    /// libc's stat (glibc 2.33+, musl), or glibc's older __xstat with its version argument. Only
    /// st_dev and st_ino are read: the first two 8-byte fields of struct stat on x86-64 and on
    /// arm64 (glibc and musl alike); other architectures use the path.
    /// </summary>
    private static class Libc
    {
        internal static readonly IntPtr Stat, XStat;
        internal static readonly int XStatVersion;

        static Libc()
        {
            if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)) return;
            var handles = new List<IntPtr> { NativeLibrary.GetMainProgramHandle() };
            if (NativeLibrary.TryLoad("libc.so.6", out IntPtr libc)) handles.Add(libc);
            foreach (IntPtr handle in handles)
            {
                if (NativeLibrary.TryGetExport(handle, "stat", out Stat)) return;
                if (NativeLibrary.TryGetExport(handle, "__xstat", out XStat))
                {
                    XStatVersion = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 1 : 0; // _STAT_VER
                    return;
                }
            }
        }
    }

    private static (ulong, ulong)? LinuxId(string path)
    {
        if (Libc.Stat == IntPtr.Zero && Libc.XStat == IntPtr.Zero) return null;
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        byte* buffer = stackalloc byte[512]; // struct stat: 144 bytes on x86-64, 128 on arm64
        int rc;
        fixed (byte* p = name)
        {
            rc = Libc.Stat != IntPtr.Zero
                ? ((delegate* unmanaged<byte*, byte*, int>)Libc.Stat)(p, buffer)
                : ((delegate* unmanaged<int, byte*, byte*, int>)Libc.XStat)(Libc.XStatVersion, p, buffer);
        }
        return rc == 0 ? (*(ulong*)buffer, *(ulong*)(buffer + 8)) : null;
    }

    // -------------------------------------------------------------- Windows

    private static (ulong, ulong)? WindowsId(string path)
    {
        if (!NativeLibrary.TryLoad("kernel32.dll", out IntPtr kernel32)
            || !NativeLibrary.TryGetExport(kernel32, "GetFileInformationByHandle", out IntPtr function))
            return null;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        // BY_HANDLE_FILE_INFORMATION: dwVolumeSerialNumber at 28, nFileIndexHigh at 44, nFileIndexLow at 48.
        byte* info = stackalloc byte[52];
        int ok = ((delegate* unmanaged[Stdcall]<IntPtr, byte*, int>)function)(handle.DangerousGetHandle(), info);
        if (ok == 0) return null;
        return (*(uint*)(info + 28), ((ulong)*(uint*)(info + 44) << 32) | *(uint*)(info + 48));
    }
}
