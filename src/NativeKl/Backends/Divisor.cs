namespace NativeKl.Backends
{
    /// <summary>
    /// What a reduced sum is divided by, in double, as native/src/api.c's divisor(): the managed
    /// backend and the parallel path apply it the same way the C core does, so the bits agree.
    /// </summary>
    internal static class Divisor
    {
        internal static double Of(KlReduction reduction, int length, int batchSize) => reduction switch
        {
            KlReduction.Mean => length,
            KlReduction.BatchMean => batchSize,
            _ => 1.0,
        };
    }
}
