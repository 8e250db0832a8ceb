#!/usr/bin/env python3
"""Turns ../shared/vectors/dice/open_dice_kats.json into plain lines the C++
tests read without a JSON parser.

usage: kats_to_lines.py KATS.json OUT.txt

Blocks of "KEY VALUE" lines, each opened by "<kind> NAME" and closed by "end":
  cdi NAME          inputs and expected CDIs of an upstream main-flow KAT
  android_config NAME   config values and the expected CBOR
  handover NAME     handover bytes and the expected outcome (ok with offsets, or error)
Values are hex, decimal or text to the end of the line; "-" means absent.
"""
import json
import re
import sys


def main() -> int:
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        kats = json.load(f)
    lines = []
    for kat in kats["upstream_kats"]:
        i, e = kat["inputs"], kat["expected"]
        lines.append(f"cdi {kat['name']}")
        for key in ["current_cdi_attest", "current_cdi_seal", "code_hash", "config_type",
                    "config_value", "config_descriptor", "authority_hash", "hidden",
                    "code_descriptor", "authority_descriptor"]:
            value = i.get(key)
            lines.append(f"{key} {'-' if value is None else value}")
        lines.append(f"mode {i['mode']}")
        lines.append(f"next_cdi_attest {e['next_cdi_attest']}")
        lines.append(f"next_cdi_seal {e['next_cdi_seal']}")
        lines.append("end")
    for name, kat in kats["upstream_android_kats"].items():
        short = name.split(".")[-1]
        if "expected_cbor" in kat:
            lines.append(f"android_config {short}")
            for key, value in kat["input"].items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, str) and value.startswith("0x"):
                    value = str(int(value, 16))
                lines.append(f"{key} {value}")
            lines.append(f"expected {kat['expected_cbor']}")
            lines.append("end")
        elif "handover" in kat:
            lines.append(f"handover {short}")
            lines.append(f"bytes {kat['handover']}")
            expected = kat["expected"]
            if expected.startswith("ok"):
                lines.append("result ok")
                for field, key in [("cdi_attest at offset", "cdi_attest_offset"),
                                   ("cdi_seal at offset", "cdi_seal_offset"),
                                   ("chain at offset", "chain_offset"),
                                   ("chain_size", "chain_size")]:
                    m = re.search(re.escape(field) + r" (\d+)", expected)
                    if m:
                        lines.append(f"{key} {m.group(1)}")
            else:
                lines.append("result error")
            lines.append("end")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
