#!/usr/bin/env python3
"""`pvm dice`, `pvm device` and `pvm config` through the built binary, and the
DICE chains it makes checked by an independent implementation.

usage: dice_cli_test.py PVM KATS_JSON AVB_VECTORS_DIR

- every open-dice main-flow known answer of KATS_JSON through `pvm dice derive`;
- `pvm device init` / `pvm device handover` and two layers of `pvm dice
  derive --handover --out`: every certificate's ES256 signature is verified
  with python3-cryptography over a Sig_structure encoded by python3-cbor2, the
  issuer/subject IDs, the CDIs (DiceMainFlow), the keys (open-dice's
  HMAC_DRBG seed-to-key) and the root key (the UDS's) are recomputed here, and
  `pvm dice inspect` refuses a tampered chain;
- `pvm dice expect` on the positive AVB vectors against their manifest, and
  with --pvmfw-img the whole chain (the pvmfw and VM layers' keys recomputed
  from the UDS);
- `pvm config pack|unpack|append` round trips and refusals.

Parts whose inputs are absent (vectors, Python packages) say SKIP; with every
part skipped the exit status is 77 (meson's "skipped").
"""
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile

try:
    import cbor2
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    HAVE_CRYPTO = True
except ImportError as e:  # Debian: python3-cryptography, python3-cbor2
    HAVE_CRYPTO = False
    MISSING = str(e)

ASYM_SALT = bytes.fromhex(
    "63b6a04d2c077fc10f639f21da793844356cc2b0b441b3a77124035c03f8e1be"
    "6035d31f282821a7450a02222ab1b3cff1679b05ab1ca5d1affb789ccd2b0b3b")
ID_SALT = bytes.fromhex(
    "dbdbaebc8020da9ff0dd5a24c83aa5a54286dfc263031e329b4da148430659fe"
    "62cdb5b7e1e00fc680306711eb444af77209359496fcff1db9520ba51c7b29ea")
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

failures = []
skipped = []
ran = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(pvm, args, env=None):
    return subprocess.run([pvm] + args, capture_output=True, text=True, timeout=120, env=env)


def run_ok(pvm, args, env=None):
    r = run(pvm, args, env)
    if r.returncode != 0:
        raise RuntimeError(f"pvm {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


# ---- An independent DICE (open-dice src/dice.c, boringssl_ecdsa_utils.c) ------------

def hkdf(ikm, salt, info, length):
    return HKDF(hashes.SHA512(), length, salt, info).derive(ikm)


def main_flow_cdis(cdi_attest, cdi_seal, code_hash, config, authority_hash, mode, hidden):
    buf = code_hash + config + authority_hash + bytes([mode]) + hidden
    attest = hkdf(cdi_attest, hashlib.sha512(buf).digest(), b"CDI_Attest", 32)
    seal = hkdf(cdi_seal, hashlib.sha512(buf[128:]).digest(), b"CDI_Seal", 32)
    return attest, seal


def key_from_cdi(cdi_attest):
    return key_material(cdi_attest)[2]


def key_material(cdi_attest):
    """(private key seed, private scalar d as 32 big-endian bytes, public x || y)."""
    seed = hkdf(cdi_attest, ASYM_SALT, b"Key Pair", 32)
    mac = lambda k, m: hmac.new(k, m, hashlib.sha512).digest()
    k, v = b"\0" * 64, b"\1" * 64
    k = mac(k, v + b"\0" + seed)
    v = mac(k, v)
    k = mac(k, v + b"\1" + seed)
    v = mac(k, v)
    while True:
        v = mac(k, v)
        d = int.from_bytes(v[:32], "big")
        if 0 < d < P256_N:
            break
        k = mac(k, v + b"\0")
        v = mac(k, v)
    n = ec.derive_private_key(d, ec.SECP256R1()).public_key().public_numbers()
    return seed, d.to_bytes(32, "big"), n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def cert_id_hex(xy):
    i = bytearray(hkdf(xy, ID_SALT, b"ID", 20))
    i[0] &= 0x7F
    return i.hex()


def cose_key_xy(cose_key):
    if cose_key.get(1) != 2 or cose_key.get(-1) != 1 or cose_key.get(3, -7) != -7:
        raise ValueError(f"not an ES256 P-256 COSE_Key: {cose_key}")
    return cose_key[-2] + cose_key[-3]


def verify_chain(chain):
    """Returns (root key, [(cert claims, subject key)]) or raises."""
    root = cose_key_xy(chain[0])
    issuer_key = root
    certs = []
    for i, sign1 in enumerate(chain[1:], 1):
        protected, unprotected, payload, signature = sign1
        if cbor2.loads(protected) != {1: -7} or unprotected != {}:
            raise ValueError(f"certificate {i}: headers {protected.hex()} {unprotected}")
        tbs = cbor2.dumps(["Signature1", protected, b"", payload])
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(issuer_key[:32], "big"),
                                            int.from_bytes(issuer_key[32:], "big"),
                                            ec.SECP256R1()).public_key()
        pub.verify(utils.encode_dss_signature(r, s), tbs, ec.ECDSA(hashes.SHA256()))
        claims = cbor2.loads(payload)
        subject_key = cose_key_xy(cbor2.loads(claims[-4670552]))
        if claims[1] != cert_id_hex(issuer_key):
            raise ValueError(f"certificate {i}: issuer {claims[1]}")
        if claims[2] != cert_id_hex(subject_key):
            raise ValueError(f"certificate {i}: subject {claims[2]}")
        if claims[-4670553] != b"\x20":
            raise ValueError(f"certificate {i}: key usage")
        certs.append((claims, subject_key))
        issuer_key = subject_key
    return root, certs


# ---- Parts -----------------------------------------------------------------------

def check_kats(pvm, kats_path):
    if not os.path.isfile(kats_path):
        skipped.append(f"open-dice KATs (no {kats_path})")
        return
    ran.append("kats")
    with open(kats_path) as f:
        kats = json.load(f)
    for kat in kats["upstream_kats"]:
        i, e = kat["inputs"], kat["expected"]
        args = ["dice", "derive", "--cdi-attest", i["current_cdi_attest"],
                "--cdi-seal", i["current_cdi_seal"], "--code-hash", i["code_hash"],
                "--authority-hash", i["authority_hash"], "--mode", str(i["mode"]),
                "--hidden", i["hidden"], "--json"]
        if i["config_type"] == "inline":
            args += ["--config-inline", i["config_value"]]
        else:
            args += ["--config-descriptor", i["config_descriptor"]]
        for key, opt in [("code_descriptor", "--code-descriptor"),
                         ("authority_descriptor", "--authority-descriptor")]:
            if i.get(key):
                args += [opt, i[key]]
        out = json.loads(run_ok(pvm, args))
        if out != {"cdi_attest": e["next_cdi_attest"], "cdi_seal": e["next_cdi_seal"]}:
            fail(f"KAT {kat['name']}: got {out}")
    # Usage errors exit 2.
    r = run(pvm, ["dice", "derive", "--cdi-attest", "00"])
    if r.returncode != 2:
        fail(f"derive with a 1-byte CDI: exit {r.returncode}, expected 2")


def check_chain(pvm, tmp):
    if not HAVE_CRYPTO:
        skipped.append(f"independent chain check ({MISSING}; apt-get install python3-cryptography "
                       "python3-cbor2)")
        return
    ran.append("chain")
    env = dict(os.environ, PVM_STATE=os.path.join(tmp, "state"))
    run_ok(pvm, ["device", "init"], env)
    secret_path = os.path.join(tmp, "state", "device-secret")
    if os.stat(secret_path).st_mode & 0o077:
        fail("device secret is readable by others")
    if run(pvm, ["device", "init"], env).returncode != 1:
        fail("device init overwrote an existing secret")
    with open(secret_path, "rb") as f:
        uds = f.read()
    h1_path, h2_path, h3_path, h3b_path = (os.path.join(tmp, n) for n in
                                           ["h1.cbor", "h2.cbor", "h3.cbor", "h3b.cbor"])
    run_ok(pvm, ["device", "handover", "--out", h1_path], env)

    # Layer 1: the previous stage from the UDS (dice/pvmfw.h previous_stage_handover).
    h1 = cbor2.loads(open(h1_path, "rb").read())
    descriptor = cbor2.dumps({-70002: "pvm-previous-stage"})
    want = main_flow_cdis(uds, uds, hashlib.sha512(b"pvm previous stage").digest(),
                          hashlib.sha512(descriptor).digest(), bytes(64), 1, bytes(64))
    if (h1[1], h1[2]) != want:
        fail("previous-stage CDIs differ from the UDS's main flow")
    root, certs = verify_chain(h1[3])
    if root != key_from_cdi(uds):
        fail("root key is not the UDS's")
    if certs[-1][0][-4670548] != descriptor:
        fail("previous-stage config descriptor")

    # Layers 2 and 3 with pvm dice derive.
    code = hashlib.sha512(b"kernel").digest()
    authority = hashlib.sha512(b"key").digest()
    hidden = hashlib.sha512(b"salt").digest()
    vm_descriptor = cbor2.dumps({-70002: "vm_entry", -70005: 3})
    layer = ["--code-hash", code.hex(), "--config-descriptor", vm_descriptor.hex(),
             "--authority-hash", authority.hex(), "--mode", "2", "--hidden", hidden.hex()]
    run_ok(pvm, ["dice", "derive", "--handover", h1_path, "--out", h2_path] + layer)
    run_ok(pvm, ["dice", "derive", "--handover", h2_path, "--out", h3_path,
                 "--profile-name", "android.16"] + layer)
    run_ok(pvm, ["dice", "derive", "--handover", h2_path, "--out", h3b_path,
                 "--profile-name", "android.16"] + layer)
    raw3 = open(h3_path, "rb").read()
    if raw3 != open(h3b_path, "rb").read():
        fail("two derivations of the same layer differ (signatures must be deterministic)")
    previous = h1
    for path in [h2_path, h3_path]:
        h = cbor2.loads(open(path, "rb").read())
        want = main_flow_cdis(previous[1], previous[2], code, hashlib.sha512(vm_descriptor).digest(),
                              authority, 2, hidden)
        if (h[1], h[2]) != want:
            fail(f"{os.path.basename(path)}: CDIs differ from DiceMainFlow")
        root2, certs2 = verify_chain(h[3])
        if root2 != root or len(certs2) != len(h[3]) - 1:
            fail(f"{os.path.basename(path)}: chain does not extend the received one")
        claims, subject_key = certs2[-1]
        if subject_key != key_from_cdi(h[1]):
            fail(f"{os.path.basename(path)}: last certificate does not certify CDI_Attest's key")
        if claims[-4670545] != code or claims[-4670549] != authority or \
                claims[-4670551] != b"\x02" or claims[-4670548] != vm_descriptor or \
                claims[-4670547] != hashlib.sha512(vm_descriptor).digest():
            fail(f"{os.path.basename(path)}: certificate claims differ from the inputs")
        previous = h
    if cbor2.loads(cbor2.loads(raw3)[3][-1][2]).get(-4670554) != "android.16":
        fail("profile name missing")

    # pvm dice inspect: accepts, then refuses a flipped signature bit.
    out = json.loads(run_ok(pvm, ["dice", "inspect", h3_path, "--json"]))
    if out["result"] != "ok" or len(out["certificates"]) != 3:
        fail(f"inspect: {out}")
    bad = bytearray(raw3)
    bad[-1] ^= 1  # the last certificate's signature ends the handover
    bad_path = os.path.join(tmp, "bad.cbor")
    open(bad_path, "wb").write(bad)
    r = run(pvm, ["dice", "inspect", bad_path])
    if r.returncode != 1 or "BAD_SIGNATURE" not in r.stderr:
        fail(f"inspect of a tampered chain: exit {r.returncode}: {r.stderr.strip()}")
    try:
        verify_chain(cbor2.loads(bytes(bad))[3])
        fail("the independent check accepted a tampered signature")
    except InvalidSignature:
        pass


def check_expect(pvm, vectors):
    manifest_path = os.path.join(vectors, "manifest.json")
    if not os.path.isfile(manifest_path):
        skipped.append(f"dice expect (no {manifest_path})")
        return
    ran.append("expect")
    with open(manifest_path) as f:
        manifest = json.load(f)
    for v in manifest["vectors"]:
        if v["group"] != "positive" or v["setup"]["mode"] != "footer":
            continue
        files, exp = v["files"], v["expected"]
        key = os.path.join(vectors, v["setup"]["trusted_public_key"])
        args = ["dice", "expect", "--kernel", os.path.join(vectors, files["image"]), "--key", key,
                "--json"]
        digests = exp["expected_digests"]
        boot = bytes.fromhex(digests["boot"]["digest"])
        initrd = bytes(len(boot))
        if "initrd" in files:
            args += ["--initrd", os.path.join(vectors, files["initrd"])]
            initrd = bytes.fromhex(digests["initrd_normal"]["digest"])
        out = json.loads(run_ok(pvm, args))
        want_descriptor = bytes([0xa2, 0x3a, 0x00, 0x01, 0x11, 0x71, 0x68]) + b"vm_entry" + \
            bytes([0x3a, 0x00, 0x01, 0x11, 0x74]) + bytes([exp["rollback_index"]])
        if HAVE_CRYPTO:
            want_descriptor = cbor2.dumps({-70002: "vm_entry", -70005: exp["rollback_index"]})
        want = {"code_hash": hashlib.sha512(boot + initrd).hexdigest(),
                "authority_hash": hashlib.sha512(open(key, "rb").read()).hexdigest(),
                "config_descriptor": want_descriptor.hex(), "mode": 1,
                "security_version": exp["rollback_index"]}
        for k, value in want.items():
            if out.get(k) != value:
                fail(f"expect {v['id']}: {k} = {out.get(k)}, want {value}")
    # A payload pvmfw would refuse: exit 1, the verify error named.
    other = os.path.join(vectors, "boot_signed_by_other_key.img")
    if os.path.isfile(other):
        r = run(pvm, ["dice", "expect", "--kernel", other, "--key",
                      os.path.join(vectors, "keys", "testkey_rsa4096.avbpubkey")])
        if r.returncode != 1 or not r.stderr.startswith("error: "):
            fail(f"expect of a wrongly signed image: exit {r.returncode}: {r.stderr.strip()}")


def check_whole_chain(pvm, tmp):
    """`pvm dice expect --pvmfw-img`: the stage below pvmfw and the VM layer,
    recomputed here from the UDS (dice/pvmfw.h pvmfw_stage_handover)."""
    if not HAVE_CRYPTO:
        skipped.append(f"whole-chain prediction ({MISSING})")
        return
    ran.append("whole chain")
    p = lambda n: os.path.join(tmp, "whole-" + n)
    run_ok(pvm, ["keygen", "--bits", "2048", "--out", p("key.pem")])
    run_ok(pvm, ["key", "export", p("key.pem"), "--out", p("key.avbpubkey")])
    key_blob = open(p("key.avbpubkey"), "rb").read()
    firmware = bytes((i * 11 + 5) & 0xFF for i in range(7000))
    open(p("pvmfw.img"), "wb").write(firmware)
    run_ok(pvm, ["sign", "--key", p("key.pem"), "--algorithm", "SHA256_RSA2048", "--partition",
                 "pvmfw", "--image", p("pvmfw.img"), "--rollback-index", "5"])
    open(p("kernel"), "wb").write(b"K" * 4000)
    run_ok(pvm, ["sign", "--key", p("key.pem"), "--algorithm", "SHA256_RSA2048", "--partition",
                 "boot", "--image", p("kernel")])
    uds = bytes(range(0x80, 0xA0))
    fd = os.open(p("secret"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, uds)
    os.close(fd)
    instance_id = bytes(range(64))
    r = run(pvm, ["dice", "expect", "--kernel", p("kernel"), "--key", p("key.avbpubkey"),
                  "--pvmfw-img", p("pvmfw.img"), "--platform-key", p("key.avbpubkey"),
                  "--device-secret", p("secret"), "--instance-id", instance_id.hex(), "--json"])
    if r.returncode != 0:
        fail(f"dice expect --pvmfw-img: exit {r.returncode}: {r.stderr.strip()}")
        return
    out = json.loads(r.stdout)

    # The stage below pvmfw, from the UDS.
    descriptor = cbor2.dumps({-70002: "pvmfw", -70005: 5})
    code, authority = hashlib.sha512(firmware).digest(), hashlib.sha512(key_blob).digest()
    attest, seal = main_flow_cdis(uds, uds, code, hashlib.sha512(descriptor).digest(), authority,
                                  1, bytes(64))
    root, pvmfw_key = key_from_cdi(uds), key_from_cdi(attest)
    want = {"code_hash": code.hex(), "authority_hash": authority.hex(),
            "config_descriptor": descriptor.hex(), "mode": 1, "security_version": 5,
            "public_key": pvmfw_key.hex(), "cert_id": cert_id_hex(pvmfw_key)}
    for k, value in want.items():
        if out["pvmfw"].get(k) != value:
            fail(f"whole chain: pvmfw.{k} = {out['pvmfw'].get(k)}, want {value}")
    if out.get("root_public_key") != root.hex() or out.get("root_cert_id") != cert_id_hex(root):
        fail("whole chain: the root is not the UDS's key")

    # The VM layer on top: hidden from the instance, CDIs from pvmfw's.
    instance_hash = hashlib.sha512(b"InstanceId:" + instance_id).digest()
    hidden = hashlib.sha512(instance_hash + b"\x02").digest()
    if out.get("hidden") != hidden.hex():
        fail(f"whole chain: hidden {out.get('hidden')}")
    vm_attest, _ = main_flow_cdis(attest, seal, bytes.fromhex(out["code_hash"]),
                                  hashlib.sha512(bytes.fromhex(out["config_descriptor"])).digest(),
                                  hashlib.sha512(key_blob).digest(), 1, hidden)
    vm_key = key_from_cdi(vm_attest)
    if out.get("vm_public_key") != vm_key.hex() or out.get("vm_cert_id") != cert_id_hex(vm_key):
        fail("whole chain: the VM key is not the one pvmfw's CDIs derive")
    for secret in [attest, seal, vm_attest]:
        if secret.hex() in r.stdout:
            fail("whole chain: a CDI was printed")

    # A pvmfw.img the hypervisor would refuse (a flipped image byte).
    bad = bytearray(open(p("pvmfw.img"), "rb").read())
    bad[10] ^= 1
    open(p("bad.img"), "wb").write(bad)
    r = run(pvm, ["dice", "expect", "--kernel", p("kernel"), "--key", p("key.avbpubkey"),
                  "--pvmfw-img", p("bad.img"), "--platform-key", p("key.avbpubkey"),
                  "--device-secret", p("secret")])
    if r.returncode != 1 or "IMAGE_DIGEST_MISMATCH" not in r.stderr:
        fail(f"whole chain of a tampered pvmfw.img: exit {r.returncode}: {r.stderr.strip()}")


def check_config(pvm, tmp):
    ran.append("config")
    p = lambda n: os.path.join(tmp, n)
    open(p("handover.bin"), "wb").write(b"\xa2" + bytes(99))
    open(p("policy.dtbo"), "wb").write(b"\xd0\x0d\xfe\xed" + bytes(13))
    open(p("ref.dtb"), "wb").write(b"\xd0\x0d\xfe\xed" + bytes(7))
    run_ok(pvm, ["config", "pack", "--dice-handover", p("handover.bin"), "--debug-policy",
                 p("policy.dtbo"), "--vm-reference-dt", p("ref.dtb"), "--out", p("cfg.bin")])
    blob = open(p("cfg.bin"), "rb").read()
    if blob[:4] != b"pvmf" or int.from_bytes(blob[4:8], "little") != (1 << 16 | 2):
        fail(f"config pack: header {blob[:16].hex()}")
    out = json.loads(run_ok(pvm, ["config", "unpack", p("cfg.bin"), "--json", "--out-dir",
                                  p("unpacked")]))
    if out["version"] != "1.2" or not out["entries"]["debug_policy"]["present"] or \
            out["entries"]["vm_dtbo"]["present"] or out["total_size"] != len(blob):
        fail(f"config unpack: {out}")
    for name, src in [("dice_handover.cbor", "handover.bin"), ("debug_policy.dtbo", "policy.dtbo"),
                      ("vm_reference_dt.dtb", "ref.dtb")]:
        if open(os.path.join(p("unpacked"), name), "rb").read() != open(p(src), "rb").read():
            fail(f"config unpack --out-dir: {name} differs")
    if os.path.exists(os.path.join(p("unpacked"), "vm_dtbo.dtbo")):
        fail("config unpack wrote an absent entry")

    # --version too low for an entry: usage error.
    r = run(pvm, ["config", "pack", "--dice-handover", p("handover.bin"), "--vm-dtbo",
                  p("ref.dtb"), "--version", "1.0", "--out", p("x.bin")])
    if r.returncode != 2:
        fail(f"config pack with an entry the version lacks: exit {r.returncode}")
    # A hostile blob: refused with the parser's name.
    bad = bytearray(blob)
    bad[16:20] = (12).to_bytes(4, "little")  # handover offset inside the header
    open(p("bad.bin"), "wb").write(bad)
    r = run(pvm, ["config", "unpack", p("bad.bin")])
    if r.returncode != 1 or "ENTRY_MISALIGNED" not in r.stderr:
        fail(f"config unpack of a bad blob: exit {r.returncode}: {r.stderr.strip()}")

    # append: 4 KiB aligned, within 2 MiB.
    open(p("fw.bin"), "wb").write(b"\x11" * 5000)
    run_ok(pvm, ["config", "append", "--firmware", p("fw.bin"), "--config", p("cfg.bin"),
                 "--out", p("fw+cfg.bin")])
    image = open(p("fw+cfg.bin"), "rb").read()
    if image[:5000] != b"\x11" * 5000 or image[5000:8192] != bytes(3192) or image[8192:] != blob:
        fail("config append: layout")
    open(p("big.bin"), "wb").write(b"\x22" * (2 * 1024 * 1024 - 4096 + 1))
    r = run(pvm, ["config", "append", "--firmware", p("big.bin"), "--config", p("cfg.bin"),
                  "--out", p("big+cfg.bin")])
    if r.returncode != 1:
        fail(f"config append beyond 2 MiB: exit {r.returncode}")
    r = run(pvm, ["config", "append", "--firmware", p("fw.bin"), "--config", p("bad.bin"),
                  "--out", p("x.bin")])
    if r.returncode != 1:
        fail(f"config append of a bad blob: exit {r.returncode}")


def main() -> int:
    pvm, kats, vectors = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="pvm-dice-") as tmp:
        for part in [lambda: check_kats(pvm, kats), lambda: check_chain(pvm, tmp),
                     lambda: check_expect(pvm, vectors), lambda: check_whole_chain(pvm, tmp),
                     lambda: check_config(pvm, tmp)]:
            try:
                part()
            except Exception as e:  # a crash of one part fails the test, the others still run
                fail(f"{type(e).__name__}: {e}")
    for s in skipped:
        print("SKIP:", s)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok:", ", ".join(ran))
    return 0 if ran else 77


if __name__ == "__main__":
    sys.exit(main())
