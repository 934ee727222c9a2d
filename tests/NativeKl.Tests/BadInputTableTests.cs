using System.Runtime.InteropServices;

namespace NativeKl.Tests;

/// <summary>
/// Every public method (KlDivergence and Distillation) × every kind of bad argument (length
/// mismatch, empty or too small a destination, batch ≤ 0, stride smaller than the row, partial
/// overlap where not allowed, negative shapes, a reduction that is not one, undefined options,
/// invalid input under ValidateInputs; for Distillation also NaN, infinite and non-positive
/// temperatures, negative, NaN or infinite row weights, and under DistillationOptions.ValidateInputs
/// a NaN student logit, a +∞ teacher logit and a teacher log-probability row not summing to 1): the
/// documented exception type, naming the parameter, and not one element of any output written.
/// Empty and null arrays are not errors: they are empty spans, with PyTorch's results for empty
/// input, and they write nothing either.
/// </summary>
public class BadInputTableTests
{
    private const float Sentinel = 12345f;

    /// <summary>The outputs every case may write to, and inputs that overlap them.</summary>
    internal sealed class Outputs
    {
        public readonly float[] A = new float[16], B = new float[16], C = new float[16];
        public readonly double[] D = new double[16], E = new double[16], F = new double[16];
        public readonly KlPartial[] P = new KlPartial[4];

        public void Reset()
        {
            foreach (var a in new[] { A, B, C }) Array.Fill(a, Sentinel);
            foreach (var a in new[] { D, E, F }) Array.Fill(a, Sentinel);
            Array.Fill(P, new KlPartial { Sum = Sentinel, Compensation = Sentinel });
        }

        public bool Untouched() =>
            new[] { A, B, C }.All(a => a.All(v => v == Sentinel)) && new[] { D, E, F }.All(a => a.All(v => v == Sentinel))
            && P.All(p => p.Sum == Sentinel && p.Compensation == Sentinel);
    }

    private static readonly float[] X = { -1, -2, -3, -1, -2, -3 }, T = { 0.1f, 0.2f, 0.7f, 0.2f, 0.2f, 0.6f }, T5 = { 0.1f, 0.2f, 0.3f, 0.2f, 0.2f };
    private static readonly double[] Xd = { -1, -2, -3, -1, -2, -3 }, Td = { 0.1, 0.2, 0.7, 0.2, 0.2, 0.6 }, T5d = { 0.1, 0.2, 0.3, 0.2, 0.2 };

    /// <summary>A Distillation method of 2 × 3 logits (X student, T teacher) writing into the outputs.</summary>
    private delegate void DistillF(Outputs w, ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, int rows, int columns,
                                   DistillationOptions options, ReadOnlySpan<float> rowWeights);
    private delegate void DistillD(Outputs w, ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, int rows, int columns,
                                   DistillationOptions options, ReadOnlySpan<double> rowWeights);

    private static readonly (string Name, DistillF Call)[] DistillFloat =
    {
        ("Distillation.Loss f32", (w, s, u, r, c, o, rw) => Distillation.Loss(s, u, r, c, KlReductionKind.BatchMean, o, rw)),
        ("Distillation.RowLosses f32", (w, s, u, r, c, o, rw) => Distillation.RowLosses(s, u, r, c, w.A, o, rw)),
        ("Distillation.Backward f32", (w, s, u, r, c, o, rw) => Distillation.Backward(s, u, r, c, w.A, w.B, KlReductionKind.Sum, 0.5f, o, rw)),
        ("Distillation.RowBackward f32", (w, s, u, r, c, o, rw) => Distillation.RowBackward(s, u, r, c, w.A, w.B, w.C, 1f, o, rw)),
        // the parallel overloads check everything before a thread starts
        ("Distillation.Loss f32 degree 3", (w, s, u, r, c, o, rw) => Distillation.Loss(s, u, r, c, KlReductionKind.BatchMean, o, rw, 3)),
        ("Distillation.RowLosses f32 degree 2", (w, s, u, r, c, o, rw) => Distillation.RowLosses(s, u, r, c, w.A, o, rw, 2)),
        ("Distillation.Backward f32 degree 8", (w, s, u, r, c, o, rw) => Distillation.Backward(s, u, r, c, w.A, w.B, KlReductionKind.Sum, 0.5f, o, rw, 8)),
        ("Distillation.RowBackward f32 degree 2", (w, s, u, r, c, o, rw) => Distillation.RowBackward(s, u, r, c, w.A, w.B, w.C, 1f, o, rw, 2)),
        ("Distillation.Partials f32", (w, s, u, r, c, o, rw) => Distillation.Partials(s, u, r, c, 1, w.D.AsSpan(0, 1), o, rw)),
        ("Distillation.BackwardPartials f32", (w, s, u, r, c, o, rw) =>
            Distillation.BackwardPartials(s, u, r, c, 0, w.A, w.B, w.D.AsSpan(0, 2), KlReductionKind.Mean, 1f, o, rw)),
    };
    private static readonly (string Name, DistillD Call)[] DistillDouble =
    {
        ("Distillation.Loss f64", (w, s, u, r, c, o, rw) => Distillation.Loss(s, u, r, c, KlReductionKind.Mean, o, rw)),
        ("Distillation.RowLosses f64", (w, s, u, r, c, o, rw) => Distillation.RowLosses(s, u, r, c, w.D, o, rw)),
        ("Distillation.Backward f64", (w, s, u, r, c, o, rw) => Distillation.Backward(s, u, r, c, w.D, w.E, KlReductionKind.BatchMean, 2.0, o, rw)),
        ("Distillation.RowBackward f64", (w, s, u, r, c, o, rw) => Distillation.RowBackward(s, u, r, c, w.D, default, w.F, 1.0, o, rw)),
        ("Distillation.Loss f64 degree 2", (w, s, u, r, c, o, rw) => Distillation.Loss(s, u, r, c, KlReductionKind.Mean, o, rw, 2)),
        ("Distillation.RowLosses f64 degree 3", (w, s, u, r, c, o, rw) => Distillation.RowLosses(s, u, r, c, w.D, o, rw, 3)),
        ("Distillation.Backward f64 degree 2", (w, s, u, r, c, o, rw) => Distillation.Backward(s, u, r, c, w.D, w.E, KlReductionKind.BatchMean, 2.0, o, rw, 2)),
        ("Distillation.RowBackward f64 degree 8", (w, s, u, r, c, o, rw) => Distillation.RowBackward(s, u, r, c, w.D, default, w.F, 1.0, o, rw, 8)),
        ("Distillation.Partials f64", (w, s, u, r, c, o, rw) => Distillation.Partials(s, u, r, c, 0, w.F.AsSpan(0, 2), o, rw)),
        ("Distillation.BackwardPartials f64", (w, s, u, r, c, o, rw) =>
            Distillation.BackwardPartials(s, u, r, c, 1, w.D, default, w.F.AsSpan(0, 1), KlReductionKind.Sum, 1.0, o, rw)),
    };

    /// <summary>The backend of a table row, as distillation options (temperature 2 unless given).</summary>
    private static DistillationOptions Dist(KlOptions backend, double temperature = 2) =>
        new DistillationOptions(temperature) { Backend = backend.Backend, Isa = backend.Isa };

    /// <summary>What every Distillation method must refuse, float and double alike.</summary>
    private static IEnumerable<(string Case, Type Exception, string Param, Action<Outputs, KlOptions> Call)> DistillErrors()
    {
        var aae = typeof(ArgumentException);
        var aoore = typeof(ArgumentOutOfRangeException);
        var kie = typeof(KlInputException);
        DistillationOptions V(KlOptions o) => Dist(o) with { ValidateInputs = true };
        var temperatures = new[] { double.NaN, 0.0, -0.0, -1.0, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon };
        foreach (var (name, m) in DistillFloat)
        {
            yield return ($"{name} student too short", aae, "student", (w, o) => m(w, X.AsSpan(0, 5), T, 2, 3, Dist(o), default));
            yield return ($"{name} student empty", aae, "student", (w, o) => m(w, default, T, 2, 3, Dist(o), default));
            yield return ($"{name} teacher too short", aae, "teacher", (w, o) => m(w, X, T5, 2, 3, Dist(o), default));
            yield return ($"{name} rowWeights too short", aae, "rowWeights", (w, o) => m(w, X, T, 2, 3, Dist(o), new[] { 1f }));
            foreach (float bad in new[] { -1f, -float.Epsilon, float.NaN, float.PositiveInfinity })
                yield return ($"{name} row weight {bad}", aoore, "rowWeights", (w, o) => m(w, X, T, 2, 3, Dist(o), new[] { 1f, bad }));
            foreach (double t in temperatures.Append(1e-300)) // 1/1e-300 overflows float
                yield return ($"{name} temperature {t}", aoore, "options", (w, o) => m(w, X, T, 2, 3, Dist(o, t), default));
            yield return ($"{name} StudentStride < columns", aoore, "options.StudentStride", (w, o) => m(w, X, T, 2, 3, Dist(o) with { StudentStride = 2 }, default));
            yield return ($"{name} TeacherStride < columns", aoore, "options.TeacherStride", (w, o) => m(w, X, T, 2, 3, Dist(o) with { TeacherStride = 1 }, default));
            yield return ($"{name} negative StudentStride", aoore, "options.StudentStride", (w, o) => m(w, X, T, 2, 3, Dist(o) with { StudentStride = -3 }, default));
            yield return ($"{name} strided rows past the student", aae, "student", (w, o) => m(w, X, T, 2, 3, Dist(o) with { StudentStride = 4 }, default));
            yield return ($"{name} negative rows", aoore, "rows", (w, o) => m(w, X, T, -2, 3, Dist(o), default));
            yield return ($"{name} negative columns", aoore, "columns", (w, o) => m(w, X, T, 2, -3, Dist(o), default));
            yield return ($"{name} undefined Teacher", aoore, "options", (w, o) => m(w, X, T, 2, 3, Dist(o) with { Teacher = (TeacherKind)5 }, default));
            yield return ($"{name} undefined Isa", aoore, "options", (w, o) => m(w, X, T, 2, 3, Dist(o) with { Isa = (KlIsa)7 }, default));
            yield return ($"{name} undefined Backend", aoore, "options", (w, o) => m(w, X, T, 2, 3, Dist(o) with { Backend = (KlBackendKind)9 }, default));
            // DistillationOptions.ValidateInputs: what would have been a NaN loss
            yield return ($"{name} NaN student logit (validating)", kie, "student", (w, o) => m(w, new[] { -1f, -2f, -3f, -1f, float.NaN, -3f }, T, 2, 3, V(o), default));
            yield return ($"{name} +inf teacher logit (validating)", kie, "teacher", (w, o) => m(w, X, new[] { 0.1f, float.PositiveInfinity, 0.7f, 0.2f, 0.2f, 0.6f }, 2, 3, V(o), default));
            yield return ($"{name} log-probability teacher row sum not 1 (validating)", kie, "teacher", (w, o) => m(w, X, X, 2, 3, V(o) with { Teacher = TeacherKind.LogProbabilitiesAsGiven }, default));
        }
        foreach (var (name, m) in DistillDouble)
        {
            yield return ($"{name} student too short", aae, "student", (w, o) => m(w, Xd.AsSpan(0, 5), Td, 2, 3, Dist(o), default));
            yield return ($"{name} student empty", aae, "student", (w, o) => m(w, default, Td, 2, 3, Dist(o), default));
            yield return ($"{name} teacher too short", aae, "teacher", (w, o) => m(w, Xd, T5d, 2, 3, Dist(o), default));
            yield return ($"{name} rowWeights too short", aae, "rowWeights", (w, o) => m(w, Xd, Td, 2, 3, Dist(o), new[] { 1.0 }));
            foreach (double bad in new[] { -1.0, -double.Epsilon, double.NaN, double.PositiveInfinity })
                yield return ($"{name} row weight {bad}", aoore, "rowWeights", (w, o) => m(w, Xd, Td, 2, 3, Dist(o), new[] { 1.0, bad }));
            foreach (double t in temperatures)
                yield return ($"{name} temperature {t}", aoore, "options", (w, o) => m(w, Xd, Td, 2, 3, Dist(o, t), default));
            yield return ($"{name} StudentStride < columns", aoore, "options.StudentStride", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { StudentStride = 2 }, default));
            yield return ($"{name} TeacherStride < columns", aoore, "options.TeacherStride", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { TeacherStride = 1 }, default));
            yield return ($"{name} negative TeacherStride", aoore, "options.TeacherStride", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { TeacherStride = -3 }, default));
            yield return ($"{name} strided rows past the teacher", aae, "teacher", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { TeacherStride = 5 }, default));
            yield return ($"{name} negative rows", aoore, "rows", (w, o) => m(w, Xd, Td, int.MinValue, 3, Dist(o), default));
            yield return ($"{name} negative columns", aoore, "columns", (w, o) => m(w, Xd, Td, 2, -1, Dist(o), default));
            yield return ($"{name} undefined Teacher", aoore, "options", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { Teacher = (TeacherKind)(-1) }, default));
            yield return ($"{name} undefined Isa", aoore, "options", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { Isa = (KlIsa)7 }, default));
            yield return ($"{name} undefined Backend", aoore, "options", (w, o) => m(w, Xd, Td, 2, 3, Dist(o) with { Backend = (KlBackendKind)(-1) }, default));
            yield return ($"{name} NaN student logit (validating)", kie, "student", (w, o) => m(w, new[] { double.NaN, -2, -3, -1, -2, -3 }, Td, 2, 3, V(o), default));
            yield return ($"{name} +inf teacher logit (validating)", kie, "teacher", (w, o) => m(w, Xd, new[] { 0.1, 0.2, 0.7, 0.2, 0.2, double.PositiveInfinity }, 2, 3, V(o), default));
            yield return ($"{name} log-probability teacher row sum not 1 (validating)", kie, "teacher", (w, o) => m(w, Xd, Xd, 2, 3, V(o) with { Teacher = TeacherKind.LogProbabilitiesAsGiven }, default));
        }

        // reductions: Loss and Backward take a reduction; None is RowLosses' and RowBackward's
        yield return ("Distillation.Loss f32 None", aae, "reduction", (w, o) => Distillation.Loss(X, T, 2, 3, KlReductionKind.None, Dist(o)));
        yield return ("Distillation.Loss f64 (KlReductionKind)9", aoore, "reduction", (w, o) => Distillation.Loss(Xd, Td, 2, 3, (KlReductionKind)9, Dist(o)));
        yield return ("Distillation.Backward f32 (KlReductionKind)-1", aoore, "reduction", (w, o) => Distillation.Backward(X, T, 2, 3, w.A, w.B, (KlReductionKind)(-1), 1f, Dist(o)));
        yield return ("Distillation.Backward f64 None", aae, "reduction", (w, o) => Distillation.Backward(Xd, Td, 2, 3, w.D, w.E, KlReductionKind.None, 1.0, Dist(o)));

        // destination too small or empty
        yield return ("Distillation.RowLosses f32 destination too small", aae, "destination", (w, o) => Distillation.RowLosses(X, T, 2, 3, w.A.AsSpan(0, 1), Dist(o)));
        yield return ("Distillation.RowLosses f64 destination empty", aae, "destination", (w, o) => Distillation.RowLosses(Xd, Td, 2, 3, default, Dist(o)));
        yield return ("Distillation.Backward f32 gradStudent too small", aae, "gradStudent", (w, o) => Distillation.Backward(X, T, 2, 3, w.A.AsSpan(0, 5), w.B, options: Dist(o)));
        yield return ("Distillation.Backward f64 gradStudent empty", aae, "gradStudent", (w, o) => Distillation.Backward(Xd, Td, 2, 3, default, w.E, options: Dist(o)));
        yield return ("Distillation.Backward f32 gradTeacher too small", aae, "gradTeacher", (w, o) => Distillation.Backward(X, T, 2, 3, w.A, w.B.AsSpan(0, 5), options: Dist(o)));
        yield return ("Distillation.Backward f64 strided gradStudent too small", aae, "gradStudent",
            (w, o) => Distillation.Backward(new double[8], Td, 2, 3, w.D.AsSpan(0, 7), options: Dist(o) with { StudentStride = 5 }));
        yield return ("Distillation.RowBackward f32 rowLosses too small", aae, "rowLosses", (w, o) => Distillation.RowBackward(X, T, 2, 3, w.A, w.B, w.C.AsSpan(0, 1), 1f, Dist(o)));
        yield return ("Distillation.RowBackward f64 gradStudent too small", aae, "gradStudent", (w, o) => Distillation.RowBackward(Xd, Td, 2, 3, w.D.AsSpan(0, 4), default, w.F, 1.0, Dist(o)));
        yield return ("Distillation.RowBackward f64 gradTeacher too small", aae, "gradTeacher", (w, o) => Distillation.RowBackward(Xd, Td, 2, 3, w.D, w.E.AsSpan(0, 3), w.F, 1.0, Dist(o)));

        // outputs overlapping inputs or each other (never allowed: no in-place)
        yield return ("Distillation.RowLosses f32 destination over student", aae, "destination", (w, o) => Distillation.RowLosses(w.A.AsSpan(0, 6), T, 2, 3, w.A.AsSpan(5, 2), Dist(o)));
        yield return ("Distillation.RowLosses f64 destination over teacher", aae, "destination", (w, o) => Distillation.RowLosses(Xd, w.D.AsSpan(0, 6), 2, 3, w.D.AsSpan(0, 2), Dist(o)));
        yield return ("Distillation.RowLosses f32 destination over rowWeights", aae, "destination", (w, o) => Distillation.RowLosses(X, T, 2, 3, w.A.AsSpan(1, 2), Dist(o), w.A.AsSpan(0, 2)));
        yield return ("Distillation.Backward f32 gradStudent is student", aae, "gradStudent", (w, o) => Distillation.Backward(w.A.AsSpan(0, 6), T, 2, 3, w.A.AsSpan(0, 6), w.B, options: Dist(o)));
        yield return ("Distillation.Backward f64 gradStudent over teacher", aae, "gradStudent", (w, o) => Distillation.Backward(Xd, w.D.AsSpan(4, 6), 2, 3, w.D.AsSpan(0, 6), w.E, options: Dist(o)));
        yield return ("Distillation.Backward f32 gradTeacher over teacher", aae, "gradTeacher", (w, o) => Distillation.Backward(X, w.B.AsSpan(0, 6), 2, 3, w.A, w.B.AsSpan(3, 6), options: Dist(o)));
        yield return ("Distillation.Backward f64 gradTeacher over gradStudent", aae, "gradTeacher", (w, o) => Distillation.Backward(Xd, Td, 2, 3, w.D.AsSpan(0, 6), w.D.AsSpan(5, 6), options: Dist(o)));
        yield return ("Distillation.Backward f32 gradStudent over rowWeights", aae, "gradStudent",
            (w, o) => Distillation.Backward(X, T, 2, 3, w.A.AsSpan(0, 6), options: Dist(o), rowWeights: w.A.AsSpan(5, 2)));
        yield return ("Distillation.RowBackward f32 rowLosses over student", aae, "rowLosses", (w, o) => Distillation.RowBackward(w.C.AsSpan(0, 6), T, 2, 3, w.A, w.B, w.C.AsSpan(4, 2), 1f, Dist(o)));
        yield return ("Distillation.RowBackward f64 gradStudent over rowLosses", aae, "gradStudent", (w, o) => Distillation.RowBackward(Xd, Td, 2, 3, w.D.AsSpan(1, 6), default, w.D.AsSpan(0, 2), 1.0, Dist(o)));
        yield return ("Distillation.RowBackward f64 gradTeacher over rowLosses", aae, "gradTeacher", (w, o) => Distillation.RowBackward(Xd, Td, 2, 3, w.D, w.F.AsSpan(1, 6), w.F.AsSpan(6, 2), 1.0, Dist(o)));
        yield return ("Distillation.RowBackward f32 gradTeacher is student", aae, "gradTeacher", (w, o) => Distillation.RowBackward(w.B.AsSpan(0, 6), T, 2, 3, w.A, w.B.AsSpan(0, 6), default, 1f, Dist(o)));

        // degreeOfParallelism < 1: Reduce's exception
        var dop = "degreeOfParallelism";
        foreach (int bad in new[] { 0, -1, int.MinValue })
        {
            yield return ($"Distillation.Loss f32 degree {bad}", aoore, dop, (w, o) => Distillation.Loss(X, T, 2, 3, options: Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.RowLosses f32 degree {bad}", aoore, dop, (w, o) => Distillation.RowLosses(X, T, 2, 3, w.A, Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.Backward f32 degree {bad}", aoore, dop, (w, o) => Distillation.Backward(X, T, 2, 3, w.A, w.B, options: Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.RowBackward f32 degree {bad}", aoore, dop, (w, o) => Distillation.RowBackward(X, T, 2, 3, w.A, w.B, w.C, options: Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.Loss f64 degree {bad}", aoore, dop, (w, o) => Distillation.Loss(Xd, Td, 2, 3, options: Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.RowLosses f64 degree {bad}", aoore, dop, (w, o) => Distillation.RowLosses(Xd, Td, 2, 3, w.D, Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.Backward f64 degree {bad}", aoore, dop, (w, o) => Distillation.Backward(Xd, Td, 2, 3, w.D, w.E, options: Dist(o), degreeOfParallelism: bad));
            yield return ($"Distillation.RowBackward f64 degree {bad}", aoore, dop, (w, o) => Distillation.RowBackward(Xd, Td, 2, 3, w.D, w.E, w.F, options: Dist(o), degreeOfParallelism: bad));
        }

        // the pieces: row ranges, the reduction of the backward ones, outputs
        yield return ("Distillation.Partials f32 firstRow -1", aoore, "firstRow", (w, o) => Distillation.Partials(X, T, 2, 3, -1, w.D.AsSpan(0, 1), Dist(o)));
        yield return ("Distillation.Partials f32 firstRow past rows", aoore, "firstRow", (w, o) => Distillation.Partials(X, T, 2, 3, 3, default, Dist(o)));
        yield return ("Distillation.Partials f64 rowPartials past rows", aae, "rowPartials", (w, o) => Distillation.Partials(Xd, Td, 2, 3, 1, w.D.AsSpan(0, 2), Dist(o)));
        yield return ("Distillation.Partials f64 16 rowPartials from row 1", aae, "rowPartials", (w, o) => Distillation.Partials(Xd, Td, 2, 3, 1, w.D.AsSpan(0, 16), Dist(o)));
        yield return ("Distillation.BackwardPartials f32 firstRow past rows", aoore, "firstRow",
            (w, o) => Distillation.BackwardPartials(X, T, 2, 3, int.MaxValue, w.A, w.B, w.D.AsSpan(0, 1), KlReductionKind.Sum, 1f, Dist(o)));
        yield return ("Distillation.BackwardPartials f64 rowPartials past rows", aae, "rowPartials",
            (w, o) => Distillation.BackwardPartials(Xd, Td, 2, 3, 0, w.D, w.E, w.F.AsSpan(0, 3), KlReductionKind.Sum, 1.0, Dist(o)));
        yield return ("Distillation.BackwardPartials f32 None", aae, "reduction",
            (w, o) => Distillation.BackwardPartials(X, T, 2, 3, 0, w.A, w.B, w.D.AsSpan(0, 2), KlReductionKind.None, 1f, Dist(o)));
        yield return ("Distillation.BackwardPartials f64 (KlReductionKind)7", aoore, "reduction",
            (w, o) => Distillation.BackwardPartials(Xd, Td, 2, 3, 0, w.D, w.E, w.F.AsSpan(0, 2), (KlReductionKind)7, 1.0, Dist(o)));
        yield return ("Distillation.Partials f64 rowPartials over student", aae, "rowPartials", (w, o) => Distillation.Partials(w.D.AsSpan(0, 6), Td, 2, 3, 0, w.D.AsSpan(5, 2), Dist(o)));
        yield return ("Distillation.Partials f32 rowPartials over rowWeights", aae, "rowPartials",
            (w, o) => Distillation.Partials(X, T, 2, 3, 0, w.D.AsSpan(0, 2), Dist(o), MemoryMarshal.Cast<double, float>(w.D.AsSpan(1, 1))));
        yield return ("Distillation.BackwardPartials f64 rowPartials over gradStudent", aae, "rowPartials",
            (w, o) => Distillation.BackwardPartials(Xd, Td, 2, 3, 0, w.D.AsSpan(0, 6), w.E, w.D.AsSpan(5, 2), KlReductionKind.Sum, 1.0, Dist(o)));
        yield return ("Distillation.BackwardPartials f32 gradTeacher over gradStudent", aae, "gradTeacher",
            (w, o) => Distillation.BackwardPartials(X, T, 2, 3, 0, w.A.AsSpan(0, 6), w.A.AsSpan(3, 6), w.D.AsSpan(0, 2), KlReductionKind.Sum, 1f, Dist(o)));
        yield return ("Distillation.BackwardPartials f32 gradStudent too small", aae, "gradStudent",
            (w, o) => Distillation.BackwardPartials(X, T, 2, 3, 1, w.A.AsSpan(0, 5), default, w.D.AsSpan(0, 1), KlReductionKind.Sum, 1f, Dist(o)));

        // the finish: what the call checks of rows, reduction, options and weights, and its partials
        double[] p2 = { 0.5, 0.25 };
        yield return ("Distillation.Finish f64 rowPartials too short", aae, "rowPartials", (w, o) => Distillation.Finish(p2.AsSpan(0, 1), 2, 3, KlReductionKind.Sum, Dist(o), ReadOnlySpan<double>.Empty));
        yield return ("Distillation.Finish f64 (float) rowPartials empty", aae, "rowPartials", (w, o) => Distillation.Finish(default, 2, 3, KlReductionKind.Sum, Dist(o), ReadOnlySpan<float>.Empty));
        yield return ("Distillation.Finish f64 None", aae, "reduction", (w, o) => Distillation.Finish(p2, 2, 3, KlReductionKind.None, Dist(o), ReadOnlySpan<double>.Empty));
        yield return ("Distillation.Finish f64 (float) (KlReductionKind)4", aoore, "reduction", (w, o) => Distillation.Finish(p2, 2, 3, (KlReductionKind)4, Dist(o), ReadOnlySpan<float>.Empty));
        yield return ("Distillation.Finish f64 negative rows", aoore, "rows", (w, o) => Distillation.Finish(p2, -1, 3, KlReductionKind.Sum, Dist(o), ReadOnlySpan<double>.Empty));
        yield return ("Distillation.Finish f64 (float) negative columns", aoore, "columns", (w, o) => Distillation.Finish(p2, 2, -3, KlReductionKind.Sum, Dist(o), ReadOnlySpan<float>.Empty));
        yield return ("Distillation.Finish f64 row weight NaN", aoore, "rowWeights", (w, o) => Distillation.Finish(p2, 2, 3, KlReductionKind.Sum, Dist(o), new[] { 1.0, double.NaN }));
        yield return ("Distillation.Finish f64 (float) rowWeights too short", aae, "rowWeights", (w, o) => Distillation.Finish(p2, 2, 3, KlReductionKind.Mean, Dist(o), new[] { 1f }));
        yield return ("Distillation.Finish f64 temperature 0", aoore, "options", (w, o) => Distillation.Finish(p2, 2, 3, KlReductionKind.Sum, Dist(o, 0), ReadOnlySpan<double>.Empty));
        yield return ("Distillation.Finish f64 (float) undefined Backend", aoore, "options",
            (w, o) => Distillation.Finish(p2, 2, 3, KlReductionKind.Sum, Dist(o) with { Backend = (KlBackendKind)9 }, ReadOnlySpan<float>.Empty));
    }

    internal static IEnumerable<(string Case, Type Exception, string Param, Action<Outputs, KlOptions> Call)> Errors()
    {
        const string target = "target";
        var aae = typeof(ArgumentException);
        var aoore = typeof(ArgumentOutOfRangeException);
        var kie = typeof(KlInputException);
        KlOptions V(KlOptions o) => o with { ValidateInputs = true };

        // length mismatch, every method, float and double
        yield return ("Sum f32 length mismatch", aae, target, (w, o) => KlDivergence.Sum(X, T5, o));
        yield return ("Mean f32 length mismatch", aae, target, (w, o) => KlDivergence.Mean(X, T5, o));
        yield return ("BatchMean f32 length mismatch", aae, target, (w, o) => KlDivergence.BatchMean(X, T5, 2, o));
        yield return ("Reduce f32 length mismatch", aae, target, (w, o) => KlDivergence.Reduce(X, T5, KlReduction.Sum, o, 2));
        yield return ("Pointwise f32 length mismatch", aae, target, (w, o) => KlDivergence.Pointwise(X, T5, w.A, o));
        yield return ("Rows f32 length mismatch", aae, target, (w, o) => KlDivergence.Rows(X, T5, 2, 3, w.A, o));
        yield return ("Backward f32 length mismatch", aae, target, (w, o) => KlDivergence.Backward(X, T5, w.A, w.B, KlReduction.Sum, 1f, o));
        yield return ("PointwiseBackward f32 length mismatch", aae, target, (w, o) => KlDivergence.PointwiseBackward(X, T5, w.A, w.B, w.C, 1f, o));
        yield return ("Sum f64 length mismatch", aae, target, (w, o) => KlDivergence.Sum(Xd, T5d, o));
        yield return ("Mean f64 length mismatch", aae, target, (w, o) => KlDivergence.Mean(Xd, T5d, o));
        yield return ("BatchMean f64 length mismatch", aae, target, (w, o) => KlDivergence.BatchMean(Xd, T5d, 2, o));
        yield return ("Reduce f64 length mismatch", aae, target, (w, o) => KlDivergence.Reduce(Xd, T5d, KlReduction.Mean, o));
        yield return ("Pointwise f64 length mismatch", aae, target, (w, o) => KlDivergence.Pointwise(Xd, T5d, w.D, o));
        yield return ("Rows f64 length mismatch", aae, target, (w, o) => KlDivergence.Rows(Xd, T5d, 2, 3, w.D, o));
        yield return ("Backward f64 length mismatch", aae, target, (w, o) => KlDivergence.Backward(Xd, T5d, w.D, w.E, KlReduction.Sum, 1.0, o));
        yield return ("PointwiseBackward f64 length mismatch", aae, target, (w, o) => KlDivergence.PointwiseBackward(Xd, T5d, w.D, w.E, w.F, 1.0, o));

        // destination too small
        yield return ("Pointwise f32 destination too small", aae, "destination", (w, o) => KlDivergence.Pointwise(X, T, w.A.AsSpan(0, 5), o));
        yield return ("Rows f32 destination too small", aae, "destination", (w, o) => KlDivergence.Rows(X, T, 3, 2, w.A.AsSpan(0, 2), o));
        yield return ("Rows strided f32 destination too small", aae, "destination", (w, o) => KlDivergence.Rows(X, 3, T, 3, 2, 3, w.A.AsSpan(0, 1), o));
        yield return ("Backward f32 gradInput too small", aae, "gradInput", (w, o) => KlDivergence.Backward(X, T, w.A.AsSpan(0, 5), w.B, KlReduction.Sum, 1f, o));
        yield return ("Backward f32 gradTarget too small", aae, "gradTarget", (w, o) => KlDivergence.Backward(X, T, w.A, w.B.AsSpan(0, 3), KlReduction.Sum, 1f, o));
        yield return ("PointwiseBackward f32 values too small", aae, "values", (w, o) => KlDivergence.PointwiseBackward(X, T, w.A, w.B, w.C.AsSpan(0, 5), 1f, o));
        yield return ("Pointwise f64 destination too small", aae, "destination", (w, o) => KlDivergence.Pointwise(Xd, Td, w.D.AsSpan(0, 5), o));
        yield return ("Rows f64 destination too small", aae, "destination", (w, o) => KlDivergence.Rows(Xd, Td, 3, 2, w.D.AsSpan(0, 2), o));
        yield return ("Backward f64 gradInput too small", aae, "gradInput", (w, o) => KlDivergence.Backward(Xd, Td, w.D.AsSpan(0, 1), default, KlReduction.Mean, 1.0, o));
        yield return ("PointwiseBackward f64 gradTarget too small", aae, "gradTarget", (w, o) => KlDivergence.PointwiseBackward(Xd, Td, w.D, w.E.AsSpan(0, 5), default, 1.0, o));

        // batch <= 0, and a batch that does not divide
        foreach (int batch in new[] { 0, -1, int.MinValue })
        {
            yield return ($"BatchMean f32 batch {batch}", aoore, "batchSize", (w, o) => KlDivergence.BatchMean(X, T, batch, o));
            yield return ($"Reduce f64 BatchMean batch {batch}", aoore, "batchSize", (w, o) => KlDivergence.Reduce(Xd, Td, KlReduction.BatchMean(batch), o));
            yield return ($"Backward f32 BatchMean batch {batch}", aoore, "batchSize", (w, o) => KlDivergence.Backward(X, T, w.A, w.B, KlReduction.BatchMean(batch), 1f, o));
            yield return ($"Backward f64 BatchMean batch {batch}", aoore, "batchSize", (w, o) => KlDivergence.Backward(Xd, Td, w.D, w.E, KlReduction.BatchMean(batch), 1.0, o));
        }
        yield return ("BatchMean f64 batch 4 of 6", aae, "batchSize", (w, o) => KlDivergence.BatchMean(Xd, Td, 4, o));

        // stride smaller than the row; negative shapes; rows that do not fit
        yield return ("Rows strided f32 inputStride < columns", aoore, "inputStride", (w, o) => KlDivergence.Rows(X, 2, T, 3, 2, 3, w.A, o));
        yield return ("Rows strided f32 targetStride < columns", aoore, "targetStride", (w, o) => KlDivergence.Rows(X, 3, T, 0, 2, 3, w.A, o));
        yield return ("Rows strided f64 inputStride < columns", aoore, "inputStride", (w, o) => KlDivergence.Rows(Xd, -1, Td, 3, 2, 3, w.D, o));
        yield return ("Rows strided f64 targetStride < columns", aoore, "targetStride", (w, o) => KlDivergence.Rows(Xd, 3, Td, 2, 2, 3, w.D, o));
        yield return ("Rows strided f32 negative rows", aoore, "rows", (w, o) => KlDivergence.Rows(X, 3, T, 3, -2, 3, w.A, o));
        yield return ("Rows f64 negative columns", aoore, "columns", (w, o) => KlDivergence.Rows(Xd, Td, 2, -3, w.D, o));
        yield return ("Rows strided f32 rows past the input", aae, "input", (w, o) => KlDivergence.Rows(X, 4, T, 3, 2, 3, w.A, o));
        yield return ("Rows strided f64 rows past the target", aae, "target", (w, o) => KlDivergence.Rows(Xd, 3, Td, int.MaxValue, 2, 3, w.D, o));
        yield return ("Rows f32 shape not rows × columns", aae, "input", (w, o) => KlDivergence.Rows(X, T, 4, 2, w.A, o));

        // overlapping input/output where not allowed (in place is allowed for Pointwise only)
        yield return ("Pointwise f32 destination partly over input", aae, "destination", (w, o) => KlDivergence.Pointwise(w.A.AsSpan(0, 6), T, w.A.AsSpan(2, 6), o));
        yield return ("Pointwise f64 destination partly over target", aae, "destination", (w, o) => KlDivergence.Pointwise(Xd, w.D.AsSpan(1, 6), w.D.AsSpan(0, 6), o));
        // shifted by part of an element (memory reinterpreted from bytes): the same error, not .NET's own
        yield return ("Pointwise f32 destination over input by 2 bytes", aae, "destination", (w, o) =>
        {
            var bytes = new byte[64];
            KlDivergence.Pointwise(MemoryMarshal.Cast<byte, float>(bytes.AsSpan(0, 24)), T, MemoryMarshal.Cast<byte, float>(bytes.AsSpan(2, 24)), o);
        });
        yield return ("Pointwise f64 destination over target by 3 bytes", aae, "destination", (w, o) =>
        {
            var bytes = new byte[128];
            KlDivergence.Pointwise(Xd, MemoryMarshal.Cast<byte, double>(bytes.AsSpan(3, 48)), MemoryMarshal.Cast<byte, double>(bytes.AsSpan(0, 48)), o);
        });
        yield return ("Rows strided f32 destination inside input", aae, "destination", (w, o) => KlDivergence.Rows(w.A.AsSpan(0, 6), 3, T, 3, 2, 3, w.A.AsSpan(4, 2), o));
        yield return ("Rows strided f64 destination exactly target", aae, "destination", (w, o) => KlDivergence.Rows(Xd, 3, w.D.AsSpan(0, 6), 3, 2, 3, w.D.AsSpan(0, 2), o));
        yield return ("Backward f32 gradInput is input", aae, "gradInput", (w, o) => KlDivergence.Backward(w.A.AsSpan(0, 6), T, w.A.AsSpan(0, 6), default, KlReduction.Sum, 1f, o));
        yield return ("Backward f32 gradTarget over gradInput", aae, "gradTarget", (w, o) => KlDivergence.Backward(X, T, w.A.AsSpan(0, 6), w.A.AsSpan(3, 6), KlReduction.Sum, 1f, o));
        yield return ("PointwiseBackward f64 values over target", aae, "values", (w, o) => KlDivergence.PointwiseBackward(Xd, w.D.AsSpan(0, 6), w.E, default, w.D.AsSpan(5, 6), 1.0, o));
        yield return ("PointwiseBackward f32 gradTarget is target", aae, "gradTarget", (w, o) => KlDivergence.PointwiseBackward(X, w.A.AsSpan(0, 6), w.B, w.A.AsSpan(0, 6), default, 1f, o));

        // undefined options (a KlDivergence reduction that is not one does not compile: KlReductionKind has no None)
        yield return ("Reduce f32 degreeOfParallelism 0", aoore, "degreeOfParallelism", (w, o) => KlDivergence.Reduce(X, T, KlReduction.Sum, o, 0));
        yield return ("Pointwise f32 undefined Isa", aoore, "options", (w, o) => KlDivergence.Pointwise(X, T, w.A, o with { Isa = (KlIsa)7 }));
        yield return ("Rows f64 NaN RowSumTolerance", aoore, "options", (w, o) => KlDivergence.Rows(Xd, Td, 2, 3, w.D, o with { RowSumTolerance = double.NaN }));
        yield return ("Sum f32 negative RowSumTolerance", aoore, "options", (w, o) => KlDivergence.Sum(X, T, o with { RowSumTolerance = -1 }));

        // KlOptions.ValidateInputs: what would have been NaN or nonsense
        yield return ("Pointwise f32 NaN input (validating)", kie, "input", (w, o) => KlDivergence.Pointwise(new float[] { -1, float.NaN }, new float[] { 0.5f, 0.5f }, w.A, V(o)));
        yield return ("Backward f64 target > 1 (validating)", kie, target, (w, o) => KlDivergence.Backward(Xd, new[] { 0.1, 0.2, 1.5, 0.2, 0.2, 0.6 }, w.D, w.E, KlReduction.Sum, 1.0, V(o)));
        yield return ("Rows f32 row sum 0.9 (validating)", kie, target, (w, o) => KlDivergence.Rows(X, new[] { 0.1f, 0.2f, 0.6f, 0.2f, 0.2f, 0.6f }, 2, 3, w.A, V(o)));
        yield return ("PointwiseBackward f32 log target > 0 (validating)", kie, target, (w, o) => KlDivergence.PointwiseBackward(X, new[] { -1f, -1f, 0.5f, -1f, -1f, -1f }, w.A, w.B, w.C, 1f, V(o) with { LogTarget = true }));

        foreach (var row in ParallelErrors()) yield return row;
        foreach (var row in DistillErrors()) yield return row;
    }

    /// <summary>The degreeOfParallelism overloads and the chunk API (Partials, BackwardPartials, Finish).</summary>
    private static IEnumerable<(string Case, Type Exception, string Param, Action<Outputs, KlOptions> Call)> ParallelErrors()
    {
        var aae = typeof(ArgumentException);
        var aoore = typeof(ArgumentOutOfRangeException);
        const string dop = "degreeOfParallelism";
        KlOptions V(KlOptions o) => o with { ValidateInputs = true };
        foreach (int d in new[] { 0, -1, int.MinValue })
        {
            yield return ($"Pointwise f32 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Pointwise(X, T, w.A, o, d));
            yield return ($"Pointwise f64 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Pointwise(Xd, Td, w.D, o, d));
            yield return ($"PointwiseBackward f32 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.PointwiseBackward(X, T, w.A, w.B, w.C, 1f, o, d));
            yield return ($"PointwiseBackward f64 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.PointwiseBackward(Xd, Td, w.D, w.E, w.F, 1.0, o, d));
            yield return ($"Backward f32 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Backward(X, T, w.A, w.B, KlReduction.Sum, 1f, o, d));
            yield return ($"Backward f64 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Backward(Xd, Td, w.D, w.E, KlReduction.Mean, 1.0, o, d));
            yield return ($"Rows f32 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Rows(X, T, 2, 3, w.A, o, d));
            yield return ($"Rows f64 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Rows(Xd, Td, 2, 3, w.D, o, d));
            yield return ($"Rows strided f32 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Rows(X, 3, T, 3, 2, 3, w.A, o, d));
            yield return ($"Rows strided f64 degreeOfParallelism {d}", aoore, dop, (w, o) => KlDivergence.Rows(Xd, 3, Td, 3, 2, 3, w.D, o, d));
        }
        // the other checks come first, as for degree 1, whatever the degree
        yield return ("Pointwise f32 destination too small, 2 threads", aae, "destination", (w, o) => KlDivergence.Pointwise(X, T, w.A.AsSpan(0, 5), o, 2));
        yield return ("Backward f64 gradTarget over gradInput, 4 threads", aae, "gradTarget", (w, o) => KlDivergence.Backward(Xd, Td, w.D.AsSpan(0, 6), w.D.AsSpan(5, 6), KlReduction.Sum, 1.0, o, 4));
        yield return ("PointwiseBackward f32 values over target, 2 threads", aae, "values", (w, o) => KlDivergence.PointwiseBackward(X, w.A.AsSpan(0, 6), w.B, default, w.A.AsSpan(2, 6), 1f, o, 2));
        yield return ("Rows strided f64 destination inside input, 2 threads", aae, "destination", (w, o) => KlDivergence.Rows(w.D.AsSpan(0, 6), 3, Td, 3, 2, 3, w.D.AsSpan(4, 2), o, 2));
        yield return ("Rows f32 shape not rows × columns, 2 threads", aae, "input", (w, o) => KlDivergence.Rows(X, T, 4, 2, w.A, o, 2));

        // the chunk API: 6 elements are 1 chunk
        yield return ("Partials f32 length mismatch", aae, "target", (w, o) => KlDivergence.Partials(X, T5, 0, w.P.AsSpan(0, 1), o));
        yield return ("Partials f64 length mismatch", aae, "target", (w, o) => KlDivergence.Partials(Xd, T5d, 0, w.P.AsSpan(0, 1), o));
        yield return ("Partials f32 firstChunk -1", aoore, "firstChunk", (w, o) => KlDivergence.Partials(X, T, -1, w.P.AsSpan(0, 1), o));
        yield return ("Partials f32 firstChunk past the chunks", aoore, "firstChunk", (w, o) => KlDivergence.Partials(X, T, 2, w.P.AsSpan(0, 0), o));
        yield return ("Partials f64 two partials for one chunk", aoore, "firstChunk", (w, o) => KlDivergence.Partials(Xd, Td, 0, w.P.AsSpan(0, 2), o));
        yield return ("Partials f64 firstChunk int.MaxValue", aoore, "firstChunk", (w, o) => KlDivergence.Partials(Xd, Td, int.MaxValue, w.P.AsSpan(0, 1), o));
        yield return ("Partials f32 ValidateInputs", aae, "options", (w, o) => KlDivergence.Partials(X, T, 0, w.P.AsSpan(0, 1), V(o)));
        yield return ("Partials f64 undefined Isa", aoore, "options", (w, o) => KlDivergence.Partials(Xd, Td, 0, w.P.AsSpan(0, 1), o with { Isa = (KlIsa)7 }));
        yield return ("Partials f32 partials over input", aae, "partials", (w, o) =>
            KlDivergence.Partials(w.A.AsSpan(0, 6), T, 0, MemoryMarshal.Cast<float, KlPartial>(w.A.AsSpan(4, 4)), o));
        yield return ("Partials f64 partials over target", aae, "partials", (w, o) =>
            KlDivergence.Partials(Xd, w.D.AsSpan(0, 6), 0, MemoryMarshal.Cast<double, KlPartial>(w.D.AsSpan(0, 2)), o));

        yield return ("BackwardPartials f32 length mismatch", aae, "target", (w, o) => KlDivergence.BackwardPartials(X, T5, 0, w.A, w.B, w.P.AsSpan(0, 1), KlReduction.Sum, 1f, o));
        yield return ("BackwardPartials f64 length mismatch", aae, "target", (w, o) => KlDivergence.BackwardPartials(Xd, T5d, 0, w.D, w.E, w.P.AsSpan(0, 1), KlReduction.Sum, 1.0, o));
        yield return ("BackwardPartials f32 gradInput too small", aae, "gradInput", (w, o) => KlDivergence.BackwardPartials(X, T, 0, w.A.AsSpan(0, 5), w.B, w.P.AsSpan(0, 1), KlReduction.Sum, 1f, o));
        yield return ("BackwardPartials f64 gradInput empty", aae, "gradInput", (w, o) => KlDivergence.BackwardPartials(Xd, Td, 0, default, w.E, w.P.AsSpan(0, 1), KlReduction.Sum, 1.0, o));
        yield return ("BackwardPartials f32 gradTarget too small", aae, "gradTarget", (w, o) => KlDivergence.BackwardPartials(X, T, 0, w.A, w.B.AsSpan(0, 2), w.P.AsSpan(0, 1), KlReduction.Mean, 1f, o));
        yield return ("BackwardPartials f32 firstChunk -1", aoore, "firstChunk", (w, o) => KlDivergence.BackwardPartials(X, T, -1, w.A, w.B, w.P.AsSpan(0, 1), KlReduction.Sum, 1f, o));
        yield return ("BackwardPartials f64 firstChunk past the chunks", aoore, "firstChunk", (w, o) => KlDivergence.BackwardPartials(Xd, Td, 1, w.D, w.E, w.P.AsSpan(0, 1), KlReduction.Sum, 1.0, o));
        yield return ("BackwardPartials f64 three partials for one chunk", aoore, "firstChunk", (w, o) => KlDivergence.BackwardPartials(Xd, Td, 0, w.D, w.E, w.P.AsSpan(0, 3), KlReduction.Sum, 1.0, o));
        foreach (int batch in new[] { 0, -1 })
            yield return ($"BackwardPartials f32 BatchMean batch {batch}", aoore, "batchSize", (w, o) => KlDivergence.BackwardPartials(X, T, 0, w.A, w.B, w.P.AsSpan(0, 1), KlReduction.BatchMean(batch), 1f, o));
        yield return ("BackwardPartials f64 BatchMean batch 4 of 6", aae, "batchSize", (w, o) => KlDivergence.BackwardPartials(Xd, Td, 0, w.D, w.E, w.P.AsSpan(0, 1), KlReduction.BatchMean(4), 1.0, o));
        yield return ("BackwardPartials f32 ValidateInputs", aae, "options", (w, o) => KlDivergence.BackwardPartials(X, T, 0, w.A, w.B, w.P.AsSpan(0, 1), KlReduction.Sum, 1f, V(o)));
        yield return ("BackwardPartials f64 undefined Backend", aoore, "options", (w, o) => KlDivergence.BackwardPartials(Xd, Td, 0, w.D, w.E, w.P.AsSpan(0, 1), KlReduction.Sum, 1.0, o with { Backend = (KlBackendKind)9 }));
        yield return ("BackwardPartials f32 gradInput is input", aae, "gradInput", (w, o) => KlDivergence.BackwardPartials(w.A.AsSpan(0, 6), T, 0, w.A.AsSpan(0, 6), default, w.P.AsSpan(0, 1), KlReduction.Sum, 1f, o));
        yield return ("BackwardPartials f64 gradTarget over gradInput", aae, "gradTarget", (w, o) => KlDivergence.BackwardPartials(Xd, Td, 0, w.D.AsSpan(0, 6), w.D.AsSpan(3, 6), w.P.AsSpan(0, 1), KlReduction.Sum, 1.0, o));
        yield return ("BackwardPartials f32 gradTarget over target", aae, "gradTarget", (w, o) => KlDivergence.BackwardPartials(X, w.B.AsSpan(0, 6), 0, w.A, w.B.AsSpan(5, 6), w.P.AsSpan(0, 1), KlReduction.Sum, 1f, o));
        yield return ("BackwardPartials f32 partials over gradInput", aae, "partials", (w, o) =>
            KlDivergence.BackwardPartials(X, T, 0, w.A.AsSpan(0, 6), w.B, MemoryMarshal.Cast<float, KlPartial>(w.A.AsSpan(4, 4)), KlReduction.Sum, 1f, o));
        yield return ("BackwardPartials f64 partials over gradTarget", aae, "partials", (w, o) =>
            KlDivergence.BackwardPartials(Xd, Td, 0, w.D, w.E.AsSpan(0, 6), MemoryMarshal.Cast<double, KlPartial>(w.E.AsSpan(2, 2)), KlReduction.Sum, 1.0, o));
        yield return ("BackwardPartials f64 partials over input", aae, "partials", (w, o) =>
            KlDivergence.BackwardPartials(w.F.AsSpan(0, 6), Td, 0, w.D, w.E, MemoryMarshal.Cast<double, KlPartial>(w.F.AsSpan(4, 2)), KlReduction.Sum, 1.0, o));

        // Finish writes nothing, but refuses what does not match
        yield return ("Finish f64 too few partials", aae, "partials", (w, o) => KlDivergence.Finish(new KlPartial[1], 16385, KlReduction.Sum));
        yield return ("Finish f64 partials for empty data", aae, "partials", (w, o) => KlDivergence.Finish(new KlPartial[1], 0, KlReduction.Sum));
        yield return ("Finish f64 negative length", aoore, "length", (w, o) => KlDivergence.Finish(default, -1, KlReduction.Sum));
        yield return ("Finish f64 BatchMean batch 4 of 6", aae, "batchSize", (w, o) => KlDivergence.Finish(new KlPartial[1], 6, KlReduction.BatchMean(4)));
        yield return ("Finish f64 BatchMean batch 0", aoore, "batchSize", (w, o) => KlDivergence.Finish(new KlPartial[1], 6, KlReduction.BatchMean(0)));
        yield return ("ChunkCount negative length", aoore, "length", (w, o) => KlDivergence.ChunkCount(-1));
    }

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Every_method_every_bad_argument(string backend)
    {
        var options = Registry.Backends[backend];
        var outputs = new Outputs();
        var problems = new List<string>();
        int cases = 0;
        foreach (var (name, type, param, call) in Errors())
        {
            cases++;
            outputs.Reset();
            Exception? thrown = null;
            try { call(outputs, options); }
            catch (Exception e) { thrown = e; }
            if (thrown == null) problems.Add($"{name}: no exception");
            else if (thrown.GetType() != type) problems.Add($"{name}: {thrown.GetType().Name} ({thrown.Message}), want {type.Name}");
            else if (((ArgumentException)thrown).ParamName != param) problems.Add($"{name}: parameter {((ArgumentException)thrown).ParamName}, want {param}");
            if (!outputs.Untouched()) problems.Add($"{name}: an output was written");
        }
        Assert.True(problems.Count == 0, $"{problems.Count} of {cases} cases:\n" + string.Join("\n", problems));
        Assert.True(cases > 250, $"{cases} cases");
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Empty_and_null_arrays_are_empty_input(string backend)
    {
        var o = Registry.Backends[backend];
        var w = new Outputs();
        w.Reset();
        float[]? none = null;
        double[]? noneD = null;
        Assert.Equal(0f, KlDivergence.Sum(none, none, o));
        Assert.Equal(0.0, KlDivergence.Sum(ReadOnlySpan<double>.Empty, noneD, o));
        Assert.True(Reference.IsLibraryNaN(KlDivergence.Mean(none, Array.Empty<float>(), o)));
        Assert.True(Reference.IsLibraryNaN(KlDivergence.BatchMean(noneD, noneD, 0, o)));
        Assert.Equal(0f, KlDivergence.BatchMean(none, none, 3, o));
        KlDivergence.Pointwise(none, none, w.A, o);
        KlDivergence.Pointwise(noneD, noneD, noneD, o);
        KlDivergence.Rows(none, none, 0, 5, w.A, o);
        KlDivergence.Rows(noneD, 0, noneD, 0, 0, 0, w.D, o);
        Assert.Equal(0f, KlDivergence.Backward(none, none, w.A, w.B, KlReduction.Sum, 1f, o));
        KlDivergence.PointwiseBackward(noneD, noneD, w.D, w.E, w.F, 1.0, o);
        Assert.Equal(0f, Distillation.Loss(none, none, 0, 3, KlReductionKind.Sum, Dist(o)));
        Assert.True(Reference.IsLibraryNaN(Distillation.Loss(noneD, noneD, 0, 3, KlReductionKind.BatchMean, Dist(o))));
        Distillation.RowLosses(none, none, 0, 3, w.A, Dist(o));
        Assert.Equal(0.0, Distillation.Backward(noneD, noneD, 0, 3, noneD, noneD, KlReductionKind.Sum, 1.0, Dist(o)));
        Distillation.RowBackward(none, Array.Empty<float>(), 0, 5, none, none, w.A, 1f, Dist(o));
        Assert.True(w.Untouched());
        // ... and rows of zero columns sum to +0, even when validating.
        KlDivergence.Rows(none, none, 2, 0, w.A, o with { ValidateInputs = true });
        Assert.Equal(new[] { 0f, 0f, Sentinel }, w.A.Take(3));
    }
}
