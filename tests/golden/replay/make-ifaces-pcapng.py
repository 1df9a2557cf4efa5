#!/usr/bin/python3
"""Write a pcapng with two interfaces, out0 and in0, and the same SYN from
198.18.1.10 (an inside address) seen once on each: on in0 it is an inside
host connecting out, on out0 it is a spoofed inside source from outside.
Only the interface tells them apart.  usage: make-ifaces-pcapng.py OUT"""
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02,
                      64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6,
                     0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0])
    return eth + ip + tcp


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def idb(name):
    n = name.encode()
    opt = struct.pack("<HH", 2, len(n)) + n + b"\0" * (-len(n) % 4)
    opt += struct.pack("<HH", 0, 0)
    return block(1, struct.pack("<HHI", 1, 0, 65535) + opt)


def epb(iface, ts_us, frame):
    return block(6, struct.pack("<IIIII", iface, ts_us >> 32,
                                ts_us & 0xFFFFFFFF, len(frame), len(frame))
                 + frame)


shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
inside, outside = bytes([198, 18, 1, 10]), bytes([198, 18, 100, 10])
with open(sys.argv[1], "wb") as f:
    f.write(shb + idb("out0") + idb("in0"))
    f.write(epb(1, 1000000, syn(inside, outside, 40000, 25, 1)))
    f.write(epb(0, 1000100, syn(inside, outside, 40001, 25, 2)))
