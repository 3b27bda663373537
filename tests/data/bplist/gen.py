#!/usr/bin/env python3
"""Generates the binary-plist test vectors for src/core/bplist.rs.

Run from anywhere:  python3 tests/data/bplist/gen.py
It (re)writes, next to this script, for every sample NAME:

  NAME.bplist    the binary plist
  NAME.expected  a one-line canonical rendering of the decoded tree, which the Rust
                 tests compare against their own rendering of what bplist.rs decoded.

Most samples are written by CPython's plistlib (an implementation independent of ours).
plistlib cannot write sets, fill bytes, 4-byte reals, 16-byte/odd-width UIDs, odd ref
or offset sizes, or non-minimal counts, so `handmade` is assembled by the tiny writer
below (`build`), following Apple's CFBinaryPList.c layout (plistlib itself cannot read
it back: it rejects sets and UIDs >= 2**64).

Canonical rendering (must match `canon` in the Rust tests):
  null | true | false | fill
  i:<decimal>             int
  r:<16 hex digits>       real, as the IEEE-754 bits of the f64 (f32 widened)
  d:<16 hex digits>       date, f64 seconds since 2001-01-01T00:00:00Z, as bits
  b:<hex>                 data (longer than 256 bytes: b:<len>:<hex of first 16>..<hex of last 16>)
  a:<hex of UTF-8>        ASCII string
  u:<hex of UTF-8>        UTF-16BE string
  uid:<decimal>           UID
  [x,y]  set[x,y]  {k=v,k=v}   containers, in file order
The output is deterministic (no clocks, no random, no set iteration).
"""

import datetime
import os
import plistlib
import struct
from plistlib import UID

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCH_2001 = datetime.datetime(2001, 1, 1)


def bits(f):
    return struct.pack('>d', f).hex()


def canon(v):
    if v is None:
        return 'null'
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if isinstance(v, UID):
        return 'uid:%d' % v.data
    if isinstance(v, int):
        return 'i:%d' % v
    if isinstance(v, float):
        return 'r:' + bits(v)
    if isinstance(v, datetime.datetime):
        return 'd:' + bits((v - EPOCH_2001).total_seconds())
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v)
        if len(v) > 256:  # keep .expected files small: length, head and tail
            return 'b:%d:%s..%s' % (len(v), v[:16].hex(), v[-16:].hex())
        return 'b:' + v.hex()
    if isinstance(v, str):
        try:
            v.encode('ascii')
            return 'a:' + v.encode('utf-8').hex()
        except UnicodeEncodeError:
            return 'u:' + v.encode('utf-8').hex()
    if isinstance(v, (list, tuple)):
        return '[' + ','.join(canon(x) for x in v) + ']'
    if isinstance(v, dict):
        return '{' + ','.join(canon(k) + '=' + canon(x) for k, x in v.items()) + '}'
    raise TypeError(type(v))


def pattern(n, seed):
    """Deterministic pseudo-random bytes (xorshift32)."""
    x = seed & 0xFFFFFFFF or 1
    out = bytearray()
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x & 0xFF)
    return bytes(out)


def plistlib_samples():
    s = {}
    s['scalars'] = [
        None, False, True,
        0, 1, 15, 255, 256, 65535, 65536, 2**31, 2**32 - 1, 2**32, 2**63 - 1,
        -1, -255, -2**31, -2**63,
        2**63, 2**64 - 1,                       # 16-byte ints (CoreFoundation style)
        0.0, 1.5,   # (no -0.0: plistlib would share one object with 0.0)
        -2.25, 3.141592653589793, 1e300, float('inf'), float('-inf'),
        float('nan'),
        datetime.datetime(2001, 1, 1),
        datetime.datetime(2023, 6, 1, 12, 34, 56, 789000),
        datetime.datetime(1970, 1, 1),
        datetime.datetime(1999, 12, 31, 23, 59, 59, 500000),
        b'', b'\x00', bytes(range(14)), bytes(range(15)), bytes(range(16)),
        '', 'a', 'hello', 'fourteen chars', 'fifteen chars!!', 'sixteen chars!!!',
        UID(0), UID(255), UID(256), UID(65536), UID(2**32), UID(2**64 - 1),
    ]
    s['nested'] = {
        'empty_array': [],
        'empty_dict': {},
        'array': [1, 'two', [3, [4, [5, {}]]], {'k': 'v'}],
        'dict': {'a': {'b': {'c': {'d': 'deep'}}}},
        'long_string': 'x' * 300,
        'data300': pattern(300, 7),
        'many': list(range(100, 140)),          # extended count, 1-byte
        'shared': ['same', 'same', 'same'],     # plistlib shares equal scalars
        'mixed_keys': {'0': 0, '1': 1.0, '2': b'2', '3': True},
    }
    s['imessage'] = {
        'c': 100,
        'E': 'pair',
        'ua': '[macOS,13.4.1,22F82,MacBookPro18,3]',
        'v': 8,
        'i': 0x6C3A1F09,
        'U': pattern(16, 1),
        'sP': 'mailto:alice@example.com',
        'tP': 'tel:+15555550123',
        't': pattern(32, 2),
        'P': pattern(140, 3),
        'sT': pattern(32, 4),
        'D': True,
        'dtl': [{
            'tP': 'mailto:bob@example.com',
            'D': True,
            'sT': pattern(32, 5),
            'P': pattern(140, 6),
            't': pattern(32, 7),
        }],
        'e': 1686320096123456789,
    }
    s['unicode'] = {
        'h\u00e9llo': 'caf\u00e9',
        '\u65e5\u672c\u8a9e': '\u3053\u3093\u306b\u3061\u306f\u4e16\u754c',
        'emoji': '\U0001F600 grin \U0001F680',
        'mixed': 'ASCII then \u00fcml\u00e4\u00fcts and \u0416',
        'long': '\u00e9' * 40,
        'ascii': 'plain',
    }
    s['dates'] = [
        datetime.datetime(2001, 1, 1, 0, 0, 1),
        datetime.datetime(2000, 12, 31, 23, 59, 59),
        datetime.datetime(1904, 1, 1),
        datetime.datetime(2038, 1, 19, 3, 14, 8),
        datetime.datetime(2024, 2, 29, 23, 59, 59, 999000),
        datetime.datetime(9999, 12, 31, 23, 59, 59),
    ]
    # More than 255 objects: object refs and offsets take 2 bytes.
    s['wide_refs'] = ['s%03d' % i for i in range(300)]
    # Offsets beyond 65535: offset table entries take 4 bytes.
    s['big_offsets'] = [pattern(66000, 9), 'after the big blob', 42]
    return s


# ---------------------------------------------------------------------------------
# Hand-made samples: a deliberately small, independent binary-plist writer.

def be(n, size):
    return n.to_bytes(size, 'big')


def build(objects, top=0, ref_size=1, offset_size=None, version=b'00'):
    """objects: list of bytes (already encoded scalars) or
    ('array'|'set', [refs]) / ('dict', [(kref, vref)]) / ('raw', marker_bytes, [refs])."""
    body = bytearray(b'bplist' + version)
    offsets = []
    for o in objects:
        offsets.append(len(body))
        if isinstance(o, (bytes, bytearray)):
            body += o
            continue
        kind = o[0]
        if kind in ('array', 'set'):
            refs = o[1]
            marker = 0xA0 if kind == 'array' else 0xC0
            body += count_header(marker, len(refs))
            for r in refs:
                body += be(r, ref_size)
        elif kind == 'dict':
            pairs = o[1]
            body += count_header(0xD0, len(pairs))
            for k, _ in pairs:
                body += be(k, ref_size)
            for _, v in pairs:
                body += be(v, ref_size)
        elif kind == 'raw':
            body += o[1]
            for r in o[2]:
                body += be(r, ref_size)
        else:
            raise ValueError(kind)
    table_offset = len(body)
    if offset_size is None:
        offset_size = 1
        while table_offset >= 1 << (8 * offset_size):
            offset_size += 1
    for off in offsets:
        body += be(off, offset_size)
    body += b'\x00' * 6 + bytes([offset_size, ref_size])
    body += struct.pack('>QQQ', len(objects), top, table_offset)
    return bytes(body)


def count_header(marker, n):
    if n < 15:
        return bytes([marker | n])
    if n < 256:
        return bytes([marker | 0xF, 0x10, n])
    if n < 65536:
        return bytes([marker | 0xF, 0x11]) + be(n, 2)
    return bytes([marker | 0xF, 0x12]) + be(n, 4)


def ascii_obj(s):
    return count_header(0x50, len(s)) + s.encode('ascii')


def handmade():
    """Types and encodings plistlib never writes. Returns (bytes, canonical)."""
    f32 = struct.pack('>f', 1.25)
    objects = [
        ('dict', [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14),
                  (15, 16), (17, 18), (19, 20), (21, 22)]),
        ascii_obj('set'),                                    # 1
        ('set', [23, 24, 25]),                               # 2
        ascii_obj('fill'),                                   # 3
        ('array', [26, 27, 26]),                             # 4  fill, null, fill
        ascii_obj('f32'),                                    # 5
        b'\x22' + f32,                                       # 6
        ascii_obj('uid16'),                                  # 7
        b'\x8f' + bytes(range(1, 17)),                       # 8  16-byte UID
        ascii_obj('uid3'),                                   # 9
        b'\x82\x01\x02\x03',                                 # 10 3-byte UID
        ascii_obj('neg16'),                                  # 11
        b'\x14' + b'\xff' * 16,                              # 12 16-byte int -1
        ascii_obj('big16'),                                  # 13
        b'\x14' + be(2**100, 16),                            # 14 16-byte int 2^100
        ascii_obj('nonminimal'),                             # 15
        b'\x5f\x10\x03abc',                                  # 16 count 3 written long
        ascii_obj('count16bit'),                             # 17
        b'\x4f\x11\x00\x02\xaa\xbb',                         # 18 2-byte count
        ascii_obj('utf16ext'),                               # 19
        b'\x6f\x10\x10' + ('\u00e9' * 16).encode('utf-16be'),  # 20
        ascii_obj('u8'),                                     # 21
        b'\x10\xfe',                                         # 22
        b'\x10\x01', b'\x10\x02', b'\x10\x03',               # 23 24 25
        b'\x0f',                                             # 26 fill
        b'\x00',                                             # 27 null
    ]
    data = build(objects, top=0, ref_size=1, offset_size=3)
    canonical = ('{' + ','.join([
        'a:' + b'set'.hex() + '=set[i:1,i:2,i:3]',
        'a:' + b'fill'.hex() + '=[fill,null,fill]',
        'a:' + b'f32'.hex() + '=r:' + bits(struct.unpack('>f', f32)[0]),
        'a:' + b'uid16'.hex() + '=uid:%d' % int.from_bytes(bytes(range(1, 17)), 'big'),
        'a:' + b'uid3'.hex() + '=uid:%d' % 0x010203,
        'a:' + b'neg16'.hex() + '=i:-1',
        'a:' + b'big16'.hex() + '=i:%d' % 2**100,
        'a:' + b'nonminimal'.hex() + '=a:' + b'abc'.hex(),
        'a:' + b'count16bit'.hex() + '=b:aabb',
        'a:' + b'utf16ext'.hex() + '=u:' + ('\u00e9' * 16).encode('utf-8').hex(),
        'a:' + b'u8'.hex() + '=i:254',
    ]) + '}')
    return data, canonical


def main():
    written = []
    for name, obj in plistlib_samples().items():
        data = plistlib.dumps(obj, fmt=plistlib.FMT_BINARY, sort_keys=False)
        # Round-trip through plistlib's own reader as a sanity check of `canon`.
        back = plistlib.loads(data)
        assert canon(back) == canon(obj), name
        write(name, data, canon(obj))
        written.append(name)
    data, canonical = handmade()
    write('handmade', data, canonical)
    written.append('handmade')
    print('wrote', ', '.join(written), 'to', HERE)


def write(name, data, canonical):
    with open(os.path.join(HERE, name + '.bplist'), 'wb') as f:
        f.write(data)
    with open(os.path.join(HERE, name + '.expected'), 'w') as f:
        f.write(canonical + '\n')


if __name__ == '__main__':
    main()
