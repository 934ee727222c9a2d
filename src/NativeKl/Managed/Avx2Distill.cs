// Avx2Distill.cs - the distillation value and gradient passes with AVX2+FMA:
// native/src/x86/distill_avx2.c, instruction for instruction (the same bits
// as the scalar specification in ManagedDistill and kernels_scalar.c).
// Tails are copied into stack buffers padded as the C code pads them.

#if NET8_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeKl.Managed
{
    internal static class Avx2Distill
    {
        private const FloatComparisonMode Gt = FloatComparisonMode.OrderedGreaterThanNonSignaling;
        private const FloatComparisonMode Ne = FloatComparisonMode.UnorderedNotEqualNonSignaling;
        private const FloatComparisonMode Ge = FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling;
        private const FloatComparisonMode Le = FloatComparisonMode.OrderedLessThanOrEqualNonSignaling;

        // ------------------------------------------------------------ float32

        private struct LanesPs
        {
            public Vector256<float> Ma, Mb;
            public Vector256<double> Za0, Za1, Zb0, Zb1, Acc0, Acc1;
            public Vector256<float> Pza, Pzb, Pacc; // the pending float sums of the current pair of blocks
        }

        /// <summary>distill_avx2.c flush_pair_ps: the pending float sums widened into the float64 sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void FlushPair(ref LanesPs st)
        {
            st.Za0 = Avx.Add(st.Za0, Half(st.Pza, 0));
            st.Za1 = Avx.Add(st.Za1, Half(st.Pza, 1));
            st.Zb0 = Avx.Add(st.Zb0, Half(st.Pzb, 0));
            st.Zb1 = Avx.Add(st.Zb1, Half(st.Pzb, 1));
            st.Acc0 = Avx.Add(st.Acc0, Half(st.Pacc, 0));
            st.Acc1 = Avx.Add(st.Acc1, Half(st.Pacc, 1));
            st.Pza = st.Pzb = st.Pacc = Vector256<float>.Zero;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Half(Vector256<float> v, int h) =>
            Avx.ConvertToVector256Double(h == 0 ? v.GetLower() : v.GetUpper());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> HalfMask(Vector256<float> m, int h) =>
            Avx2.ConvertToVector256Int64(h == 0 ? m.AsInt32().GetLower() : m.AsInt32().GetUpper()).AsDouble();

        /// <summary>distill_avx2.c rescale_ps: lanes whose maximum grew rescale their sums.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Rescale(ref LanesPs st, Vector256<float> nma, Vector256<float> nmb, Vector256<float> changed)
        {
            Vector256<float> ra = Avx2Math.Exp2(Avx.Subtract(st.Ma, nma));
            Vector256<float> rb = Avx2Math.Exp2(Avx.Subtract(st.Mb, nmb));
            for (int h = 0; h < 2; h++)
            {
                Vector256<double> m = HalfMask(changed, h), rah = Half(ra, h), rbh = Half(rb, h);
                Vector256<double> da = Avx.Subtract(Half(nma, h), Half(st.Ma, h));
                Vector256<double> db = Avx.Subtract(Half(nmb, h), Half(st.Mb, h));
                ref Vector256<double> za = ref h == 0 ? ref st.Za0 : ref st.Za1;
                ref Vector256<double> zb = ref h == 0 ? ref st.Zb0 : ref st.Zb1;
                ref Vector256<double> acc = ref h == 0 ? ref st.Acc0 : ref st.Acc1;
                Vector256<double> nacc = Avx.Multiply(rbh, Avx.Add(acc, Avx.Multiply(Avx.Subtract(da, db), zb)));
                Vector256<double> nz = Avx.Compare(zb, Vector256<double>.Zero, Ne);
                acc = Avx.BlendVariable(acc, nacc, Avx.And(m, nz));
                za = Avx.BlendVariable(za, Avx.Multiply(za, rah), m);
                zb = Avx.BlendVariable(zb, Avx.Multiply(zb, rbh), m);
            }
            st.Ma = Avx.BlendVariable(st.Ma, nma, changed);
            st.Mb = Avx.BlendVariable(st.Mb, nmb, changed);
        }

        /// <summary>distill_avx2.c block_ps: a block of 32, a0..a3 = s log2(e)/T of elements 8j..8j+7, b the
        /// teacher's (float32 works in base 2).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block(ref LanesPs st, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
                                  Vector256<float> b0, Vector256<float> b1, Vector256<float> b2, Vector256<float> b3, bool logProbs,
                                  bool first, bool nanSafe)
        {
            Vector256<float> head = Vector256.Create((float)ManagedDistill.HeadroomBase2);
            Vector256<float> bma = Avx.Max(Avx.Max(a0, a1), Avx.Max(a2, a3));
            Vector256<float> changed = Avx.Compare(bma, st.Ma, Gt);
            Vector256<float> nma = Avx.BlendVariable(st.Ma, Avx.Add(bma, head), changed);
            Vector256<float> nmb = st.Mb;
            if (!logProbs)
            {
                Vector256<float> bmb = Avx.Max(Avx.Max(b0, b1), Avx.Max(b2, b3));
                Vector256<float> gt = Avx.Compare(bmb, st.Mb, Gt);
                nmb = Avx.BlendVariable(st.Mb, Avx.Add(bmb, head), gt);
                changed = Avx.Or(changed, gt);
            }
            if (first)
            {
                // a row's first block: the sums are +0 and the rescale leaves them +0
                st.Ma = nma;
                st.Mb = nmb;
            }
            else if (Avx.MoveMask(changed) != 0)
            {
                FlushPair(ref st); // the pair's pending sums first, every lane
                Rescale(ref st, nma, nmb, changed);
            }
            a0 = Avx.Subtract(a0, st.Ma);
            a1 = Avx.Subtract(a1, st.Ma);
            a2 = Avx.Subtract(a2, st.Ma);
            a3 = Avx.Subtract(a3, st.Ma);
            if (!logProbs)
            {
                b0 = Avx.Subtract(b0, st.Mb);
                b1 = Avx.Subtract(b1, st.Mb);
                b2 = Avx.Subtract(b2, st.Mb);
                b3 = Avx.Subtract(b3, st.Mb);
            }
            // distill_avx2.c's fast path: one range check for the eight exp2s, no masks
            Vector256<float> e0, e1, e2, e3, t0, t1, t2, t3, ea;
            Vector256<float> lo = Avx.Min(Avx.Min(Avx.Min(a0, a1), Avx.Min(a2, a3)), Avx.Min(Avx.Min(b0, b1), Avx.Min(b2, b3)));
            Vector256<float> ok = Avx.Compare(lo, Vector256.Create(KlConstants.Exp2FastLoF32), Ge);
            if (logProbs)
                ok = Avx.And(ok, Avx.Compare(Avx.Max(Avx.Max(b0, b1), Avx.Max(b2, b3)), Vector256.Create(KlConstants.Exp2FastHiF32), Le));
            if (Avx.MoveMask(ok) == 0xff)
            {
                // the min tree can hide a NaN: Exp2InRange on the first pass over a row, and Lanes
                // redoes a row whose sums came out NaN with Exp2Normal (distill_avx2.c block_ps)
                e0 = Exp(b0, nanSafe);
                e1 = Exp(b1, nanSafe);
                e2 = Exp(b2, nanSafe);
                e3 = Exp(b3, nanSafe);
                t0 = Avx.Multiply(e0, Avx.Subtract(b0, a0));
                t1 = Avx.Multiply(e1, Avx.Subtract(b1, a1));
                t2 = Avx.Multiply(e2, Avx.Subtract(b2, a2));
                t3 = Avx.Multiply(e3, Avx.Subtract(b3, a3));
                ea = Avx.Add(Avx.Add(Exp(a0, nanSafe), Exp(a1, nanSafe)), Avx.Add(Exp(a2, nanSafe), Exp(a3, nanSafe)));
            }
            else
            {
                e0 = Avx2Math.Exp2(b0);
                e1 = Avx2Math.Exp2(b1);
                e2 = Avx2Math.Exp2(b2);
                e3 = Avx2Math.Exp2(b3);
                t0 = Unmasked(b0, Avx.Multiply(e0, Avx.Subtract(b0, a0)));
                t1 = Unmasked(b1, Avx.Multiply(e1, Avx.Subtract(b1, a1)));
                t2 = Unmasked(b2, Avx.Multiply(e2, Avx.Subtract(b2, a2)));
                t3 = Unmasked(b3, Avx.Multiply(e3, Avx.Subtract(b3, a3)));
                ea = Avx.Add(Avx.Add(Avx2Math.Exp2(a0), Avx2Math.Exp2(a1)), Avx.Add(Avx2Math.Exp2(a2), Avx2Math.Exp2(a3)));
            }
            // a lane's four terms pre-added in float (pairwise), into the pair's pending sums
            Vector256<float> eb = Avx.Add(Avx.Add(e0, e1), Avx.Add(e2, e3)), tt = Avx.Add(Avx.Add(t0, t1), Avx.Add(t2, t3));
            st.Pza = Avx.Add(st.Pza, ea);
            st.Pzb = Avx.Add(st.Pzb, eb);
            st.Pacc = Avx.Add(st.Pacc, tt);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Exp(Vector256<float> x, bool nanSafe) =>
            nanSafe ? Avx2Math.Exp2Normal(x) : Avx2Math.Exp2InRange(x);

        /// <summary>t where the teacher's b is not -∞ (a class it masks), else +0 (distill_scalar.inc).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Unmasked(Vector256<float> b, Vector256<float> t) =>
            Avx.And(Avx.Compare(b, Vector256.Create(float.NegativeInfinity), Ne), t);

        /// <summary>A block of 32 from s and u, in base 2: logits scaled by the logit scale log2(e)/T, a teacher's
        /// log-probabilities by log2(e).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void LoadBlock(ref LanesPs st, ref float sr, ref float ur, nuint i, Vector256<float> scale, bool logProbs,
                                      bool first, bool nanSafe)
        {
            Vector256<float> a0 = Avx.Multiply(Vector256.LoadUnsafe(ref sr, i), scale);
            Vector256<float> a1 = Avx.Multiply(Vector256.LoadUnsafe(ref sr, i + 8), scale);
            Vector256<float> a2 = Avx.Multiply(Vector256.LoadUnsafe(ref sr, i + 16), scale);
            Vector256<float> a3 = Avx.Multiply(Vector256.LoadUnsafe(ref sr, i + 24), scale);
            Vector256<float> ib = logProbs ? Vector256.Create(KlConstants.Log2EF32) : scale;
            Vector256<float> b0 = Avx.Multiply(Vector256.LoadUnsafe(ref ur, i), ib);
            Vector256<float> b1 = Avx.Multiply(Vector256.LoadUnsafe(ref ur, i + 8), ib);
            Vector256<float> b2 = Avx.Multiply(Vector256.LoadUnsafe(ref ur, i + 16), ib);
            Vector256<float> b3 = Avx.Multiply(Vector256.LoadUnsafe(ref ur, i + 24), ib);
            Block(ref st, a0, a1, a2, a3, b0, b1, b2, b3, logProbs, first, nanSafe);
        }

        private static LanesPs LanesOf(ReadOnlySpan<float> s, ReadOnlySpan<float> u, float logitScale, bool logProbs, bool nanSafe)
        {
            var st = new LanesPs { Ma = Vector256.Create(-float.MaxValue), Mb = Vector256.Create(-float.MaxValue) };
            Vector256<float> scale = Vector256.Create(logitScale);
            int cols = s.Length, i = 0;
            ref float sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            // the spec widens the pending sums after blocks 1, 3, 5, ... and after the row's last
            for (int blk = 0; i + 32 <= cols; i += 32, blk++)
            {
                LoadBlock(ref st, ref sr, ref ur, (nuint)i, scale, logProbs, i == 0, nanSafe);
                if ((blk & 1) != 0 || i + 32 >= cols) FlushPair(ref st);
            }
            if (i < cols)
            {
                // the last block, padded with -inf logits (-inf / T = -inf)
                Span<float> sb = stackalloc float[32], ub = stackalloc float[32];
                sb.Fill(float.NegativeInfinity);
                ub.Fill(float.NegativeInfinity);
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                LoadBlock(ref st, ref MemoryMarshal.GetReference(sb), ref MemoryMarshal.GetReference(ub), 0, scale, logProbs, i == 0, nanSafe);
                FlushPair(ref st);
            }
            return st;
        }

        /// <summary>The value pass of one row: fills the eight lanes' state.</summary>
        public static unsafe void Lanes(ReadOnlySpan<float> s, ReadOnlySpan<float> u, float logitScale, bool logProbs,
                                        double* ma, double* mb, double* za, double* zb, double* acc)
        {
            LanesPs st = LanesOf(s, u, logitScale, logProbs, nanSafe: false);
            // a NaN logit (or an inf - inf) makes its lane's acc NaN: the row again, NaN kept as NaN
            Vector256<double> nan = Avx.Or(Avx.Compare(st.Acc0, st.Acc0, FloatComparisonMode.UnorderedNonSignaling),
                                           Avx.Compare(st.Acc1, st.Acc1, FloatComparisonMode.UnorderedNonSignaling));
            if (Avx.MoveMask(nan) != 0) st = LanesOf(s, u, logitScale, logProbs, nanSafe: true);
            for (int l = 0; l < 8; l++) { ma[l] = st.Ma.GetElement(l); mb[l] = st.Mb.GetElement(l); }
            Avx.Store(za, st.Za0); Avx.Store(za + 4, st.Za1);
            Avx.Store(zb, st.Zb0); Avx.Store(zb + 4, st.Zb1);
            Avx.Store(acc, st.Acc0); Avx.Store(acc + 4, st.Acc1);
        }

        /// <summary>
        /// Whether no gradient of a row can be NaN where both exps take the fast path (q and p finite
        /// and normal): the row's constants all finite, and the factors Cs and Cu not 0 (else 0 inf).
        /// Then only the vectors off the fast path get CanonicalNaN (distill_avx2.c grad_consts_odd_f32).
        /// </summary>
        private static bool Ordinary(in GradConstants<float> g) =>
            float.IsFinite(g.StudentScale) && float.IsFinite(g.TeacherScale) && float.IsFinite(g.StudentMax) && float.IsFinite(g.StudentLogSum) && float.IsFinite(g.TeacherMax) &&
            float.IsFinite(g.TeacherLogSum) && float.IsFinite(g.TeacherMass) && float.IsFinite(g.Kl) && float.IsFinite(g.StudentFactor) && float.IsFinite(g.TeacherFactor) &&
            g.StudentFactor != 0 && g.TeacherFactor != 0;

        private static bool Ordinary(in GradConstants<double> g) =>
            double.IsFinite(g.StudentScale) && double.IsFinite(g.TeacherScale) && double.IsFinite(g.StudentMax) && double.IsFinite(g.StudentLogSum) && double.IsFinite(g.TeacherMax) &&
            double.IsFinite(g.TeacherLogSum) && double.IsFinite(g.TeacherMass) && double.IsFinite(g.Kl) && double.IsFinite(g.StudentFactor) && double.IsFinite(g.TeacherFactor) &&
            g.StudentFactor != 0 && g.TeacherFactor != 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Grad(Vector256<float> sv, Vector256<float> uv, in GradConstants<float> g, bool odd, out Vector256<float> gs, out Vector256<float> gu)
        {
            Vector256<float> lq = Avx.Subtract(Avx.Subtract(Avx.Multiply(sv, Vector256.Create(g.StudentScale)), Vector256.Create(g.StudentMax)), Vector256.Create(g.StudentLogSum));
            Vector256<float> lp = Avx.Subtract(Avx.Subtract(Avx.Multiply(uv, Vector256.Create(g.TeacherScale)), Vector256.Create(g.TeacherMax)), Vector256.Create(g.TeacherLogSum));
            // min(lq, lp) fails for a NaN lp and max(lp, lq) for a NaN lq (MINPS/MAXPS return the
            // second operand on NaN): the fast path sees no NaN, as Exp2InRange requires (base 2)
            Vector256<float> ok = Avx.And(Avx.Compare(Avx.Min(lq, lp), Vector256.Create(KlConstants.Exp2FastLoF32), Ge),
                                          Avx.Compare(Avx.Max(lp, lq), Vector256.Create(KlConstants.Exp2FastHiF32), Le));
            bool fast = Avx.MoveMask(ok) == 0xff;
            Vector256<float> q = fast ? Avx2Math.Exp2InRange(lq) : Avx2Math.Exp2(lq);
            Vector256<float> p = fast ? Avx2Math.Exp2InRange(lp) : Avx2Math.Exp2(lp);
            gs = Avx.Multiply(Avx.Subtract(Avx.Multiply(q, Vector256.Create(g.TeacherMass)), p), Vector256.Create(g.StudentFactor));
            Vector256<float> f = Avx.Subtract(Avx.Subtract(lp, lq), Vector256.Create(g.Kl));
            Vector256<float> gv = Avx.Multiply(Avx.Multiply(p, f), Vector256.Create(g.TeacherFactor));
            gu = fast ? gv : Avx.And(Avx.Compare(p, Vector256<float>.Zero, Ne), gv);
            if (!fast || odd)
            {
                gs = Avx2Math.CanonicalNaN(gs);
                gu = Avx2Math.CanonicalNaN(gu);
            }
        }

        /// <summary>The gradient pass of one row; gu may be empty.</summary>
        public static void Grad(ReadOnlySpan<float> s, ReadOnlySpan<float> u, in GradConstants<float> g, Span<float> gs, Span<float> gu)
        {
            int cols = s.Length, i = 0;
            bool teacher = !gu.IsEmpty, odd = !Ordinary(g);
            ref float sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            ref float gsr = ref MemoryMarshal.GetReference(gs), gur = ref MemoryMarshal.GetReference(gu);
            for (; i + 8 <= cols; i += 8)
            {
                Grad(Vector256.LoadUnsafe(ref sr, (nuint)i), Vector256.LoadUnsafe(ref ur, (nuint)i), g, odd, out var vs, out var vu);
                vs.StoreUnsafe(ref gsr, (nuint)i);
                if (teacher) vu.StoreUnsafe(ref gur, (nuint)i);
            }
            if (i < cols)
            {
                Span<float> sb = stackalloc float[8], ub = stackalloc float[8], os = stackalloc float[8], ou = stackalloc float[8];
                sb.Clear();
                ub.Clear();
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                Grad(Vector256.Create<float>(sb), Vector256.Create<float>(ub), g, odd, out var vs, out var vu);
                vs.CopyTo(os);
                vu.CopyTo(ou);
                os.Slice(0, cols - i).CopyTo(gs.Slice(i));
                if (teacher) ou.Slice(0, cols - i).CopyTo(gu.Slice(i));
            }
        }

        // ------------------------------------------------------------ float64

        private struct LanesPd
        {
            public Vector256<double> Ma, Mb, Za, Zb, Acc;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Rescale(ref LanesPd st, Vector256<double> nma, Vector256<double> nmb, Vector256<double> changed)
        {
            Vector256<double> ra = Avx2Math.Exp(Avx.Subtract(st.Ma, nma));
            Vector256<double> rb = Avx2Math.Exp(Avx.Subtract(st.Mb, nmb));
            Vector256<double> da = Avx.Subtract(nma, st.Ma), db = Avx.Subtract(nmb, st.Mb);
            Vector256<double> acc = Avx.Multiply(rb, Avx.Add(st.Acc, Avx.Multiply(Avx.Subtract(da, db), st.Zb)));
            Vector256<double> nz = Avx.Compare(st.Zb, Vector256<double>.Zero, Ne);
            st.Acc = Avx.BlendVariable(st.Acc, acc, Avx.And(changed, nz));
            st.Za = Avx.BlendVariable(st.Za, Avx.Multiply(st.Za, ra), changed);
            st.Zb = Avx.BlendVariable(st.Zb, Avx.Multiply(st.Zb, rb), changed);
            st.Ma = Avx.BlendVariable(st.Ma, nma, changed);
            st.Mb = Avx.BlendVariable(st.Mb, nmb, changed);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block(ref LanesPd st, Vector256<double> a0, Vector256<double> a1, Vector256<double> b0, Vector256<double> b1, bool logProbs)
        {
            Vector256<double> head = Vector256.Create(ManagedDistill.Headroom);
            Vector256<double> bma = Avx.Max(a0, a1);
            Vector256<double> changed = Avx.Compare(bma, st.Ma, Gt);
            Vector256<double> nma = Avx.BlendVariable(st.Ma, Avx.Add(bma, head), changed);
            Vector256<double> nmb = st.Mb;
            if (!logProbs)
            {
                Vector256<double> bmb = Avx.Max(b0, b1);
                Vector256<double> gt = Avx.Compare(bmb, st.Mb, Gt);
                nmb = Avx.BlendVariable(st.Mb, Avx.Add(bmb, head), gt);
                changed = Avx.Or(changed, gt);
            }
            if (Avx.MoveMask(changed) != 0) Rescale(ref st, nma, nmb, changed);
            a0 = Avx.Subtract(a0, st.Ma);
            a1 = Avx.Subtract(a1, st.Ma);
            if (!logProbs)
            {
                b0 = Avx.Subtract(b0, st.Mb);
                b1 = Avx.Subtract(b1, st.Mb);
            }
            Vector256<double> e0 = Avx2Math.Exp(b0), e1 = Avx2Math.Exp(b1);
            // t = b != -inf ? e (b - a) : +0, as distill_scalar.inc
            Vector256<double> ninf = Vector256.Create(double.NegativeInfinity);
            Vector256<double> t0 = Avx.And(Avx.Compare(b0, ninf, Ne), Avx.Multiply(e0, Avx.Subtract(b0, a0)));
            Vector256<double> t1 = Avx.And(Avx.Compare(b1, ninf, Ne), Avx.Multiply(e1, Avx.Subtract(b1, a1)));
            st.Za = Avx.Add(st.Za, Avx.Add(Avx2Math.Exp(a0), Avx2Math.Exp(a1)));
            st.Zb = Avx.Add(st.Zb, Avx.Add(e0, e1));
            st.Acc = Avx.Add(st.Acc, Avx.Add(t0, t1));
        }

        /// <summary>The value pass of one row: fills the four lanes' state.</summary>
        public static unsafe void Lanes(ReadOnlySpan<double> s, ReadOnlySpan<double> u, double logitScale, bool logProbs,
                                        double* ma, double* mb, double* za, double* zb, double* acc)
        {
            var st = new LanesPd { Ma = Vector256.Create(-double.MaxValue), Mb = Vector256.Create(-double.MaxValue) };
            Vector256<double> scale = Vector256.Create(logitScale);
            int cols = s.Length, i = 0;
            ref double sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            for (; i + 8 <= cols; i += 8)
            {
                Vector256<double> a0 = Avx.Multiply(Vector256.LoadUnsafe(ref sr, (nuint)i), scale);
                Vector256<double> a1 = Avx.Multiply(Vector256.LoadUnsafe(ref sr, (nuint)(i + 4)), scale);
                Vector256<double> b0 = Vector256.LoadUnsafe(ref ur, (nuint)i), b1 = Vector256.LoadUnsafe(ref ur, (nuint)(i + 4));
                if (!logProbs) { b0 = Avx.Multiply(b0, scale); b1 = Avx.Multiply(b1, scale); }
                Block(ref st, a0, a1, b0, b1, logProbs);
            }
            if (i < cols)
            {
                Span<double> sb = stackalloc double[8], ub = stackalloc double[8];
                sb.Fill(double.NegativeInfinity);
                ub.Fill(double.NegativeInfinity);
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                Vector256<double> a0 = Avx.Multiply(Vector256.Create<double>(sb.Slice(0, 4)), scale);
                Vector256<double> a1 = Avx.Multiply(Vector256.Create<double>(sb.Slice(4, 4)), scale);
                Vector256<double> b0 = Vector256.Create<double>(ub.Slice(0, 4)), b1 = Vector256.Create<double>(ub.Slice(4, 4));
                if (!logProbs) { b0 = Avx.Multiply(b0, scale); b1 = Avx.Multiply(b1, scale); }
                Block(ref st, a0, a1, b0, b1, logProbs);
            }
            Avx.Store(ma, st.Ma);
            Avx.Store(mb, st.Mb);
            Avx.Store(za, st.Za);
            Avx.Store(zb, st.Zb);
            Avx.Store(acc, st.Acc);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Grad(Vector256<double> sv, Vector256<double> uv, in GradConstants<double> g, bool odd, out Vector256<double> gs, out Vector256<double> gu)
        {
            Vector256<double> lq = Avx.Subtract(Avx.Subtract(Avx.Multiply(sv, Vector256.Create(g.StudentScale)), Vector256.Create(g.StudentMax)), Vector256.Create(g.StudentLogSum));
            Vector256<double> lp = Avx.Subtract(Avx.Subtract(Avx.Multiply(uv, Vector256.Create(g.TeacherScale)), Vector256.Create(g.TeacherMax)), Vector256.Create(g.TeacherLogSum));
            // both exps in Exp's fast range, neither NaN (min/max return their second operand on NaN)
            bool fast = Avx.MoveMask(Avx.And(
                Avx.Compare(Avx.Min(lq, lp), Vector256.Create(KlConstants.ExpFastLoF64), Ge),
                Avx.Compare(Avx.Max(lp, lq), Vector256.Create(KlConstants.ExpFastHiF64), Le))) == 0xf;
            Vector256<double> q = Avx2Math.Exp(lq), p = Avx2Math.Exp(lp);
            gs = Avx.Multiply(Avx.Subtract(Avx.Multiply(q, Vector256.Create(g.TeacherMass)), p), Vector256.Create(g.StudentFactor));
            Vector256<double> f = Avx.Subtract(Avx.Subtract(lp, lq), Vector256.Create(g.Kl));
            gu = Avx.And(Avx.Compare(p, Vector256<double>.Zero, Ne), Avx.Multiply(Avx.Multiply(p, f), Vector256.Create(g.TeacherFactor)));
            if (!fast || odd)
            {
                gs = Avx2Math.CanonicalNaN(gs);
                gu = Avx2Math.CanonicalNaN(gu);
            }
        }

        /// <summary>The gradient pass of one row; gu may be empty.</summary>
        public static void Grad(ReadOnlySpan<double> s, ReadOnlySpan<double> u, in GradConstants<double> g, Span<double> gs, Span<double> gu)
        {
            int cols = s.Length, i = 0;
            bool teacher = !gu.IsEmpty, odd = !Ordinary(g);
            ref double sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            ref double gsr = ref MemoryMarshal.GetReference(gs), gur = ref MemoryMarshal.GetReference(gu);
            for (; i + 4 <= cols; i += 4)
            {
                Grad(Vector256.LoadUnsafe(ref sr, (nuint)i), Vector256.LoadUnsafe(ref ur, (nuint)i), g, odd, out var vs, out var vu);
                vs.StoreUnsafe(ref gsr, (nuint)i);
                if (teacher) vu.StoreUnsafe(ref gur, (nuint)i);
            }
            if (i < cols)
            {
                Span<double> sb = stackalloc double[4], ub = stackalloc double[4], os = stackalloc double[4], ou = stackalloc double[4];
                sb.Clear();
                ub.Clear();
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                Grad(Vector256.Create<double>(sb), Vector256.Create<double>(ub), g, odd, out var vs, out var vu);
                vs.CopyTo(os);
                vu.CopyTo(ou);
                os.Slice(0, cols - i).CopyTo(gs.Slice(i));
                if (teacher) ou.Slice(0, cols - i).CopyTo(gu.Slice(i));
            }
        }
    }
}
#endif
