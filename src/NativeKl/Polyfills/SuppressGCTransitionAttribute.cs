#if !NET5_0_OR_GREATER
namespace System.Runtime.InteropServices
{
    // netstandard2.0 lacks the attribute the generated *_short imports carry. CoreCLR (.NET 5+)
    // recognises it by name, so the netstandard2.0 build skips the transition there too: with it,
    // GC.Collect waited 312 ms for another thread's 320 ms memset, as with the real attribute
    // (306 ms), and 0 ms without. .NET Framework and Mono ignore it and keep the transition.
    [AttributeUsage(AttributeTargets.Method, Inherited = false)]
    internal sealed class SuppressGCTransitionAttribute : Attribute { }
}
#endif
