"""Unbuffered stdout/stderr that never drop bytes.

`python3 -u` makes sys.stdout write straight to the raw file, and TextIOWrapper ignores a short write:
gVisor's pipes accept at most 64 KiB per write(2), so under runsc `sys.stdout.write('x' * 5_000_000)`
lost everything past the first 64 KiB. These streams loop until every byte is written, and still hand
each write to the pipe at once, so output streams live.
"""
import io
import os
import sys


class _CompleteWrites(io.RawIOBase):
    def __init__(self, fd):
        super().__init__()
        self._fd = fd

    def writable(self):
        return True

    def fileno(self):
        return self._fd

    def isatty(self):
        return os.isatty(self._fd)

    def write(self, data):
        view = memoryview(data).cast("B")
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        return written


def _wrap(stream, fd):
    return io.TextIOWrapper(_CompleteWrites(fd), encoding=stream.encoding, errors=stream.errors, newline="\n", write_through=True)


def install():
    sys.stdout = sys.__stdout__ = _wrap(sys.stdout, 1)
    sys.stderr = sys.__stderr__ = _wrap(sys.stderr, 2)
