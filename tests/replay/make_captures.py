#!/usr/bin/python3
"""Write the crafted captures of tests/replay: one per attack on the
defences against spoofing, on-path hijacking and abuse by one source.

    /usr/bin/python3 tests/replay/make_captures.py [OUTDIR]

Deterministic (fixed ISNs, ports, IP ids, MAC addresses and timestamps): the
same bytes every time, so the golden verdicts in *.expected hold.  The lab's
addresses (doc/design.md): client 198.18.100.10, attacker 198.18.100.66, server
198.18.1.10 (zone inside), everything else outside.

Captures (each NAME.pcap or NAME.pcapng goes with NAME.conf and
NAME.expected):
  spoof       (pcapng with named interfaces out0 and in0, which give the
              ingress zone) an inside source arriving from outside, an
              inside host spoofing an outside source, then honest ones
  martians    one SYN from every kind of martian source, v4 and v6
  injection   an honest HTTP-like session with one in-window segment that
              rewrites bytes already sent (an on-path attacker's)
  ackstorm    a desynchronised session: both sides ACK data never sent
  ttljump     mid-flow, the server's packets come with another TTL
  srcrate     one source opening connections faster than its rate, then
              refused as overloaded; another source unaffected
  trust       rlogin/rsh from outside through a pass rule, and other
              address-trust services
  gap         a SYN flood that puts the server in cookie mode, then one
              honest SYN 45 s later, after the capture fell silent
  edges       (pcapng, out0/in0) a client reusing its port (RFC 9293
              3.10.7.3), an in-window RST (RFC 5961 3.2), ICMP errors sent
              to the wrong host or from the wrong side, DHCP with
              antispoof on, GRE and ESP, a stale retransmission
"""
import os
import struct
import sys

from scapy.all import ICMP, IP, IPv6, TCP, UDP, Ether, Raw, wrpcap

CLIENT, ATTACKER, SERVER = "198.18.100.10", "198.18.100.66", "198.18.1.10"
CMAC, SMAC = "02:00:00:00:64:0a", "02:00:00:00:01:0a"
T0 = 1764151200.0  # 2025-11-26 10:00:00 UTC


class Cap:
    """A list of frames with timestamps advancing by @step seconds."""

    def __init__(self, step=0.001):
        self.frames, self.t, self.step = [], T0, step

    def add(self, frame, gap=None):
        self.t += self.step if gap is None else gap
        frame.time = self.t
        self.frames.append(frame)

    def write(self, path):
        wrpcap(path, self.frames)


def tcp4(src, dst, sport, dport, flags, seq, ack=0, data=b"", ttl=64,
         ipid=0, win=65535):
    mac = (CMAC, SMAC) if src != SERVER else (SMAC, CMAC)
    p = (Ether(src=mac[0], dst=mac[1])
         / IP(src=src, dst=dst, ttl=ttl, id=ipid, flags="DF")
         / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
               window=win))
    return p / Raw(data) if data else p


def handshake(cap, cport, sport=80, cisn=1000, sisn=5000, client=CLIENT,
              sttl=64):
    cap.add(tcp4(client, SERVER, cport, sport, "S", cisn))
    cap.add(tcp4(SERVER, client, sport, cport, "SA", sisn, cisn + 1,
                 ttl=sttl))
    cap.add(tcp4(client, SERVER, cport, sport, "A", cisn + 1, sisn + 1))


def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def write_pcapng(path, ifaces, frames):
    """A pcapng whose interfaces are named (scapy 2.5 writes no names):
    moat replay takes a packet's ingress zone from its interface's name.
    @frames: (interface index, frame) with the frame's .time set."""
    out = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0,
                                               -1))
    for name in ifaces:
        n = name.encode()
        opt = struct.pack("<HH", 2, len(n)) + n + b"\0" * (-len(n) % 4)
        opt += struct.pack("<HH", 0, 0)
        out += pcapng_block(1, struct.pack("<HHI", 1, 0, 65535) + opt)
    for iface, frame in frames:
        raw = bytes(frame)
        us = int(round(float(frame.time) * 1e6))
        out += pcapng_block(6, struct.pack("<IIIII", iface, us >> 32,
                                           us & 0xFFFFFFFF, len(raw),
                                           len(raw)) + raw)
    with open(path, "wb") as f:
        f.write(out)


def spoof(out):
    out0, in0 = 0, 1
    cap = Cap()
    # From the outside wire (out0), claiming to be a host of the server's
    # LAN (198.18.1.20), aimed at the rsh port a trusting server honours.
    cap.add(tcp4("198.18.1.20", SERVER, 1023, 514, "S", 777))
    cap.add(tcp4("198.18.1.20", SERVER, 1022, 80, "S", 778))
    # An inside host spoofing an outside address (in0): egress filtering.
    cap.add(tcp4("203.0.113.9", CLIENT, 1024, 80, "S", 779))
    n = len(cap.frames)
    handshake(cap, 40000)
    # The same inside host, honest, from in0.
    cap.add(tcp4("198.18.1.20", CLIENT, 1025, 80, "S", 780))
    ifaces = [out0, out0, in0] + [out0, in0, out0] + [in0]
    assert len(ifaces) == len(cap.frames) and n == 3
    write_pcapng(out[:-len(".pcap")] + ".pcapng", ["out0", "in0"],
                 list(zip(ifaces, cap.frames)))


def martians(out):
    cap = Cap()
    v4 = ["0.1.2.3", "127.0.0.1", "224.0.0.5", "239.255.255.250",
          "240.0.0.1", "255.255.255.255"]
    for i, src in enumerate(v4):
        cap.add(Ether(src=CMAC, dst=SMAC) / IP(src=src, dst=SERVER, id=i)
                / TCP(sport=1000 + i, dport=80, flags="S", seq=i))
    v6 = ["::", "::1", "ff02::1", "ff0e::1234", "::ffff:198.18.100.10"]
    for i, src in enumerate(v6):
        cap.add(Ether(src=CMAC, dst=SMAC) / IPv6(src=src, dst="2001:db8:1::10")
                / TCP(sport=2000 + i, dport=80, flags="S", seq=i))
    # Martian destinations, and a land attack, for completeness.
    cap.add(tcp4(CLIENT, "127.0.0.1", 3000, 80, "S", 1))
    cap.add(tcp4(CLIENT, "0.0.0.0", 3001, 80, "S", 1))
    cap.add(tcp4(SERVER, SERVER, 80, 80, "S", 1))
    # And an honest SYN at the end: the defences did not stop everything.
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "S", 1000))
    cap.write(out)


def injection(out):
    cap = Cap()
    handshake(cap, 40000)
    req = b"GET /balance HTTP/1.1\r\nHost: bank\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nbalance=7"
    forged = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsend=mine"
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "PA", 1001, 5001, req))
    # The attacker on the path answers first, as the server...
    cap.add(tcp4(SERVER, CLIENT, 80, 40000, "PA", 5001, 1001 + len(req),
                 forged, ipid=9999))
    # ...then the real answer at the same SEQ with other bytes.
    cap.add(tcp4(SERVER, CLIENT, 80, 40000, "PA", 5001, 1001 + len(req),
                 resp))
    # An honest retransmission of the request: same bytes, quiet.
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "PA", 1001, 5001, req))
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "A", 1001 + len(req),
                 5001 + len(resp)))
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "FA", 1001 + len(req),
                 5001 + len(resp)))
    cap.add(tcp4(SERVER, CLIENT, 80, 40000, "FA", 5001 + len(resp),
                 1002 + len(req)))
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "A", 1002 + len(req),
                 5002 + len(resp)))
    cap.write(out)


def ackstorm(out):
    cap = Cap(step=0.0005)
    handshake(cap, 40000)
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "PA", 1001, 5001, b"x" * 10))
    cap.add(tcp4(SERVER, CLIENT, 80, 40000, "A", 5001, 1011))
    # Desynchronised: each side acknowledges what the attacker made it
    # believe the other sent, and answers every ACK with its own.
    for _ in range(10):
        cap.add(tcp4(CLIENT, SERVER, 40000, 80, "A", 1011, 5001 + 500))
        cap.add(tcp4(SERVER, CLIENT, 80, 40000, "A", 5001, 1011 + 700))
    # The honest ACKs still pass.
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "A", 1011, 5001), gap=0.5)
    cap.write(out)


def ttljump(out):
    cap = Cap()
    handshake(cap, 40000, sttl=57)
    seq = 5001
    for i, ttl in enumerate([57, 57, 58, 41, 41, 57]):
        data = bytes([0x61 + i]) * 20
        cap.add(tcp4(SERVER, CLIENT, 80, 40000, "PA", seq, 1001, data,
                     ttl=ttl))
        seq += len(data)
    cap.add(tcp4(CLIENT, SERVER, 40000, 80, "A", 1001, seq))
    cap.write(out)


def srcrate(out):
    cap = Cap(step=0.05)
    for i in range(6):
        cap.add(tcp4(ATTACKER, SERVER, 30000 + i, 22, "S", 100 + i))
    # Overloaded: refused on other services too, for a while.
    cap.add(tcp4(ATTACKER, SERVER, 30010, 80, "S", 200))
    # Others are not.
    handshake(cap, 40000, sport=22)
    # Thirty seconds later the overload entry has expired.
    cap.add(tcp4(ATTACKER, SERVER, 30020, 80, "S", 300), gap=30.0)
    cap.write(out)


def trust(out):
    cap = Cap()
    cap.add(tcp4(CLIENT, SERVER, 1023, 513, "S", 1))
    cap.add(tcp4(CLIENT, SERVER, 1022, 514, "S", 1))
    cap.add(tcp4(CLIENT, SERVER, 1021, 6000, "S", 1))
    cap.add(tcp4(CLIENT, SERVER, 1020, 80, "S", 1))
    cap.write(out)


def gap(out):
    cap = Cap(step=0.002)
    # The server's SYN-ACK teaches moat its options, so cookies need no
    # probe SYN to it.
    handshake(cap, 40999)
    # 300 spoofed SYNs in 0.6 s: far over the configured 50 a second.
    for i in range(300):
        src = "198.18.128.%d" % (1 + i % 250)
        cap.add(tcp4(src, SERVER, 10000 + i, 80, "S", 7000 + i))
    # 45 s of silence: the half-open flows time out (tcp.opening, 30 s),
    # and the live gateway, ticking through it, leaves
    # cookie mode after syncookies-quiet; the replay must do the same.
    cap.add(tcp4(CLIENT, SERVER, 41000, 80, "S", 1000), gap=45.0)
    cap.write(out)


def unreach4(src, dst, quoted):
    """An ICMP port unreachable from @src to @dst quoting the IP packet of
    frame @quoted whole (as Linux does, within 576 bytes)."""
    return (Ether(src=SMAC, dst=CMAC) / IP(src=src, dst=dst, id=7)
            / ICMP(type=3, code=3) / Raw(bytes(quoted[IP])))


def edges(out):
    out0, in0 = 0, 1
    cap, ifs = Cap(), []

    def add(iface, frame, gap=None):
        cap.add(frame, gap)
        ifs.append(iface)

    def shake(cport, win=65535):
        add(out0, tcp4(CLIENT, SERVER, cport, 80, "S", 1000))
        add(in0, tcp4(SERVER, CLIENT, 80, cport, "SA", 5000, 1001, win=win))
        add(out0, tcp4(CLIENT, SERVER, cport, 80, "A", 1001, 5001))

    # A client that lost its connection reuses the port; the server still
    # holds the old one.
    shake(40000)
    add(out0, tcp4(CLIENT, SERVER, 40000, 80, "PA", 1001, 5001, b"q" * 10))
    add(in0, tcp4(SERVER, CLIENT, 80, 40000, "PA", 5001, 1011, b"r" * 20))
    add(out0, tcp4(CLIENT, SERVER, 40000, 80, "A", 1011, 5021))
    add(out0, tcp4(CLIENT, SERVER, 40000, 80, "S", 90000000), gap=5.0)
    add(in0, tcp4(SERVER, CLIENT, 80, 40000, "A", 5021, 1011))
    add(out0, tcp4(CLIENT, SERVER, 40000, 80, "R", 1011))
    add(out0, tcp4(CLIENT, SERVER, 40000, 80, "S", 90000000), gap=1.0)
    add(in0, tcp4(SERVER, CLIENT, 80, 40000, "SA", 7000, 90000001))
    add(out0, tcp4(CLIENT, SERVER, 40000, 80, "A", 90000001, 7001))
    # A RST in the window, not at rcv.nxt: dropped, moat sends the
    # challenge ACK; the client that really reset answers it exactly.
    shake(40001)
    add(out0, tcp4(CLIENT, SERVER, 40001, 80, "R", 1501))
    add(out0, tcp4(CLIENT, SERVER, 40001, 80, "R", 1001))
    # ICMP errors about a live flow.
    shake(40002)
    req = tcp4(CLIENT, SERVER, 40002, 80, "PA", 1001, 5001, b"x" * 10)
    add(out0, req)
    resp = tcp4(SERVER, CLIENT, 80, 40002, "PA", 5001, 1011, b"y" * 10)
    add(in0, resp)
    add(in0, unreach4(SERVER, CLIENT, req))
    add(out0, unreach4("198.18.100.1", SERVER, resp))
    add(out0, unreach4("198.18.100.1", "198.18.1.20", resp))
    add(in0, unreach4("198.18.1.20", SERVER, resp))
    # DHCP before the client has an address.
    add(in0, Ether(src=SMAC, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67) / Raw(b"\x01" * 240))
    add(out0, Ether(src=CMAC, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="198.18.100.1", dst="255.255.255.255")
        / UDP(sport=67, dport=68) / Raw(b"\x02" * 240))
    add(in0, Ether(src=SMAC, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=1234, dport=67) / Raw(b"\x01" * 240))
    # GRE both ways, ESP, and a protocol no rule names.
    for src, dst, iface, proto in ((CLIENT, SERVER, out0, 47),
                                   (SERVER, CLIENT, in0, 47),
                                   (CLIENT, SERVER, out0, 50),
                                   (CLIENT, SERVER, out0, 132)):
        add(iface, Ether(src=CMAC, dst=SMAC) / IP(src=src, dst=dst,
                                                  proto=proto)
            / Raw(b"\0" * 24))
    # The server offers 2000 bytes: after five acknowledged segments the
    # second one lies more than a window behind.
    shake(40003, win=2000)
    for i in range(5):
        add(out0, tcp4(CLIENT, SERVER, 40003, 80, "A", 1001 + 1000 * i,
                       5001, b"d" * 1000))
        add(in0, tcp4(SERVER, CLIENT, 80, 40003, "A", 5001,
                      2001 + 1000 * i, win=2000))
    add(out0, tcp4(CLIENT, SERVER, 40003, 80, "A", 2001, 5001, b"d" * 1000))
    add(out0, tcp4(CLIENT, SERVER, 40003, 80, "A", 1001, 5001, b"d" * 500))
    write_pcapng(out[:-len(".pcap")] + ".pcapng", ["out0", "in0"],
                 list(zip(ifs, cap.frames)))


CAPTURES = {
    "spoof": spoof,
    "martians": martians,
    "injection": injection,
    "ackstorm": ackstorm,
    "ttljump": ttljump,
    "srcrate": srcrate,
    "trust": trust,
    "gap": gap,
    "edges": edges,
}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    for name, make in CAPTURES.items():
        make(os.path.join(outdir, name + ".pcap"))


if __name__ == "__main__":
    main()
