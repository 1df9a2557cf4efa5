/*
 * What every port shares whatever its backend: the length checks in front
 * of forward and send (oversize and cut frames are counted here, once, for
 * every backend), the interface facts read at open (index, MTU, super-frame
 * offloads), the ring-delay statistics, and the backend names of `--io`
 * and `options { io ... }`.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "moat/io_port.h"

void moat_io_port_forward(struct moat_io_port *out, struct moat_io_port *in,
			  struct moat_io_rxframe *f)
{
	if (f->caplen < f->wirelen) {
		/* Cut by the ring: sending the part would corrupt the flow.
		 * A super-frame (GRO, TSO) longer than the MTU could not
		 * have been sent whole either: that is an oversize frame
		 * at the port it should leave by. */
		if (f->wirelen > out->max_len)
			out->tx.oversize++;
		else
			in->st.rx_truncated++;
		return;
	}
	if (f->caplen > out->max_len) {
		out->tx.oversize++;
		return;
	}
	out->ops->forward(out, in, f);
}

void moat_io_port_send(struct moat_io_port *out, const uint8_t *data,
		       uint32_t len)
{
	if (len > out->max_len) {
		out->tx.oversize++;
		return;
	}
	out->ops->send(out, data, len);
}

void moat_io_port_close(struct moat_io_port *p)
{
	if (p)
		p->ops->close(p);
}

static bool ethtool_get(int fd, const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return false;
	return ev.data != 0;
}

int moat_io_port_init(struct moat_io_port *p, const char *ifname, int fd)
{
	struct ifreq ifr;

	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->ifindex = (int)if_nametoindex(ifname);
	if (p->ifindex == 0)
		return -ENODEV;
	p->mtu = 1500;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		p->mtu = (uint32_t)ifr.ifr_mtu;
	p->max_len = p->mtu + MOAT_IO_L2_OVERHEAD;
	p->offloads = 0;
	if (ethtool_get(fd, ifname, ETHTOOL_GGRO))
		p->offloads |= MOAT_IO_OFF_GRO;
	if (ethtool_get(fd, ifname, ETHTOOL_GGSO))
		p->offloads |= MOAT_IO_OFF_GSO;
	if (ethtool_get(fd, ifname, ETHTOOL_GTSO))
		p->offloads |= MOAT_IO_OFF_TSO;
	return 0;
}

void moat_io_port_delay(struct moat_io_port *p, uint64_t age_ns)
{
	p->st.delay_sum_ns += age_ns;
	p->st.delay_last_ns = age_ns;
	p->st.delay_batches++;
	if (age_ns > p->st.delay_max_ns)
		p->st.delay_max_ns = age_ns;
}

/* ---- the null port --------------------------------------------------- */

static uint32_t null_rx(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
			struct moat_io_port *const *flush, int nflush,
			uint32_t budget)
{
	(void)p; (void)fn; (void)arg; (void)flush; (void)nflush; (void)budget;
	return 0;
}

static void null_forward(struct moat_io_port *out, struct moat_io_port *in,
			 struct moat_io_rxframe *f)
{
	(void)in; (void)f;
	out->tx.errors++;
}

static void null_send(struct moat_io_port *out, const uint8_t *data,
		      uint32_t len)
{
	(void)data; (void)len;
	out->tx.errors++;
}

static bool null_flush(struct moat_io_port *p)
{
	(void)p;
	return false;
}

static void null_poll(struct moat_io_port *p)
{
	(void)p;
}

static void null_close(struct moat_io_port *p)
{
	(void)p;  /* caller storage */
}

static const struct moat_io_port_ops null_ops = {
	.rx = null_rx, .forward = null_forward, .send = null_send,
	.flush = null_flush, .poll_stats = null_poll, .close = null_close,
};

void moat_io_port_init_null(struct moat_io_port *p, const char *ifname,
			    uint32_t mtu)
{
	memset(p, 0, sizeof(*p));
	p->ops = &null_ops;
	p->fd = -1;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	snprintf(p->mode, sizeof(p->mode), "none");
	p->mtu = mtu;
	p->max_len = mtu + MOAT_IO_L2_OVERHEAD;
}

/* ---- names ----------------------------------------------------------- */

static const char *const backend_names[] = {
	[MOAT_IO_AUTO] = "auto",
	[MOAT_IO_AFPACKET] = "afpacket",
	[MOAT_IO_AFXDP] = "xdp",
};

const char *moat_io_backend_name(enum moat_io_backend b)
{
	return (unsigned)b < sizeof(backend_names) / sizeof(backend_names[0])
		       ? backend_names[b] : NULL;
}

int moat_io_backend_parse(const char *s, enum moat_io_backend *out)
{
	for (unsigned i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]);
	     i++) {
		if (!strcmp(s, backend_names[i])) {
			*out = (enum moat_io_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}
