#if TORCHSHARP
using TorchSharp;
using static TorchSharp.torch;
#endif

namespace NativeKl.Benchmarks;

/// <summary>
/// The distillation loss composed from PyTorch ops through TorchSharp, as a C# user would call it
/// on float[] logits: <c>kl_div(log_softmax(s / T, 1), softmax(u / T, 1), 'batchmean')</c>
/// and its autograd backward. Compiled only with <c>-p:WithTorchSharp=true</c>; where TorchSharp
/// is not compiled in or libtorch does not load, <see cref="Unavailable"/> says why.
/// </summary>
internal static class PyTorchComposite
{
    private static readonly Lazy<string?> Probe = new(Load);

    /// <summary>Null when the composite can run; otherwise one line saying why not.</summary>
    public static string? Unavailable => Probe.Value;

#if TORCHSHARP
    private static string? Load()
    {
        // A failed load prints TorchSharp's multi-page loader trace to stdout: keep it out of the report.
        TextWriter stdout = Console.Out;
        Console.SetOut(TextWriter.Null);
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            torch.set_num_threads(1);
            using var probe = torch.zeros(1);
            return null;
        }
        catch (Exception e)
        {
            while (e.InnerException is { } inner && e is TypeInitializationException) e = inner;
            string message = e.Message.Split('\n', 2)[0].Trim();
            return $"libtorch could not be loaded ({e.GetType().Name}: {message}); on Debian 12 set the LD_PRELOAD " +
                   "printed by tools/torchsharp-debian12/torchsharp-debian12.sh, which patches libLibTorchSharp.so in the NuGet cache, and rebuild";
        }
        finally
        {
            Console.SetOut(stdout);
        }
    }

    /// <summary>
    /// The loss as PyTorch's functional.py computes 'batchmean' (kl_div with 'sum', then ÷ rows). The tensors share memory with the arrays (from_array) and are disposed on return.
    /// </summary>
    public static float Forward(float[] student, float[] teacher, int rows, int columns, double temperature)
    {
        using var scope = torch.NewDisposeScope();
        Tensor s = torch.from_array(student, ScalarType.Float32).view(rows, columns);
        Tensor u = torch.from_array(teacher, ScalarType.Float32).view(rows, columns);
        return Loss(s, u, rows, temperature).item<float>();
    }

    /// <summary>
    /// The loss and its gradients by autograd: both leaves require grad, then loss.backward().
    /// The gradients are copied into <paramref name="gradStudent"/> and <paramref name="gradTeacher"/>
    /// when given (the sanity check); the benchmark passes null and leaves them in the tensors.
    /// </summary>
    public static float ForwardBackward(float[] student, float[] teacher, int rows, int columns, double temperature,
                                        float[]? gradStudent = null, float[]? gradTeacher = null)
    {
        using var scope = torch.NewDisposeScope();
        Tensor sLeaf = torch.from_array(student, ScalarType.Float32, requires_grad: true);
        Tensor uLeaf = torch.from_array(teacher, ScalarType.Float32, requires_grad: true);
        Tensor loss = Loss(sLeaf.view(rows, columns), uLeaf.view(rows, columns), rows, temperature);
        loss.backward();
        float value = loss.item<float>();
        if (gradStudent is not null) sLeaf.grad!.data<float>().CopyTo(gradStudent);
        if (gradTeacher is not null) uLeaf.grad!.data<float>().CopyTo(gradTeacher);
        return value;
    }

    private static Tensor Loss(Tensor s, Tensor u, int rows, double temperature)
    {
        using Scalar t = temperature.ToScalar();
        using Scalar batch = ((double)rows).ToScalar();
        Tensor logQ = nn.functional.log_softmax(s.div(t), 1);
        Tensor p = nn.functional.softmax(u.div(t), 1);
        // TorchSharp's kl_div defaults to log_target: true, unlike PyTorch's; the target here is probabilities.
        return nn.functional.kl_div(logQ, p, log_target: false, reduction: nn.Reduction.Sum).div(batch);
    }
#else
    private static string? Load() =>
        "built without TorchSharp (build or run with -p:WithTorchSharp=true to add the PyTorch rows)";

    public static float Forward(float[] student, float[] teacher, int rows, int columns, double temperature) =>
        throw new PlatformNotSupportedException(Unavailable);

    public static float ForwardBackward(float[] student, float[] teacher, int rows, int columns, double temperature,
                                        float[]? gradStudent = null, float[]? gradTeacher = null) =>
        throw new PlatformNotSupportedException(Unavailable);
#endif
}
