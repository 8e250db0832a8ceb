#!/usr/bin/env python3
"""The AVB vectors through the `pvm` binary itself.

usage: avb_vectors_test.py PVM VECTORS_DIR

- `pvm key export` of every test key equals its .avbpubkey;
- `pvm sign` / `pvm sign vbmeta` reproduce every avbtool-made vector
  byte-for-byte (same key, salts, partition size);
- `pvm verify` on every vector of manifest.json (the same code path users run):
  expected.result ok -> exit 0 and the expected digests and rollback index in
  --json; error -> exit 1, stderr "error: NAME: ..." with NAME = expected.error.

Exits 77 (meson's "skipped"), saying so, when the vectors are absent.
"""
import json
import os
import subprocess
import sys
import tempfile

PARTITION_SIZE = "196608"


def run(pvm, args):
    return subprocess.run([pvm] + args, capture_output=True, text=True, timeout=300)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def salt(vectors, name):
    return read(os.path.join(vectors, name)).decode().strip()


def check_keys(pvm, vectors, tmp, failures):
    for name in ["testkey_rsa2048", "testkey_rsa4096", "testkey_rsa8192", "testkey_cert_psk"]:
        out = os.path.join(tmp, name + ".avbpubkey")
        r = run(pvm, ["key", "export", os.path.join(vectors, "keys", name + ".pem"), "--out", out])
        if r.returncode != 0:
            failures.append(f"key export {name}: exit {r.returncode}: {r.stderr.strip()}")
        elif read(out) != read(os.path.join(vectors, "keys", name + ".avbpubkey")):
            failures.append(f"key export {name}: differs from {name}.avbpubkey")


def check_sign(pvm, vectors, tmp, failures):
    v = lambda *p: os.path.join(vectors, *p)
    boot_salt = salt(vectors, "salt_boot.hex")
    initrd = ["--rollback-index", "5", "--prop", "com.android.virt.cap:remote_attest",
              "--hash-image", "initrd_normal=" + v("initrd.bin"),
              "--hash-salt", "initrd_normal=" + salt(vectors, "salt_initrd.hex")]
    key = lambda name: ["--key", v("keys", name + ".pem")]
    footer_cases = {
        "boot_sha256_rsa4096.img": ["--algorithm", "SHA256_RSA4096"] + key("testkey_rsa4096"),
        "boot_sha256_rsa2048.img": ["--algorithm", "SHA256_RSA2048"] + key("testkey_rsa2048"),
        "boot_sha512_rsa4096.img": ["--algorithm", "SHA512_RSA4096"] + key("testkey_rsa4096"),
        "boot_sha256_rsa8192.img": ["--algorithm", "SHA256_RSA8192"] + key("testkey_rsa8192"),
        "boot_sha256_rsa4096_desc_sha512.img":
            ["--algorithm", "SHA256_RSA4096"] + key("testkey_rsa4096") +
            ["--hash-algorithm", "sha512", "--salt", salt(vectors, "salt_boot_sha512.hex")],
        "boot_none.img": ["--algorithm", "NONE"],
        "boot_with_initrd_sha256_rsa4096.img":
            ["--algorithm", "SHA256_RSA4096"] + key("testkey_rsa4096") + initrd,
    }
    for name, extra in footer_cases.items():
        # In place, as the default: a copy of kernel.bin is signed.
        image = os.path.join(tmp, name)
        with open(image, "wb") as f:
            f.write(read(v("kernel.bin")))
        args = ["sign", "--partition", "boot", "--image", image,
                "--partition-size", PARTITION_SIZE]
        if "--salt" not in extra:
            args += ["--salt", boot_salt]
        r = run(pvm, args + extra)
        if r.returncode != 0:
            failures.append(f"sign {name}: exit {r.returncode}: {r.stderr.strip()}")
        elif read(image) != read(v(name)):
            failures.append(f"sign {name}: differs from the vector")

    out = os.path.join(tmp, "vbmeta_standalone_sha256_rsa4096.img")
    r = run(pvm, ["sign", "vbmeta", "--algorithm", "SHA256_RSA4096",
                  "--key", v("keys", "testkey_rsa4096.pem"), "--output", out,
                  "--hash-image", "boot=" + v("kernel.bin"),
                  "--hash-salt", "boot=" + boot_salt] + initrd)
    if r.returncode != 0:
        failures.append(f"sign vbmeta: exit {r.returncode}: {r.stderr.strip()}")
    elif read(out) != read(v("vbmeta_standalone_sha256_rsa4096.img")):
        failures.append("sign vbmeta: differs from vbmeta_standalone_sha256_rsa4096.img")


def check_verify(pvm, vectors, manifest, failures):
    counts = {"ok": 0, "error": 0}
    for vec in manifest["vectors"]:
        vid, setup, expected = vec["id"], vec["setup"], vec["expected"]
        parts = {k: os.path.join(vectors, p) for k, p in setup["partitions"].items()}
        args = ["verify", "--json", "--key", os.path.join(vectors, setup["trusted_public_key"]),
                "--kernel", parts["boot"],
                "--stored-rollback-index", str(setup.get("stored_rollback_index", 0))]
        if "initrd_normal" in parts:
            args += ["--initrd", parts["initrd_normal"]]
        if setup["mode"] == "vbmeta_partition":
            args += ["--vbmeta", parts["vbmeta"]]
        elif setup["mode"] != "footer":
            failures.append(f"{vid}: unknown setup.mode {setup['mode']}")
            continue
        r = run(pvm, args)
        stderr_lines = r.stderr.splitlines()
        if expected["result"] == "ok":
            if r.returncode != 0:
                failures.append(f"{vid}: expected ok, got exit {r.returncode}: {r.stderr.strip()}")
                continue
            out = json.loads(r.stdout)
            if out.get("result") != "ok":
                failures.append(f"{vid}: json result {out.get('result')}")
            if out.get("rollback_index") != expected.get("rollback_index", 0):
                failures.append(f"{vid}: rollback_index {out.get('rollback_index')}")
            if "algorithm" in expected and out.get("algorithm") != expected["algorithm"]:
                failures.append(f"{vid}: algorithm {out.get('algorithm')}")
            for name, want in expected.get("expected_digests", {}).items():
                got = out.get("partitions", {}).get(name)
                if got is None:
                    failures.append(f"{vid}: no partition {name} in {r.stdout.strip()}")
                    continue
                for key in ("hash_algorithm", "image_size", "digest"):
                    if got.get(key) != want[key]:
                        failures.append(
                            f"{vid}: {name}.{key} = {got.get(key)!r}, want {want[key]!r}")
            cap = expected.get("properties", {}).get("com.android.virt.cap")
            if cap is not None and cap not in out.get("capabilities", []):
                failures.append(f"{vid}: capabilities {out.get('capabilities')} lack {cap}")
            counts["ok"] += 1
        else:
            want = expected["error"]
            prefix = f"error: {want}: "
            if r.returncode != 1:
                failures.append(f"{vid}: expected {want}, got exit {r.returncode}: "
                                f"{r.stdout.strip()} {r.stderr.strip()}")
                continue
            if len(stderr_lines) != 1 or not stderr_lines[0].startswith(prefix):
                failures.append(f"{vid}: expected stderr '{prefix}...', got {r.stderr!r}")
                continue
            out = json.loads(r.stdout)
            if out.get("result") != "error" or out.get("error") != want or "detail" not in out:
                failures.append(f"{vid}: json {r.stdout.strip()}")
            counts["error"] += 1
    return counts


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    pvm, vectors = sys.argv[1], sys.argv[2]
    manifest_path = os.path.join(vectors, "manifest.json")
    if not os.path.exists(manifest_path):
        print(f"SKIP: AVB vectors not found at {vectors}")
        return 77
    with open(manifest_path) as f:
        manifest = json.load(f)
    failures = []
    with tempfile.TemporaryDirectory(prefix="pvm-avb-") as tmp:
        check_keys(pvm, vectors, tmp, failures)
        check_sign(pvm, vectors, tmp, failures)
    counts = check_verify(pvm, vectors, manifest, failures)
    for failure in failures:
        print("FAIL:", failure)
    print(f"{len(manifest['vectors'])} vectors through pvm verify "
          f"({counts['ok']} accepted, {counts['error']} refused as expected); "
          f"key export and sign checked byte-for-byte; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
