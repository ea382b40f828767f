#!/usr/bin/env python3
"""fstree_cmp.py ORACLE MOUNT [--mtime-slack S] [--no-links] [--ignore NAME]...

Compare a tree an independent driver shows (ORACLE: the kernel's ext4,
ntfs-3g, mtools' copy) with blkfuse's fs/ view of it (MOUNT): the same
names, and for each: type, size, mtime (within S seconds; 0 = to the
nanosecond), symlink target, every byte, and hard links (names that share
an inode in ORACLE share one in MOUNT).  Names in --ignore are skipped in
MOUNT only (libtsk's $OrphanFiles, .deleted), and names that begin with
an --ignore-prefix (NTFS's $MFT, ...).  Prints one line per
difference and "compared N files" on success; exit 1 on any difference.
"""
import argparse
import os
import stat
import sys


def walk(root, ignore, prefixes=()):
    def skip(name):
        return name in ignore or any(name.startswith(p) for p in prefixes)
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not skip(x)]
        for name in dirs + files:
            if skip(name):
                continue
            p = os.path.join(d, name)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def same_bytes(a, b):
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def compare(args):
    a = walk(args.oracle, set())
    b = walk(args.mount, set(args.ignore), args.ignore_prefix)
    bad = [f"only in oracle: {p}" for p in sorted(set(a) - set(b))]
    bad += [f"only in blkfuse: {p}" for p in sorted(set(b) - set(a))]
    links_a, links_b = {}, {}
    for p in sorted(set(a) & set(b)):
        sa, sb = a[p], b[p]
        pa, pb = os.path.join(args.oracle, p), os.path.join(args.mount, p)
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            bad.append(f"{p}: type {oct(sa.st_mode)} != {oct(sb.st_mode)}")
            continue
        if stat.S_ISLNK(sa.st_mode):
            if os.readlink(pa) != os.readlink(pb):
                bad.append(f"{p}: link {os.readlink(pa)!r} != {os.readlink(pb)!r}")
        slack = args.mtime_slack * 1e9
        if abs(sa.st_mtime_ns - sb.st_mtime_ns) > slack:
            bad.append(f"{p}: mtime {sa.st_mtime_ns} != {sb.st_mtime_ns}")
        if stat.S_ISREG(sa.st_mode):
            if sa.st_size != sb.st_size:
                bad.append(f"{p}: size {sa.st_size} != {sb.st_size}")
            elif not same_bytes(pa, pb):
                bad.append(f"{p}: bytes differ")
            if not args.no_links:
                links_a.setdefault(sa.st_ino, set()).add(p)
                links_b.setdefault(sb.st_ino, set()).add(p)
    if not args.no_links:
        ga = sorted(sorted(g) for g in links_a.values())
        gb = sorted(sorted(g) for g in links_b.values())
        if ga != gb:
            bad.append(f"hard link groups differ: {ga} != {gb}")
    for line in bad:
        print(line)
    if not bad:
        print(f"compared {len(a)} files")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('oracle')
    ap.add_argument('mount')
    ap.add_argument('--mtime-slack', type=float, default=0)
    ap.add_argument('--no-links', action='store_true')
    ap.add_argument('--ignore', action='append', default=[])
    ap.add_argument('--ignore-prefix', action='append', default=[])
    sys.exit(compare(ap.parse_args()))


main()
