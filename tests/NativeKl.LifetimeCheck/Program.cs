// The lifetime check of NativeBuffer (issue 14, item 1): the natural code
//     var b = new NativeBuffer<float>(n);   // no `using`
//     x.CopyTo(b.Span);
//     float s = KlDivergence.Sum(b.Span, t);
// in a loop, while a background thread forces full collections. Once `Span` has returned nothing
// but the span refers to the buffer, so a collection during the call may finalise it: the
// buffer's memory must stay valid as long as a span of it exists. Each call's result is compared
// bit for bit with the same call on plain arrays; a wrong result exits 1, a crash kills the
// process (SIGSEGV: exit 139 from the shell). Exit 0: clean.
//   NativeKl.LifetimeCheck [seconds]   (default 5)
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using NativeKl;

double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5.0;
#if NKL_NETSTANDARD_BUILD
const string Library = "netstandard2.0";
#else
const string Library = "net8.0";
#endif
string runtime = RuntimeFeature.IsDynamicCodeSupported
    ? $"CoreCLR, tiered compilation {(AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool tiered) && !tiered || Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "0" ? "off" : "on")}"
    : "NativeAOT";
if (!KlBackend.IsNativeAvailable)
{
    Console.Error.WriteLine($"lifetime check: the native library did not load: {KlBackend.NativeLoadError}");
    return 2;
}

const int Big = 1 << 20, Small = 4096;
var rng = new Random(14);
var x = new float[Big];
var t = new float[Big];
var xd = new double[Big];
var td = new double[Big];
for (int i = 0; i < Big; i++)
{
    xd[i] = -0.01 - 8 * rng.NextDouble();       // log-probabilities
    td[i] = rng.NextDouble() * (2.0 / Big);     // probabilities
    x[i] = (float)xd[i];
    t[i] = (float)td[i];
}
var cases = new List<(string Name, Func<ulong> Run, ulong Expected)>();
foreach (var backend in new[] { KlBackendKind.Native, KlBackendKind.Managed })
{
    var o = new KlOptions { Backend = backend };
    foreach (int n in new[] { Big, Small })
    {
        cases.Add(($"{backend} Sum, float, n={n}", () => Bits(Forgotten.Sum(x, t, n, o)),
                   Bits(KlDivergence.Sum(x.AsSpan(0, n), t.AsSpan(0, n), o))));
        cases.Add(($"{backend} Sum, double, n={n}", () => Bits(Forgotten.Sum(xd, td, n, o)),
                   Bits(KlDivergence.Sum(xd.AsSpan(0, n), td.AsSpan(0, n), o))));
        var expected = new float[n];
        KlDivergence.Pointwise(x.AsSpan(0, n), t.AsSpan(0, n), expected, o);
        cases.Add(($"{backend} Pointwise into a forgotten buffer, float, n={n}", () => Forgotten.Pointwise(x, t, n, o),
                   Forgotten.Hash(expected)));
    }
}

bool stop = false;
var collector = new Thread(() =>
{
    // Bursts of back-to-back collections, then a millisecond's rest, so that the calls also get on
    // (on two shared cores, collections without a pause starved them to a few dozen a second).
    for (long k = 1; !Volatile.Read(ref stop); k++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (k % 4 == 0) Thread.Sleep(1);
    }
}) { IsBackground = true };
int gen2Before = GC.CollectionCount(2);
var clock = Stopwatch.StartNew();
collector.Start();
long calls = 0;
while (clock.Elapsed.TotalSeconds < seconds)
{
    foreach (var (name, run, want) in cases)
    {
        ulong got = run();
        calls++;
        if (got != want)
        {
            Volatile.Write(ref stop, true);
            Console.Error.WriteLine($"lifetime check ({Library} build, {runtime}): {name} gave 0x{got:X16}, want 0x{want:X16} " +
                                    $"(call {calls:N0}, {clock.Elapsed.TotalSeconds:F2} s): the buffer's memory changed under the call");
            return 1;
        }
    }
}
Volatile.Write(ref stop, true);
collector.Join();
Console.WriteLine($"lifetime check ({Library} build, {runtime}): {calls:N0} calls on forgotten buffers in {clock.Elapsed.TotalSeconds:F1} s " +
                  $"under {GC.CollectionCount(2) - gen2Before:N0} forced full collections; every result exact");
return 0;

static ulong Bits(double v) => (ulong)BitConverter.DoubleToInt64Bits(v);

// Each case in a frame of its own, so that nothing but the spans keeps a buffer alive.
static class Forgotten
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Sum(float[] x, float[] t, int n, KlOptions o)
    {
        var b = new NativeBuffer<float>(n);
        x.AsSpan(0, n).CopyTo(b.Span);
        return KlDivergence.Sum(b.Span, t.AsSpan(0, n), o);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double Sum(double[] x, double[] t, int n, KlOptions o)
    {
        var b = new NativeBuffer<double>(n);
        x.AsSpan(0, n).CopyTo(b.Span);
        return KlDivergence.Sum(b.Span, t.AsSpan(0, n), o);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Pointwise(float[] x, float[] t, int n, KlOptions o)
    {
        var b = new NativeBuffer<float>(n);
        x.AsSpan(0, n).CopyTo(b.Span);
        Span<float> destination = new NativeBuffer<float>(n).Span;
        KlDivergence.Pointwise(b.Span, t.AsSpan(0, n), destination, o);
        GC.Collect(0); // a collection between the call and the read of its result
        return Hash(destination);
    }

    public static ulong Hash(ReadOnlySpan<float> values)
    {
        ulong h = 0xcbf29ce484222325ul;
        foreach (float v in values) h = (h ^ (uint)BitConverter.SingleToInt32Bits(v)) * 0x100000001b3ul;
        return h;
    }
}
