#!/usr/bin/env python3
"""Per-endpoint chain variants of the bench's ruleset text (the current layout: verdicts as
rules on counting sets in filter-forward), to time the kernel's validation with a chain per
endpoint and direction as Calico lays them out. Usage: endpoint-chain-variants.py TEXT OUTDIR.
Writes OUTDIR/<variant>.nft:
  chains-2     cali-fw-/cali-tw-<iface> through two verdict maps after the shared chains,
               two counted rules each (allowed: return/accept; else drop)
  chains-1     the same, one rule each (drop unless allowed), the base chain accepts after
  entry-3      the endpoint chain is the entry: jump to the shared chain, then the two rules
  chains-empty the chains and maps with no rule in the chains (what visiting them costs)
"""
import re
import sys

text, outdir = sys.argv[1], sys.argv[2]
src = open(text).read()
ifaces = re.findall(r'"([^"]+)"', re.search(r'set cali-wl-ifaces \{.*?elements = \{ (.*?) \}', src, re.S).group(1))
lines = src.split('\n')
# filter-forward: the jump to each shared chain is followed by its two verdict rules.
fw_jump = next(i for i, l in enumerate(lines) if 'jump cali-from-wl' in l)
tw_jump = next(i for i, l in enumerate(lines) if 'jump cali-to-wl' in l)
ALLOWED, NOT_ALLOWED = 'meta mark & 0x10000 == 0x10000', 'meta mark & 0x10000 != 0x10000'
DENIED = 'counter drop comment "no policy or profile allowed it"'


def write(name, fw_rules, tw_rules, tw_after=(), entry=False):
    out = list(lines)
    fw = ([] if entry else [out[fw_jump]]) + ['\t\tiifname vmap @cali-fw-dispatch']
    tw = ([] if entry else [out[tw_jump]]) + ['\t\toifname vmap @cali-tw-dispatch'] + ['\t\t' + r for r in tw_after]
    out = out[:fw_jump] + fw + out[fw_jump + 3:tw_jump] + tw + out[tw_jump + 3:]
    extra = []
    for d, rules in (('fw', fw_rules), ('tw', tw_rules)):
        elements = ', '.join(f'"{i}" : jump cali-{d}-{i}' for i in ifaces)
        extra.append(f'\tmap cali-{d}-dispatch {{\n\t\ttype ifname : verdict\n\t\telements = {{ {elements} }}\n\t}}')
        extra += [f'\tchain cali-{d}-{i} {{\n' + ''.join(f'\t\t{r}\n' for r in rules) + '\t}' for i in ifaces]
    close = max(i for i, l in enumerate(out) if l.strip() == '}')
    open(f'{outdir}/{name}.nft', 'w').write('\n'.join(out[:close] + extra + out[close:]))


write('chains-2', [ALLOWED + ' counter return', DENIED], [ALLOWED + ' counter accept', DENIED])
write('chains-1', [NOT_ALLOWED + ' ' + DENIED], [NOT_ALLOWED + ' ' + DENIED], tw_after=['oifname @cali-wl-ifaces accept'])
write('entry-3', ['jump cali-from-wl', ALLOWED + ' counter return', DENIED],
      ['jump cali-to-wl', ALLOWED + ' counter accept', DENIED], entry=True)
write('chains-empty', [], [])
