/*
 * compiler.h - the compiler-specific macros every source file uses: forced inlining,
 * branch hints, and NKL_CAT for the template includes (*.inc).
 */
#ifndef NKL_COMPILER_H
#define NKL_COMPILER_H


#if defined(_MSC_VER)
#  define NKL_INLINE static __forceinline
#  define NKL_LIKELY(x) (x)
#  define NKL_UNLIKELY(x) (x)
#else
#  define NKL_INLINE static inline __attribute__((always_inline))
#  define NKL_LIKELY(x) __builtin_expect(!!(x), 1)
#  define NKL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

/* Pastes a and b after expanding them: the template includes (*.inc) name
   their functions NKL_CAT(name_, SUF). */
#define NKL_CAT_(a, b) a##b
#define NKL_CAT(a, b) NKL_CAT_(a, b)

#endif
