/*
 * Counting allocations in a test: link it with
 *   -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc
 *   -Wl,--wrap=aligned_alloc
 * and every such call the libraries under test make goes through these
 * wrappers, which count it in test_allocs.  Include it in one file of the
 * test program.  Used to prove the packet path never allocates.
 */
#ifndef MOAT_TEST_ALLOC_COUNT_H
#define MOAT_TEST_ALLOC_COUNT_H

#include <stdlib.h>

static unsigned long test_allocs;

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
	test_allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	test_allocs++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	test_allocs++;
	return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	test_allocs++;
	return __real_aligned_alloc(a, n);
}

#endif
