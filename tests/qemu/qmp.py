"""QMP (the QEMU Machine Protocol, docs/interop/qmp-spec) for the QEMU tests
that inspect a stopped guest."""
import json
import socket
import time


def connect(sock_path, deadline):
    """Connects to QEMU's QMP socket (QEMU waits for it before starting the
    guest; retried until `deadline`, a time.time() value) and negotiates
    capabilities. Returns (socket, file, command, events): command(name,
    **arguments) runs one command and returns its answer (RuntimeError on an
    error answer); events collects the event names seen meanwhile."""
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock_path)
            break
        except OSError:
            s.close()
            if time.time() > deadline:
                raise RuntimeError("QMP socket never appeared")
            time.sleep(0.05)
    f = s.makefile("rw")
    json.loads(f.readline())  # greeting
    events = []

    def command(name, **arguments):
        f.write(json.dumps({"execute": name, "arguments": arguments}) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "event" in msg:
                events.append(msg["event"])
                continue
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error']}")
            return msg["return"]

    command("qmp_capabilities")
    return s, f, command, events
