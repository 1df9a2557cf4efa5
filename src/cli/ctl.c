/*
 * `moat ctl [-s SOCKET] stats [--json] | flows [TERM VALUE...] [--json] |
 *  reload | syncookies on|off|auto | metrics`: talk to a running `moat run`.
 *
 * Sends the request as one line on the control socket (src/io/ctl.c) and
 * copies the reply to stdout; a reply whose first line is `error` goes to
 * stderr and exits 1.  Bounded: gives up after MOAT_CTL_TIMEOUT_MS.
 *
 * Exit codes: 0 ok, 1 moat said no or could not be reached, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/commands.h"
#include "moat/io_ctl.h"

enum { MOAT_CTL_TIMEOUT_MS = 10000 };

static void usage(FILE *f)
{
	fprintf(f, "usage: moat ctl [-s SOCKET] COMMAND\n"
		   "  stats [--json]          counters, drops by reason, ports\n"
		   "  flows [TERM VALUE...] [--json]\n"
		   "                          one line per tracked flow; with terms, only\n"
		   "                          the flows that match them all: src, dst or\n"
		   "                          host ADDR[/LEN], port, sport or dport N,\n"
		   "                          proto tcp|udp|icmp|icmp6|N, state NAME\n"
		   "  reload                  load the configuration again\n"
		   "  syncookies on|off|auto  force the SYN cookie mode\n"
		   "  metrics                 counters in Prometheus text format\n"
		   "  -s, --socket PATH       default /run/moat.sock\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Read the whole reply into @b; -1 on timeout or error. */
static int read_reply(int fd, struct moat_io_buf *b)
{
	char chunk[8192];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, MOAT_CTL_TIMEOUT_MS) <= 0)
			return -1;
		r = read(fd, chunk, sizeof(chunk));
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		moat_io_buf_printf(b, "%.*s", (int)r, chunk);
	}
}

static int build_line(int argc, char **argv, char *line, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		int k = snprintf(line + n, len - n, "%s%s", i ? " " : "", argv[i]);

		if (k < 0 || (size_t)k >= len - n)
			return -1;
		n += (size_t)k;
	}
	if (n + 2 > len)
		return -1;
	line[n++] = '\n';
	line[n] = 0;
	return 0;
}

static int talk(const char *path, const char *line)
{
	struct moat_io_buf b;
	const char *body;
	int fd = connect_to(path);
	int ok;

	if (fd < 0) {
		fprintf(stderr, "moat ctl: %s: %s (is moat running?)\n", path,
			strerror(errno));
		return 1;
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "moat ctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	moat_io_buf_init(&b);
	if (read_reply(fd, &b) < 0 || !b.p) {
		fprintf(stderr, "moat ctl: %s: no answer\n", path);
		close(fd);
		moat_io_buf_free(&b);
		return 1;
	}
	close(fd);
	ok = !strncmp(b.p, "ok\n", 3);
	body = strchr(b.p, '\n');
	body = body ? body + 1 : "";
	fputs(body, ok ? stdout : stderr);
	moat_io_buf_free(&b);
	return ok ? 0 : 1;
}

int moat_cli_ctl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = "/run/moat.sock";
	char line[MOAT_IO_CTL_LINE_MAX];
	struct moat_io_ctl_req req;
	char err[128];
	int o;

	optind = 1;
	/* '+': stop at the command, so `stats --json` reaches the request. */
	while ((o = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (o) {
		case 's': path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || build_line(argc - optind, argv + optind, line,
					 sizeof(line)) < 0) {
		usage(stderr);
		return 2;
	}
	/* Check the request here too, for a usage message without moat. */
	line[strlen(line) - 1] = 0;
	if (moat_io_ctl_parse(line, &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "moat ctl: %s\n", err);
		usage(stderr);
		return 2;
	}
	strcat(line, "\n");
	return talk(path, line);
}
