// Exercises the owner of native memory, NativeBuffer<T>: disposed explicitly, disposed twice,
// used after Dispose, and abandoned to the finalizer; with KL calls on native buffers.
// run.sh runs it under LeakSanitizer and fails if any leak was allocated by nkl_alloc.
using NativeKl;

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

int rounds = args.Length > 0 ? int.Parse(args[0]) : 20_000;
bool leakOne = args.Contains("--leak-one"); // the positive control: run.sh --leak-one must fail
if (KlBackend.Active != KlBackendKind.Native)
{
    Console.Error.WriteLine($"the native library did not load: {KlBackend.ActiveReason}");
    return 2;
}

double checksum = Stress(rounds);

var disposed = new NativeBuffer<float>(16);
disposed.Dispose();
disposed.Dispose(); // twice is fine
try { _ = disposed.Span; return 3; } catch (ObjectDisposedException) { }

if (leakOne)
{
    // Drop one buffer's handle without releasing it, so that exactly one nkl_alloc block leaks.
    var leaked = new NativeBuffer<float>(1000);
    var handle = (SafeHandle)typeof(NativeBuffer<float>).GetField("_memory", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(leaked)!;
    handle.SetHandleAsInvalid();
    GC.SuppressFinalize(leaked);
}

GC.Collect();
GC.WaitForPendingFinalizers();
GC.Collect();
Console.WriteLine($"{rounds} rounds, checksum {checksum:R}");
return 0;

// In its own frame, so that no stack slot of Main keeps an abandoned buffer alive past the GC.
[MethodImpl(MethodImplOptions.NoInlining)]
static double Stress(int rounds)
{
    double checksum = 0;
    for (int i = 0; i < rounds; i++)
    {
        int n = 1 + i % 3000;
        using var x = new NativeBuffer<float>(n);
        using var t = new NativeBuffer<float>(n);
        x.Span.Fill(-1.5f);
        t.Span.Fill(0.25f);
        checksum += KlDivergence.Sum(x.Span, t.Span);
        using var d = new NativeBuffer<double>(n);
        KlDivergence.Pointwise(x.Span, t.Span, x.Span);
        if (i % 4 == 0) _ = new NativeBuffer<double>(n); // abandoned: the finalizer frees it
    }
    return checksum;
}
