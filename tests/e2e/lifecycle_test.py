#!/usr/bin/env python3
"""The VM lifecycle end to end, through the built `pvm` and QEMU.

usage: lifecycle_test.py PVM HYP_BIN PVMFW_IMG PAYLOAD SIGN_KEY

In a fresh state folder (PVM_STATE, a temporary folder): create a VM with the
bare-metal test payload, start it (through the hypervisor, the instance disk
on virtio-mmio) until "payload: done", see it stopped in `pvm list --json`,
start it again (same instance: the same DICE handover), run it paused and
stop it from "another terminal", refuse a second start and a delete while it
runs, then delete it. Exit 0 when every step holds; 77 (skip) when an input
is missing.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

STEP_TIMEOUT = 90


def main() -> int:
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    pvm, hyp, pvmfw_img, payload, key = sys.argv[1:]
    for path in (hyp, pvmfw_img, payload, key):
        if not os.path.exists(path):
            print(f"SKIP: {path} is absent")
            return 77

    problems = []

    with tempfile.TemporaryDirectory(prefix="pvm-e2e-") as state:
        env = dict(os.environ, PVM_STATE=state, PVM_HYPERVISOR=hyp, PVM_PVMFW_IMG=pvmfw_img)
        env.pop("PVM_GUEST_DIR", None)

        def pvm_run(*args, expect_status=0):
            proc = subprocess.run([pvm, *args], env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=STEP_TIMEOUT, text=True, errors="replace")
            print(f"$ pvm {' '.join(args)}  -> {proc.returncode}")
            print(proc.stdout, end="")
            print(proc.stderr, end="")
            if proc.returncode != expect_status:
                problems.append(f"pvm {' '.join(args)}: exit {proc.returncode}, "
                                f"expected {expect_status}")
            return proc

        def need(cond, what):
            if not cond:
                problems.append(what)

        def listed():
            out = pvm_run("list", "--json").stdout
            try:
                return {vm["name"]: vm for vm in json.loads(out)["vms"]}
            except (ValueError, KeyError) as e:
                problems.append(f"pvm list --json: not the documented JSON ({e})")
                return {}

        def handover(out):
            return [l for l in out.splitlines() if l.startswith("payload: handover ")]

        pvm_run("create", "hello", "--kernel", payload, "--no-initrd", "--sign-key", key,
                "--mem", "64")
        vm_dir = os.path.join(state, "vms", "hello")
        for name in ("vm.conf", "kernel.img", "key.avbpubkey", "instance-id", "disk.img"):
            need(os.path.exists(os.path.join(vm_dir, name)), f"vms/hello/{name} missing")
        need(os.path.getsize(os.path.join(vm_dir, "disk.img")) == 2 << 20,
             "disk.img is not 2 MiB")
        pvm_run("create", "hello", "--kernel", payload, "--no-initrd", "--sign-key", key,
                expect_status=1)

        first = pvm_run("start", "hello", "--expect", "payload: done", "--timeout", "60")
        for stage in ("] hypervisor up", "] pvmfw.img verified", "] pvmfw running protected",
                      "] payload verified", "] DICE derived", "] kernel entered",
                      "] goal reached", "pvm: hello: reached its goal"):
            need(stage in first.stdout, f"first start: no {stage!r}")
        need("virtio-mmio 0xa003e00" in first.stdout, "first start: disk not on 0xa003e00")

        vms = listed()
        need(vms.get("hello", {}).get("state") == "stopped", "list: hello not stopped")
        need(vms.get("hello", {}).get("mem_mib") == 64, "list: hello's mem_mib is not 64")
        need(vms.get("hello", {}).get("pid", 0) is None, "list: a stopped VM has a pid")

        second = pvm_run("start", "hello", "--expect", "payload: done", "--timeout", "60")
        need("pvm: hello: reached its goal" in second.stdout, "second start: goal not reached")
        need(handover(first.stdout) and handover(first.stdout) == handover(second.stdout),
             "the two starts of one instance handed over different DICE chains")

        # Paused (-S): running until `pvm stop`, from "another terminal".
        paused = subprocess.Popen([pvm, "start", "hello", "--timeout", "60", "--", "-S"],
                                  env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, errors="replace")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if listed().get("hello", {}).get("state") == "running":
                break
            time.sleep(0.2)
        else:
            problems.append("list: the paused VM never showed as running")
        pvm_run("start", "hello", expect_status=1)
        pvm_run("delete", "hello", expect_status=1)
        stop = pvm_run("stop", "hello")
        need("pvm: hello: stopped" in stop.stdout, "stop: did not say stopped")
        try:
            out, _ = paused.communicate(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            paused.kill()
            out, _ = paused.communicate()
            problems.append("the stopped `pvm start` did not return")
        print("$ pvm start hello -- -S (background)  ->", paused.returncode)
        print(out, end="")
        need("stopped by `pvm stop`" in out, "the stopped start did not say so")
        need(paused.returncode == 1, "a VM stopped before its goal did not exit 1")
        for name in ("pid", "qmp.sock", "stop-requested"):
            need(not os.path.exists(os.path.join(vm_dir, name)), f"vms/hello/{name} left over")
        need("pvm: hello: not running" in pvm_run("stop", "hello").stdout,
             "stop of a stopped VM did not say so")

        pvm_run("delete", "hello")
        need(not os.path.exists(vm_dir), "delete left the folder")
        need(listed() == {}, "list after delete is not empty")

    if problems:
        for p in problems:
            print("FAIL:", p)
        return 1
    print("ok: create, start, list, start again, stop, delete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
