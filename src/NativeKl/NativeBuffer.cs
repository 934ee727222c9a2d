using System;
using NativeKl.Interop;

namespace NativeKl
{
    /// <summary>
    /// A block of <typeparamref name="T"/> in native memory from the C core's allocator, aligned to
    /// <see cref="Alignment"/> bytes and zero-filled: memory the GC never moves, so it needs no
    /// pinning and can be shared with other native code. Every KlDivergence call takes it through
    /// <see cref="Span"/>. A SafeHandle owns the memory: Dispose frees it, and so does
    /// finalisation if Dispose is forgotten. A span obtained from <see cref="Span"/> before Dispose must
    /// not be used after it; where another thread may dispose the buffer, take the span from
    /// <see cref="Acquire"/> instead, which keeps the memory alive until the lease ends.
    /// </summary>
    public sealed class NativeBuffer<T> : IDisposable where T : unmanaged
    {
        /// <summary>The alignment of the first element, in bytes (suits every kernel).</summary>
        public const int Alignment = 64;

        private readonly NativeMemoryHandle _memory;

        // Set by Dispose at once: the handle itself reports closed only when its last lease ends.
        private volatile bool _disposed;

        /// <summary>Allocates <paramref name="length"/> elements; needs the native library.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
        /// <exception cref="DllNotFoundException">The native library is unavailable.</exception>
        public unsafe NativeBuffer(int length)
        {
            if (length < 0) throw Error.BufferLength(length);
            if (!KlBackend.IsNativeAvailable) throw Error.NativeUnavailable(KlBackend.NativeLoadError!);
            _memory = NativeMemoryHandle.Allocate((nuint)length * (nuint)sizeof(T), Alignment);
            Length = length;
            Span.Clear();
        }

        /// <summary>The number of elements.</summary>
        public int Length { get; }

        /// <summary>Whether <see cref="Dispose"/> has run.</summary>
        public bool IsDisposed => _disposed;

        /// <summary>The elements.</summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public unsafe Span<T> Span
        {
            get
            {
                if (_disposed) throw Error.Disposed(nameof(NativeBuffer<T>));
                return new Span<T>((void*)_memory.DangerousGetHandle(), Length);
            }
        }

        /// <summary>The elements, as <see cref="Span"/>.</summary>
        public Span<T> AsSpan() => Span;

        /// <summary>The address of the first element, for other native code; valid until Dispose.</summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public IntPtr DangerousGetPointer()
        {
            if (_disposed) throw Error.Disposed(nameof(NativeBuffer<T>));
            return _memory.DangerousGetHandle();
        }

        /// <summary>
        /// A lease on the memory, for code that may race with <see cref="Dispose"/> on another thread:
        /// while a lease is open the memory stays allocated, so its <see cref="Lease.Span"/> is always
        /// valid. Dispose during a lease marks the buffer disposed at once (later Span and Acquire
        /// calls throw <see cref="ObjectDisposedException"/>) and frees the memory when the last lease
        /// ends. <c>using (var lease = buffer.Acquire()) KlDivergence.Sum(lease.Span, ...);</c>
        /// </summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public Lease Acquire()
        {
            if (_disposed) throw Error.Disposed(nameof(NativeBuffer<T>));
            bool added = false;
            try
            {
                _memory.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                throw Error.Disposed(nameof(NativeBuffer<T>));
            }
            return new Lease(_memory, Length);
        }

        /// <summary>Frees the memory (after the last open <see cref="Lease"/>); later calls to the buffer throw <see cref="ObjectDisposedException"/>.</summary>
        public void Dispose()
        {
            _disposed = true;
            _memory.Dispose();
        }

        /// <summary>An open lease from <see cref="Acquire"/>: the memory stays allocated until <see cref="Dispose"/>.</summary>
        public readonly ref struct Lease
        {
            private readonly NativeMemoryHandle _memory;
            private readonly int _length;

            internal Lease(NativeMemoryHandle memory, int length)
            {
                _memory = memory;
                _length = length;
            }

            /// <summary>The elements; valid until this lease is disposed.</summary>
            public unsafe Span<T> Span => new Span<T>((void*)_memory.DangerousGetHandle(), _length);

            /// <summary>Ends the lease (once: a lease is a value, so do not dispose copies of it).</summary>
            public void Dispose() => _memory?.DangerousRelease();
        }
    }
}
