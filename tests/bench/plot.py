"""The plot of `./pvm bench --peers`: an SVG with panels of stacked
horizontal bars, one bar per boot path.

  first   virtual time from reset to Linux's /init (ms), split into what ran
          before the kernel's first instruction and the kernel up to /init;
  second  what ran before the kernel (millions of guest instructions), with
          pvmfw's and the hypervisor's phases stacked;
  third   the same for the verified paths only, at their own scale.

Plain SVG 1.1 written by hand: no plotting package to install.
"""
from xml.sax.saxutils import escape

# Segment kinds, in stacking order, with their colours and legend text.
KINDS = [
    ("hyp_rest", "#9e9ac8", "hypervisor: set-up, loading the VM"),
    ("hyp_verify", "#6a51a3", "hypervisor: verifying pvmfw.img (hash + RSA-4096)"),
    ("hyp_dice", "#3f007d", "hypervisor: DICE stage below pvmfw"),
    ("hashing", "#2171b5", "pvmfw: hashing the payload (SHA-256)"),
    ("rsa", "#6baed6", "pvmfw: AVB parsing + RSA-4096"),
    ("dice", "#e6550d", "pvmfw: DICE (CDIs, key pair, ES256 signing)"),
    ("dt", "#31a354", "pvmfw: device-tree rebuild"),
    ("rest", "#fdae6b", "pvmfw: the rest (set-up, DT read, hand-off)"),
    ("firmware", "#969696", "firmware (difference to direct -kernel)"),
    ("kernel", "#d9d9d9", "Linux: first instruction to /init"),
]
COLOUR = {k: c for k, c, _ in KINDS}
ORDER = {k: i for i, (k, _, _) in enumerate(KINDS)}

WIDTH = 960
LABEL_W = 300
CHART_W = 560
BAR_H = 20
BAR_GAP = 10
FONT = ''  # the defaults sit on the root element


def nice_step(top, ticks=6):
    raw = top / ticks
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * 10 ** len(str(int(raw))) / 10
        if step >= raw:
            return step
    return raw


def panel(out, y, title, bars, scale, unit, fmt):
    """Draws one panel at height y; returns the height used."""
    out.append(f'<text x="10" y="{y + 14}" {FONT} font-weight="bold">{escape(title)}</text>')
    y += 26
    # The longest bar takes three quarters of the width: room for its note.
    top = max(sum(v for _, v in segs) for _, segs, _ in bars) * 1.33
    step = nice_step(top)
    px = CHART_W / top
    height = len(bars) * (BAR_H + BAR_GAP)
    tick = 0.0
    while tick <= top:
        x = LABEL_W + tick * px
        out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + height}" '
                   f'stroke="#eeeeee"/>')
        out.append(f'<text x="{x:.1f}" y="{y + height + 14}" {FONT} text-anchor="middle">'
                   f'{fmt(tick / scale)}</text>')
        tick += step
    out.append(f'<text x="{LABEL_W + CHART_W / 2}" y="{y + height + 30}" {FONT} '
               f'text-anchor="middle">{escape(unit)}</text>')
    for i, (label, segs, note) in enumerate(bars):
        by = y + i * (BAR_H + BAR_GAP)
        out.append(f'<text x="{LABEL_W - 8}" y="{by + 14}" {FONT} text-anchor="end">'
                   f'{escape(label)}</text>')
        x = LABEL_W
        for kind, value in sorted(segs, key=lambda s: ORDER[s[0]]):
            w = value * px
            out.append(f'<rect x="{x:.2f}" y="{by}" width="{max(w, 0):.2f}" height="{BAR_H}" '
                       f'fill="{COLOUR[kind]}"><title>{escape(kind)}: '
                       f'{fmt(value / scale)}</title></rect>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{by + 14}" {FONT}>{escape(note)}</text>')
    return 26 + height + 40


def write_svg(path, title, subtitle, time_bars, firmware_bars, zoom_bars=()):
    """time_bars, firmware_bars and zoom_bars: [(label, [(kind, instructions)],
    note)]; zoom_bars, if any, get a third panel at their own scale (the
    verified paths, whose phases are thin next to EDK2). subtitle: lines
    separated by newlines."""
    out = []
    y = 10
    out.append(f'<text x="10" y="{y + 16}" {FONT} font-size="15" font-weight="bold">'
               f'{escape(title)}</text>')
    for line in subtitle.split("\n"):
        out.append(f'<text x="10" y="{y + 34}" {FONT}>{escape(line)}</text>')
        y += 16
    y += 34
    # One guest instruction is 1 ns of virtual time under -icount shift=0.
    y += panel(out, y, "Reset to Linux /init (virtual time)", time_bars, 1e6,
               "virtual milliseconds", lambda v: f"{v:g}")
    y += panel(out, y, "Before the kernel's first instruction", firmware_bars, 1e6,
               "millions of guest instructions", lambda v: f"{v:g}")
    if zoom_bars:
        y += panel(out, y, "The same, verified paths only, phase by phase", zoom_bars, 1e6,
                   "millions of guest instructions", lambda v: f"{v:g}")
    kinds = [k for k in KINDS
             if any(kind == k[0] for bars in (time_bars, firmware_bars)
                    for _, segs, _ in bars for kind, _ in segs)]
    for i, (_, colour, text) in enumerate(kinds):
        lx = 10 + (i % 2) * 470
        ly = y + (i // 2) * 18
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 18}" y="{ly + 11}" {FONT}>{escape(text)}</text>')
    y += ((len(kinds) + 1) // 2) * 18 + 10
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" '
           f'viewBox="0 0 {WIDTH} {y}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
           + "\n".join(out) + "\n</svg>\n")
    with open(path, "w") as f:
        f.write(svg)
