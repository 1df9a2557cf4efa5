/*
 * Token buckets over injected time, for `limit N/second` on rules and the
 * global rate of reject answers.  No clock: the caller hands in now.
 */
#include "engine/engine_impl.h"

/*
 * Tokens are kept in nanoseconds of credit: each event costs
 * period/count ns, and the bucket holds at most one period's worth, so a
 * burst of @count may pass at once and then one per period/count.
 */
bool moat_bucket_take(struct moat_bucket *b, uint32_t count,
		      uint64_t period_ns, uint64_t now_ns)
{
	uint64_t cost, cap;

	if (count == 0 || period_ns == 0)
		return true;
	cost = period_ns / count;
	if (cost == 0)
		cost = 1;
	cap = cost * count;
	if (b->last_ns == 0 && b->tokens == 0) {
		b->tokens = cap; /* a fresh bucket starts full */
	} else if (now_ns > b->last_ns) {
		uint64_t add = now_ns - b->last_ns;
		b->tokens = (b->tokens + add > cap || add > cap) ?
			cap : b->tokens + add;
	}
	b->last_ns = now_ns;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}
