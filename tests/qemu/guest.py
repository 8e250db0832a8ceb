"""What the QEMU tests read out of a guest: the DICE handover the test
payload prints, and the machine's RAM after the guest stopped (over QMP),
searched for secrets; and their one way of recording failed checks. Shared by tests/qemu/dice_boot.py,
hypervisor/tests/hyp_boot.py and tests/e2e/instance_rules.py."""
import os
import subprocess
import time

import qmp

# Every failed check of the running test, in order; the test exits 1 if any.
failures = []


def check(cond, msg):
    """Records and prints a failure unless `cond`; returns `cond`."""
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


def handover_page(out):
    """The handover page the test payload prints as "payload: handover HEX"
    lines, trimmed to its CBOR item (zeros follow it), or None."""
    lines = [l.split("payload: handover ", 1)[1].strip()
             for l in out.splitlines() if "payload: handover " in l]
    if not lines:
        return None
    import cbor2  # Debian's python3-cbor2; the callers check it is there
    page = bytes.fromhex("".join(lines))
    return page[:len(cbor2.dumps(cbor2.loads(page)))]


def handover(out):
    """The printed handover, decoded ({1: CDI_Attest, 2: CDI_Seal, 3: chain}),
    or None."""
    page = handover_page(out)
    if page is None:
        return None
    import cbor2
    return cbor2.loads(page)


def run_and_dump(argv, env, sock, regions, timeout=60):
    """Runs `argv` (a `pvm run ... --` command line, to which the QMP socket
    `sock` is added), waits until QEMU has stopped the guest (query-status
    "shutdown", e.g. with -no-shutdown), saves each (physical base, size,
    file) of `regions` and quits. Returns (output, exit status, [(base,
    bytes)] in the order of `regions`)."""
    for f in [sock, *(r[2] for r in regions)]:
        if os.path.exists(f):
            os.unlink(f)
    proc = subprocess.Popen([*argv, "-qmp", f"unix:{sock},server=on,wait=on"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.time() + timeout
    s, _, command, _ = qmp.connect(sock, deadline)
    while command("query-status")["status"] != "shutdown":
        if time.time() > deadline:
            command("quit")
            out, _ = proc.communicate(timeout=60)
            raise RuntimeError(f"the guest never stopped:\n{out}")
        time.sleep(0.05)
    for base, size, path in regions:
        command("pmemsave", val=base, size=size, filename=path)
    command("quit")
    s.close()
    out, _ = proc.communicate(timeout=60)
    return out, proc.returncode, [(base, open(path, "rb").read()) for base, _, path in regions]


def places(dumps, secret):
    """Physical addresses, in the [(base, bytes)] dumps, of any 16-byte half
    of `secret` in either byte order."""
    found = set()
    for base, ram in dumps:
        for v in (secret, secret[::-1]):
            for part in (v[:16], v[16:]):
                at = ram.find(part)
                while at >= 0:
                    found.add(base + at)
                    at = ram.find(part, at + 1)
    return sorted(found)
