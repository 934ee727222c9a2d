using System.Runtime.CompilerServices;

namespace NativeKl.Tests;

/// <summary>NativeBuffer: aligned, pinned memory that the GC keeps alive while a span of it exists.</summary>
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
    public void Forgotten_buffers_are_reclaimed()
    {
        // A stress run: 16 MiB per round, never disposed (640 MiB in all); the GC must take it all back.
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

    private readonly record struct Three(byte A, byte B, byte C);

    [Fact]
    public unsafe void Every_element_size_is_aligned_and_the_pointer_is_the_span()
    {
        Check<byte>(); Check<short>(); Check<float>(); Check<double>(); Check<decimal>(); Check<Guid>(); Check<Three>();

        static void Check<T>() where T : unmanaged
        {
            for (int n = 0; n < 70; n += 23)
            {
                using var b = new NativeBuffer<T>(n);
                IntPtr p = b.DangerousGetPointer();
                Assert.Equal(0, (long)p % NativeBuffer<T>.Alignment);
                Assert.Equal(n, b.Span.Length);
                fixed (T* s = b.Span) if (n > 0) Assert.Equal(p, (IntPtr)s);
                Assert.All(b.Span.ToArray(), v => Assert.Equal(default, v));
            }
        }
    }

    [Fact]
    public void A_length_beyond_one_buffer_names_length()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new NativeBuffer<decimal>(int.MaxValue));
        Assert.Equal("length", e.ParamName);
        Assert.Contains("2147483647 elements of 16 bytes", e.Message);
    }

    // Issue 14, item 1: once Span has returned, nothing but the span refers to the buffer. The old
    // NativeBuffer's finaliser then freed native memory the span still showed (glibc wrote its free
    // list into it, and a call running on it crashed). Now the span keeps the memory alive.
    [Fact]
    public void A_span_outlives_a_forgotten_buffer()
    {
        Span<float> span = Forgotten(4096);
        Collect();
        Churn();
        for (int i = 0; i < span.Length; i++) Assert.Equal(-1 - i % 7, span[i]);
        Assert.Equal(KlDivergence.Sum(Pattern(4096), Probabilities(4096)), KlDivergence.Sum(span, Probabilities(4096)));

        [MethodImpl(MethodImplOptions.NoInlining)]
        static Span<float> Forgotten(int n)
        {
            var b = new NativeBuffer<float>(n);
            Pattern(n).CopyTo(b.Span);
            return b.Span;
        }
    }

    // The same after an explicit Dispose on another thread's behalf: the span taken before keeps
    // its memory and contents (the old Dispose freed it at once).
    [Fact]
    public void A_span_taken_before_Dispose_keeps_its_memory()
    {
        var b = new NativeBuffer<float>(4096);
        Span<float> span = b.Span;
        Pattern(4096).CopyTo(span);
        b.Dispose();
        Collect();
        Churn();
        Assert.Equal(Pattern(4096), span.ToArray());
    }

    // Issue 14, item 2: the issue's own code. The old lease released the SafeHandle once per
    // Dispose, so the second one freed the buffer while IsDisposed was false and Span still gave
    // the (freed, soon reused) memory; Acquire then threw ObjectDisposedException.
    [Fact]
    public void Disposing_a_lease_twice_leaves_the_buffer_alive()
    {
        var b = new NativeBuffer<float>(4096);
        Pattern(4096).CopyTo(b.Span);
        using (var lease = b.Acquire())
        {
            Assert.Equal(Pattern(4096), lease.Span.ToArray());
            lease.Dispose();
        }
        Churn();
        Assert.False(b.IsDisposed);
        Assert.Equal(Pattern(4096), b.Span.ToArray());
        using var again = b.Acquire();
        Assert.Equal(Pattern(4096), again.Span.ToArray());
        b.Dispose();
    }

    [Fact]
    public void Disposing_copies_of_a_lease_is_harmless()
    {
        var b = new NativeBuffer<double>(4096);
        b.Span.Fill(-2.5);
        var lease = b.Acquire();
        var copy = lease;
        copy.Dispose();
        copy.Dispose();
        lease.Dispose();
        var another = copy;
        another.Dispose();
        Churn();
        Assert.False(b.IsDisposed);
        Assert.All(b.Span.ToArray(), v => Assert.Equal(-2.5, v));
        Assert.All(lease.Span.ToArray(), v => Assert.Equal(-2.5, v));
        using (var fresh = b.Acquire()) Assert.Equal(4096, fresh.Span.Length);
        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { using var refused = b.Acquire(); });
    }

    // The documented exception, not the old NullReferenceException.
    [Fact]
    public void A_default_lease_throws_InvalidOperationException()
    {
        var e = Assert.Throws<InvalidOperationException>(() => { var lease = default(NativeBuffer<float>.Lease); _ = lease.Span; });
        Assert.Contains("default(Lease)", e.Message);
        default(NativeBuffer<float>.Lease).Dispose(); // harmless
    }

    private static float[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (float)(-1 - i % 7)).ToArray();

    private static float[] Probabilities(int n) => Enumerable.Range(0, n).Select(i => 0.001f * (i % 13)).ToArray();

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    // Allocations of the size just given back, in both heaps, so that freed memory gets reused.
    private static void Churn()
    {
        for (int k = 0; k < 32; k++)
        {
            using var other = new NativeBuffer<float>(4096);
            other.Span.Fill(123f);
            var array = new float[4096];
            array.AsSpan().Fill(456f);
            GC.KeepAlive(array);
        }
    }
}
