// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse --help: every option blkfuse honours, once, with its defaults.
 * The man page (doc/blkfuse.1) says the same at length; tests/docs.bats
 * checks that each mount option here is there too.
 */
#include <stdio.h>
#include <string.h>

#include "image/image.h"
#include "list.h"
#include "cmd/options.h"
#include "ctl/tunables.h"

static void usage_forensic(FILE *out);
static void usage_keys(FILE *out);
static void usage_mount_options(FILE *out);

/* The --format entry, its words from the driver table (image/driver.h). */
static void format_help(FILE *out)
{
	char words[256], *w, *save = NULL;
	int col;

	blk_image_format_words(words, sizeof(words), " ");
	col = fprintf(out, "     --format=FMT         one of");
	for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (col + 1 + (int)strlen(w) + 1 > 79)
			col = fprintf(out, "\n%26s", "") - 1;
		col += fprintf(out, " %s", w);
	}
	fprintf(out, "\n"
"                          (auto, the default: by content; --version: what\n"
"                          this build reads); --verify stored checks the\n"
"                          hashes an E01 or AFF holds\n");
}

/* The control tunables, from their table (ctl/tunables.c). */
static void tunables_help(FILE *out)
{
	fprintf(out, "Control tunables (blkfuse ctl NAME set KEY=VALUE; take effect at once):\n");
	for (unsigned int i = 0; i < blk_ntunables; i++) {
		const struct blk_tunable *tn = &blk_tunables[i];
		char kv[80];
		int n = snprintf(kv, sizeof(kv), "%s=%s", tn->key, tn->values);

		if (n < 24)
			fprintf(out, " %-24s %s\n", kv, tn->help);
		else
			fprintf(out, " %s\n %24s %s\n", kv, "", tn->help);
	}
	fprintf(out, " %-24s %s\n", "abort=1",
		"end the connection now: readers get ENOTCONN");
	fprintf(out, " max_reply is shown but fixed at mount.\n");
}

void blk_options_usage(FILE *out)
{
	fprintf(out,
"Usage:\n"
" blkfuse [options] SOURCE MOUNTPOINT\n"
" blkfuse --list [-J] [-o COLUMNS] [-b] [-n] [-r|-P] [--sector-size N] SOURCE\n"
" blkfuse ctl NAME|PATH [show | get KEY | set KEY=VALUE... | stats [-w S] [-c N] | reset]\n"
" blkfuse hash [--algo sha256,sha1,md5] [--tag] [--sector-size N] SOURCE [disk] [pN...]\n"
"\n"
"Expose a block device or disk image (raw, or an evidence container: EWF,\n"
"split raw, AFF, QCOW2 and its snapshot chain, VMDK, VHD, VHDX), and each\n"
"partition on it, as read-only files: MOUNTPOINT/disk is the (decoded)\n"
"source, MOUNTPOINT/pN is partition N, numbered as the Linux kernel numbers\n"
"them (DOS logical partitions from p5). Partition tables are read with\n"
"libblkid (DOS, GPT, BSD, Sun, SGI, Atari, ...). Every source file is\n"
"opened O_RDONLY and nothing is ever written to it. Reads of a raw source\n"
"are spliced into /dev/fuse; containers are decoded (see --format).\n"
"\n"
"Listing (no mount):\n"
" -l, --list               print the partition table as blkfuse sees it and\n"
"                          exit; header lines say the source, its size, the\n"
"                          sector size and the table, then the partitions\n"
"                          and the free ranges\n"
" -o, --output COLUMNS     with --list: only these columns, comma-separated\n"
"                          ('+COL,...' adds to the defaults); the table only\n"
" -b, --bytes              SIZE in bytes, not 8M\n"
" -n, --noheadings         no header lines nor column headings\n"
" -r, --raw                raw output (space-separated, escaped)\n"
" -P, --pairs              KEY=\"value\" pairs\n"
" -J, --json               without -o: the layout document (as layout.json);\n"
"                          with -o: the table as JSON\n"
"     --sector-size N      logical sector size of an image made on a disk\n"
"                          with N-byte sectors (a power of two, 512..65536);\n"
"                          default: the container's own, else BLKSSZGET for\n"
"                          block devices, else 512\n"
"Columns:\n");
	blk_list_columns_help(out);
	fprintf(out,
"\n"
"Mounting:\n"
" -f                       stay in the foreground (log to stderr)\n"
" -d                       debug: foreground, log every request\n"
" -s                       one worker thread (same as -o max_threads=1)\n"
"     --pidfile FILE       write the daemon's pid to FILE; removed at exit\n"
"                          (after --verify-after: wait for it to go)\n"
" -h, --help               print this help and exit\n"
" -V, --version            print the version and exit\n"
"\n");
	usage_forensic(out);
	usage_keys(out);
	usage_mount_options(out);
}

static void usage_keys(FILE *out)
{
	fprintf(out,
"Encrypted volumes (LUKS1, LUKS2, BitLocker; also for --list and hash):\n"
"     --passphrase-file FILE  each line of FILE is a passphrase tried on\n"
"                          each locked volume; a 48-digit line is also\n"
"                          tried as a BitLocker recovery password (dashes\n"
"                          optional); also -o passphrase_file=FILE\n"
"     --key-file FILE      a BitLocker startup key (.BEK), a LUKS key file,\n"
"                          or a raw LUKS volume key; also -o key_file=FILE\n"
"     --ask-passphrase     ask for one passphrase on the terminal (no echo)\n"
"                          Secrets are kept in locked memory, wiped once the\n"
"                          volumes are open, and never printed, logged or\n"
"                          audited. A volume no secret opens stays locked\n"
"                          (the reason is said) and is served as ciphertext\n"
"\n");
}

static void usage_forensic(FILE *out)
{
	fprintf(out,
"Forensic options:\n"
"     --exclusive          claim the source exclusively (O_EXCL on a block\n"
"                          device, flock on an image) and refuse to start if\n"
"                          it, a partition of it or a loop device over it is\n"
"                          mounted read-write anywhere\n"
"     --set-ro             set the kernel's read-only flag (BLKROSET) on the\n"
"                          device and its partitions while mounted; the old\n"
"                          state is logged and restored at exit\n"
"     --verify [NAME=]ALGO:HEX  hash the whole source first (sha256, sha1,\n"
"                          md5), or the file NAME of the mount (pN, a volume\n"
"                          such as p3.d/luks), and refuse to mount on a\n"
"                          mismatch (exit status 3)\n"
"     --verify-after       hash the source again after unmount (a progress\n"
"                          line on a terminal); the result goes to stderr or\n"
"                          the log, the audit trail, 'verify_after' in the\n"
"                          control snapshot, and the exit status (3 when it\n"
"                          differs from --verify's hash)\n"
"     --audit FILE         append JSON Lines to FILE: start, every open, read\n"
"                          and release (time, file, offset, length, bytes\n"
"                          returned, errno, pid, uid, gid, process name),\n"
"                          stop; SIGHUP flushes and reopens FILE (rotation)\n"
"                          and starts it with a 'rotated' record\n"
"     --on-error=eio|zero  a read that hits a bad sector fails with EIO\n"
"                          (default) or gets zeros for the unreadable sectors,\n"
"                          each logged and audited\n"
"     --no-free            hide free/ (unallocated space); also -o nofree\n"
"     --no-fs              no fs/ (the files inside each volume's file\n"
"                          system, through libtsk); also -o nofs\n"
	);
	format_help(out);
	fprintf(out,
"     --backing-dir DIR    a snapshot's parents (QCOW2 backing files, VMDK\n"
"                          delta parents) may also lie in DIR (default:\n"
"                          only in the top image's folder); also\n"
"                          -o backing_dir=DIR\n"
"     --extents-anywhere   let a VMDK descriptor name extents outside its\n"
"                          folder (absolute, '..', symbolic links out)\n"
"\n"
"Control:\n"
"     --ctl=auto|cuse|none  the control interface (default auto): a CUSE\n"
"                          character device /dev/blkfuse-NAME when the kernel\n"
"                          has CUSE, else the file MOUNTPOINT/.blkfuse-ctl;\n"
"                          'cuse' fails without CUSE; 'none' serves neither\n"
"     --name NAME          the instance's name (default: the source's file\n"
"                          name, made safe and unique): /run/blkfuse/NAME\n"
"                          points at the control node or file, for\n"
"                          'blkfuse ctl NAME'; a '/' makes a subdirectory of\n"
"                          /dev for the CUSE node\n"
"     --ctl-mode MODE      octal mode of the control node or file (default\n"
"                          0600, owner root): read bits to read it, write\n"
"                          bits to set, reset or abort (else EACCES)\n"
"\n");
}

static void usage_mount_options(FILE *out)
{
	fprintf(out,
"Mount options (-o opt[,opt...]):\n"
" max_threads=N            worker threads (default %u); readers of different\n"
"                          partitions never wait on each other's lock\n"
" max_reply=BYTES          largest READ the kernel may send, a multiple of\n"
"                          4096 (default %u). A reply must fit one pipe:\n"
"                          BYTES + 8 KiB, rounded up to a power of two,\n"
"                          must not exceed fs.pipe-max-size (1 MiB by\n"
"                          default) or replies are copied, not spliced\n"
" pipe_size=BYTES          pipe size per worker (default: just enough for\n"
"                          max_reply)\n"
" readahead_kb=N           the kernel's readahead on this mount's files, in\n"
"                          KiB (default %u, set once the mount is up, as\n"
"                          root; the kernel's own default is 128). With\n"
"                          max_readahead= given, that cap is left alone\n"
" source_readahead_kb=N    blkfuse's own readahead on the source for each\n"
"                          sequential reader of a file, up to N KiB ahead\n"
"                          (default %u; 0: off)\n"
" nosplice                 start with splice off (pread + copy)\n"
" transport=auto|dev|uring how requests reach blkfuse: 'dev' reads and\n"
"                          writes /dev/fuse (replies spliced); 'uring' uses\n"
"                          FUSE over io_uring (Linux 6.14+, switched on by\n"
"                          root in /sys/module/fuse/parameters/enable_uring;\n"
"                          one queue per CPU, no splice: data is copied);\n"
"                          'auto' (default) picks the measured better one\n"
"                          that this kernel allows and never changes a\n"
"                          system setting. See 'transport' in ctl show\n"
" clone_fd, noclone_fd     each worker reads its own clone of /dev/fuse\n"
"                          (FUSE_DEV_IOC_CLONE) or all share one\n"
" nofree                   as --no-free\n"
" nofs                     as --no-fs\n"
" sector_size=N            as --sector-size\n"
" passphrase_file=FILE     as --passphrase-file (for fstab)\n"
" key_file=FILE            as --key-file (for fstab)\n"
" exclusive, set_ro, verify_after, audit=FILE, verify=ALGO:HEX,\n"
" on_error=eio|zero, format=FMT, backing_dir=DIR\n"
"                          the forensic options, as mount options (fstab)\n"
" cache_mb=N               decoded-block cache per worker for a decoding\n"
"                          container, 0..1024 MiB (default 8)\n"
" notify_pipe=PATH         write 's' to the FIFO PATH once mounted, 'f' if\n"
"                          the mount failed (for scripts and tests)\n"
" allow_other, allow_root  let other users (or root) in; file modes apply\n"
" max_readahead=BYTES      cap the kernel's readahead for this mount\n"
" debug                    as -d\n"
" noexec, noatime, nodiratime, nodev, nosuid  as for any mount\n"
" The mount is always 'ro'. '-o rw' is refused, but a 'rw' that mount(8)\n"
" adds (blkfuse started by mount.fuse3, from fstab or 'mount -t\n"
" fuse.blkfuse') is taken as 'ro' with a notice. fstab words (auto,\n"
" noauto, user, users, nouser, _netdev, nofail, defaults, dev, suid,\n"
" relatime, async, x-*) are accepted and ignored. Any other option is\n"
" refused before anything is opened.\n"
"\n",
		DEFAULT_THREADS, DEFAULT_MAX_REPLY, DEFAULT_READAHEAD_KB,
		DEFAULT_SOURCE_RA_KB);
	tunables_help(out);
	fprintf(out,
"\n"
"Mount contents: disk, pN, free/FIRST-LAST (unallocated sectors), by-partuuid/,\n"
"by-partlabel/, by-uuid/, by-label/ (links to pN, or to disk for a file\n"
"system on the whole disk), layout.json (= --list --json).\n"
"\n"
"Signals: SIGTERM or SIGINT unmount at once when no file is open; with files\n"
"open they detach the mount (as umount -l), open files keep working, and the\n"
"daemon exits 0 when the last is closed; a second one ends it at once, as\n"
"SIGQUIT does at the first. SIGHUP rotates the --audit file.\n"
"\n"
"Exit status: 0 on success and on a clean unmount or SIGINT/SIGTERM,\n"
"1 on any error (one line on stderr says what and where), 3 when\n"
"--verify or --verify-after finds a different hash.\n"
"\n"
"Examples:\n"
" blkfuse --list evidence.dd\n"
" blkfuse --list -o NR,SIZE,TYPENAME,FSTYPE,LABEL evidence.dd\n"
" blkfuse evidence.dd /mnt/ev && mount -o ro,noload,loop /mnt/ev/p2 /mnt/fs\n"
" blkfuse -o allow_other /dev/sdb /mnt/sdb\n"
" fusermount3 -u /mnt/ev\n"
"\n");
}
