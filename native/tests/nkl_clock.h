/*
 * nkl_clock.h - a monotonic clock in seconds for the timings the tests and benchmarks print:
 * QueryPerformanceCounter on Windows (mingw-w64 and MSVC have no clock_gettime without
 * winpthreads), CLOCK_MONOTONIC elsewhere (the includer defines _POSIX_C_SOURCE under -std=c11).
 */
#ifndef NKL_CLOCK_H
#define NKL_CLOCK_H

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

static double nkl_now_s(void) {
    LARGE_INTEGER freq, count;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    return (double)count.QuadPart / (double)freq.QuadPart;
}
#else
#include <time.h>

static double nkl_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif

#endif
