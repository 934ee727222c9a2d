using System;
using System.Threading;

namespace NativeKl
{
    /// <summary>
    /// A block of <typeparamref name="T"/>, aligned to <see cref="Alignment"/> bytes and zero-filled,
    /// in pinned managed memory (on .NET 5+ the pinned object heap; on netstandard2.0 an array held
    /// by a pinned handle until Dispose): it does not move, so its address can be shared with other
    /// native code (<see cref="DangerousGetPointer"/>). It does not need the native library.
    /// <para>
    /// The memory is the GC's: a span from <see cref="Span"/> keeps it alive for as long as the span
    /// exists, so <c>KlDivergence.Sum(new NativeBuffer&lt;float&gt;(n).Span, t)</c>, without
    /// <c>using</c>, is safe, and so is a span in use on one thread while another thread disposes the
    /// buffer (the span keeps the memory; later calls to the buffer throw
    /// <see cref="ObjectDisposedException"/>). Dispose unpins the memory and gives it back to the GC,
    /// which reclaims it once no span refers to it; a forgotten buffer is reclaimed the same way.
    /// </para>
    /// <para>
    /// Limits: up to 2^31 − 1 elements and, in one buffer, about 16 GiB (net8.0 build: an array of
    /// 8-byte words) or 2 GiB (netstandard2.0 build: a byte array).
    /// </para>
    /// </summary>
    public sealed class NativeBuffer<T> : IDisposable where T : unmanaged
    {
        /// <summary>The alignment of the first element, in bytes (suits every kernel).</summary>
        public const int Alignment = 64;

        // Null once disposed. Spans refer to the array inside, never to this object.
        private PinnedMemory? _memory;

        /// <summary>Allocates <paramref name="length"/> zero-filled elements.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative, or its bytes exceed what one buffer holds (see the limits above).</exception>
        /// <exception cref="OutOfMemoryException">The runtime cannot allocate the memory.</exception>
        public unsafe NativeBuffer(int length)
        {
            if (length < 0) throw Error.BufferLength(length);
            _memory = PinnedMemory.Allocate(length, sizeof(T));
            Length = length;
        }

        /// <summary>The number of elements.</summary>
        public int Length { get; }

        /// <summary>Whether <see cref="Dispose"/> has run.</summary>
        public bool IsDisposed => Volatile.Read(ref _memory) == null;

        /// <summary>
        /// The elements. The span keeps the memory alive by itself: it stays valid (and keeps its
        /// contents) after the buffer is disposed or forgotten, until the span itself is gone.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public Span<T> Span => Memory().Span<T>(Length);

        /// <summary>The elements, as <see cref="Span"/>.</summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public Span<T> AsSpan() => Span;

        /// <summary>
        /// The address of the first element (a multiple of <see cref="Alignment"/>), for other native
        /// code. Unlike a span, an address does not keep the memory alive: it is valid until
        /// <see cref="Dispose"/>, and only while the buffer is reachable (keep a reference, or call
        /// <see cref="GC.KeepAlive"/> on the buffer after the native code is done with it).
        /// </summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public IntPtr DangerousGetPointer() => Memory().Address;

        /// <summary>
        /// A lease on the memory: <see cref="Lease.Span"/> is the same span as <see cref="Span"/>. Kept
        /// for compatibility: a span from <see cref="Span"/> is now just as safe against a racing
        /// <see cref="Dispose"/>, so a lease is no longer needed. A lease taken before Dispose keeps
        /// giving the memory afterwards; disposing a lease does nothing, so disposing it twice, or
        /// disposing a copy, is harmless.
        /// <c>using (var lease = buffer.Acquire()) KlDivergence.Sum(lease.Span, ...);</c>
        /// </summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public Lease Acquire() => new Lease(Memory(), Length);

        /// <summary>
        /// Unpins the memory and leaves it to the GC, which reclaims it once no span of it is left;
        /// later calls to the buffer (<see cref="Span"/>, <see cref="AsSpan"/>,
        /// <see cref="DangerousGetPointer"/>, <see cref="Acquire"/>) throw
        /// <see cref="ObjectDisposedException"/>. Spans and leases taken before stay valid. Calling it
        /// again does nothing.
        /// </summary>
        public void Dispose() => Interlocked.Exchange(ref _memory, null)?.Unpin();

        private PinnedMemory Memory() => Volatile.Read(ref _memory) ?? throw Error.Disposed(nameof(NativeBuffer<T>));

        /// <summary>A lease from <see cref="Acquire"/>: a value that gives the buffer's memory.</summary>
        public readonly ref struct Lease
        {
            private readonly PinnedMemory? _memory;
            private readonly int _length;

            internal Lease(PinnedMemory memory, int length)
            {
                _memory = memory;
                _length = length;
            }

            /// <summary>The elements (valid as long as the span is used, like <see cref="NativeBuffer{T}.Span"/>).</summary>
            /// <exception cref="InvalidOperationException">This lease is <c>default(Lease)</c>, not one from <see cref="Acquire"/>.</exception>
            public Span<T> Span => (_memory ?? throw Error.DefaultLease(nameof(NativeBuffer<T>))).Span<T>(_length);

            /// <summary>Does nothing: the memory needs no release (the GC keeps it while a span of it exists). Safe to call twice and on copies.</summary>
            public void Dispose() { }
        }
    }
}
