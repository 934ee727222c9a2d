using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace NativeKl.Backends
{
    /// <summary>
    /// Runs the pieces of a parallel call: piece p of n on up to n threads (the calling thread among
    /// them, through Parallel.For). A piece that throws does not stop the others; afterwards the
    /// exception of the lowest-numbered failing piece is rethrown as itself (not wrapped in an
    /// AggregateException), so a parallel call throws what the single-threaded call throws.
    /// </summary>
    internal static class ParallelPieces
    {
        internal static void Run(int pieces, Action<int> body)
        {
            var errors = new Exception?[pieces];
            Parallel.For(0, pieces, new ParallelOptions { MaxDegreeOfParallelism = pieces }, p =>
            {
                try { body(p); }
                catch (Exception e) { errors[p] = e; }
            });
            foreach (Exception? e in errors)
                if (e != null) ExceptionDispatchInfo.Capture(e).Throw();
        }

        /// <summary>Where piece p of pieces starts in [0, total): equal shares, the remainder spread.</summary>
        internal static int Bound(int total, int p, int pieces) => (int)((long)total * p / pieces);
    }
}
