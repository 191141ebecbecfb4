# Warm agent: started ahead of demand, so a run skips the interpreter's start-up.
# stdin: "<N> <token>\n", N bytes of code, then the program's own stdin (see /opt/sandpit/recv).
# The code runs in this very process as __main__ (no fork: under gVisor a fork costs more than
# the start-up it saves). At exit, after the program's own atexit handlers, "\x1e<token>:<exit code>\x1e"
# goes to stdout and stderr so the worker knows both streams are complete without waiting for the
# container to stop. os._exit() or a signal skips the marker: the worker then waits for the exit.
import atexit
import os
import pkgutil  # runpy.run_path imports it (and typing) lazily: 5 ms on the run's path otherwise
import runpy  # imported while idle, not on the run's path
import sys
import traceback

import sandpit_streams

PATH = "/sandbox/main.py"


def read_exact(size):
    data = bytearray()
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:
            os._exit(2)
        data += chunk
    return bytes(data)


def read_header():
    line = b""
    while not line.endswith(b"\n"):
        line += read_exact(1)  # one byte at a time: not a byte of the program's stdin is consumed
        if len(line) > 100:
            os._exit(2)
    size, token = line.decode().split()
    return int(size), token


def exit_code_of(exit_request):
    """What `python3 main.py` exits with for `sys.exit(code)`."""
    code = exit_request.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run(token):
    status = 0

    def mark_completion():
        # Registered before the program runs, so it runs after the program's own atexit handlers.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        marker = f"\x1e{token}:{status}\x1e".encode()
        for fd in (1, 2):
            try:
                os.write(fd, marker)
            except OSError:
                pass

    atexit.register(mark_completion)
    sys.argv = [PATH]
    sys.path[0] = os.path.dirname(PATH)
    try:
        runpy.run_path(PATH, run_name="__main__")
    except SystemExit as exit_request:
        status = exit_code_of(exit_request)
    except BaseException as error:
        # Show the traceback from the program's own frames on, as `python3 main.py` would.
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != PATH:
            tb = tb.tb_next
        traceback.print_exception(type(error), error, tb)
        status = 1
    sys.exit(status)


def main():
    sandpit_streams.install()
    size, token = read_header()
    with open(PATH, "wb") as file:
        file.write(read_exact(size))
    run(token)


main()
