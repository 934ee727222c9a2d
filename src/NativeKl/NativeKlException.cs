using System;

namespace NativeKl
{
    /// <summary>
    /// A status the C core returned although the arguments were validated first: the environment
    /// variable NKL_ISA holding a value the library does not know (NKL_ERROR_INVALID_ENVIRONMENT), a
    /// mismatch between this assembly and the native library, or a bug. Carries the C status code
    /// and its description.
    /// </summary>
    public sealed class NativeKlException : Exception
    {
        internal NativeKlException(int statusCode, string statusName, string message) : base(message)
        {
            StatusCode = statusCode;
            StatusName = statusName;
        }

        /// <summary>The nkl_status value.</summary>
        public int StatusCode { get; }

        /// <summary>The nkl_status name, e.g. <c>NKL_ERROR_INVALID_BATCH</c>.</summary>
        public string StatusName { get; }
    }
}
