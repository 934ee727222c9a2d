using System.Runtime.InteropServices;

namespace NativeKl
{
    /// <summary>
    /// One chunk's compensated sum of pointwise terms, the layout of the C <c>nkl_partial</c>: what
    /// <see cref="KlDivergence.Partials(System.ReadOnlySpan{float}, System.ReadOnlySpan{float}, int, System.Span{KlPartial}, KlOptions)"/>
    /// and <see cref="KlDivergence.BackwardPartials(System.ReadOnlySpan{float}, System.ReadOnlySpan{float}, int, System.Span{float}, System.Span{float}, System.Span{KlPartial}, KlReduction, float, KlOptions)"/>
    /// write, one per chunk, and <see cref="KlDivergence.Finish(System.ReadOnlySpan{KlPartial}, int, KlReduction)"/>
    /// combines. Treat it as opaque: its bits are the same on every backend and ISA, and only
    /// Finish gives them a meaning (a NaN field is the positive quiet NaN).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct KlPartial
    {
        /// <summary>Sum of the chunk's terms ...</summary>
        public double Sum;
        /// <summary>... plus this rounding-error correction.</summary>
        public double Compensation;
    }
}
