/*
 * DHCP with antispoof on (RFC 2131 section 4.1), and protocols other than
 * TCP, UDP and ICMP named in rules and tracked as address-pair flows.
 */
#include "harness.h"

static const char *const conf_dhcp =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { policy drop\n antispoof on }\n"
	"pass from inside udp port 67\n"
	"pass from outside port 67 udp port 68\n"
	"block from inside udp port 6767\n";

/* An IPv4 packet of @proto with @plen payload bytes (a UDP header first
 * for UDP), checksums filled. */
static void h_ip4(struct harness *h, const char *src, const char *dst,
		  uint8_t proto, uint16_t sport, uint16_t dport, uint16_t plen)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2,
					 0x08, 0x00 };
	struct moat_addr s, d;
	struct moat_pkt p;
	uint8_t *ip = h->frame + 14;
	uint16_t l4 = (uint16_t)((proto == MOAT_IPPROTO_UDP ? 8 : 0) + plen);

	assert_int_equal(moat_addr_parse(&s, src), 0);
	assert_int_equal(moat_addr_parse(&d, dst), 0);
	memset(h->frame, 0, sizeof(h->frame));
	memcpy(h->frame, eth, 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4) >> 8);
	ip[3] = (uint8_t)(20 + l4);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, moat_addr_v4(&s), 4);
	memcpy(ip + 16, moat_addr_v4(&d), 4);
	if (proto == MOAT_IPPROTO_UDP) {
		ip[20] = (uint8_t)(sport >> 8);
		ip[21] = (uint8_t)sport;
		ip[22] = (uint8_t)(dport >> 8);
		ip[23] = (uint8_t)dport;
		ip[24] = (uint8_t)(l4 >> 8);
		ip[25] = (uint8_t)l4;
	}
	memset(ip + 20 + (l4 - plen), 0x42, plen);
	h->len = 14u + 20u + l4;
	h_decode(h, &p);
	moat_pkt_fill_checksums(&p);
}

/* DISCOVER (broadcast) and REQUEST to a known server, before an address. */
static void dhcp_client_passes_a_rule(void **state)
{
	struct harness *h = *state;

	h_ip4(h, "0.0.0.0", "255.255.255.255", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_int_equal(h->res.rule, 1);
	/* the same again: its flow */
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	h_ip4(h, "0.0.0.0", "198.18.100.1", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	/* the server's broadcast OFFER/ACK/NAK to a client without an
	 * address; its source is still checked */
	h_ip4(h, "198.18.100.1", "255.255.255.255", MOAT_IPPROTO_UDP, 67, 68,
	      300);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_int_equal(h->res.rule, 2);
	h_ip4(h, "198.18.1.7", "255.255.255.255", MOAT_IPPROTO_UDP, 67, 68,
	      300);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP, MOAT_R_SPOOF_ZONE);
	h_ip4(h, "127.0.0.1", "255.255.255.255", MOAT_IPPROTO_UDP, 67, 68,
	      300);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
}

/* Exactly the DHCP shapes: anything else from 0.0.0.0 is a martian. */
static void other_martians_stay_martians(void **state)
{
	struct harness *h = *state;

	h_ip4(h, "0.0.0.0", "255.255.255.255", MOAT_IPPROTO_UDP, 68, 68, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	h_ip4(h, "0.0.0.0", "255.255.255.255", MOAT_IPPROTO_UDP, 1068, 67,
	      300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	h_ip4(h, "0.0.0.0", "224.0.0.1", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	h_ip4(h, "0.0.0.0", "127.0.0.1", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	h_ip4(h, "0.0.0.1", "255.255.255.255", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	/* the broadcast, from anything but a DHCP server's port 67 */
	h_ip4(h, "198.18.100.1", "255.255.255.255", MOAT_IPPROTO_UDP, 68, 68,
	      300);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_DST);
	struct seg syn = { "0.0.0.0", "198.18.100.1", 68, 67, 1, 0,
			   MOAT_TCP_SYN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &syn), MOAT_VERDICT_DROP,
		       MOAT_R_MARTIAN_SRC);
}

/* Only a passing rule lets it by: none, or a block, and it is a martian. */
static void dhcp_without_a_passing_rule(void **state)
{
	struct harness *h = *state;

	h_stop(h);
	h_start(h, "zone outside { interface out0; default }\n"
		   "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		   "options { policy pass }\n"
		   "block from inside udp port 67 to 198.18.100.1\n");
	h_ip4(h, "0.0.0.0", "255.255.255.255", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	h_ip4(h, "0.0.0.0", "198.18.100.1", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_SRC);
	h_ip4(h, "198.18.100.1", "255.255.255.255", MOAT_IPPROTO_UDP, 67, 68,
	      300);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP, MOAT_R_MARTIAN_DST);
	/* antispoof off: nothing is a martian, the policy decides */
	h_stop(h);
	h_start(h, "zone outside { interface out0; default }\n"
		   "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		   "options { policy pass\n antispoof off }\n");
	h_ip4(h, "0.0.0.0", "255.255.255.255", MOAT_IPPROTO_UDP, 68, 67, 300);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_POLICY_PASS);
}

/*
 * A VPN server opened narrowly: GRE and ESP by name, a protocol by number,
 * each tracked as one flow per address pair (both directions), with its
 * own timeout (`timeout other`).
 */
static void other_protocols_by_name_and_number(void **state)
{
	struct harness *h = *state;
	struct moat_emit tick;

	h_stop(h);
	h_start(h, "zone outside { interface out0; default }\n"
		   "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		   "options { policy drop\n timeout other 100 }\n"
		   "pass from outside to 198.18.1.10 proto { gre, esp }\n"
		   "pass from outside to 198.18.1.11 proto 132\n");
	h_ip4(h, "198.18.100.10", "198.18.1.10", 47, 0, 0, 40);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	/* the server's GRE back: the same flow */
	h_ip4(h, "198.18.1.10", "198.18.100.10", 47, 0, 0, 40);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	/* the server may not start GRE to anyone else */
	h_ip4(h, "198.18.1.10", "198.18.100.11", 47, 0, 0, 40);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_POLICY_DROP);
	h_ip4(h, "198.18.100.10", "198.18.1.10", 50, 0, 0, 40);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	/* AH is not in the rule; SCTP only to .11 */
	h_ip4(h, "198.18.100.10", "198.18.1.10", 51, 0, 0, 40);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP, MOAT_R_POLICY_DROP);
	h_ip4(h, "198.18.100.10", "198.18.1.10", 132, 0, 0, 40);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP, MOAT_R_POLICY_DROP);
	h_ip4(h, "198.18.100.10", "198.18.1.11", 132, 0, 0, 40);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_int_equal(h->res.rule, 2);
	/* quiet for longer than `timeout other`: the flow is gone */
	h->now += 99 * SEC;
	moat_emit_reset(&tick);
	moat_engine_tick(h->eng, h->now, &tick);
	h_ip4(h, "198.18.1.10", "198.18.100.10", 47, 0, 0, 40);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	h->now += 101 * SEC;
	moat_engine_tick(h->eng, h->now, &tick);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_POLICY_DROP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		h_test(dhcp_client_passes_a_rule, conf_dhcp),
		h_test(other_martians_stay_martians, conf_dhcp),
		h_test(dhcp_without_a_passing_rule, conf_dhcp),
		h_test(other_protocols_by_name_and_number, conf_dhcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
