namespace NativeKl.Tests;

/// <summary>NativeBuffer: aligned native memory owned by a SafeHandle.</summary>
public class NativeBufferTests
{
    [Fact]
    public void Is_aligned_zeroed_and_usable_by_every_call()
    {
        using var x = new NativeBuffer<float>(1000);
        using var t = new NativeBuffer<float>(1000);
        using var d = new NativeBuffer<float>(1000);
        Assert.Equal(0, (long)x.DangerousGetPointer() % NativeBuffer<float>.Alignment);
        Assert.All(x.Span.ToArray(), v => Assert.Equal(0f, v));
        for (int i = 0; i < 1000; i++) { x.Span[i] = -1 - i % 7; t.Span[i] = 0.001f * (i % 13); }
        float[] xa = x.Span.ToArray(), ta = t.Span.ToArray();
        Assert.Equal(KlDivergence.Sum(xa, ta), KlDivergence.Sum(x.Span, t.Span));
        KlDivergence.Pointwise(x.Span, t.Span, d.Span);
        var expected = new float[1000];
        KlDivergence.Pointwise(xa, ta, expected);
        Assert.Equal(expected, d.Span.ToArray());
    }

    [Fact]
    public void Use_after_dispose_throws_ObjectDisposedException()
    {
        var b = new NativeBuffer<double>(16);
        Assert.False(b.IsDisposed);
        b.Dispose();
        Assert.True(b.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => { _ = b.Span; });
        Assert.Throws<ObjectDisposedException>(() => { _ = b.AsSpan(); });
        Assert.Throws<ObjectDisposedException>(() => b.DangerousGetPointer());
        b.Dispose(); // twice is harmless
        Assert.Equal(16, b.Length);
    }

    [Fact]
    public void Zero_length_is_valid()
    {
        using var b = new NativeBuffer<float>(0);
        Assert.Equal(0, b.Span.Length);
        Assert.Equal(0f, KlDivergence.Sum(b.Span, b.Span));
    }

    [Fact]
    public void Forgotten_buffers_are_freed_by_finalisation()
    {
        // A stress run: 16 MiB per round, never disposed; the finalizers must return it all.
        for (int round = 0; round < 40; round++) Allocate();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var b = new NativeBuffer<byte>(1 << 20);
        Assert.Equal(1 << 20, b.Length);

        static void Allocate()
        {
            var leaked = new NativeBuffer<byte>(16 << 20);
            leaked.Span[0] = 1;
        }
    }
}
