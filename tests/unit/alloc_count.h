/*
 * Counting allocations in a test: link it with
 *   -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc
 *   -Wl,--wrap=aligned_alloc
 * and every such call the libraries under test make goes through these
 * wrappers, which count it in test_allocs.  Include it in one file of the
 * test program.  Used to prove the packet path never allocates.
 *
 * It also injects failures: with test_alloc_fail_in = N > 0, the Nth
 * allocation from then on returns NULL with errno ENOMEM (once; the
 * counter is 0 again after it), to prove that a control-plane call that
 * runs out of memory leaves everything as it was.
 */
#ifndef MOAT_TEST_ALLOC_COUNT_H
#define MOAT_TEST_ALLOC_COUNT_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static unsigned long test_allocs;
static unsigned long test_alloc_fail_in;

static bool test_alloc_fails(void)
{
	test_allocs++;
	if (test_alloc_fail_in == 0 || --test_alloc_fail_in > 0)
		return false;
	errno = ENOMEM;
	return true;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

void *__wrap_malloc(size_t n)
{
	return test_alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return test_alloc_fails() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return test_alloc_fails() ? NULL : __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	return test_alloc_fails() ? NULL : __real_aligned_alloc(a, n);
}

#endif
