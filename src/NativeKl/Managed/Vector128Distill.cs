// Vector128Distill.cs - the distillation value and gradient passes on 128-bit
// vectors with an explicit fused multiply-add (Vector128Math: AdvSimd on
// arm64, FMA on x64): native/src/arm/distill_neon.c, operation for operation,
// hence the scalar specification in ManagedDistill lane by lane.
//
// The canonical lanes are 8 (float32) / 4 (float64), lane l taking elements
// l + j H of a block; on 128-bit registers a set of lanes is two halves,
// lanes 0..H/2-1 and the rest, so element group j of a block loads as two
// vectors at j H and j H + H/2. Maxima are x > y ? x : y (MaxGt), never a max
// instruction, whose NaN rule differs between ISAs. Only the general exp
// paths run (no fast-path range checks), so a NaN needs no second pass.

#if NET8_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static NativeKl.Managed.Vector128Math;

namespace NativeKl.Managed
{
    internal static class Vector128Distill
    {
        /// <summary>x &gt; y ? x : y lane by lane (the spec's max: y when either is NaN).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<T> MaxGt<T>(Vector128<T> x, Vector128<T> y) where T : struct =>
            Vector128.ConditionalSelect(Vector128.GreaterThan(x, y), x, y);

        /// <summary>The masking rule of distill_scalar.inc: e (b - a) where the teacher's b is not -∞, else +0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> Term(Vector128<float> e, Vector128<float> b, Vector128<float> a) =>
            ZeroWhere(Vector128.Equals(b, Vector128.Create(float.NegativeInfinity)), e * (b - a));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<double> Term(Vector128<double> e, Vector128<double> b, Vector128<double> a) =>
            ZeroWhere(Vector128.Equals(b, Vector128.Create(double.NegativeInfinity)), e * (b - a));

        /// <summary>
        /// The rescale of one pair of float64 lanes (distill_neon.c rescale_f32's inner step, and block_f64's):
        /// where m is set, acc = rb (acc + (da - db) zb) if zb != 0, za *= ra, zb *= rb.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void RescalePair(ref Vector128<double> za, ref Vector128<double> zb, ref Vector128<double> acc, Vector128<double> m,
                                        Vector128<double> ra, Vector128<double> rb, Vector128<double> da, Vector128<double> db)
        {
            Vector128<double> nacc = rb * (acc + (da - db) * zb);
            Vector128<double> nz = ~Vector128.Equals(zb, Vector128<double>.Zero);
            acc = Vector128.ConditionalSelect(m & nz, nacc, acc);
            za = Vector128.ConditionalSelect(m, za * ra, za);
            zb = Vector128.ConditionalSelect(m, zb * rb, zb);
        }

        // ------------------------------------------------------------ float32

        /// <summary>Four of the eight lanes: maxima and the pending float sums in float, the sums in float64
        /// (Lo: the first two lanes, Hi: the last two).</summary>
        private struct HalfPs
        {
            public Vector128<float> Ma, Mb, Pza, Pzb, Pacc;
            public Vector128<double> ZaLo, ZaHi, ZbLo, ZbHi, AccLo, AccHi;
        }

        private struct LanesPs
        {
            public HalfPs H0, H1;
        }

        /// <summary>distill_neon.c flush_pair_f32 (DISTILL_FLUSH_PAIR): the pending float sums widened into the float64 sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void FlushPair(ref HalfPs h)
        {
            h.ZaLo += Vector128.WidenLower(h.Pza);
            h.ZaHi += Vector128.WidenUpper(h.Pza);
            h.ZbLo += Vector128.WidenLower(h.Pzb);
            h.ZbHi += Vector128.WidenUpper(h.Pzb);
            h.AccLo += Vector128.WidenLower(h.Pacc);
            h.AccHi += Vector128.WidenUpper(h.Pacc);
            h.Pza = h.Pzb = h.Pacc = Vector128<float>.Zero;
        }

        /// <summary>distill_neon.c rescale_f32 on one half: ra = 2^(ma - nma), rb = 2^(mb - nmb) in float, then
        /// widened; da = nma - ma, db = nmb - mb in float64.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Rescale(ref HalfPs h, Vector128<float> nma, Vector128<float> nmb, Vector128<float> changed)
        {
            Vector128<float> ra = Exp2(h.Ma - nma), rb = Exp2(h.Mb - nmb);
            // a float lane mask (all ones or zeros) as float64 lanes: sign-extended
            Vector128<int> mi = changed.AsInt32();
            RescalePair(ref h.ZaLo, ref h.ZbLo, ref h.AccLo, Vector128.WidenLower(mi).AsDouble(),
                        Vector128.WidenLower(ra), Vector128.WidenLower(rb),
                        Vector128.WidenLower(nma) - Vector128.WidenLower(h.Ma), Vector128.WidenLower(nmb) - Vector128.WidenLower(h.Mb));
            RescalePair(ref h.ZaHi, ref h.ZbHi, ref h.AccHi, Vector128.WidenUpper(mi).AsDouble(),
                        Vector128.WidenUpper(ra), Vector128.WidenUpper(rb),
                        Vector128.WidenUpper(nma) - Vector128.WidenUpper(h.Ma), Vector128.WidenUpper(nmb) - Vector128.WidenUpper(h.Mb));
            h.Ma = Vector128.ConditionalSelect(changed, nma, h.Ma);
            h.Mb = Vector128.ConditionalSelect(changed, nmb, h.Mb);
        }

        /// <summary>A half's new maxima for a block (the maximum plus the headroom where it grew) and the lanes that changed.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> NewMaxima(in HalfPs h, Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3,
                                                  Vector128<float> b0, Vector128<float> b1, Vector128<float> b2, Vector128<float> b3, bool logProbs,
                                                  out Vector128<float> nma, out Vector128<float> nmb)
        {
            Vector128<float> head = Vector128.Create((float)ManagedDistill.HeadroomBase2);
            Vector128<float> bma = MaxGt(MaxGt(a0, a1), MaxGt(a2, a3));
            nma = Vector128.ConditionalSelect(Vector128.GreaterThan(bma, h.Ma), bma + head, h.Ma);
            nmb = h.Mb;
            if (!logProbs)
            {
                Vector128<float> bmb = MaxGt(MaxGt(b0, b1), MaxGt(b2, b3));
                nmb = Vector128.ConditionalSelect(Vector128.GreaterThan(bmb, h.Mb), bmb + head, h.Mb);
            }
            return Vector128.GreaterThan(nma, h.Ma) | Vector128.GreaterThan(nmb, h.Mb);
        }

        /// <summary>A half's terms of a block: a lane's four terms pre-added in float (pairwise), into the pending sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate(ref HalfPs h, Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3,
                                       Vector128<float> b0, Vector128<float> b1, Vector128<float> b2, Vector128<float> b3, bool logProbs)
        {
            a0 -= h.Ma;
            a1 -= h.Ma;
            a2 -= h.Ma;
            a3 -= h.Ma;
            if (!logProbs)
            {
                b0 -= h.Mb;
                b1 -= h.Mb;
                b2 -= h.Mb;
                b3 -= h.Mb;
            }
            Vector128<float> e0 = Exp2(b0), e1 = Exp2(b1), e2 = Exp2(b2), e3 = Exp2(b3);
            Vector128<float> t0 = Term(e0, b0, a0), t1 = Term(e1, b1, a1), t2 = Term(e2, b2, a2), t3 = Term(e3, b3, a3);
            h.Pza += (Exp2(a0) + Exp2(a1)) + (Exp2(a2) + Exp2(a3));
            h.Pzb += (e0 + e1) + (e2 + e3);
            h.Pacc += (t0 + t1) + (t2 + t3);
        }

        /// <summary>
        /// distill_neon.c block_f32: a block of 32, as two halves (a0..a3 = s log2(e)/T of elements 8j..8j+3 for
        /// lanes 0-3, c0..c3 those of 8j+4..8j+7 for lanes 4-7; b, d the teacher's). flush: the pair's pending
        /// sums widen after this block (the pair's second block, or the row's last).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block(ref LanesPs st, Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3,
                                  Vector128<float> b0, Vector128<float> b1, Vector128<float> b2, Vector128<float> b3,
                                  Vector128<float> c0, Vector128<float> c1, Vector128<float> c2, Vector128<float> c3,
                                  Vector128<float> d0, Vector128<float> d1, Vector128<float> d2, Vector128<float> d3, bool logProbs, bool flush)
        {
            Vector128<float> ch0 = NewMaxima(st.H0, a0, a1, a2, a3, b0, b1, b2, b3, logProbs, out var nma0, out var nmb0);
            Vector128<float> ch1 = NewMaxima(st.H1, c0, c1, c2, c3, d0, d1, d2, d3, logProbs, out var nma1, out var nmb1);
            if (!Vector128.EqualsAll((ch0 | ch1).AsUInt32(), Vector128<uint>.Zero))
            {
                // the pair's pending sums first, for every lane (the spec's PAIRS)
                FlushPair(ref st.H0);
                FlushPair(ref st.H1);
                Rescale(ref st.H0, nma0, nmb0, ch0);
                Rescale(ref st.H1, nma1, nmb1, ch1);
            }
            Accumulate(ref st.H0, a0, a1, a2, a3, b0, b1, b2, b3, logProbs);
            Accumulate(ref st.H1, c0, c1, c2, c3, d0, d1, d2, d3, logProbs);
            if (flush)
            {
                FlushPair(ref st.H0);
                FlushPair(ref st.H1);
            }
        }

        /// <summary>
        /// Loads a block of 32 in base 2 (logits times logitScale = log2(e)/T, a teacher's log-probabilities times
        /// log2(e)) from s and u at i; left = logits left in the row, the missing ones -∞ (the spec's padding,
        /// which it does not scale).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void LoadBlock(ref LanesPs st, ref float sr, ref float ur, int left, Vector128<float> scale, bool logProbs, bool flush)
        {
            Vector128<float> ib = logProbs ? Vector128.Create(KlConstants.Log2EF32) : scale;
            Block(ref st,
                  Load(ref sr, 0, left, scale), Load(ref sr, 8, left, scale), Load(ref sr, 16, left, scale), Load(ref sr, 24, left, scale),
                  Load(ref ur, 0, left, ib), Load(ref ur, 8, left, ib), Load(ref ur, 16, left, ib), Load(ref ur, 24, left, ib),
                  Load(ref sr, 4, left, scale), Load(ref sr, 12, left, scale), Load(ref sr, 20, left, scale), Load(ref sr, 28, left, scale),
                  Load(ref ur, 4, left, ib), Load(ref ur, 12, left, ib), Load(ref ur, 20, left, ib), Load(ref ur, 28, left, ib),
                  logProbs, flush);
        }

        /// <summary>The four elements at `at`, times scale; -∞ for those at or past left.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> Load(ref float p, int at, int left, Vector128<float> scale)
        {
            Vector128<float> v = Vector128.LoadUnsafe(ref p, (nuint)at) * scale;
            if (left >= 32) return v;
            Vector128<int> missing = Vector128.GreaterThanOrEqual(Vector128.Create(at, at + 1, at + 2, at + 3), Vector128.Create(left));
            return Vector128.ConditionalSelect(missing.AsSingle(), Vector128.Create(float.NegativeInfinity), v);
        }

        /// <summary>The value pass of one row (distill_neon.c lanes_f32): fills the eight lanes' state.</summary>
        public static unsafe void Lanes(ReadOnlySpan<float> s, ReadOnlySpan<float> u, float logitScale, bool logProbs,
                                        double* ma, double* mb, double* za, double* zb, double* acc)
        {
            var st = new LanesPs();
            st.H0.Ma = st.H0.Mb = st.H1.Ma = st.H1.Mb = Vector128.Create(-float.MaxValue);
            Vector128<float> scale = Vector128.Create(logitScale);
            int cols = s.Length, i = 0, blk = 0;
            ref float sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            // the spec widens the pending sums after blocks 1, 3, 5, ... and after the row's last
            for (; i + 32 <= cols; i += 32, blk++)
                LoadBlock(ref st, ref Unsafe.Add(ref sr, i), ref Unsafe.Add(ref ur, i), 32, scale, logProbs, (blk & 1) != 0 || i + 32 >= cols);
            if (i < cols)
            {
                // the last block: the row's tail and zeros, the missing lanes set to -inf after scaling
                Span<float> sb = stackalloc float[32], ub = stackalloc float[32];
                sb.Clear();
                ub.Clear();
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                LoadBlock(ref st, ref MemoryMarshal.GetReference(sb), ref MemoryMarshal.GetReference(ub), cols - i, scale, logProbs, true);
            }
            Store(st.H0, 0, ma, mb, za, zb, acc);
            Store(st.H1, 4, ma, mb, za, zb, acc);
        }

        private static unsafe void Store(in HalfPs h, int at, double* ma, double* mb, double* za, double* zb, double* acc)
        {
            Vector128.WidenLower(h.Ma).Store(ma + at);
            Vector128.WidenUpper(h.Ma).Store(ma + at + 2);
            Vector128.WidenLower(h.Mb).Store(mb + at);
            Vector128.WidenUpper(h.Mb).Store(mb + at + 2);
            h.ZaLo.Store(za + at);
            h.ZaHi.Store(za + at + 2);
            h.ZbLo.Store(zb + at);
            h.ZbHi.Store(zb + at + 2);
            h.AccLo.Store(acc + at);
            h.AccHi.Store(acc + at + 2);
        }

        // ------------------------------------------------------------ float64

        /// <summary>Two of the four lanes.</summary>
        private struct HalfPd
        {
            public Vector128<double> Ma, Mb, Za, Zb, Acc;
        }

        /// <summary>distill_neon.c block_f64 on one half (lanes 2h, 2h + 1): a0, a1 = the scaled student logits
        /// 2h, 2h + 1 and 4 + 2h, 4 + 2h + 1 of a block of 8; b0, b1 the teacher's.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Block(ref HalfPd h, Vector128<double> a0, Vector128<double> a1, Vector128<double> b0, Vector128<double> b1, bool logProbs)
        {
            Vector128<double> head = Vector128.Create(ManagedDistill.Headroom);
            Vector128<double> bma = MaxGt(a0, a1);
            Vector128<double> nma = Vector128.ConditionalSelect(Vector128.GreaterThan(bma, h.Ma), bma + head, h.Ma);
            Vector128<double> nmb = h.Mb;
            if (!logProbs)
            {
                Vector128<double> bmb = MaxGt(b0, b1);
                nmb = Vector128.ConditionalSelect(Vector128.GreaterThan(bmb, h.Mb), bmb + head, h.Mb);
            }
            Vector128<double> changed = Vector128.GreaterThan(nma, h.Ma) | Vector128.GreaterThan(nmb, h.Mb);
            if (!Vector128.EqualsAll(changed.AsUInt64(), Vector128<ulong>.Zero))
            {
                Vector128<double> ra = Exp(h.Ma - nma), rb = Exp(h.Mb - nmb);
                RescalePair(ref h.Za, ref h.Zb, ref h.Acc, changed, ra, rb, nma - h.Ma, nmb - h.Mb);
                h.Ma = Vector128.ConditionalSelect(changed, nma, h.Ma);
                h.Mb = Vector128.ConditionalSelect(changed, nmb, h.Mb);
            }
            a0 -= h.Ma;
            a1 -= h.Ma;
            if (!logProbs)
            {
                b0 -= h.Mb;
                b1 -= h.Mb;
            }
            Vector128<double> e0 = Exp(b0), e1 = Exp(b1);
            h.Za += Exp(a0) + Exp(a1);
            h.Zb += e0 + e1;
            h.Acc += Term(e0, b0, a0) + Term(e1, b1, a1);
        }

        /// <summary>The two elements at `at`, times scale (unless scale is null: a teacher's log-probabilities);
        /// -∞ for those at or past left.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<double> Load(ref double p, int at, int left, Vector128<double> scale, bool scaled)
        {
            Vector128<double> v = Vector128.LoadUnsafe(ref p, (nuint)at);
            if (scaled) v *= scale;
            if (left >= 8) return v;
            Vector128<long> missing = Vector128.GreaterThanOrEqual(Vector128.Create((long)at, at + 1), Vector128.Create((long)left));
            return Vector128.ConditionalSelect(missing.AsDouble(), Vector128.Create(double.NegativeInfinity), v);
        }

        /// <summary>A block of 8 from sp and up (left = logits left in the row) into both halves.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void LoadBlock(ref HalfPd h0, ref HalfPd h1, ref double sp, ref double up, int left, Vector128<double> scale, bool logProbs)
        {
            Block(ref h0, Load(ref sp, 0, left, scale, true), Load(ref sp, 4, left, scale, true),
                  Load(ref up, 0, left, scale, !logProbs), Load(ref up, 4, left, scale, !logProbs), logProbs);
            Block(ref h1, Load(ref sp, 2, left, scale, true), Load(ref sp, 6, left, scale, true),
                  Load(ref up, 2, left, scale, !logProbs), Load(ref up, 6, left, scale, !logProbs), logProbs);
        }

        /// <summary>The value pass of one row (distill_neon.c lanes_f64): fills the four lanes' state.</summary>
        public static unsafe void Lanes(ReadOnlySpan<double> s, ReadOnlySpan<double> u, double logitScale, bool logProbs,
                                        double* ma, double* mb, double* za, double* zb, double* acc)
        {
            HalfPd h0 = default, h1 = default;
            h0.Ma = h0.Mb = h1.Ma = h1.Mb = Vector128.Create(-double.MaxValue);
            Vector128<double> scale = Vector128.Create(logitScale);
            int cols = s.Length;
            int i = 0;
            ref double sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            for (; i + 8 <= cols; i += 8)
                LoadBlock(ref h0, ref h1, ref Unsafe.Add(ref sr, i), ref Unsafe.Add(ref ur, i), 8, scale, logProbs);
            if (i < cols)
            {
                // the last block: the row's tail and zeros, the missing lanes set to -inf after scaling
                Span<double> sb = stackalloc double[8], ub = stackalloc double[8];
                sb.Clear();
                ub.Clear();
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                LoadBlock(ref h0, ref h1, ref MemoryMarshal.GetReference(sb), ref MemoryMarshal.GetReference(ub), cols - i, scale, logProbs);
            }
            h0.Ma.Store(ma); h1.Ma.Store(ma + 2);
            h0.Mb.Store(mb); h1.Mb.Store(mb + 2);
            h0.Za.Store(za); h1.Za.Store(za + 2);
            h0.Zb.Store(zb); h1.Zb.Store(zb + 2);
            h0.Acc.Store(acc); h1.Acc.Store(acc + 2);
        }

        // ------------------------------------------------------------ gradient pass

        /// <summary>
        /// DISTILL_GRAD_SCALAR on 4 floats (distill_neon.c grad_f32x4), in base 2: lq, lp the log-probabilities,
        /// gs = (q TeacherMass - p) StudentFactor, gu = p ((lp - lq) - Kl) TeacherFactor (+0 where p is 0), NaN canonical.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Grad(Vector128<float> sv, Vector128<float> uv, in GradConstants<float> g, out Vector128<float> gs, out Vector128<float> gu)
        {
            Vector128<float> lq = ((sv * Vector128.Create(g.StudentScale)) - Vector128.Create(g.StudentMax)) - Vector128.Create(g.StudentLogSum);
            Vector128<float> lp = ((uv * Vector128.Create(g.TeacherScale)) - Vector128.Create(g.TeacherMax)) - Vector128.Create(g.TeacherLogSum);
            Vector128<float> q = Exp2(lq), p = Exp2(lp);
            gs = CanonicalNaN(((q * Vector128.Create(g.TeacherMass)) - p) * Vector128.Create(g.StudentFactor));
            Vector128<float> gv = (p * ((lp - lq) - Vector128.Create(g.Kl))) * Vector128.Create(g.TeacherFactor);
            gu = CanonicalNaN(ZeroWhere(Vector128.Equals(p, Vector128<float>.Zero), gv));
        }

        /// <summary>The gradient pass of one row (distill_neon.c nkl_distill_grad_f32_neon); gu may be empty.</summary>
        public static void Grad(ReadOnlySpan<float> s, ReadOnlySpan<float> u, in GradConstants<float> g, Span<float> gs, Span<float> gu)
        {
            int cols = s.Length, i = 0;
            bool teacher = !gu.IsEmpty;
            ref float sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            ref float gsr = ref MemoryMarshal.GetReference(gs), gur = ref MemoryMarshal.GetReference(gu);
            for (; i + 4 <= cols; i += 4)
            {
                Grad(Vector128.LoadUnsafe(ref sr, (nuint)i), Vector128.LoadUnsafe(ref ur, (nuint)i), g, out var vs, out var vu);
                vs.StoreUnsafe(ref gsr, (nuint)i);
                if (teacher) vu.StoreUnsafe(ref gur, (nuint)i);
            }
            if (i < cols)
            {
                Span<float> sb = stackalloc float[4], ub = stackalloc float[4], os = stackalloc float[4], ou = stackalloc float[4];
                sb.Clear();
                ub.Clear();
                s.Slice(i).CopyTo(sb);
                u.Slice(i).CopyTo(ub);
                Grad(Vector128.Create<float>(sb), Vector128.Create<float>(ub), g, out var vs, out var vu);
                vs.CopyTo(os);
                vu.CopyTo(ou);
                os.Slice(0, cols - i).CopyTo(gs.Slice(i));
                if (teacher) ou.Slice(0, cols - i).CopyTo(gu.Slice(i));
            }
        }

        /// <summary>DISTILL_GRAD_SCALAR on 2 doubles (distill_neon.c grad_f64x2), in base e.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Grad(Vector128<double> sv, Vector128<double> uv, in GradConstants<double> g, out Vector128<double> gs, out Vector128<double> gu)
        {
            Vector128<double> lq = ((sv * Vector128.Create(g.StudentScale)) - Vector128.Create(g.StudentMax)) - Vector128.Create(g.StudentLogSum);
            Vector128<double> lp = ((uv * Vector128.Create(g.TeacherScale)) - Vector128.Create(g.TeacherMax)) - Vector128.Create(g.TeacherLogSum);
            Vector128<double> q = Exp(lq), p = Exp(lp);
            gs = CanonicalNaN(((q * Vector128.Create(g.TeacherMass)) - p) * Vector128.Create(g.StudentFactor));
            Vector128<double> gv = (p * ((lp - lq) - Vector128.Create(g.Kl))) * Vector128.Create(g.TeacherFactor);
            gu = CanonicalNaN(ZeroWhere(Vector128.Equals(p, Vector128<double>.Zero), gv));
        }

        /// <summary>The gradient pass of one row (distill_neon.c nkl_distill_grad_f64_neon); gu may be empty.</summary>
        public static void Grad(ReadOnlySpan<double> s, ReadOnlySpan<double> u, in GradConstants<double> g, Span<double> gs, Span<double> gu)
        {
            int cols = s.Length, i = 0;
            bool teacher = !gu.IsEmpty;
            ref double sr = ref MemoryMarshal.GetReference(s), ur = ref MemoryMarshal.GetReference(u);
            ref double gsr = ref MemoryMarshal.GetReference(gs), gur = ref MemoryMarshal.GetReference(gu);
            for (; i + 2 <= cols; i += 2)
            {
                Grad(Vector128.LoadUnsafe(ref sr, (nuint)i), Vector128.LoadUnsafe(ref ur, (nuint)i), g, out var vs, out var vu);
                vs.StoreUnsafe(ref gsr, (nuint)i);
                if (teacher) vu.StoreUnsafe(ref gur, (nuint)i);
            }
            if (i < cols)
            {
                Grad(Vector128.Create(s[i], 0.0), Vector128.Create(u[i], 0.0), g, out var vs, out var vu);
                gs[i] = vs.GetElement(0);
                if (teacher) gu[i] = vu.GetElement(0);
            }
        }
    }
}
#endif
