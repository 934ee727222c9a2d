using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace NativeKl
{
    /// <summary>
    /// The memory of a <see cref="NativeBuffer{T}"/>: a managed array that does not move, with its
    /// first <see cref="NativeBuffer{T}.Alignment"/>-byte boundary at <see cref="ByteOffset"/>.
    /// </summary>
    /// <remarks>
    /// Why a managed array and not native memory: every span handed out is built from the array
    /// (a managed reference into it, never a bare pointer), so the GC itself keeps the array alive
    /// for as long as any span, lease or stack slot still refers to it, whatever happened to the
    /// NativeBuffer. No finaliser and no Dispose can free memory a span still shows, so the natural
    /// <c>KlDivergence.Sum(new NativeBuffer&lt;float&gt;(n).Span, t)</c> is safe while a collection
    /// runs during the call. (Before, a SafeHandle's finaliser freed native memory under such a
    /// call once nothing but the span, which the GC does not see, referred to it.)
    /// <para>
    /// .NET 5+ (the net8.0 build): the array is on the pinned object heap, which never moves an
    /// object, so the aligned start found once stays aligned and its address stays valid while the
    /// array lives. Nothing to release: once unreachable, the GC reclaims it.
    /// </para>
    /// <para>
    /// netstandard2.0: a byte array held by a pinned GCHandle. The span over it comes from
    /// <c>new Span&lt;byte&gt;(array, offset, length)</c> cast to the element type, which keeps
    /// the array itself (System.Memory's portable span holds the object and an offset), not a
    /// pointer. The handle is freed by <see cref="Unpin"/> (NativeBuffer.Dispose) or by the
    /// finaliser of this object, exactly once. Unpinning while spans still exist is harmless: the
    /// array becomes movable, and the spans follow it when it moves (they hold the object, not an
    /// address). The native backend never keeps an address beyond a call: each call takes its
    /// pointers inside <c>fixed</c> over the spans, which pins the array for the call's duration
    /// whatever the handle's state, and the managed backend reads through the spans. What a move
    /// can change is only the alignment of an old span (the kernels give the same bits at any
    /// alignment) and the address from <see cref="NativeBuffer{T}.DangerousGetPointer"/>, which is
    /// documented as valid only until Dispose and while the buffer is reachable.
    /// </para>
    /// </remarks>
    internal sealed class PinnedMemory
    {
#if NET5_0_OR_GREATER
        // The largest array of 8-byte words: with the alignment slack, up to ~16 GiB of elements.
        private const long MaxBytes = (long)0x7FFFFFC7 * sizeof(ulong) - (Alignment - 1);
        private readonly ulong[] _words;
#else
        // The largest byte array (.NET Framework without gcAllowVeryLargeObjects allows 2 GiB per object).
        private const long MaxBytes = 0x7FFFFFC7 - (Alignment - 1);
        private readonly byte[] _bytes;
        private IntPtr _pin; // GCHandle.ToIntPtr of the pinning handle; zero once freed
#endif
        private const int Alignment = 64; // NativeBuffer<T>.Alignment

        /// <summary>Bytes from the array's first element to the first aligned byte.</summary>
        internal readonly int ByteOffset;

        /// <summary>The aligned address (stable while the array is pinned).</summary>
        internal readonly IntPtr Address;

        /// <summary>Zero-filled, aligned memory for <paramref name="length"/> elements of <paramref name="elementSize"/> bytes.</summary>
        /// <exception cref="ArgumentOutOfRangeException">More bytes than one array holds (names `length`).</exception>
        internal static PinnedMemory Allocate(int length, int elementSize)
        {
            long bytes = (long)length * elementSize;
            if (bytes > MaxBytes) throw Error.BufferTooLarge(length, elementSize, MaxBytes);
            return new PinnedMemory(bytes);
        }

        private unsafe PinnedMemory(long bytes)
        {
#if NET5_0_OR_GREATER
            // Zeroed by the GC; on the pinned object heap, so the address below never changes.
            _words = GC.AllocateArray<ulong>(checked((int)((bytes + Alignment - 1 + sizeof(ulong) - 1) / sizeof(ulong))), pinned: true);
            byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_words));
#else
            _bytes = new byte[checked((int)(bytes + Alignment - 1))];
            var handle = GCHandle.Alloc(_bytes, GCHandleType.Pinned);
            _pin = GCHandle.ToIntPtr(handle);
            byte* start = (byte*)handle.AddrOfPinnedObject();
#endif
            ByteOffset = (int)((Alignment - ((nuint)start & (Alignment - 1))) & (Alignment - 1));
            Address = (IntPtr)(start + ByteOffset);
        }

        /// <summary>
        /// <paramref name="length"/> elements from the aligned start, as a span that refers to the
        /// array itself, so that the GC keeps the array alive while the span exists.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal unsafe Span<T> Span<T>(int length) where T : unmanaged
        {
#if NET5_0_OR_GREATER
            ref byte first = ref Unsafe.Add(ref Unsafe.As<ulong, byte>(ref MemoryMarshal.GetArrayDataReference(_words)), ByteOffset);
            return MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref first), length);
#else
            return MemoryMarshal.Cast<byte, T>(new Span<byte>(_bytes, ByteOffset, length * sizeof(T)));
#endif
        }

        /// <summary>The array that holds the memory (for the leak check's positive control and tests).</summary>
#if NET5_0_OR_GREATER
        internal Array Array => _words;
#else
        internal Array Array => _bytes;
#endif

        /// <summary>Lets the GC move the array again; no-op after the first call, and on .NET 5+.</summary>
        internal void Unpin()
        {
#if !NET5_0_OR_GREATER
            IntPtr pin = Interlocked.Exchange(ref _pin, IntPtr.Zero);
            if (pin != IntPtr.Zero)
            {
                GCHandle.FromIntPtr(pin).Free();
                GC.SuppressFinalize(this);
            }
#endif
        }

#if !NET5_0_OR_GREATER
        // A forgotten buffer: the pinned handle would otherwise keep the array for ever.
        ~PinnedMemory() => Unpin();
#endif
    }
}
