using System;
using System.Runtime.InteropServices;

namespace NativeKl.Interop
{
    /// <summary>Owns one block from nkl_alloc; releasing it (Dispose or finalisation) calls nkl_free.</summary>
    internal sealed class NativeMemoryHandle : SafeHandle
    {
        private long _size;

        private NativeMemoryHandle() : base(IntPtr.Zero, ownsHandle: true) { }

        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Allocates <paramref name="size"/> bytes aligned to <paramref name="alignment"/>.</summary>
        internal static unsafe NativeMemoryHandle Allocate(nuint size, nuint alignment)
        {
            var memory = new NativeMemoryHandle();
            void* p;
            NativeChecked.nkl_alloc(size, alignment, &p);
            memory.SetHandle((IntPtr)p);
            // Tell the GC what a forgotten buffer holds, so finalisation keeps up with large ones.
            memory._size = (long)size;
            if (memory._size > 0) GC.AddMemoryPressure(memory._size);
            return memory;
        }

        protected override unsafe bool ReleaseHandle()
        {
            NativeMethods.nkl_free((void*)handle);
            if (_size > 0) GC.RemoveMemoryPressure(_size);
            return true;
        }
    }
}
