using System.Runtime.InteropServices;

namespace NativeKl.Cli;

/// <summary>
/// `--output FILE`: checked before any work (extension, folder, not a folder, not an input), then
/// written to a temporary file beside the file it replaces, flushed to disk and renamed over it,
/// so FILE is either the old file or the whole new one. An existing file keeps its permission
/// bits; a symbolic link is followed (the file it points to is replaced, in its own folder, so the
/// rename stays on one file system) and kept. Errors name FILE, never the temporary file.
/// </summary>
internal sealed class OutputFile
{
    /// <summary>Set (to anything) by the tests: pause with the temporary file written, until stdin gives a line or ends.</summary>
    internal const string PauseVariable = "NATIVEKL_TEST_PAUSE_BEFORE_RENAME";

    private readonly string _path;        // as given: every message names it
    private readonly string _destination; // the file replaced: the full path, or a symbolic link's final target
    private readonly bool _csv;

    private OutputFile(string path, string destination, bool csv) => (_path, _destination, _csv) = (path, destination, csv);

    /// <summary>A <see cref="CliError"/> for an output that cannot or must not be written: <paramref name="inputs"/> are (option, path) pairs.</summary>
    internal static OutputFile Prepare(string path, params (string Option, string Path)[] inputs)
    {
        bool csv = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".npy" => false,
            ".csv" or ".txt" => true,
            _ => throw new CliError($"--output {path}: the extension must be .npy or .csv"),
        };
        string destination = Path.GetFullPath(path);
        try
        {
            if (new FileInfo(destination).LinkTarget != null && File.ResolveLinkTarget(destination, returnFinalTarget: true) is { } target)
                destination = target.FullName;
        }
        catch (IOException e)
        {
            throw new CliError($"--output {path}: {e.Message}"); // a loop of links
        }
        if (Directory.Exists(destination)) throw new CliError($"--output {path} is a directory");
        string directory = Path.GetDirectoryName(destination)!;
        if (!Directory.Exists(directory)) throw new CliError($"--output {path}: directory '{directory}' not found");
        if (File.Exists(destination))
        {
            foreach (var (option, input) in inputs)
                if (FileIdentity.Same(destination, input))
                    throw new CliError($"--output {path} is the same file as {option} {input}: refusing to overwrite an input");
        }
        return new OutputFile(path, destination, csv);
    }

    internal void Write(Tensor tensor)
    {
        string directory = Path.GetDirectoryName(_destination)!;
        UnixFileMode? mode = !OperatingSystem.IsWindows() && File.Exists(_destination) ? File.GetUnixFileMode(_destination) : null;
        string? temporary = null;
        try
        {
            using (var stream = CreateTemporary(directory, Path.GetFileName(_destination), mode, out temporary))
            {
                if (_csv) Csv.Write(stream, tensor);
                else Npy.Write(stream, tensor);
                stream.Flush(flushToDisk: true);
            }
            // The creation mode went through the umask; the old file's bits are restored exactly.
            if (mode is { } m && !OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, m);
            if (Environment.GetEnvironmentVariable(PauseVariable) != null)
            {
                Console.Error.WriteLine($"nativekl: paused before the rename ({PauseVariable}): {temporary}");
                Console.In.ReadLine();
            }
            File.Move(temporary, _destination, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = temporary != null ? e.Message.Replace(temporary, _destination) : e.Message;
            throw new CliError($"--output {_path}: {reason}");
        }
        finally
        {
            if (temporary != null)
            {
                TemporaryFile.Forget(temporary);
                try { File.Delete(temporary); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>
    /// A new file ".NAME.PID-RANDOM.tmp" beside the output (NAME cut to 64 characters, so a name
    /// the file system accepts stays accepted), created exclusively (never through a planted link),
    /// with the old file's permission bits, and deleted on Ctrl-C, SIGTERM, SIGHUP or SIGQUIT.
    /// </summary>
    private static FileStream CreateTemporary(string directory, string name, UnixFileMode? mode, out string temporary)
    {
        string stem = name.Length <= 64 ? name : name[..64];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Delete };
        const UnixFileMode permissions = (UnixFileMode)0x1FF; // rwxrwxrwx: the bits creation takes
        if (mode is { } m && !OperatingSystem.IsWindows()) options.UnixCreateMode = m & permissions;
        for (int attempt = 0; ; attempt++)
        {
            temporary = Path.Combine(directory, $".{stem}.{Environment.ProcessId}-{Random.Shared.Next():x8}.tmp");
            TemporaryFile.Watch(temporary);
            try
            {
                return new FileStream(temporary, options);
            }
            catch (IOException) when (attempt < 8 && File.Exists(temporary))
            {
                TemporaryFile.Forget(temporary); // someone else's: try another name
            }
            catch
            {
                TemporaryFile.Forget(temporary);
                throw;
            }
        }
    }

    /// <summary>The temporary file of this process, deleted if a signal ends it before the rename.</summary>
    private static class TemporaryFile
    {
        private static string? _current;
        private static List<PosixSignalRegistration>? _registrations;

        internal static void Watch(string path)
        {
            _registrations ??= Register();
            Volatile.Write(ref _current, path);
        }

        internal static void Forget(string path) => Interlocked.CompareExchange(ref _current, null, path);

        private static List<PosixSignalRegistration> Register()
        {
            var registrations = new List<PosixSignalRegistration>();
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            {
                try
                {
                    // Cancel stays false: once the file is gone, the signal ends the process as it would have.
                    registrations.Add(PosixSignalRegistration.Create(signal, _ => Delete()));
                }
                catch (PlatformNotSupportedException)
                {
                }
            }
            return registrations;
        }

        private static void Delete()
        {
            if (Interlocked.Exchange(ref _current, null) is { } path)
                try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
