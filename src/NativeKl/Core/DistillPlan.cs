namespace NativeKl.Core
{
    /// <summary>
    /// A validated <see cref="Distillation"/> call: the shape with strides resolved, and every
    /// quantity derived from the options computed once, under one name each.
    /// </summary>
    internal readonly struct DistillPlan
    {
        public readonly int Rows, Columns, StudentStride, TeacherStride;
        /// <summary>Elements the rows span: (rows − 1) × stride + columns, or 0 for no data.</summary>
        public readonly int StudentExtent, TeacherExtent;
        public readonly KlReductionKind Reduction;
        public readonly double Temperature;
        /// <summary>
        /// What a logit is multiplied by, in the data's type: 1/T for float64; log2(e)/T rounded to
        /// float for float32, whose kernels work in base 2 (native/src/internal.h).
        /// </summary>
        public readonly double LogitScale;
        /// <summary>T² with <see cref="DistillationOptions.MultiplyLossByTemperatureSquared"/>, else 1: the factor of every loss and gradient.</summary>
        public readonly double LossScale;
        /// <summary>What the reduced sum is divided by: 1 (None, Sum), the kept rows (BatchMean), kept rows × columns (Mean).</summary>
        public readonly double Divisor;
        public readonly bool TeacherLogProbabilities, MultiplyLossByTemperatureSquared;
        public readonly KlIsa Isa;

        internal DistillPlan(int rows, int columns, int studentStride, int teacherStride, int studentExtent, int teacherExtent,
                             KlReductionKind reduction, double logitScale, long keptRows, DistillationOptions options)
        {
            Rows = rows;
            Columns = columns;
            StudentStride = studentStride;
            TeacherStride = teacherStride;
            StudentExtent = studentExtent;
            TeacherExtent = teacherExtent;
            Reduction = reduction;
            Temperature = options.Temperature;
            LogitScale = logitScale;
            MultiplyLossByTemperatureSquared = options.MultiplyLossByTemperatureSquared;
            LossScale = MultiplyLossByTemperatureSquared ? Temperature * Temperature : 1.0;
            Divisor = reduction switch
            {
                KlReductionKind.Mean => (double)keptRows * columns,
                KlReductionKind.BatchMean => keptRows,
                _ => 1.0,
            };
            TeacherLogProbabilities = options.Teacher == TeacherKind.LogProbabilitiesAsGiven;
            Isa = options.Isa;
        }

        private DistillPlan(in DistillPlan whole, int rows)
        {
            this = whole;
            Rows = rows;
            StudentExtent = rows == 0 || Columns == 0 ? 0 : (rows - 1) * StudentStride + Columns;
            TeacherExtent = rows == 0 || Columns == 0 ? 0 : (rows - 1) * TeacherStride + Columns;
        }

        /// <summary>
        /// The per-row plan (reduction None) of a block of this call's rows: a row's loss and
        /// gradients do not depend on the other rows, so a block computes the whole call's bits.
        /// </summary>
        internal DistillPlan RowBlock(int rows) => new DistillPlan(this, rows);
    }
}
