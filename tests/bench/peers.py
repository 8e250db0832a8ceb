"""The boot paths `./pvm bench --peers` compares with pvmfw: QEMU -kernel
directly, U-Boot and EDK2, all from Debian's packages, booting the same kernel
and initramfs under the same QEMU options as pvmfw (docs/performance.md).

Each path is timed from reset by the demo initramfs's counter probe
("pvm-guest: reached /init at counter tick N"): the virtual counter, which
under -icount shift=0 advances one tick per 16 guest instructions.
"""
import gzip
import os
import re
import struct
import subprocess
import zlib

# Debian's packages (bookworm: u-boot-qemu 2023.01, qemu-efi-aarch64 2022.11).
UBOOT_BIN = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
UBOOT_CONFIG = "/usr/share/doc/u-boot-qemu/configs/config.qemu_arm64.gz"
EDK2_FD = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
PACKAGES = {"u-boot": "u-boot-qemu", "edk2": "qemu-efi-aarch64"}

# QEMU virt's second flash bank (hw/arm/virt.c: VIRT_FLASH, two 64 MiB banks
# from 0): U-Boot's environment lives there (CONFIG_ENV_IS_IN_FLASH).
VIRT_FLASH_BANK1 = 0x04000000
VIRT_FLASH_BANK_SIZE = 64 << 20

# Instructions per tick of the 62.5 MHz virtual counter under -icount shift=0
# (one instruction per nanosecond).
TICK_INSNS = 16


def probe_insns(console):
    """Guest instructions from reset to /init, from the counter probe's line."""
    m = re.search(r"pvm-guest: reached /init at counter tick (\d+) \((\d+) Hz\)", console)
    if not m:
        return None
    if int(m.group(2)) != 62_500_000:
        raise SystemExit(f"bench: the counter runs at {m.group(2)} Hz, not 62.5 MHz")
    return int(m.group(1)) * TICK_INSNS


def package_version(name):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def uboot_config():
    """The environment's place and size, from the package's own build config."""
    with gzip.open(UBOOT_CONFIG, "rt") as f:
        config = dict(re.findall(r"^(CONFIG_\w+)=(.*)$", f.read(), re.M))
    if config.get("CONFIG_ENV_IS_IN_FLASH") != "y":
        raise SystemExit("bench: this U-Boot keeps its environment elsewhere than in flash")
    return int(config["CONFIG_ENV_ADDR"], 16), int(config["CONFIG_ENV_SIZE"], 16)


def uboot_env_flash(path, env_addr, env_size):
    """Writes QEMU virt's second flash bank holding a U-Boot environment that
    boots at once (bootdelay=0) what QEMU passes through fw_cfg.

    The environment format (U-Boot env/common.c, non-redundant): a
    little-endian CRC-32 of the data area, then the data area of
    CONFIG_ENV_SIZE - 4 bytes: "name=value" strings, each NUL-terminated, an
    empty string last, the rest 0xff (erased flash). A valid environment
    replaces the built-in one, so it restates the built-in load addresses it
    uses (include/configs/qemu-arm.h). `qfw load` copies -kernel and -initrd
    from fw_cfg and sets filesize to the initrd's size; booti boots the Image
    with U-Boot's own copy of QEMU's tree, whose /chosen/bootargs is -append.
    """
    offset = env_addr - VIRT_FLASH_BANK1
    if not 0 <= offset <= VIRT_FLASH_BANK_SIZE - env_size:
        raise SystemExit(f"bench: U-Boot's environment at {env_addr:#x} is not in flash bank 1")
    env = [
        "bootdelay=0",
        "kernel_addr_r=0x40400000",
        "ramdisk_addr_r=0x44000000",
        "fdt_high=0xffffffff",
        "initrd_high=0xffffffff",
        "bootcmd=qfw load ${kernel_addr_r} ${ramdisk_addr_r}; "
        "booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}",
    ]
    data = b"".join(v.encode() + b"\0" for v in env) + b"\0"
    data += b"\xff" * (env_size - 4 - len(data))
    bank = bytearray(b"\xff" * VIRT_FLASH_BANK_SIZE)
    bank[offset:offset + env_size] = struct.pack("<I", zlib.crc32(data)) + data
    with open(path, "wb") as f:
        f.write(bank)


def missing():
    """The peers' packages that are not installed."""
    return [pkg for pkg in PACKAGES.values() if package_version(pkg) is None]


def peer_paths(qemu, kernel, initrd, cmdline, work, firmware=True):
    """The QEMU command of each peer path: (key, name, argv, verifies);
    direct -kernel only unless `firmware` (which needs PACKAGES)."""
    boot = ["-kernel", kernel, "-initrd", initrd, "-append", cmdline]
    direct = ("direct", "QEMU -kernel directly", qemu + boot, "nothing")
    if not firmware:
        return [direct]
    env_flash = os.path.join(work, "u-boot-env.img")
    uboot_env_flash(env_flash, *uboot_config())
    return [
        direct,
        ("u-boot", f"U-Boot {package_version(PACKAGES['u-boot'])} (bootdelay=0, qfw load, booti)",
         qemu + ["-bios", UBOOT_BIN,
                 "-drive", f"if=pflash,unit=1,format=raw,file={env_flash}"] + boot,
         "nothing"),
        ("edk2", f"EDK2 {package_version(PACKAGES['edk2'])} (QEMU_EFI.fd, the kernel's EFI stub)",
         qemu + ["-bios", EDK2_FD] + boot, "nothing (Secure Boot off, no keys enrolled)"),
    ]
