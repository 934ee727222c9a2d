namespace NativeKl
{
    /// <summary>How the pointwise terms L_i are reduced: PyTorch's <c>reduction</c> argument.</summary>
    public enum KlReduction
    {
        /// <summary>One value per element, L_i (see <see cref="KlDivergence.Pointwise(System.ReadOnlySpan{float}, System.ReadOnlySpan{float}, System.Span{float}, KlOptions)"/>).</summary>
        None = 0,
        /// <summary>The sum of L_i.</summary>
        Sum = 1,
        /// <summary>The sum divided by the element count: PyTorch's default, not the KL of a batch.</summary>
        Mean = 2,
        /// <summary>The sum divided by the batch size (the size of dimension 0): the mathematically correct KL per sample.</summary>
        BatchMean = 3,
    }

    /// <summary>Helpers for <see cref="KlReduction"/>.</summary>
    public static class KlReductions
    {
        /// <summary>
        /// The reduction PyTorch's deprecated <c>size_average</c>/<c>reduce</c> pair stands for,
        /// exactly as <c>torch.nn._reduction.legacy_get_enum</c> maps it: an unset (null) argument
        /// counts as true; <c>reduce</c> false gives <see cref="KlReduction.None"/> whatever
        /// <c>size_average</c> says; otherwise <c>size_average</c> true gives
        /// <see cref="KlReduction.Mean"/> and false <see cref="KlReduction.Sum"/>. The legacy pair
        /// never yields <see cref="KlReduction.BatchMean"/>.
        /// </summary>
        public static KlReduction FromLegacy(bool? sizeAverage, bool? reduce)
        {
            bool average = sizeAverage ?? true;
            bool reduced = reduce ?? true;
            if (average && reduced) return KlReduction.Mean;
            if (reduced) return KlReduction.Sum;
            return KlReduction.None;
        }
    }
}
