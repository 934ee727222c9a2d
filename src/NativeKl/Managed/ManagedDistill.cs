// ManagedDistill.cs - distillation from logits in C#: native/src/distill.c and
// the scalar specification of its kernels (kernels_scalar.c), operation for
// operation, so the managed backend gives the native bits (with a true fused
// multiply-add: .NET Core 3.0+; see ManagedMath.Fma).
//
// Arguments are validated by the caller (Distillation.cs).

using System;
using System.Runtime.CompilerServices;
using NativeKl.Core;

namespace NativeKl.Managed
{
    /// <summary>
    /// The gradient pass's per-row constants (distill_state.h nkl_distill_grad_f32/_f64, the same names):
    /// lq = (s StudentScale - StudentMax) - StudentLogSum, lp = (u TeacherScale - TeacherMax) - TeacherLogSum,
    /// gs = (q TeacherMass - p) StudentFactor, gu = p ((lp - lq) - Kl) TeacherFactor.
    /// </summary>
    internal readonly struct GradConstants<T> where T : struct
    {
        public readonly T StudentScale, TeacherScale, StudentMax, StudentLogSum, TeacherMax, TeacherLogSum, TeacherMass, Kl,
            StudentFactor, TeacherFactor;

        public GradConstants(T studentScale, T teacherScale, T studentMax, T studentLogSum, T teacherMax, T teacherLogSum,
                             T teacherMass, T kl, T studentFactor, T teacherFactor)
        {
            StudentScale = studentScale; TeacherScale = teacherScale; StudentMax = studentMax; StudentLogSum = studentLogSum;
            TeacherMax = teacherMax; TeacherLogSum = teacherLogSum; TeacherMass = teacherMass; Kl = kl;
            StudentFactor = studentFactor; TeacherFactor = teacherFactor;
        }
    }

    internal static class ManagedDistill
    {
        private const int LanesF32 = 8, LanesF64 = 4;

        /// <summary>A lane's reference point is its maximum plus this (internal.h NKL_DISTILL_HEADROOM;
        /// HeadroomBase2 for float32, which works in base 2).</summary>
        internal const double Headroom = 4.0, HeadroomBase2 = 8.0;

        /// <summary>The value pass's per-lane state (internal.h nkl_distill_lanes).</summary>
        private unsafe struct LaneState
        {
            public fixed double Ma[LanesF32], Mb[LanesF32], Za[LanesF32], Zb[LanesF32], Acc[LanesF32];
        }

        /// <summary>A row's statistics (distill_state.h nkl_distill_row, the same names).</summary>
        private struct Row
        {
            public double StudentMax, StudentLogSum, TeacherMax, TeacherLogSum, TeacherMass, Kl;
        }

        /// <summary>The value pass of one row on the call's path (the AVX2 or 128-bit kernels, or the scalar specification).</summary>
        private static unsafe void LanesOf<T>(ReadOnlySpan<T> s, ReadOnlySpan<T> u, double logitScale, bool logProbs, ManagedPath path,
                                              ref LaneState st) where T : unmanaged
        {
            bool f32 = Num.IsFloat<T>();
#if NET8_0_OR_GREATER
            if (path == ManagedPath.Avx2)
            {
                fixed (double* ma = st.Ma, mb = st.Mb, za = st.Za, zb = st.Zb, acc = st.Acc)
                {
                    if (f32) Avx2Distill.Lanes(Num.AsFloat(s), Num.AsFloat(u), (float)logitScale, logProbs, ma, mb, za, zb, acc);
                    else Avx2Distill.Lanes(Num.AsDouble(s), Num.AsDouble(u), logitScale, logProbs, ma, mb, za, zb, acc);
                }
                return;
            }
            if (path == ManagedPath.Vector128)
            {
                fixed (double* ma = st.Ma, mb = st.Mb, za = st.Za, zb = st.Zb, acc = st.Acc)
                {
                    if (f32) Vector128Distill.Lanes(Num.AsFloat(s), Num.AsFloat(u), (float)logitScale, logProbs, ma, mb, za, zb, acc);
                    else Vector128Distill.Lanes(Num.AsDouble(s), Num.AsDouble(u), logitScale, logProbs, ma, mb, za, zb, acc);
                }
                return;
            }
#endif
            if (f32) Lanes(Num.AsFloat(s), Num.AsFloat(u), (float)logitScale, logProbs, ref st);
            else Lanes(Num.AsDouble(s), Num.AsDouble(u), logitScale, logProbs, ref st);
        }

        /// <summary>The gradient pass of one row on the call's path.</summary>
        private static void GradOf<T>(ReadOnlySpan<T> s, ReadOnlySpan<T> u, in GradConstants<T> g, Span<T> gs, Span<T> gu, ManagedPath path)
            where T : unmanaged
        {
            bool f32 = Num.IsFloat<T>();
#if NET8_0_OR_GREATER
            if (path == ManagedPath.Avx2)
            {
                if (f32) Avx2Distill.Grad(Num.AsFloat(s), Num.AsFloat(u), Unsafe.As<GradConstants<T>, GradConstants<float>>(ref Unsafe.AsRef(in g)),
                                          Num.AsFloat(gs), Num.AsFloat(gu));
                else Avx2Distill.Grad(Num.AsDouble(s), Num.AsDouble(u), Unsafe.As<GradConstants<T>, GradConstants<double>>(ref Unsafe.AsRef(in g)),
                                      Num.AsDouble(gs), Num.AsDouble(gu));
                return;
            }
            if (path == ManagedPath.Vector128)
            {
                if (f32) Vector128Distill.Grad(Num.AsFloat(s), Num.AsFloat(u), Unsafe.As<GradConstants<T>, GradConstants<float>>(ref Unsafe.AsRef(in g)),
                                               Num.AsFloat(gs), Num.AsFloat(gu));
                else Vector128Distill.Grad(Num.AsDouble(s), Num.AsDouble(u), Unsafe.As<GradConstants<T>, GradConstants<double>>(ref Unsafe.AsRef(in g)),
                                           Num.AsDouble(gs), Num.AsDouble(gu));
                return;
            }
#endif
            if (f32) Grad<float, F32Ops>(Num.AsFloat(s), Num.AsFloat(u), Unsafe.As<GradConstants<T>, GradConstants<float>>(ref Unsafe.AsRef(in g)),
                                         Num.AsFloat(gs), Num.AsFloat(gu));
            else Grad<double, F64Ops>(Num.AsDouble(s), Num.AsDouble(u), Unsafe.As<GradConstants<T>, GradConstants<double>>(ref Unsafe.AsRef(in g)),
                                      Num.AsDouble(gs), Num.AsDouble(gu));
        }

        /// <summary>max as MAXPS/MAXPD compute it: x if x &gt; y, else y (y when either is NaN).</summary>
        private static float Max(float x, float y) => x > y ? x : y;
        private static double Max(double x, double y) => x > y ? x : y;

        /// <summary>
        /// distill_finish.h nkl_distill_finish_row (with kernels_scalar.c lane_factors): folds the lanes
        /// into the row's statistics. base2 (float32): maxima and acc in units of ln 2.
        /// </summary>
        private static unsafe Row FinishRow(ref LaneState st, int lanes, bool logProbs, bool base2)
        {
            double unit = base2 ? KlConstants.Ln2HiF64 : 1.0;
            double ma = st.Ma[0], mb = st.Mb[0];
            for (int l = 1; l < lanes; l++)
            {
                if (st.Ma[l] > ma) ma = st.Ma[l];
                if (st.Mb[l] > mb) mb = st.Mb[l];
            }
            double za = 0.0, zb = 0.0, acc = 0.0;
            for (int l = 0; l < lanes; l++)
            {
                double fa = st.Ma[l] - ma, fb = st.Mb[l] - mb;
                if (base2) { fa *= KlConstants.Ln2HiF64; fb *= KlConstants.Ln2HiF64; }
                double rb = logProbs ? 1.0 : ManagedMath.Exp(fb);
                double db = logProbs ? 0.0 : mb - st.Mb[l];
                za += st.Za[l] * ManagedMath.Exp(fa);
                acc += st.Zb[l] != 0.0 ? rb * (st.Acc[l] + ((ma - st.Ma[l]) - db) * st.Zb[l]) : st.Acc[l];
                zb += st.Zb[l] * rb;
            }
            var row = new Row { StudentMax = ma, StudentLogSum = ManagedMath.Log(za) };
            if (logProbs)
            {
                row.TeacherMax = 0.0;
                row.TeacherLogSum = 0.0;
                row.TeacherMass = zb;
                row.Kl = zb < double.PositiveInfinity ? acc * unit + row.StudentLogSum * zb : ManagedMath.NaNF64;
            }
            else
            {
                row.TeacherMax = mb;
                row.TeacherLogSum = ManagedMath.Log(zb);
                row.TeacherMass = 1.0;
                row.Kl = ((acc / zb) * unit - row.TeacherLogSum) + row.StudentLogSum;
            }
            return row;
        }

        // ---------------------------------------------------------------- float

        /// <summary>
        /// The value pass of one row (distill_scalar.inc distill_lanes_f32_scalar, 8 lanes, blocks of 4 × 8:
        /// lane l takes elements l, l + 8, l + 16, l + 24; maxima and pre-adds as pairwise trees), in
        /// base 2: logitScale is log2(e)/T, a teacher's log-probabilities are scaled by log2(e), exp is Exp2.
        /// A pair of blocks adds up in float before widening (PAIRS: after each odd block and the
        /// last, and before any rescale).
        /// </summary>
        private static unsafe void Lanes(ReadOnlySpan<float> s, ReadOnlySpan<float> u, float logitScale, bool logProbs, ref LaneState st)
        {
            const int H = LanesF32, V = 4;
            Span<float> ma = stackalloc float[H], mb = stackalloc float[H], a = stackalloc float[V * H], b = stackalloc float[V * H];
            Span<float> nma = stackalloc float[H], nmb = stackalloc float[H];
            Span<float> ea = stackalloc float[V], eb = stackalloc float[V], tb = stackalloc float[V];
            Span<float> pza = stackalloc float[H], pzb = stackalloc float[H], pacc = stackalloc float[H];
            Span<double> za = stackalloc double[H], zb = stackalloc double[H], acc = stackalloc double[H];
            for (int l = 0; l < H; l++) { ma[l] = mb[l] = -float.MaxValue; za[l] = zb[l] = acc[l] = 0; pza[l] = pzb[l] = pacc[l] = 0; }
            int cols = s.Length;
            for (int i = 0, blk = 0; i < cols; i += V * H, blk++)
            {
                for (int j = 0; j < V * H; j++)
                {
                    bool inside = i + j < cols;
                    a[j] = inside ? s[i + j] * logitScale : float.NegativeInfinity;
                    b[j] = inside ? (logProbs ? u[i + j] * KlConstants.Log2EF32 : u[i + j] * logitScale) : float.NegativeInfinity;
                }
                bool any = false;
                for (int l = 0; l < H; l++)
                {
                    float bma = Max(Max(a[l], a[l + H]), Max(a[l + 2 * H], a[l + 3 * H]));
                    float bmb = Max(Max(b[l], b[l + H]), Max(b[l + 2 * H], b[l + 3 * H]));
                    nma[l] = bma > ma[l] ? bma + (float)HeadroomBase2 : ma[l];
                    nmb[l] = !logProbs && bmb > mb[l] ? bmb + (float)HeadroomBase2 : mb[l];
                    any |= nma[l] > ma[l] || nmb[l] > mb[l];
                }
                if (any) FlushPair(za, zb, acc, pza, pzb, pacc);
                for (int l = 0; l < H; l++)
                {
                    if (nma[l] > ma[l] || nmb[l] > mb[l])
                    {
                        double ra = ManagedMath.Exp2(ma[l] - nma[l]), rb = ManagedMath.Exp2(mb[l] - nmb[l]);
                        double da = (double)nma[l] - ma[l], db = (double)nmb[l] - mb[l];
                        if (zb[l] != 0.0) acc[l] = rb * (acc[l] + (da - db) * zb[l]);
                        za[l] *= ra;
                        zb[l] *= rb;
                        ma[l] = nma[l];
                        mb[l] = nmb[l];
                    }
                    for (int j = 0; j < V; j++)
                    {
                        float aj = a[l + j * H] - ma[l];
                        float bj = logProbs ? b[l + j * H] : b[l + j * H] - mb[l];
                        ea[j] = ManagedMath.Exp2(aj);
                        eb[j] = ManagedMath.Exp2(bj);
                        // distill_scalar.inc: a masked teacher class (-inf) counts 0; an underflowed p
                        // counts 0 * (b - a), NaN under a -inf student logit (PyTorch's 0 * -inf)
                        tb[j] = bj != float.NegativeInfinity ? eb[j] * (bj - aj) : 0f;
                    }
                    pza[l] += (ea[0] + ea[1]) + (ea[2] + ea[3]);
                    pzb[l] += (eb[0] + eb[1]) + (eb[2] + eb[3]);
                    pacc[l] += (tb[0] + tb[1]) + (tb[2] + tb[3]);
                }
                if ((blk & 1) != 0 || i + V * H >= cols) FlushPair(za, zb, acc, pza, pzb, pacc);
            }
            for (int l = 0; l < H; l++)
            {
                st.Ma[l] = ma[l]; st.Mb[l] = mb[l]; st.Za[l] = za[l]; st.Zb[l] = zb[l]; st.Acc[l] = acc[l];
            }
        }

        /// <summary>distill_scalar.inc flush_pair_f32: the pending float sums into the float64 sums.</summary>
        private static void FlushPair(Span<double> za, Span<double> zb, Span<double> acc, Span<float> pza, Span<float> pzb, Span<float> pacc)
        {
            for (int l = 0; l < za.Length; l++)
            {
                za[l] += pza[l];
                zb[l] += pzb[l];
                acc[l] += pacc[l];
                pza[l] = pzb[l] = pacc[l] = 0f;
            }
        }

        /// <summary>The value pass of one row (distill_scalar.inc distill_lanes_f64_scalar, 4 lanes).</summary>
        private static unsafe void Lanes(ReadOnlySpan<double> s, ReadOnlySpan<double> u, double logitScale, bool logProbs, ref LaneState st)
        {
            const int H = LanesF64;
            Span<double> ma = stackalloc double[H], mb = stackalloc double[H], a = stackalloc double[2 * H], b = stackalloc double[2 * H];
            Span<double> za = stackalloc double[H], zb = stackalloc double[H], acc = stackalloc double[H];
            for (int l = 0; l < H; l++) { ma[l] = mb[l] = -double.MaxValue; za[l] = zb[l] = acc[l] = 0; }
            int cols = s.Length;
            for (int i = 0; i < cols; i += 2 * H)
            {
                for (int j = 0; j < 2 * H; j++)
                {
                    bool inside = i + j < cols;
                    a[j] = inside ? s[i + j] * logitScale : double.NegativeInfinity;
                    b[j] = inside ? (logProbs ? u[i + j] : u[i + j] * logitScale) : double.NegativeInfinity;
                }
                for (int l = 0; l < H; l++)
                {
                    double bma = Max(a[l], a[l + H]), bmb = Max(b[l], b[l + H]);
                    double nma = bma > ma[l] ? bma + Headroom : ma[l];
                    double nmb = !logProbs && bmb > mb[l] ? bmb + Headroom : mb[l];
                    if (nma > ma[l] || nmb > mb[l])
                    {
                        double ra = ManagedMath.Exp(ma[l] - nma), rb = ManagedMath.Exp(mb[l] - nmb);
                        double da = (double)nma - ma[l], db = (double)nmb - mb[l];
                        if (zb[l] != 0.0) acc[l] = rb * (acc[l] + (da - db) * zb[l]);
                        za[l] *= ra;
                        zb[l] *= rb;
                        ma[l] = nma;
                        mb[l] = nmb;
                    }
                    double a0 = a[l] - ma[l], a1 = a[l + H] - ma[l];
                    double b0 = logProbs ? b[l] : b[l] - mb[l];
                    double b1 = logProbs ? b[l + H] : b[l + H] - mb[l];
                    double e0 = ManagedMath.Exp(b0), e1 = ManagedMath.Exp(b1);
                    double t0 = b0 != double.NegativeInfinity ? e0 * (b0 - a0) : 0.0;
                    double t1 = b1 != double.NegativeInfinity ? e1 * (b1 - a1) : 0.0;
                    za[l] += (double)(ManagedMath.Exp(a0) + ManagedMath.Exp(a1));
                    zb[l] += (double)(e0 + e1);
                    acc[l] += (double)(t0 + t1);
                }
            }
            for (int l = 0; l < H; l++)
            {
                st.Ma[l] = ma[l]; st.Mb[l] = mb[l]; st.Za[l] = za[l]; st.Zb[l] = zb[l]; st.Acc[l] = acc[l];
            }
        }

        /// <summary>
        /// The gradient pass of one row (distill_scalar.inc distill_grad_*_scalar), in the value pass's base
        /// (<see cref="IFloatOps{T}.PassExp"/>: 2 for float32).
        /// </summary>
        private static void Grad<T, TF>(ReadOnlySpan<T> s, ReadOnlySpan<T> u, in GradConstants<T> g, Span<T> gs, Span<T> gu)
            where T : unmanaged where TF : struct, IFloatOps<T>
        {
            TF f = default;
            bool teacher = !gu.IsEmpty;
            for (int c = 0; c < s.Length; c++)
            {
                T lq = f.Subtract(f.Subtract(f.Multiply(s[c], g.StudentScale), g.StudentMax), g.StudentLogSum);
                T lp = f.Subtract(f.Subtract(f.Multiply(u[c], g.TeacherScale), g.TeacherMax), g.TeacherLogSum);
                T q = f.PassExp(lq), p = f.PassExp(lp);
                gs[c] = f.CanonicalNaN(f.Multiply(f.Subtract(f.Multiply(q, g.TeacherMass), p), g.StudentFactor));
                if (teacher)
                    gu[c] = f.CanonicalNaN(!f.IsZero(p) ? f.Multiply(f.Multiply(p, f.Subtract(f.Subtract(lp, lq), g.Kl)), g.TeacherFactor) : f.Zero);
            }
        }

        /// <summary>
        /// distill.c's entry points (arguments already validated): row losses (None) or the reduced
        /// value, and the gradients when gs is not empty.
        /// </summary>
        public static T Run<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> weights, Span<T> rowLosses,
                               bool backward, T gradOutput, Span<T> gs, Span<T> gu, in DistillPlan plan, ManagedPath path)
            where T : unmanaged =>
            RunRows(student, teacher, weights, 0, plan.Rows, rowLosses, default, backward, gradOutput, gs, gu, plan, path);

        /// <summary>
        /// distill_typed.inc's one body over rows firstRow .. firstRow + rowCount − 1 of the plan's call
        /// (arguments already validated; spans and weights are the whole call's): with plan.Reduction
        /// None the row losses into rowLosses[r] (may be empty); else, with partials not empty, each
        /// row's loss in float64 into partials[r − firstRow] (a piece: 0 returned), or the reduced
        /// value returned. Gradients of the range's rows when backward, with the plan's divisor.
        /// float32 works in base 2 (distill_state.h): its maxima, log sums and kl come out of the
        /// value pass in units of ln 2 or times log2(e).
        /// </summary>
        public static T RunRows<T>(ReadOnlySpan<T> student, ReadOnlySpan<T> teacher, ReadOnlySpan<T> weights, int firstRow, int rowCount,
                                   Span<T> rowLosses, Span<double> partials, bool backward, T gradOutput, Span<T> gs, Span<T> gu,
                                   in DistillPlan plan, ManagedPath path)
            where T : unmanaged
        {
            bool f32 = Num.IsFloat<T>();
            int ss = plan.StudentStride, ts = plan.TeacherStride, cols = plan.Columns;
            double temperature = plan.Temperature;
            KlReductionKind reduction = plan.Reduction;
            bool logProbs = plan.TeacherLogProbabilities;
            // distill.c's LANES_UNIT: log2(e) in float32's base 2, 1 in float64's base e
            double unit = f32 ? KlConstants.Log2EF64 : 1.0;
            T logitScale = Num.FromDouble<T>(plan.LogitScale);
            var st = new LaneState();
            double sum = 0, comp = 0;
            bool piece = !partials.IsEmpty;
            for (int r = firstRow; r < firstRow + rowCount; r++)
            {
                double wr = weights.IsEmpty ? 1.0 : Num.ToDouble(weights[r]);
                // no row slice when cols == 0: the gradients are empty then, whatever the strides
                Span<T> gsr = backward && cols > 0 ? gs.Slice(r * ss, cols) : default;
                Span<T> gur = backward && cols > 0 && !gu.IsEmpty ? gu.Slice(r * ts, cols) : default;
                if (wr == 0.0 || cols == 0)
                {
                    if (reduction == KlReductionKind.None && !rowLosses.IsEmpty) rowLosses[r] = default;
                    if (piece) partials[r - firstRow] = 0.0;
                    gsr.Clear();
                    gur.Clear();
                    continue;
                }
                ReadOnlySpan<T> s = student.Slice(r * ss, cols), u = teacher.Slice(r * ts, cols);
                LanesOf(s, u, plan.LogitScale, logProbs, path, ref st);
                Row row = FinishRow(ref st, f32 ? LanesF32 : LanesF64, logProbs, base2: f32);
                double loss = wr * row.Kl * plan.LossScale;
                if (reduction == KlReductionKind.None) { if (!rowLosses.IsEmpty) rowLosses[r] = Num.FromDouble<T>(ManagedMath.CanonicalNaN(loss)); }
                else if (piece) partials[r - firstRow] = ManagedMath.CanonicalNaN(loss);
                else CanonicalSum.TwoSum(ref sum, ref comp, loss);
                if (backward)
                {
                    double g = Num.ToDouble(gradOutput) * wr * plan.LossScale / plan.Divisor;
                    var gr = new GradConstants<T>(logitScale, logProbs ? Num.FromDouble<T>(unit) : logitScale,
                        Num.FromDouble<T>(row.StudentMax), Num.FromDouble<T>(row.StudentLogSum * unit),
                        Num.FromDouble<T>(row.TeacherMax), Num.FromDouble<T>(row.TeacherLogSum * unit), Num.FromDouble<T>(row.TeacherMass),
                        Num.FromDouble<T>(logProbs ? -unit : row.Kl * unit),
                        Num.FromDouble<T>(g / temperature), Num.FromDouble<T>(logProbs ? g / unit : g / temperature / unit));
                    GradOf(s, u, gr, gsr, gur, path);
                }
            }
            return reduction == KlReductionKind.None || piece ? default
                : Num.FromDouble<T>(ManagedMath.CanonicalNaN(CanonicalSum.Total(new KlPartial { Sum = sum, Compensation = comp }) / plan.Divisor));
        }

        /// <summary>
        /// distill_typed.inc's finish: the rows' losses summed in row order as <see cref="RunRows{T}"/>
        /// sums them (skipping the rows it skips), / the plan's divisor, rounded to T.
        /// </summary>
        public static T Finish<T>(ReadOnlySpan<double> partials, ReadOnlySpan<T> weights, in DistillPlan plan) where T : unmanaged
        {
            double sum = 0, comp = 0;
            for (int r = 0; plan.Columns > 0 && r < plan.Rows; r++)
                if (weights.IsEmpty || Num.ToDouble(weights[r]) != 0.0) CanonicalSum.TwoSum(ref sum, ref comp, partials[r]);
            return Num.FromDouble<T>(ManagedMath.CanonicalNaN(CanonicalSum.Total(new KlPartial { Sum = sum, Compensation = comp }) / plan.Divisor));
        }
    }
}
