/*
 * Cookie keys: where the secret comes from and how keys rotate.
 *
 * Control plane: the CLI draws a 32-byte secret with
 * moat_syn_secret_random() or loads a shared one with
 * moat_syn_secret_load(), and hands it to the engine
 * (struct moat_engine_params.secret).  Nothing here touches a file or the
 * random device on the packet path.
 *
 * Data plane: cookie keys are derived, never drawn:
 *
 *     key(epoch) = BLAKE2b-128(key = secret, "moat syn cookie" || epoch)
 *     epoch      = cookie counter / epoch_counters
 *
 * so every gateway (and every core) holding the same secret computes the
 * same key at the same time, and rotation needs no message between them.
 * A cookie is checked with the key of the counter it was made under, so
 * across a rotation the previous key stays valid exactly as long as the
 * cookies it made (one more counter), and older keys are never accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat/syn.h"

static const char kdf_label[] = "moat syn cookie";

/* A 16-byte value derived from the secret for @label and @n. */
static void derive(const uint8_t secret[MOAT_SYN_SECRET_LEN],
		   const char *label, uint64_t n, uint8_t *out, size_t len)
{
	uint8_t msg[32] = { 0 };
	size_t llen = strlen(label);
	unsigned i;

	memcpy(msg, label, llen < 24 ? llen : 24);
	for (i = 0; i < 8; i++)
		msg[24 + i] = (uint8_t)(n >> (8 * i));
	crypto_generichash(out, len, msg, sizeof(msg), secret,
			   MOAT_SYN_SECRET_LEN);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

int moat_syn_keys_init(struct moat_syn_keys *k,
		       const uint8_t secret[MOAT_SYN_SECRET_LEN],
		       uint32_t epoch_counters)
{
	uint8_t ts[4];

	if (all_zero(secret, MOAT_SYN_SECRET_LEN))
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOSYS;
	memset(k, 0, sizeof(*k));
	memcpy(k->secret, secret, MOAT_SYN_SECRET_LEN);
	k->last_slot = -1;
	k->epoch_counters = epoch_counters ? epoch_counters
					   : MOAT_SYN_KEY_EPOCH_COUNTERS;
	derive(secret, "moat ts offset", 0, ts, sizeof(ts));
	k->ts_offset = (uint32_t)ts[0] << 24 | (uint32_t)ts[1] << 16 |
		       (uint32_t)ts[2] << 8 | ts[3];
	derive(secret, "moat hash seed", 0, k->hash_seed,
	       sizeof(k->hash_seed));
	return 0;
}

void moat_syn_keys_fini(struct moat_syn_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

/* The slot holding @epoch's key, derived into the older slot if needed. */
static int slot_for(struct moat_syn_keys *k, uint64_t epoch)
{
	struct moat_syn_key_slot *s = k->slot, *old;

	if (s[0].valid && s[0].epoch == epoch)
		return 0;
	if (s[1].valid && s[1].epoch == epoch)
		return 1;
	/* Replace the empty or the older epoch's slot. */
	if (!s[0].valid)
		old = &s[0];
	else if (!s[1].valid)
		old = &s[1];
	else
		old = s[0].epoch < s[1].epoch ? &s[0] : &s[1];
	derive(k->secret, kdf_label, epoch, old->key, MOAT_SYN_KEY_LEN);
	old->epoch = epoch;
	old->valid = true;
	return (int)(old - s);
}

const uint8_t *moat_syn_keys_get(struct moat_syn_keys *k, uint64_t counter)
{
	int i;

	/* Most packets ask for the counter the previous one asked for:
	 * skip the division and the slot search. */
	if (k->last_slot >= 0 && k->last_counter == counter)
		return k->slot[k->last_slot].key;
	i = slot_for(k, counter / k->epoch_counters);
	k->last_counter = counter;
	k->last_slot = i;
	return k->slot[i].key;
}

void moat_syn_keys_derive(const struct moat_syn_keys *k, uint64_t epoch,
			  uint8_t out[MOAT_SYN_KEY_LEN])
{
	derive(k->secret, kdf_label, epoch, out, MOAT_SYN_KEY_LEN);
}

void moat_syn_keys_advance(struct moat_syn_keys *k, uint64_t now_ns)
{
	uint64_t c = moat_syn_counter(now_ns);

	if (c > 0)
		moat_syn_keys_get(k, c - 1);
	moat_syn_keys_get(k, c);
}

int moat_syn_secret_random(uint8_t out[MOAT_SYN_SECRET_LEN])
{
	size_t got = 0;
	ssize_t n;

	while (got < MOAT_SYN_SECRET_LEN) {
		n = getrandom(out + got, MOAT_SYN_SECRET_LEN - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return all_zero(out, MOAT_SYN_SECRET_LEN) ? -EIO : 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 64 hex digits between optional whitespace. */
static int parse_hex(const uint8_t *buf, size_t len,
		     uint8_t out[MOAT_SYN_SECRET_LEN])
{
	size_t i = 0, j;
	int hi, lo;

	while (i < len && is_space(buf[i]))
		i++;
	if (len - i < 2 * MOAT_SYN_SECRET_LEN)
		return -EINVAL;
	for (j = 0; j < MOAT_SYN_SECRET_LEN; j++, i += 2) {
		hi = hexval(buf[i]);
		lo = hexval(buf[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[j] = (uint8_t)(hi << 4 | lo);
	}
	while (i < len && is_space(buf[i]))
		i++;
	return i == len ? 0 : -EINVAL;
}

static int read_secret_file(int fd, uint8_t out[MOAT_SYN_SECRET_LEN])
{
	uint8_t buf[160];
	size_t len = 0;
	ssize_t n;
	int rc;

	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == sizeof(buf))
		rc = -EINVAL; /* far longer than any valid secret file */
	else if (parse_hex(buf, len, out) == 0)
		rc = 0;
	else if (len == MOAT_SYN_SECRET_LEN) {
		memcpy(out, buf, MOAT_SYN_SECRET_LEN);
		rc = 0;
	} else
		rc = -EINVAL;
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int moat_syn_secret_load(const char *path, uint8_t out[MOAT_SYN_SECRET_LEN])
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	/* A shared secret lets its holder mint cookies: owner-only. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = -EPERM;
		goto out;
	}
	rc = read_secret_file(fd, out);
	if (rc == 0 && all_zero(out, MOAT_SYN_SECRET_LEN))
		rc = -EINVAL;
	if (rc < 0)
		sodium_memzero(out, MOAT_SYN_SECRET_LEN);
out:
	close(fd);
	return rc;
}
