using System;
using NativeKl.Interop;

namespace NativeKl
{
    /// <summary>
    /// A block of <typeparamref name="T"/> in native memory from the C core's allocator, aligned to
    /// <see cref="Alignment"/> bytes and zero-filled: memory the GC never moves, so it needs no
    /// pinning and can be shared with other native code. Every KlDivergence call takes it through
    /// <see cref="Span"/>. A SafeHandle owns the memory: Dispose frees it, and so does
    /// finalisation if Dispose is forgotten. A span obtained before Dispose must not be used after it.
    /// </summary>
    public sealed class NativeBuffer<T> : IDisposable where T : unmanaged
    {
        /// <summary>The alignment of the first element, in bytes (suits every kernel).</summary>
        public const int Alignment = 64;

        private readonly NativeMemoryHandle _memory;

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
        public bool IsDisposed => _memory.IsClosed;

        /// <summary>The elements.</summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public unsafe Span<T> Span
        {
            get
            {
                if (_memory.IsClosed) throw Error.Disposed(nameof(NativeBuffer<T>));
                return new Span<T>((void*)_memory.DangerousGetHandle(), Length);
            }
        }

        /// <summary>The elements, as <see cref="Span"/>.</summary>
        public Span<T> AsSpan() => Span;

        /// <summary>The address of the first element, for other native code; valid until Dispose.</summary>
        /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
        public IntPtr DangerousGetPointer()
        {
            if (_memory.IsClosed) throw Error.Disposed(nameof(NativeBuffer<T>));
            return _memory.DangerousGetHandle();
        }

        /// <summary>Frees the memory; later calls to the buffer throw <see cref="ObjectDisposedException"/>.</summary>
        public void Dispose() => _memory.Dispose();
    }
}
