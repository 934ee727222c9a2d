using System;

namespace NativeKl
{
    /// <summary>
    /// PyTorch's <c>reduction</c> argument by name: how the pointwise terms L_i (or, in
    /// <see cref="Distillation"/>, the row losses) are reduced. <see cref="Distillation"/> takes it
    /// as is, because its [rows, columns] shape gives the batch; <see cref="KlDivergence"/> works on
    /// flat spans and takes a <see cref="KlReduction"/>, which carries the batch size of BatchMean.
    /// </summary>
    public enum KlReductionKind
    {
        /// <summary>One value per element (or row), L_i: reduction='none'.</summary>
        None = 0,
        /// <summary>The sum of L_i: reduction='sum'.</summary>
        Sum = 1,
        /// <summary>The sum divided by the element count: reduction='mean', PyTorch's default, not the KL of a batch.</summary>
        Mean = 2,
        /// <summary>The sum divided by the batch size (the size of dimension 0): reduction='batchmean', the KL per sample.</summary>
        BatchMean = 3,
    }

    /// <summary>
    /// The reduction of a <see cref="KlDivergence"/> call over flat spans: <see cref="Sum"/>,
    /// <see cref="Mean"/>, or <see cref="BatchMean(int)"/>, which needs the batch size (a span has no
    /// dimension 0 to take it from), so that forgetting it does not compile. <c>default</c> is
    /// <see cref="Mean"/>, PyTorch's default. Reduction 'none' is not a value of this type: it is
    /// <see cref="KlDivergence.Pointwise(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, KlOptions, int)"/>
    /// and <see cref="KlDivergence.PointwiseBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float}, float, KlOptions, int)"/>.
    /// </summary>
    public readonly struct KlReduction : IEquatable<KlReduction>
    {
        // None (0) is never a reduction here, so the zero value stands for Mean: default(KlReduction) is Mean.
        private readonly KlReductionKind _kind;
        private readonly int _batchSize;

        private KlReduction(KlReductionKind kind, int batchSize)
        {
            _kind = kind;
            _batchSize = batchSize;
        }

        /// <summary>The sum of the pointwise terms: reduction='sum'.</summary>
        public static KlReduction Sum => new KlReduction(KlReductionKind.Sum, 0);

        /// <summary>The sum divided by the element count: reduction='mean', PyTorch's default (and <c>default(KlReduction)</c>); NaN for empty input.</summary>
        public static KlReduction Mean => new KlReduction(KlReductionKind.Mean, 0);

        /// <summary>
        /// The sum divided by <paramref name="batchSize"/>: reduction='batchmean', the KL per sample.
        /// The batch size is the size of dimension 0, or the row count of [rows, columns] data; the
        /// call checks that it is positive and divides the length (0 is accepted for empty input
        /// only, giving NaN as PyTorch does). For a 0-d tensor PyTorch does not divide: pass 1.
        /// </summary>
        public static KlReduction BatchMean(int batchSize) => new KlReduction(KlReductionKind.BatchMean, batchSize);

        /// <summary>Sum, Mean or BatchMean; never None.</summary>
        public KlReductionKind Kind => _kind == KlReductionKind.None ? KlReductionKind.Mean : _kind;

        /// <summary>The batch size of <see cref="BatchMean(int)"/>; 0 for the other reductions.</summary>
        public int BatchSize => _batchSize;

        /// <inheritdoc/>
        public bool Equals(KlReduction other) => Kind == other.Kind && _batchSize == other._batchSize;

        /// <inheritdoc/>
        public override bool Equals(object? obj) => obj is KlReduction other && Equals(other);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Kind, _batchSize);

        /// <summary>Equality of kind and batch size.</summary>
        public static bool operator ==(KlReduction left, KlReduction right) => left.Equals(right);

        /// <summary>Inequality of kind or batch size.</summary>
        public static bool operator !=(KlReduction left, KlReduction right) => !left.Equals(right);

        /// <summary>"Sum", "Mean" or "BatchMean(n)".</summary>
        public override string ToString() => Kind == KlReductionKind.BatchMean ? $"BatchMean({_batchSize})" : Kind.ToString();
    }

    /// <summary>Helpers for <see cref="KlReductionKind"/>.</summary>
    public static class KlReductions
    {
        /// <summary>
        /// The reduction PyTorch's deprecated <c>size_average</c>/<c>reduce</c> pair stands for,
        /// exactly as <c>torch.nn._reduction.legacy_get_enum</c> maps it: an unset (null) argument
        /// counts as true; <c>reduce</c> false gives <see cref="KlReductionKind.None"/> whatever
        /// <c>size_average</c> says; otherwise <c>size_average</c> true gives
        /// <see cref="KlReductionKind.Mean"/> and false <see cref="KlReductionKind.Sum"/>. The legacy
        /// pair never yields <see cref="KlReductionKind.BatchMean"/>.
        /// </summary>
        public static KlReductionKind FromLegacy(bool? sizeAverage, bool? reduce)
        {
            bool average = sizeAverage ?? true;
            bool reduced = reduce ?? true;
            if (average && reduced) return KlReductionKind.Mean;
            if (reduced) return KlReductionKind.Sum;
            return KlReductionKind.None;
        }
    }
}
