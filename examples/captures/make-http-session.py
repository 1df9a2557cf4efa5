#!/usr/bin/python3
"""Write examples/captures/http-session.pcap: one short HTTP/1.1 exchange
between the lab's client 198.18.100.10 and server 198.18.1.10:80 (three-way
handshake, request, response, FIN close from both sides), then one
malformed frame (an IPv4 total length larger than the frame: moat decode
refuses it with ip4-bad-totlen).  Deterministic: fixed ISNs, timestamps and
MAC addresses, so the file is the same every time.

    /usr/bin/python3 examples/captures/make-http-session.py [OUT.pcap]
"""
import os
import sys

from scapy.all import IP, TCP, Ether, Raw, wrpcap

CLIENT, SERVER = "198.18.100.10", "198.18.1.10"
CMAC, SMAC = "02:00:00:00:64:0a", "02:00:00:00:01:0a"
CPORT, SPORT = 40112, 80
CISN, SISN = 1000000, 3000000
REQUEST = (b"GET / HTTP/1.1\r\nHost: 198.18.1.10\r\n"
           b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
BODY = b"<html><body>moat example</body></html>\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY)
            + BODY)
T0 = 1764151200.0  # 2025-11-26 10:00:00 UTC


def c2s(flags, seq, ack, payload=b"", opts=None):
    p = (Ether(src=CMAC, dst=SMAC) / IP(src=CLIENT, dst=SERVER, ttl=64,
                                        flags="DF", id=0)
         / TCP(sport=CPORT, dport=SPORT, flags=flags, seq=seq, ack=ack,
               window=502, options=opts or [("NOP", None), ("NOP", None),
                                            ("Timestamp", (100, 200))]))
    return p / Raw(payload) if payload else p


def s2c(flags, seq, ack, payload=b"", opts=None):
    p = (Ether(src=SMAC, dst=CMAC) / IP(src=SERVER, dst=CLIENT, ttl=64,
                                        flags="DF", id=0)
         / TCP(sport=SPORT, dport=CPORT, flags=flags, seq=seq, ack=ack,
               window=509, options=opts or [("NOP", None), ("NOP", None),
                                            ("Timestamp", (200, 100))]))
    return p / Raw(payload) if payload else p


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "http-session.pcap")
    syn_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, 0)),
                ("NOP", None), ("WScale", 7)]
    synack_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (200, 100)),
                   ("NOP", None), ("WScale", 7)]
    c, s = CISN + 1, SISN + 1
    pkts = [
        c2s("S", CISN, 0, opts=syn_opts),
        s2c("SA", SISN, c, opts=synack_opts),
        c2s("A", c, s),
        c2s("PA", c, s, REQUEST),
        s2c("A", s, c + len(REQUEST)),
        s2c("PA", s, c + len(REQUEST), RESPONSE),
        c2s("A", c + len(REQUEST), s + len(RESPONSE)),
        c2s("FA", c + len(REQUEST), s + len(RESPONSE)),
        s2c("FA", s + len(RESPONSE), c + len(REQUEST) + 1),
        c2s("A", c + len(REQUEST) + 1, s + len(RESPONSE) + 1),
    ]
    # The malformed one: a late ACK whose IPv4 total length claims 40 bytes
    # more than the frame holds (built, then its length field overwritten).
    bad = c2s("A", c + len(REQUEST) + 1, s + len(RESPONSE) + 1)
    bad = Ether(bytes(bad))
    bad[IP].len += 40
    del bad[IP].chksum
    pkts.append(Ether(bytes(bad)))
    for i, p in enumerate(pkts):
        p.time = T0 + i * 0.001
    wrpcap(out, pkts)


if __name__ == "__main__":
    main()
