/*
 * SHA-1 and the Community ID of a flow (version 1), for the event log.
 *
 * The Community ID (github.com/corelight/community-id-spec) names a flow
 * the same way in every tool that logs it (Suricata, Zeek, moat...), so an
 * operator can join moat's events with theirs:
 *
 *   "1:" base64(SHA1(seed(2) | addr lo | addr hi | proto | 0 | port lo |
 *                    port hi))
 *
 * with the endpoints ordered (smaller address first; equal addresses:
 * smaller port first) so both directions give the same ID.  For ICMP the
 * ports are the type and the type of its answer (echo and echo reply,
 * ...), or the type and code for messages without an answer, which are
 * not reordered.  Protocols without ports hash no ports.
 *
 * SHA-1 is here only as the spec's hash, not for security (libsodium has
 * none); FIPS 180-4, checked against its test vectors.
 */
#ifndef MOAT_IO_COMMUNITY_ID_H
#define MOAT_IO_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "moat/event.h"

enum { MOAT_SHA1_LEN = 20 };

struct moat_sha1 {
	uint32_t h[5];
	uint64_t bytes;
	uint8_t block[64];
	unsigned fill;
};

void moat_sha1_init(struct moat_sha1 *s);
void moat_sha1_update(struct moat_sha1 *s, const void *data, size_t len);
void moat_sha1_final(struct moat_sha1 *s, uint8_t out[MOAT_SHA1_LEN]);

/* "1:" + 28 base64 characters + NUL. */
enum { MOAT_COMMUNITY_ID_LEN = 31 };

/*
 * The Community ID of @k with @seed into @out; returns 0, or -1 when @k
 * has no addresses (family NONE, or the two families differ).  When
 * @digest is not NULL it receives the SHA-1 (moat derives its flow_id
 * from it).
 */
int moat_community_id(const struct moat_flow_key *k, uint16_t seed,
		      char out[MOAT_COMMUNITY_ID_LEN],
		      uint8_t digest[MOAT_SHA1_LEN]);

#endif
