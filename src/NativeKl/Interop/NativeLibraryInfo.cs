namespace NativeKl.Interop
{
    /// <summary>
    /// The native library's self-description, for <see cref="KlBackend"/> and <see cref="Error"/>:
    /// outside Interop/ no code calls the bindings (a convention test holds it).
    /// </summary>
    internal static unsafe class NativeLibraryInfo
    {
        internal static uint Version() => NativeMethods.nkl_version();

        internal static string VersionString() => Error.Utf8(NativeMethods.nkl_version_string());

        internal static nkl_isa ActiveIsa() => NativeMethods.nkl_active_isa();

        internal static string IsaName(nkl_isa isa) => Error.Utf8(NativeMethods.nkl_isa_name(isa));

        internal static nuint ChunkCount(nuint length) => NativeMethods.nkl_chunk_count(length);

        internal static string StatusString(nkl_status status) => Error.Utf8(NativeMethods.nkl_status_string(status));
    }
}
