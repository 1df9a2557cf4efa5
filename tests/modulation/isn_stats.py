#!/usr/bin/python3
"""The proof that sequence modulation works: a server whose ISNs follow the
old BSD rule (ISN_k = 1000000 + 64000*k, predictable by anyone who opened
one connection, Morris 1985; RFC 6528 section 1) sits behind moat with a
`modulate` rule; we look at its ISNs on both sides.

    /usr/bin/python3 isn_stats.py MOAT [WORKDIR]

1. Make N SYNs from one client (scapy) and replay them: the output gives the
   client ISNs as the server sees them (modulation shifts the client's side
   too), which the server's SYN-ACKs must acknowledge.
2. Make the full capture (SYN, then the server's SYN-ACK with ISN_k) and
   replay it with `moat replay -c modulate.conf --trace -o out.pcap`; every
   packet must pass.
3. Statistics of the server's ISNs inside (the input capture) and outside
   (out.pcap), over consecutive connections k, k+1:
     modal   fraction of differences ISN_{k+1} - ISN_k (mod 2^32) equal to
             the most common one: the attacker's whole method
     pearson correlation of ISN_k with ISN_{k+1}
     chi2    chi-square of the low 4 bits over 16 bins (15 degrees of
             freedom; 37.70 is the 0.1% critical value)
   Inside must be perfectly predictable (modal 1, pearson > 0.99, chi2 far
   above 37.70); outside must look random (modal <= 0.02, |pearson| < 0.3,
   chi2 < 37.70).  moat replay's secret is fixed, so the run repeats.
Exit 0 when all thresholds hold, 1 when not, 77 without scapy.
"""
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter

try:
    from scapy.all import IP, TCP, Ether, rdpcap, wrpcap
except ImportError:
    print("scapy missing: skipped")
    sys.exit(77)

N = 200
CLIENT, SERVER = "198.18.100.10", "198.18.1.10"
CMAC, SMAC = "02:00:00:00:64:0a", "02:00:00:00:01:0a"
T0 = 1764151200.0
CHI2_CRIT_15_0001 = 37.70


def server_isn(k):
    return (1000000 + 64000 * k) & 0xFFFFFFFF


def syn(k):
    p = (Ether(src=CMAC, dst=SMAC) / IP(src=CLIENT, dst=SERVER, id=k)
         / TCP(sport=20000 + k, dport=80, flags="S",
               seq=(7000000 + 4096 * k) & 0xFFFFFFFF, window=65535))
    p.time = T0 + 0.01 * k
    return p


def synack(k, client_isn_seen):
    p = (Ether(src=SMAC, dst=CMAC) / IP(src=SERVER, dst=CLIENT, id=k)
         / TCP(sport=80, dport=20000 + k, flags="SA", seq=server_isn(k),
               ack=(client_isn_seen + 1) & 0xFFFFFFFF, window=65535))
    p.time = T0 + 0.01 * k + 0.001
    return p


def replay(moat, conf, inp, out, trace=False):
    cmd = [moat, "replay", "-c", conf, "-o", out]
    if trace:
        cmd.append("--trace")
    cmd.append(inp)
    return subprocess.run(cmd, check=True, capture_output=True,
                          text=True).stdout


def modal_fraction(xs):
    d = [(b - a) & 0xFFFFFFFF for a, b in zip(xs, xs[1:])]
    return Counter(d).most_common(1)[0][1] / len(d)


def pearson(xs):
    a, b = xs[:-1], xs[1:]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va and vb else 1.0


def chi2_low4(xs):
    bins = Counter(x & 0xF for x in xs)
    exp = len(xs) / 16
    return sum((bins.get(i, 0) - exp) ** 2 / exp for i in range(16))


def stats(name, xs):
    s = {"modal": modal_fraction(xs), "pearson": pearson(xs),
         "chi2": chi2_low4(xs)}
    print("%-8s n=%d  modal=%.4f  pearson=%+.4f  chi2(low 4 bits)=%.2f"
          % (name, len(xs), s["modal"], s["pearson"], s["chi2"]))
    return s


def main():
    if len(sys.argv) > 2:
        return run(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        return run(work)


def run(work):
    moat = os.path.abspath(sys.argv[1])
    conf = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "modulate.conf")
    os.makedirs(work, exist_ok=True)
    syns = [syn(k) for k in range(N)]
    wrpcap(os.path.join(work, "syns.pcap"), syns)
    replay(moat, conf, os.path.join(work, "syns.pcap"),
           os.path.join(work, "syns-out.pcap"))
    seen = {p[TCP].sport: p[TCP].seq
            for p in rdpcap(os.path.join(work, "syns-out.pcap"))}
    if len(seen) != N:
        print("FAIL: %d of %d SYNs passed" % (len(seen), N))
        return 1
    frames = []
    for k in range(N):
        frames += [syns[k], synack(k, seen[20000 + k])]
    inp, out = os.path.join(work, "in.pcap"), os.path.join(work, "out.pcap")
    wrpcap(inp, frames)
    trace = replay(moat, conf, inp, out, trace=True)
    verdicts = [l.split("\t")[1] for l in trace.splitlines() if "\t" in l]
    if len(verdicts) != 2 * N or any(v != "pass" for v in verdicts):
        print("FAIL: not every packet passed:\n" + trace)
        return 1
    inside = [p[TCP].seq for p in rdpcap(inp) if p[TCP].flags == "SA"]
    outside = [p[TCP].seq for p in rdpcap(out) if p[TCP].flags == "SA"]
    si, so = stats("inside", inside), stats("outside", outside)
    ok = (si["modal"] == 1.0 and si["pearson"] > 0.99 and
          si["chi2"] > 10 * CHI2_CRIT_15_0001 and
          so["modal"] <= 0.02 and abs(so["pearson"]) < 0.3 and
          so["chi2"] < CHI2_CRIT_15_0001)
    # Outside, the client sees its own ISN acknowledged: the translation
    # is exact both ways.
    acks = [p[TCP].ack for p in rdpcap(out) if p[TCP].flags == "SA"]
    if acks != [(7000000 + 4096 * k + 1) & 0xFFFFFFFF for k in range(N)]:
        print("FAIL: the SYN-ACKs outside do not acknowledge the client's"
              " own ISNs")
        ok = False
    print("modulation %s" % ("holds" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
