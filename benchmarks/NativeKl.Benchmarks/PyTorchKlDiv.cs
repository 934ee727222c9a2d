#if TORCHSHARP
using TorchSharp;
using static TorchSharp.torch;
#endif

namespace NativeKl.Benchmarks;

/// <summary>
/// torch.nn.functional.kl_div through TorchSharp, the whole call a C# user makes on arrays:
/// <c>from_array</c> (shares the arrays), kl_div with the reduction and log_target, the value
/// (<c>item()</c>) or, for 'none', the terms copied into the caller's array, and a DisposeScope
/// that frees every tensor. 'batchmean' is kl_div 'sum' ÷ rows, as PyTorch's functional.py
/// computes it. Forward+backward: both leaves require grad and the loss's backward() runs ('none':
/// the backward of the terms' sum, i.e. an upstream gradient of 1 per element); the gradients stay
/// in the tensors. Availability: <see cref="PyTorchComposite.Unavailable"/>.
/// </summary>
internal static class PyTorchKlDiv
{
#if TORCHSHARP
    /// <summary>libtorch's intra-op threads for the following calls (1, or all cores).</summary>
    public static void SetThreads(int threads) => torch.set_num_threads(threads);

    public static double Run<T>(T[] input, T[] target, T[] values, KlReductionKind reduction, int rows, bool logTarget, bool backward)
        where T : unmanaged
    {
        using var scope = torch.NewDisposeScope();
        Tensor x = FromArray(input, backward);
        Tensor t = FromArray(target, backward);
        nn.Reduction torchReduction = reduction == KlReductionKind.None ? nn.Reduction.None : nn.Reduction.Sum;
        // TorchSharp's kl_div defaults to log_target: true, unlike PyTorch's: always pass it.
        Tensor loss = nn.functional.kl_div(x, t, log_target: logTarget, reduction: torchReduction);
        if (reduction == KlReductionKind.BatchMean)
        {
            using Scalar batch = ((double)rows).ToScalar();
            loss = loss.div(batch);
        }
        if (backward) (reduction == KlReductionKind.None ? loss.sum() : loss).backward();
        if (reduction != KlReductionKind.None) return typeof(T) == typeof(float) ? loss.item<float>() : loss.item<double>();
        loss.detach().data<T>().CopyTo(values);
        return 0;
    }

    private static Tensor FromArray<T>(T[] data, bool requiresGrad) where T : unmanaged =>
        data is float[] f ? torch.from_array(f, ScalarType.Float32, requires_grad: requiresGrad)
                          : torch.from_array((double[])(object)data, ScalarType.Float64, requires_grad: requiresGrad);
#else
    public static void SetThreads(int threads) => throw new PlatformNotSupportedException(PyTorchComposite.Unavailable);

    public static double Run<T>(T[] input, T[] target, T[] values, KlReductionKind reduction, int rows, bool logTarget, bool backward)
        where T : unmanaged =>
        throw new PlatformNotSupportedException(PyTorchComposite.Unavailable);
#endif
}
