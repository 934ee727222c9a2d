using NativeKl.BindGen;

// Usage: dotnet run --project tools/NativeKl.BindGen [-- --check] [--repo <root>]
//   writes src/NativeKl/Interop/Interop.NativeKl.g.cs from native/include/nativekl.h and
//   src/NativeKl/Managed/KlConstants.g.cs from native/src/vmath_constants.h;
//   --check writes nothing and exits 1 if either checked-in file differs.
bool check = args.Contains("--check");
int repoIndex = Array.IndexOf(args, "--repo");
string root = repoIndex >= 0 && repoIndex + 1 < args.Length ? args[repoIndex + 1] : FindRepoRoot();

var outputs = new (string Output, string Header, Func<string, string> Generate)[]
{
    (Generator.OutputPath, Generator.HeaderPath, Generator.Generate),
    (ConstantsGenerator.OutputPath, ConstantsGenerator.HeaderPath, ConstantsGenerator.Generate),
};
int status = 0;
foreach (var (outputPath, headerPath, generate) in outputs)
{
    string generated = generate(root);
    string output = Path.Combine(root, outputPath);
    string? current = File.Exists(output) ? File.ReadAllText(output) : null;
    if (check)
    {
        if (current == generated) { Console.WriteLine($"{outputPath} is up to date"); continue; }
        Console.Error.WriteLine($"{outputPath} differs from what {headerPath} generates; run `dotnet run --project tools/NativeKl.BindGen`");
        status = 1;
        continue;
    }
    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    File.WriteAllText(output, generated);
    Console.WriteLine(current == generated ? $"{outputPath} unchanged" : $"wrote {outputPath}");
}
return status;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, Generator.HeaderPath))) return dir.FullName;
    throw new InvalidOperationException($"run inside the repository (no {Generator.HeaderPath} above the current directory), or pass --repo <root>");
}
