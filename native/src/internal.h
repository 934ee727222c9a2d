/*
 * internal.h - what the library's source files (and the tests that look
 * inside) share and the public header does not show, one header per concern.
 */
#ifndef NKL_INTERNAL_H
#define NKL_INTERNAL_H

#include "bits.h"          /* bit casts, the canonical NaN */
#include "canonical_sum.h" /* the summation order: blocks, lanes, folds, TwoSum */
#include "compiler.h"      /* NKL_INLINE, NKL_LIKELY, NKL_CAT */
#include "distill_state.h" /* a distillation row's lanes, statistics, gradient constants */
#include "kernels.h"       /* the kernel table and how a call chooses it */

#endif
