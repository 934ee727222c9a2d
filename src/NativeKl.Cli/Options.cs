namespace NativeKl.Cli;

/// <summary>
/// The options after a command: `--name value` for the names in <c>valued</c>, `--name` alone for
/// those in <c>flags</c>. Anything else, or an option given twice, is a <see cref="CliError"/>.
/// </summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new();
    private readonly HashSet<string> _flags = new();

    internal static Options Parse(string command, IReadOnlyList<string> args, string[] valued, string[]? flags = null)
    {
        var options = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (flags != null && flags.Contains(name))
            {
                if (!options._flags.Add(name)) throw new CliError($"{name} given twice");
            }
            else if (valued.Contains(name))
            {
                if (i + 1 >= args.Count) throw new CliError($"{name} needs a value");
                if (!options._values.TryAdd(name, args[++i])) throw new CliError($"{name} given twice");
            }
            else
            {
                string known = string.Join(", ", valued.Concat(flags ?? Array.Empty<string>()));
                throw new CliError($"{command}: unknown argument '{name}'" + (known.Length > 0 ? $" (options: {known})" : ""));
            }
        }
        return options;
    }

    internal bool Has(string flag) => _flags.Contains(flag);

    internal string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    internal string Required(string name) => Get(name) ?? throw new CliError($"{name} is required");

    /// <summary>The value of <paramref name="name"/>, one of <paramref name="choices"/> (without case); the default when absent.</summary>
    internal T Choice<T>(string name, IReadOnlyDictionary<string, T> choices, T fallback)
    {
        string? value = Get(name);
        if (value is null) return fallback;
        foreach (var (key, choice) in choices)
            if (string.Equals(key, value, StringComparison.OrdinalIgnoreCase)) return choice;
        throw new CliError($"{name} {value}: expected {string.Join(", ", choices.Keys)}");
    }
}
