"""Frames on a pipe: ``CNG1``, a 64-bit id, a 32-bit length, then that many bytes of JSON.

Every reader checks the magic, the id it expects and a size limit before it reads the body, so a
malformed, forged or oversized frame is refused (``FrameError``) instead of desynchronising the
channel. The zygote forwards frames without decoding them (``read_raw``/``write_raw`` into a
buffer it zeroes afterwards): what one student's request or reply held is never left in the
memory that the next student's process inherits. Text that no UTF-8 file can hold (a lone
surrogate, as ``print("\\ud800")`` makes) is replaced by U+FFFD as a frame is decoded.
"""

import json
import os
import re
import select
import struct
import time

MAGIC = b"CNG1"
HEADER = struct.Struct("!4sQI")
LIMIT = 64 * 2**20       # largest frame accepted (bytes of JSON)
DEPTH = 100              # deepest nesting of an output or an answer passed on (the readers recurse)


class FrameError(ValueError):
    """A frame that is not what the reader expects."""


def send(fd, obj, ident=0):
    body = json.dumps(obj).encode()
    _write_all(fd, HEADER.pack(MAGIC, ident, len(body)) + body)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _wait(fd, deadline):
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([fd], [], [], left)[0]:
        raise TimeoutError


def _read_into(fd, view, deadline):
    got = 0
    while got < len(view):
        _wait(fd, deadline)
        n = os.readv(fd, [view[got:]])
        if not n:
            raise EOFError
        got += n


def read_header(fd, deadline=None, expect=None, limit=LIMIT):
    header = bytearray(HEADER.size)
    _read_into(fd, memoryview(header), deadline)
    magic, ident, length = HEADER.unpack(header)
    if magic != MAGIC:
        raise FrameError("not a frame of this protocol")
    if expect is not None and ident != expect:
        raise FrameError("a frame that answers another request")
    if length > limit:
        raise FrameError(f"a frame of {length / 2**20:.1f} MB (limit {limit / 2**20:.0f} MB)")
    return ident, length


def receive(fd, deadline=None, expect=None, limit=LIMIT):
    """The next frame's JSON; the body is read to its end under the same ``deadline``."""
    _, length = read_header(fd, deadline, expect, limit)
    body = bytearray(length)
    _read_into(fd, memoryview(body), deadline)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise FrameError("a frame whose body is not JSON") from None
    if SURROGATE_ESCAPE.search(body):
        mend_surrogates(value)
    return value


SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # how JSON spells a surrogate (a pair is two)
_SURROGATE = re.compile("[\ud800-\udfff]")              # decoded, only a lone one is left as it is


def mend_surrogates(data):
    """Replace every lone surrogate in the strings (keys included) of decoded JSON by U+FFFD, in place:
    text that no UTF-8 file can hold. Returns how many were replaced."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        for key, value in list(node.items()) if isinstance(node, dict) else list(enumerate(node)):
            if isinstance(value, str) and _SURROGATE.search(value):
                node[key], n = _SURROGATE.subn("\ufffd", value)
                count += n
            elif isinstance(value, (dict, list)):
                stack.append(value)
            if isinstance(key, str) and _SURROGATE.search(key):
                new, n = _SURROGATE.subn("\ufffd", key)
                node[new] = node.pop(key)
                count += n
    return count


def too_deep(value):
    """Whether decoded JSON nests deeper than ``DEPTH`` (looked at without recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def read_raw(fd, buffer, deadline=None, limit=LIMIT):
    """Read one whole frame into ``buffer`` (a bytearray); returns (id, total bytes)."""
    ident, length = read_header(fd, deadline, None, min(limit, len(buffer) - HEADER.size))
    buffer[:HEADER.size] = HEADER.pack(MAGIC, ident, length)
    _read_into(fd, memoryview(buffer)[HEADER.size:HEADER.size + length], deadline)
    return ident, HEADER.size + length


def write_raw(fd, buffer, size):
    _write_all(fd, memoryview(buffer)[:size])


def wipe(buffer, size):
    buffer[:size] = bytes(size)
