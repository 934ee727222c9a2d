namespace NativeKl.Core
{
    /// <summary>
    /// A validated <see cref="KlDivergence"/> call: the semantics and the reduction, with the
    /// divisor computed once (as native/src/api.c's divisor(): the managed backend and the parallel
    /// path divide by it exactly as the C core does, so the bits agree).
    /// </summary>
    internal readonly struct KlPlan
    {
        /// <summary>Elements of input (and target).</summary>
        public readonly int Length;
        public readonly KlReduction Reduction;
        /// <summary>The batch of BatchMean; 0 for every other reduction.</summary>
        public readonly int BatchSize;
        /// <summary>What the sum is divided by, in double: 1 (None, Sum), Length (Mean), BatchSize (BatchMean).</summary>
        public readonly double Divisor;
        public readonly bool LogTarget, Masked;
        public readonly KlIsa Isa;

        internal KlPlan(int length, KlReduction reduction, int batchSize, KlOptions options)
        {
            Length = length;
            Reduction = reduction;
            BatchSize = reduction == KlReduction.BatchMean ? batchSize : 0;
            Divisor = reduction switch
            {
                KlReduction.Mean => length,
                KlReduction.BatchMean => batchSize,
                _ => 1.0,
            };
            LogTarget = options.LogTarget;
            Masked = options.Masked;
            Isa = options.Isa;
        }
    }
}
