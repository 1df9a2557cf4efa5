#!/usr/bin/python3
"""Write a big moat.conf for timing `moat check` and reloads.

    bench/gen-rules.py [N] > big.conf             (N rules, default 50000)
    bench/gen-rules.py N --rules-only >> lab.conf  (the set and rules only)

The file is what a hosting gateway with many customers might carry: two
zones with interfaces (so `moat run` accepts it), a few named sets, then N
rules: per-host tcp services on IPv4 and IPv6 servers (single ports, lists,
ranges), udp services, admin-only ports from a set, ICMP echo, blocks of
port ranges, and about one rule in fifty repeating an earlier one, narrower
(shadowed: the check must find these).  The last rule is `pass from inside`.  No rule names 198.18.0.0/24 or
198.18.1.0/24 (the lab's client-facing and server networks), so the rules
can follow the lab's own without changing what its traffic meets.
Deterministic (a fixed seed), so two runs write the same file.
"""
import random
import sys

TCP_PORTS = ["80", "443", "{ 25, 587 }", "8000-8100", "22", "{ 993, 995 }",
             "3306", "5432", "{ 80, 443, 8080 }", "10000-10100"]


def host4(i):
    # 198.18.0.0/15 holds 131,072 addresses: one per rule is plenty.
    return "198.18.%d.%d" % (2 + (i // 250) % 254, 1 + i % 250)


def host6(i):
    return "2001:db8:%x::%x" % (1 + (i // 4096) % 4096, 1 + i % 4096)


def rule(i, rnd):
    k = rnd.randrange(100)
    if k < 45:
        return "pass from outside to %s tcp port %s" % (
            host4(i), TCP_PORTS[rnd.randrange(len(TCP_PORTS))])
    if k < 60:
        return "pass from outside to %s tcp port %d" % (
            host6(i), rnd.choice([80, 443, 22, 8443]))
    if k < 72:
        return "pass from outside to %s udp port %d" % (
            host4(i), rnd.choice([53, 123, 5353, 1194, 51820]))
    if k < 82:
        return "pass from @admins to %s tcp port %d" % (
            host4(i), rnd.choice([22, 3389, 5900, 9090]))
    if k < 90:
        lo = rnd.randrange(1024, 60000)
        return "block from outside to %s tcp port %d-%d" % (
            host4(i), lo, lo + rnd.randrange(1, 500))
    if k < 96:
        return "pass from outside to %s icmp type echo-request" % host4(i)
    return "pass from outside to %s/29 tcp port %d" % (
        "198.18.%d.%d" % (2 + (i // 250) % 254, 8 * rnd.randrange(31)),
        rnd.choice([80, 443]))


def main():
    args = [a for a in sys.argv[1:] if a != "--rules-only"]
    n = int(args[0]) if args else 50000
    rnd = random.Random(20261202)
    out = sys.stdout
    out.write("# %d rules written by bench/gen-rules.py\n" % n)
    if "--rules-only" not in sys.argv:
        out.write("zone outside { interface out0; default }\n"
                  "zone inside { interface in0; networks 198.18.1.0/24 }\n"
                  "options { policy drop\n syncookies auto\n"
                  " antispoof on }\n")
    out.write("set admins = { 198.19.100.0/24, 2001:db8:ad::/48 }\n")
    written = []
    for i in range(n - 1):
        if written and rnd.randrange(50) == 0:
            # A repeat of an earlier rule, so later it can never match.
            line = rnd.choice(written)
        else:
            line = rule(i, rnd)
        written.append(line)
        out.write(line + "\n")
    out.write("pass from inside\n")


main()
