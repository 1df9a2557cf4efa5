/*
 * The control socket of `moat run`: request parsing and a small
 * non-blocking UNIX stream server.
 *
 * Off the packet's path.  The run loop puts the listening socket and the
 * clients into the same poll set as the rings; each turn, whatever is ready
 * is served without blocking: a request line is read (at most
 * MOAT_IO_CTL_LINE_MAX bytes), answered into a buffer by the handler, and
 * the buffer written as fast as the client takes it.  A handler may put
 * the answer off (a reload, done on another thread): the client then
 * waits, watched only for hanging up, until moat_io_ctl_answer().  At most
 * MOAT_IO_CTL_CLIENTS clients at once; one more evicts the oldest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "moat/io_ctl.h"
#include "moat/rules.h"

/* ---- the text buffer --------------------------------------------------- */

void moat_io_buf_init(struct moat_io_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void moat_io_buf_free(struct moat_io_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool buf_reserve(struct moat_io_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void moat_io_buf_printf(struct moat_io_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---- requests ---------------------------------------------------------- */

static const struct {
	const char *name;
	enum moat_io_ctl_cmd cmd;
} commands[] = {
	{ "stats", MOAT_IO_CTL_STATS },
	{ "flows", MOAT_IO_CTL_FLOWS },
	{ "reload", MOAT_IO_CTL_RELOAD },
	{ "syncookies", MOAT_IO_CTL_SYNCOOKIES },
	{ "metrics", MOAT_IO_CTL_METRICS },
};

static const struct {
	const char *name;
	int mode;
} modes[] = {
	{ "off", MOAT_SYNCOOKIES_OFF },
	{ "on", MOAT_SYNCOOKIES_ON },
	{ "auto", MOAT_SYNCOOKIES_AUTO },
};

/* flows: the command, eight terms with their values, --json. */
enum { WORDS_MAX = 18 };

/* Split @line into at most WORDS_MAX words; -1 if there are more. */
static int split(char *line, char **w)
{
	int n = 0;

	for (char *s = strtok(line, " \t\r"); s; s = strtok(NULL, " \t\r")) {
		if (n == WORDS_MAX)
			return -1;
		w[n++] = s;
	}
	return n;
}

static int parse_words(char **w, int n, struct moat_io_ctl_req *req,
		       char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(w[0], commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		snprintf(err, errlen, "unknown command '%s'", w[0]);
		return -EINVAL;
	}
	req->cmd = commands[i].cmd;
	if (req->cmd == MOAT_IO_CTL_SYNCOOKIES) {
		for (i = 0; n == 2 && i < sizeof(modes) / sizeof(modes[0]); i++)
			if (!strcmp(w[1], modes[i].name)) {
				req->mode = modes[i].mode;
				return 0;
			}
		snprintf(err, errlen, "usage: syncookies on|off|auto");
		return -EINVAL;
	}
	if (req->cmd == MOAT_IO_CTL_FLOWS) {
		if (n > 1 && !strcmp(w[n - 1], "--json")) {
			req->json = true;
			n--;
		}
		return moat_io_flow_filter_parse(&req->flows, w + 1, n - 1,
						 err, errlen);
	}
	if (req->cmd == MOAT_IO_CTL_STATS && n == 2 && !strcmp(w[1], "--json")) {
		req->json = true;
		return 0;
	}
	if (n != 1) {
		snprintf(err, errlen, "'%s' takes no argument '%s'", w[0], w[1]);
		return -EINVAL;
	}
	return 0;
}

int moat_io_ctl_parse(const char *line, struct moat_io_ctl_req *req,
		      char *err, size_t errlen)
{
	char copy[MOAT_IO_CTL_LINE_MAX];
	char *w[WORDS_MAX];
	int n;

	memset(req, 0, sizeof(*req));
	if (strlen(line) >= sizeof(copy)) {
		snprintf(err, errlen, "request too long");
		return -EINVAL;
	}
	strcpy(copy, line);
	n = split(copy, w);
	if (n <= 0) {
		snprintf(err, errlen, n == 0 ? "empty request" : "too many words");
		return -EINVAL;
	}
	return parse_words(w, n, req, err, errlen);
}

/* ---- the server -------------------------------------------------------- */

struct ctl_client {
	int fd;                 /* -1: free slot */
	uint64_t age;           /* accept order, for eviction */
	char in[MOAT_IO_CTL_LINE_MAX];
	size_t inlen;
	struct moat_io_buf out; /* the reply, once the request is complete */
	size_t outoff;
	bool answered;
	bool waiting;           /* its answer comes later (MOAT_IO_CTL_LATER) */
};

struct moat_io_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	moat_io_ctl_handler fn;
	void *arg;
	uint64_t accepted;
	struct ctl_client cl[MOAT_IO_CTL_CLIENTS];
};

struct moat_io_ctl *moat_io_ctl_open(const char *path, moat_io_ctl_handler fn,
				     void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct moat_io_ctl *c;
	mode_t old;
	int e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (int i = 0; i < MOAT_IO_CTL_CLIENTS; i++)
		c->cl[i].fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c->fn = fn;
	c->arg = arg;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	unlink(path);
	/* Created 0600 from the start: no window where others may connect. */
	old = umask(0177);
	e = bind(c->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (e < 0 || listen(c->fd, 16) < 0)
		goto fail;
	return c;
fail:
	e = errno;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	errno = e;
	return NULL;
}

static void drop_client(struct ctl_client *k)
{
	if (k->fd >= 0)
		close(k->fd);
	moat_io_buf_free(&k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

void moat_io_ctl_close(struct moat_io_ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < MOAT_IO_CTL_CLIENTS; i++)
		drop_client(&c->cl[i]);
	close(c->fd);
	unlink(c->path);
	free(c);
}

int moat_io_ctl_pollfds(struct moat_io_ctl *c, struct pollfd *pfd, int max)
{
	int n = 0;

	if (max < 1)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	for (int i = 0; i < MOAT_IO_CTL_CLIENTS && n < max; i++) {
		struct ctl_client *k = &c->cl[i];

		if (k->fd < 0)
			continue;
		/* A waiting client is watched only for hanging up. */
		pfd[n++] = (struct pollfd){
			.fd = k->fd,
			.events = k->waiting ? 0 : k->answered ? POLLOUT : POLLIN,
		};
	}
	return n;
}

static struct ctl_client *free_slot(struct moat_io_ctl *c)
{
	struct ctl_client *oldest = &c->cl[0];

	for (int i = 0; i < MOAT_IO_CTL_CLIENTS; i++) {
		if (c->cl[i].fd < 0)
			return &c->cl[i];
		if (c->cl[i].age < oldest->age)
			oldest = &c->cl[i];
	}
	drop_client(oldest);
	return oldest;
}

static void accept_clients(struct moat_io_ctl *c)
{
	/* Bounded: at most one full table of new clients per turn. */
	for (int i = 0; i < MOAT_IO_CTL_CLIENTS; i++) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *k;

		if (fd < 0)
			return;
		k = free_slot(c);
		k->fd = fd;
		k->age = ++c->accepted;
	}
}

static void set_reply(struct ctl_client *k, int ok, const char *body)
{
	moat_io_buf_printf(&k->out, "%s\n%s", ok == 0 ? "ok" : "error",
			   body ? body : "");
	k->answered = true;
}

static void answer(struct moat_io_ctl *c, struct ctl_client *k)
{
	struct moat_io_ctl_req req;
	struct moat_io_buf body;
	char err[128];
	int ok;

	moat_io_buf_init(&body);
	if (moat_io_ctl_parse(k->in, &req, err, sizeof(err)) < 0) {
		moat_io_buf_printf(&body, "%s\n", err);
		ok = -1;
	} else {
		req.ticket = k->age;
		ok = c->fn(c->arg, &req, &body);
	}
	if (ok == MOAT_IO_CTL_LATER)
		k->waiting = true;
	else
		set_reply(k, ok, body.p);
	moat_io_buf_free(&body);
}

static void read_request(struct moat_io_ctl *c, struct ctl_client *k)
{
	ssize_t r = read(k->fd, k->in + k->inlen, sizeof(k->in) - 1 - k->inlen);
	char *nl;

	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			drop_client(k);
		return;
	}
	k->inlen += (size_t)r;
	k->in[k->inlen] = 0;
	nl = strchr(k->in, '\n');
	if (nl)
		*nl = 0;
	else if (k->inlen < sizeof(k->in) - 1)
		return;  /* wait for the rest of the line */
	answer(c, k);
}

static void write_reply(struct ctl_client *k);

int moat_io_ctl_answer(struct moat_io_ctl *c, uint64_t ticket, int ok,
		       const char *body)
{
	for (int i = 0; i < MOAT_IO_CTL_CLIENTS; i++) {
		struct ctl_client *k = &c->cl[i];

		if (k->fd < 0 || !k->waiting || k->age != ticket)
			continue;
		k->waiting = false;
		set_reply(k, ok, body);
		write_reply(k);
		return 0;
	}
	return -ENOENT;
}

static void write_reply(struct ctl_client *k)
{
	/* MSG_NOSIGNAL: a client that went away must not kill moat. */
	ssize_t r = send(k->fd, k->out.p + k->outoff, k->out.len - k->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			drop_client(k);
		return;
	}
	k->outoff += (size_t)r;
	if (k->outoff >= k->out.len)
		drop_client(k);
}

void moat_io_ctl_service(struct moat_io_ctl *c, const struct pollfd *pfd,
			 int n)
{
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == c->fd) {
			accept_clients(c);
			continue;
		}
		for (int j = 0; j < MOAT_IO_CTL_CLIENTS; j++) {
			struct ctl_client *k = &c->cl[j];

			if (k->fd != pfd[i].fd)
				continue;
			if (pfd[i].revents & (POLLERR | POLLNVAL) ||
			    (k->waiting && (pfd[i].revents & POLLHUP)))
				drop_client(k);
			else if (!k->answered && !k->waiting)
				read_request(c, k);
			else if (k->answered)
				write_reply(k);
			if (k->fd >= 0 && k->answered && !k->outoff)
				write_reply(k);
			break;
		}
	}
}
