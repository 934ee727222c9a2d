using NativeKl.BindGen;

// Usage: dotnet run --project tools/NativeKl.BindGen [-- --check] [--repo <root>]
//   writes src/NativeKl/Interop/Interop.NativeKl.g.cs from native/include/nativekl.h;
//   --check writes nothing and exits 1 if the checked-in file differs.
bool check = args.Contains("--check");
int repoIndex = Array.IndexOf(args, "--repo");
string root = repoIndex >= 0 && repoIndex + 1 < args.Length ? args[repoIndex + 1] : FindRepoRoot();

string generated = Generator.Generate(root);
string output = Path.Combine(root, Generator.OutputPath);
string? current = File.Exists(output) ? File.ReadAllText(output) : null;
if (check)
{
    if (current == generated) { Console.WriteLine($"{Generator.OutputPath} is up to date"); return 0; }
    Console.Error.WriteLine($"{Generator.OutputPath} differs from what {Generator.HeaderPath} generates; run `dotnet run --project tools/NativeKl.BindGen`");
    return 1;
}
Directory.CreateDirectory(Path.GetDirectoryName(output)!);
File.WriteAllText(output, generated);
Console.WriteLine(current == generated ? $"{Generator.OutputPath} unchanged" : $"wrote {Generator.OutputPath}");
return 0;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, Generator.HeaderPath))) return dir.FullName;
    throw new InvalidOperationException($"run inside the repository (no {Generator.HeaderPath} above the current directory), or pass --repo <root>");
}
