/*
 * moat_pkt_format(): one line per packet in the spirit of `tcpdump -n`, for
 * `moat decode`, traces and test failures.  Control plane only (it formats
 * text); it prints what the view holds, so a refused frame shows how far
 * decoding got.
 *
 *   IP 198.18.100.10.40000 > 198.18.1.10.80: Flags [S], seq 1, win 64240,
 *      options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
 */
#include "pkt/internal.h"

/*
 * A bounded appender: output stops at the end of the buffer, never past,
 * and is always NUL-terminated.  Hand-rolled rather than snprintf so the
 * core library links no stdio (doc/style.md: `nm -u` finds no print calls).
 */
struct out {
	char *buf;
	unsigned long len, pos;
};

static void put(struct out *o, const char *s)
{
	while (*s && o->pos + 1 < o->len)
		o->buf[o->pos++] = *s++;
	o->buf[o->pos] = '\0';
}

static void put_u(struct out *o, uint32_t v)
{
	char d[11];
	int n = 10;

	d[n] = '\0';
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n > 0);
	put(o, d + n);
}

static void put_hex16(struct out *o, uint16_t v)
{
	static const char hex[] = "0123456789abcdef";
	char d[7] = { '0', 'x', hex[v >> 12], hex[(v >> 8) & 15],
		      hex[(v >> 4) & 15], hex[v & 15], '\0' };

	put(o, d);
}

/* @s then the decimal @v: most of a line is "label number". */
static void put_su(struct out *o, const char *s, uint32_t v)
{
	put(o, s);
	put_u(o, v);
}

static void put_flags(struct out *o, uint8_t f)
{
	static const char letters[] = "FSRP.UEW"; /* bit order, as tcpdump */
	char s[9];
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			s[n++] = letters[i];
	s[n] = '\0';
	put(o, "Flags [");
	put(o, n ? s : "none");
	put(o, "]");
}

static void put_options(struct out *o, const struct moat_tcp_opts *t)
{
	const char *sep = "";

	if (!t->present)
		return;
	put(o, ", options [");
	if (t->present & MOAT_TCPOPT_MSS) {
		put_su(o, "mss ", t->mss);
		sep = ",";
	}
	if (t->present & MOAT_TCPOPT_SACK_PERM) {
		put(o, sep);
		put(o, "sackOK");
		sep = ",";
	}
	if (t->present & MOAT_TCPOPT_TS) {
		put(o, sep);
		put_su(o, "TS val ", t->tsval);
		put_su(o, " ecr ", t->tsecr);
		sep = ",";
	}
	if (t->present & MOAT_TCPOPT_WSCALE) {
		put(o, sep);
		put_su(o, "wscale ", t->wscale);
		sep = ",";
	}
	if (t->present & MOAT_TCPOPT_SACK) {
		put(o, sep);
		put_su(o, "sack ", t->sack_count);
		for (unsigned i = 0; i < t->sack_count && i < MOAT_SACK_MAX;
		     i++) {
			put_su(o, " {", t->sack[i][0]);
			put_su(o, ":", t->sack[i][1]);
			put(o, "}");
		}
	}
	put(o, "]");
}

static void put_endpoint(struct out *o, const struct moat_addr *a,
			 bool port, uint16_t n)
{
	char s[MOAT_ADDR_STRLEN];

	put(o, moat_addr_format(a, s, sizeof(s)));
	if (port)
		put_su(o, ".", n);
}

static void put_tcp(struct out *o, const struct moat_pkt *p)
{
	put(o, "TCP ");
	put_flags(o, p->tcp_flags);
	put_su(o, ", seq ", p->seq);
	if (p->tcp_flags & MOAT_TCP_ACK)
		put_su(o, ", ack ", p->ack);
	put_su(o, ", win ", p->win);
	if (p->tcp_flags & MOAT_TCP_URG)
		put_su(o, ", urg ", p->urp);
	put_options(o, &p->opt);
	put_su(o, ", length ", p->payload_len);
}

static void put_inner(struct out *o, const struct moat_pkt_inner *in)
{
	if (!in->present) {
		put(o, ", quote undecoded");
		return;
	}
	put_su(o, ", quoting proto ", in->proto);
	put(o, " ");
	put_endpoint(o, &in->src, in->has_ports, in->sport);
	put(o, " > ");
	put_endpoint(o, &in->dst, in->has_ports, in->dport);
	if (in->has_seq)
		put_su(o, " seq ", in->seq);
}

static bool icmp_is_echo(const struct moat_pkt *p)
{
	return p->ipv == 4 ? (p->icmp_type == 0 || p->icmp_type == 8)
			   : (p->icmp_type == 128 || p->icmp_type == 129);
}

static bool icmp_is_error(const struct moat_pkt *p)
{
	uint8_t t = p->icmp_type;

	return p->ipv == 4 ? (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			   : (t >= 1 && t <= 4);
}

static void put_icmp(struct out *o, const struct moat_pkt *p)
{
	put(o, p->ipv == 4 ? "ICMP" : "ICMP6");
	put_su(o, " type ", p->icmp_type);
	put_su(o, " code ", p->icmp_code);
	if (icmp_is_echo(p)) {
		put(o, (p->icmp_type == 8 || p->icmp_type == 128)
			       ? ", echo request"
			       : ", echo reply");
		put_su(o, ", id ", p->icmp_id);
		put_su(o, ", seq ", p->icmp_seq);
	} else if (icmp_is_error(p)) {
		put_inner(o, &p->inner);
	}
	put_su(o, ", length ", p->payload_len);
}

static void put_l4(struct out *o, const struct moat_pkt *p)
{
	switch (p->proto) {
	case MOAT_IPPROTO_TCP:
		put_tcp(o, p);
		return;
	case MOAT_IPPROTO_UDP:
		put_su(o, "UDP, length ", p->payload_len);
		return;
	default:
		put_icmp(o, p);
		return;
	}
}

static void put_ip(struct out *o, const struct moat_pkt *p)
{
	bool l4 = (p->have & MOAT_PKT_HAVE_L4) != 0;
	bool ports = l4 && (p->proto == MOAT_IPPROTO_TCP ||
			    p->proto == MOAT_IPPROTO_UDP);

	put(o, p->ipv == 4 ? "IP " : "IP6 ");
	put_endpoint(o, &p->src, ports, p->sport);
	put(o, " > ");
	put_endpoint(o, &p->dst, ports, p->dport);
	put(o, ": ");
	if (p->frag & MOAT_FRAG_IS) {
		put_su(o, "frag id ", p->frag_id);
		put_su(o, " off ", p->frag_off);
		put(o, (p->frag & MOAT_FRAG_MF) ? "+, " : ", ");
	}
	if (l4) {
		put_l4(o, p);
	} else {
		put_su(o, "proto ", p->proto);
		put_su(o, ", length ", p->l3_len);
	}
	put_su(o, ", ttl ", p->ttl);
}

int moat_pkt_format(const struct moat_pkt *p, char *buf, unsigned long len)
{
	struct out o = { .buf = buf, .len = len, .pos = 0 };

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < p->vlan_count && i < MOAT_VLAN_MAX; i++) {
		put_su(&o, "vlan ", p->vlan[i]);
		put(&o, ", ");
	}
	if (p->have & MOAT_PKT_HAVE_L3) {
		put_ip(&o, p);
	} else if (p->ethertype) {
		put(&o, "ethertype ");
		put_hex16(&o, p->ethertype);
		put_su(&o, ", length ", p->wirelen);
	} else {
		put_su(&o, "link ", p->linktype);
		put_su(&o, ", length ", p->wirelen);
	}
	return (int)o.pos;
}
