namespace NativeKl.Benchmarks.Report;

/// <summary>Where the speed-target tables go: benchmarks/results/targets.md, its inputs beside it, and docs/benchmarks.md.</summary>
internal static class TargetsFiles
{
    public static int Write(string resultsDirectory, string root)
    {
        if (!Directory.Exists(resultsDirectory))
        {
            Console.Error.WriteLine($"targets: no BenchmarkDotNet results folder '{resultsDirectory}'");
            return 2;
        }
        string outDir = Path.Combine(root, "benchmarks", "results");
        string inputs = Path.Combine(outDir, "targets");
        Directory.CreateDirectory(inputs);
        // Regenerating from the committed inputs (after a change to this tool) reads them where they are.
        bool inPlace = Path.GetFullPath(resultsDirectory).TrimEnd('/', '\\') == Path.GetFullPath(inputs).TrimEnd('/', '\\');
        // The inputs of the page, and only this run's: a class that did not run leaves no stale export behind.
        if (!inPlace)
            foreach (string old in Directory.GetFiles(inputs, "*.csv")) File.Delete(old);

        var exports = new Dictionary<string, List<BdnRow>?>(StringComparer.Ordinal);
        foreach (string name in Targets.Classes)
        {
            string? path = BdnCsv.FindExport(resultsDirectory, name);
            exports[name] = path is null ? null : BdnCsv.Load(path);
            if (path is not null && !inPlace) File.Copy(path, Path.Combine(inputs, Path.GetFileName(path)), overwrite: true);
            Console.WriteLine($"targets: {name}: {(path is null ? "not in this run" : $"{exports[name]!.Count} cases")}");
        }
        string runInfo = Path.Combine(resultsDirectory, "run-info.txt");
        if (File.Exists(runInfo) && !inPlace) File.Copy(runInfo, Path.Combine(inputs, "run-info.txt"), overwrite: true);
        string machine = RunConditions.Load(runInfo).Line;

        string page = Targets.Page(exports, machine);
        File.WriteAllText(Path.Combine(outDir, "targets.md"), "# Speed targets: small calls, parallel speed-up, distillation\n\n" + page);
        string docs = Path.Combine(root, "docs", "benchmarks.md");
        bool written = DocsSection.Replace(docs, "targets-results", page);
        Console.WriteLine($"wrote {Path.Combine(outDir, "targets.md")}, {inputs}/" + (written ? $", and the section of {docs}" : $" ({docs} has no targets-results markers)"));
        return 0;
    }
}

/// <summary>A generated section of a Markdown page, between <c>&lt;!-- NAME: begin ... --&gt;</c> and <c>&lt;!-- NAME: end --&gt;</c>.</summary>
internal static class DocsSection
{
    /// <summary>Replaces what stands between the markers; false (the page untouched) when they are not there.</summary>
    public static bool Replace(string page, string name, string section)
    {
        string text = File.Exists(page) ? File.ReadAllText(page) : "";
        string begin = $"<!-- {name}: begin", end = $"<!-- {name}: end -->";
        int b = text.IndexOf(begin, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        if (b < 0 || e < b) return false;
        int afterBegin = text.IndexOf("-->", b, StringComparison.Ordinal) + 3;
        File.WriteAllText(page, text[..afterBegin] + "\n" + section + text[e..]);
        return true;
    }
}
