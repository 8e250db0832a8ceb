#!/usr/bin/env python3
"""The firmware is built on the design's libraries, and on nothing of its own.

usage: firmware_libraries.py NM PVMFW.elf

Passes when pvmfw.elf links mbedTLS for ECDSA, RSA, SHA-2 and HKDF and libfdt
for the format (check, walk, sequential write), and holds none of the
hand-written primitives it once carried (own big numbers, P-256, SHA-2
engines, FDT token walker). Skips (77) when the image is not built.
"""
import os
import subprocess
import sys

REQUIRED = {
    "mbedTLS ECDSA (RFC 6979)": "mbedtls_ecdsa_sign_det_ext",
    "mbedTLS ECP group": "mbedtls_ecp_group_load",
    "mbedTLS HMAC_DRBG": "mbedtls_hmac_drbg_seed_buf",
    "mbedTLS RSA PKCS#1 v1.5": "mbedtls_rsa_pkcs1_verify",
    "mbedTLS SHA-256": "mbedtls_sha256_update",
    "mbedTLS SHA-512": "mbedtls_sha512_update",
    "mbedTLS HKDF": "mbedtls_hkdf",
    "mbedTLS HMAC": "mbedtls_md_hmac_finish",
    "mbedTLS heap": "mbedtls_memory_buffer_alloc_init",
    "libfdt structure check": "fdt_check_full",
    "libfdt walk": "fdt_next_node",
    "libfdt property lookup": "fdt_getprop_namelen",
    "libfdt path lookup": "fdt_path_offset_namelen",
    "libfdt sequential write": "fdt_create_with_flags",
    "libfdt sequential write end": "fdt_finish",
}
# Substrings of demangled names that only the old hand-written code had.
FORBIDDEN = ["verify::bignum", "dice::internal::p256", "base::sha2::armv8_engine",
             "base::sha2::portable_engine", "fdt::internal::Structure"]


def main() -> int:
    nm, elf = sys.argv[1], sys.argv[2]
    if not os.path.isfile(elf):
        print(f"SKIP: {elf} is not built")
        return 77
    out = subprocess.run([nm, "--demangle", elf], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    defined = {line.split(None, 2)[2] for line in out.splitlines()
               if len(line.split(None, 2)) == 3 and line.split()[1] in "TtWw"}
    bad = 0
    for what, sym in REQUIRED.items():
        ok = sym in defined
        print(f"{'ok  ' if ok else 'MISSING'} {what}: {sym}")
        bad += not ok
    for frag in FORBIDDEN:
        hits = sorted(s for s in defined if frag in s)
        if hits:
            print(f"FORBIDDEN {frag}: {hits[:3]}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
