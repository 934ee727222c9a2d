namespace NativeKl.Cli;

/// <summary>Bad input or a bad command line: printed as one line on stderr, exit code 2.</summary>
internal sealed class CliError(string message) : Exception(message)
{
    internal const int ExitCode = 2;
}
