/*
 * test_guard_pages.c - the guard buffers of nkl_test.h (which the bounds tests rely on to
 * catch a read or write one element past the end) really end at a no-access page, on every
 * platform: a child process that writes one byte past the end must not exit normally (POSIX), and the
 * page after the end must be PAGE_NOACCESS while the usable bytes are read-write (Windows).
 */
#include "nkl_test.h"

#if !defined(_WIN32)
#include <sys/wait.h>
#endif

static void check_size(size_t bytes) {
    nkl_guard g = guard_alloc(bytes);
    volatile char *p = (volatile char *)g.ptr;
    for (size_t i = 0; i < bytes; i++) p[i] = (char)i; /* all usable */
#if defined(_WIN32)
    MEMORY_BASIC_INFORMATION in, past;
    CHECK(VirtualQuery((const void *)(p + bytes - (bytes ? 1 : 0)), &in, sizeof in) == sizeof in, "VirtualQuery");
    CHECK(VirtualQuery((const void *)(p + bytes), &past, sizeof past) == sizeof past, "VirtualQuery");
    CHECK(bytes == 0 || in.Protect == PAGE_READWRITE, "bytes=%zu: last byte protection %lx", bytes,
          (unsigned long)in.Protect);
    CHECK(past.Protect == PAGE_NOACCESS, "bytes=%zu: the byte past the end has protection %lx, not PAGE_NOACCESS",
          bytes, (unsigned long)past.Protect);
#else
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        p[bytes] = 1; /* must fault */
        _exit(0);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child, "fork/waitpid");
    /* Killed by SIGSEGV, or (under AddressSanitizer, which handles the fault) exit code 1. */
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
          "bytes=%zu: writing one byte past the end did not fault (status %d)", bytes, status);
#endif
    guard_free(g);
}

int main(void) {
    static const size_t sizes[] = {0, 1, 4, 7, 4096, 4097, 65536 + 12};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_size(sizes[i]);
    return nkl_test_finish("test_guard_pages");
}
