// The leak check of NativeBuffer<T> and of the C# layer's native calls (run.sh runs it, against
// both builds of the library: tests/NativeKl.LeakCheck.NetStandard is the netstandard2.0 twin).
// A NativeBuffer's memory is a pinned managed array: nothing native to free, but memory that must
// go back to the GC, which a pinning handle never freed (the netstandard2.0 build pins with a
// GCHandle that Dispose or a finaliser frees) would prevent for ever. So the program churns
// buffers, disposed once, twice, used after Dispose, leased (and leases disposed twice) and
// abandoned to the GC, with KL calls on them through the native backend, and then checks:
//   - managed: after collection the GC heap is back within 16 MiB of where it started, though
//     the abandoned buffers alone held far more (exit 4 if not);
//   - native: run.sh runs it under LeakSanitizer against an ASan build of the C core and fails on
//     any leak with a frame in libnativekl (and on any ASan error in a native call from C#).
// Positive controls, each of which must fail:
//   --leak-one     pins one abandoned 64 MiB buffer's array with a handle nobody frees;
//   --leak-native  allocates one block with nkl_alloc (the C API) and never frees it.
using NativeKl;

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

#if NKL_NETSTANDARD_BUILD
const string Library = "netstandard2.0";
#else
const string Library = "net8.0";
#endif
const long LimitBytes = 16L << 20;
int rounds = args.Length > 0 && int.TryParse(args[0], out int r) ? r : 20_000;
bool leakOne = args.Contains("--leak-one");
bool leakNative = args.Contains("--leak-native");
if (KlBackend.Active != KlBackendKind.Native)
{
    Console.Error.WriteLine($"the native library did not load: {KlBackend.ActiveReason}");
    return 2;
}

Stress(100); // warm-up: the code, the GC's own structures
long before = HeapAfterCollection();
var (checksum, abandoned) = Stress(rounds);

var disposed = new NativeBuffer<float>(16);
disposed.Dispose();
disposed.Dispose(); // twice is fine
try { _ = disposed.Span; return 3; } catch (ObjectDisposedException) { }
try { using var lease = disposed.Acquire(); return 3; } catch (ObjectDisposedException) { }

if (leakOne) abandoned += PinAndAbandon(64 << 20);
if (leakNative) LeakNativeBlock();

long after = HeapAfterCollection();
long grown = after - before;
Console.WriteLine($"{Library} build: {rounds} rounds, checksum {checksum:R}; {abandoned >> 20} MiB in abandoned buffers; " +
                  $"the GC heap after collection {(grown >= 0 ? "grew" : "shrank")} by {Math.Abs(grown) / 1048576.0:F1} MiB (limit {LimitBytes >> 20} MiB)");
if (grown > LimitBytes)
{
    Console.Error.WriteLine($"{Library} build: abandoned NativeBuffers were not reclaimed: the heap holds {grown >> 20} MiB more than before");
    return 4;
}
return 0;

static long HeapAfterCollection()
{
    for (int i = 0; i < 3; i++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
    return GC.GetTotalMemory(forceFullCollection: true);
}

// In its own frame, so that no stack slot of Main keeps an abandoned buffer alive past the GC.
[MethodImpl(MethodImplOptions.NoInlining)]
static (double Checksum, long Abandoned) Stress(int rounds)
{
    double checksum = 0;
    long abandoned = 0;
    var native = new KlOptions { Backend = KlBackendKind.Native };
    for (int i = 0; i < rounds; i++)
    {
        int n = 1 + i % 3000;
        using var x = new NativeBuffer<float>(n);
        using var t = new NativeBuffer<float>(n);
        x.Span.Fill(-1.5f);
        t.Span.Fill(0.25f);
        checksum += KlDivergence.Sum(x.Span, t.Span, native);
        using var d = new NativeBuffer<double>(n);
        KlDivergence.Pointwise(x.Span, t.Span, x.Span, native);
        using (var lease = t.Acquire())
        {
            checksum += KlDivergence.Sum(x.Span, lease.Span, native);
            lease.Dispose(); // and again at the end of the block
        }
        if (i % 2 == 0) d.Dispose(); // and again by `using`
        if (i % 20 == 0)
        {
            // abandoned: only the GC (and, in the netstandard2.0 build, a finaliser) gives it back
            var lost = new NativeBuffer<double>(32 << 10);
            lost.Span[0] = i;
            abandoned += 32 << 13;
        }
    }
    return (checksum, abandoned);
}

// The positive control of the managed check: what a pinning handle that is never freed does.
[MethodImpl(MethodImplOptions.NoInlining)]
static long PinAndAbandon(int bytes)
{
    var buffer = new NativeBuffer<byte>(bytes);
    object memory = typeof(NativeBuffer<byte>).GetField("_memory", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(buffer)!;
    var array = (Array)memory.GetType().GetProperty("Array", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(memory)!;
    GCHandle.Alloc(array, GCHandleType.Pinned); // never freed
    return bytes;
}

// The positive control of the native check: one nkl_alloc block that is never freed.
static unsafe void LeakNativeBlock()
{
    string path = Environment.GetEnvironmentVariable("NATIVEKL_LIBRARY")
        ?? Path.Combine(AppContext.BaseDirectory, "libnativekl.so");
    var alloc = (delegate* unmanaged[Cdecl]<nuint, nuint, void**, uint>)NativeLibrary.GetExport(NativeLibrary.Load(path), "nkl_alloc");
    void* p;
    if (alloc(1000, 64, &p) != 0) throw new InvalidOperationException("nkl_alloc failed");
}
