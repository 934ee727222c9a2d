using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl.Backends
{
    /// <summary>
    /// The layer over the generated P/Invokes: arguments are already validated, and every status
    /// goes through the generated <see cref="NativeChecked"/> wrappers (<see cref="Error.Check"/>).
    /// Pointers are pinned by the caller.
    /// </summary>
    internal static unsafe class NativeBackend
    {
        internal static float Reduce(float* input, float* target, int length, KlReduction reduction, int batchSize, uint flags)
        {
            float result;
            NativeChecked.nkl_kl_div_f32(input, target, (nuint)length, (nkl_reduction)reduction,
                (nuint)batchSize, flags, &result);
            return result;
        }

        internal static double Reduce(double* input, double* target, int length, KlReduction reduction, int batchSize, uint flags)
        {
            double result;
            NativeChecked.nkl_kl_div_f64(input, target, (nuint)length, (nkl_reduction)reduction,
                (nuint)batchSize, flags, &result);
            return result;
        }

        internal static void Pointwise(float* input, float* target, int length, uint flags, float* destination) =>
            NativeChecked.nkl_kl_div_pointwise_f32(input, target, (nuint)length, flags, destination);

        internal static void Pointwise(double* input, double* target, int length, uint flags, double* destination) =>
            NativeChecked.nkl_kl_div_pointwise_f64(input, target, (nuint)length, flags, destination);

        internal static void Rows(float* input, int inputStride, float* target, int targetStride, int rows, int columns,
                                  uint flags, float* destination) =>
            NativeChecked.nkl_kl_div_rows_f32(input, (nuint)inputStride, target, (nuint)targetStride,
                (nuint)rows, (nuint)columns, flags, destination);

        internal static void Rows(double* input, int inputStride, double* target, int targetStride, int rows, int columns,
                                  uint flags, double* destination) =>
            NativeChecked.nkl_kl_div_rows_f64(input, (nuint)inputStride, target, (nuint)targetStride,
                (nuint)rows, (nuint)columns, flags, destination);

        /// <summary>
        /// nkl_kl_div_backward_f32: for None the pointwise terms go to values (may be null) and 0 is
        /// returned; otherwise the reduced value is returned.
        /// </summary>
        internal static float Backward(float* input, float* target, int length, KlReduction reduction, int batchSize, uint flags,
                                       float gradOutput, float* values, float* gradInput, float* gradTarget)
        {
            float value = 0.0f;
            float* v = reduction == KlReduction.None ? values : &value;
            NativeChecked.nkl_kl_div_backward_f32(input, target, (nuint)length, (nkl_reduction)reduction, (nuint)batchSize,
                flags, gradOutput, v, gradInput, gradTarget);
            return value;
        }

        internal static double Backward(double* input, double* target, int length, KlReduction reduction, int batchSize, uint flags,
                                        double gradOutput, double* values, double* gradInput, double* gradTarget)
        {
            double value = 0.0;
            double* v = reduction == KlReduction.None ? values : &value;
            NativeChecked.nkl_kl_div_backward_f64(input, target, (nuint)length, (nkl_reduction)reduction, (nuint)batchSize,
                flags, gradOutput, v, gradInput, gradTarget);
            return value;
        }

        internal static void Partials(float* input, float* target, int length, uint flags, int firstChunk, int chunkCount, KlPartial* partials) =>
            NativeChecked.nkl_kl_div_partials_f32(input, target, (nuint)length, flags, (nuint)firstChunk,
                (nuint)chunkCount, (nkl_partial*)partials);

        internal static void Partials(double* input, double* target, int length, uint flags, int firstChunk, int chunkCount, KlPartial* partials) =>
            NativeChecked.nkl_kl_div_partials_f64(input, target, (nuint)length, flags, (nuint)firstChunk,
                (nuint)chunkCount, (nkl_partial*)partials);

        /// <summary>Combines the partials in chunk order and applies the reduction, in double.</summary>
        internal static double Finish(KlPartial* partials, int count, int length, KlReduction reduction, int batchSize)
        {
            double result;
            NativeChecked.nkl_partials_finish((nkl_partial*)partials, (nuint)count, (nuint)length,
                (nkl_reduction)reduction, (nuint)batchSize, &result);
            return result;
        }
    }
}
