#!/usr/bin/env bats
# Issue 11: the findings of the adversarial run that can be shown on the
# host, one test (or a few) each.  Blocked readers are observed, never
# slept on: the connection's `waiting` count in fusectl and the reader's
# /proc/PID/stat; every wait is bounded.  A daemon that deadlocks is
# cleared by aborting its connection (fusectl) and SIGKILL in teardown.
load helpers

BOUND=10	# seconds: anything longer counts as a hang

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/gpt.img
	make_gpt_image "$IMG"
	export TABLES=$BATS_FILE_TMPDIR/tables
	"$REPO/tests/gen-tables" "$TABLES"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
	READERS=()
	CONN=
}

teardown() {
	local p
	# Release whatever is stuck in our connection, unmount, then the daemon.
	if [ -n "$CONN" ] && [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null &&
		[ "$(mountpoint -d "$MNT" 2>/dev/null)" = "0:$CONN" ]; then
		echo 1 >"/sys/fs/fuse/connections/$CONN/abort" 2>/dev/null || true
	fi
	for p in "${READERS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	# (not mountpoint -q: it says no for a connection that is gone)
	if grep -qs " $MNT fuse" /proc/self/mounts; then
		fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [ -n "${DAEMON_PID:-}" ]; then
		kill -9 "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
	fi
	for p in "${READERS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ -z "${OPEN_DIR:-}" ] || rm -rf "$OPEN_DIR"
	for p in ${LOOPS:-}; do
		losetup -d "$p" 2>/dev/null || true
	done
	assert_clean_log "${EXPECTED_LOG:-}"
}

# ---- helpers ----------------------------------------------------------------

# poll SECONDS CMD...: true as soon as CMD is, false after SECONDS.
# (measured on the monotonic clock: $SECONDS ticks in whole seconds, so
# "SECONDS + 1" could be over at once)
poll() {
	local end=$(($(mono_ms) + $1 * 1000))
	shift
	while ! "$@"; do
		[ "$(mono_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

mono_ms() {
	local up
	read -r up _ </proc/uptime
	echo $((${up%.*} * 1000 + 10#${up#*.} * 10))
}

# mount_it [blkfuse args...]: start on $IMG at $MNT; remember the connection.
mount_it() {
	start_blkfuse "$@" "$IMG" "$MNT"
	CONN=$(mountpoint -d "$MNT")
	CONN=${CONN#*:}
}

waiting_at_least() {
	[ "$(cat "/sys/fs/fuse/connections/$CONN/waiting")" -ge "$1" ]
}

# A process is gone once it no longer exists or is a zombie.
gone() {
	local st
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$st" = Z ] || [ "$st" = X ]
}

# asleep PID: in the kernel waiting (S or D), not running.
asleep() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ "$st" = D ] || [ "$st" = S ]
}

all_gone() {
	local p
	for p in "$@"; do gone "$p" || return 1; done
}

# reader [direct] BLOCK OUT: read 4 KiB block BLOCK of p1 to OUT, in the background.
reader() {
	local flag=
	case $1 in
	direct) flag=iflag=direct; shift ;;
	buffered) shift ;;
	esac
	dd if="$MNT/p1" of="$2" bs=4096 skip="$1" count=1 $flag status=none &
	READERS+=($!)
}

# p1_block BLOCK: the expected bytes of block BLOCK of p1 (p1 starts at 1 MiB).
p1_block() {
	dd if="$IMG" bs=4096 skip=$((256 + $1)) count=1 status=none
}

# block_readers MODE N: start N readers of distinct blocks; return once all
# N requests are queued in the connection and every reader sleeps there.
block_readers() {
	local mode=$1 n=$2 i base=${#READERS[@]}
	for ((i = 0; i < n; i++)); do
		reader "$mode" $((10 + 17 * i)) "$BATS_TEST_TMPDIR/out.$i"
	done
	poll "$BOUND" waiting_at_least "$n" ||
		fail "the $n readers did not reach the daemon within ${BOUND}s"
	for ((i = base; i < base + n; i++)); do
		poll "$BOUND" asleep "${READERS[i]}" || fail "reader ${READERS[i]} is not waiting"
	done
}

# The readers' output is right (each read the block it asked for).
assert_reader_output() {
	local i
	for ((i = 0; i < $1; i++)); do
		cmp <(p1_block $((10 + 17 * i))) "$BATS_TEST_TMPDIR/out.$i"
	done
}

# After rate_limit=1, one read books ~4096 s: the next one waits.
book_the_rate_limit() {
	"$BLKFUSE" ctl "$MNT" set rate_limit=1
	timeout "$BOUND" dd if="$MNT/p1" of=/dev/null bs=4096 skip=1 count=1 iflag=direct status=none
}

# ---- 1. pause deadlock ------------------------------------------------------

@test "#1 pause=1 with more readers than max_threads: pause=0 is answered, every reader finishes" {
	mount_it -o max_threads=2
	"$BLKFUSE" ctl "$MNT" set pause=1
	block_readers direct 4
	run timeout -k 2 "$BOUND" "$BLKFUSE" ctl "$MNT" set pause=0
	[ "$status" -eq 0 ] ||
		fail "set pause=0 not answered within ${BOUND}s (status $status): all workers parked in the pause (issue 11 #1)"
	poll "$BOUND" all_gone "${READERS[@]}" || fail "readers still waiting ${BOUND}s after pause=0"
	assert_reader_output 4
}

@test "#1 the control file is answered while max_threads buffered readers are paused" {
	mount_it -o max_threads=2
	"$BLKFUSE" ctl "$MNT" set pause=1
	block_readers buffered 3
	run timeout -k 2 "$BOUND" "$BLKFUSE" ctl "$MNT" get pause
	[ "$status" -eq 0 ] || fail "control file not answered within ${BOUND}s while paused (issue 11 #1)"
	assert_output 1
	run timeout -k 2 "$BOUND" "$BLKFUSE" ctl "$MNT" set pause=0
	assert_success
	poll "$BOUND" all_gone "${READERS[@]}"
	assert_reader_output 3
}

# ---- 2. rate_limit and pause strand readers -----------------------------------

@test "#2 rate_limit=1, then rate_limit=0 releases the waiting reader" {
	mount_it
	book_the_rate_limit
	block_readers direct 1
	"$BLKFUSE" ctl "$MNT" set rate_limit=0
	poll "$BOUND" all_gone "${READERS[@]}" ||
		fail "reader still waiting ${BOUND}s after rate_limit=0: the old schedule stands (issue 11 #2)"
	assert_reader_output 1
}

@test "#2 rate_limit=1, then rate_limit=100m recomputes the schedule and releases the reader" {
	mount_it
	book_the_rate_limit
	block_readers direct 1
	"$BLKFUSE" ctl "$MNT" set rate_limit=100m
	poll "$BOUND" all_gone "${READERS[@]}" ||
		fail "reader still waiting ${BOUND}s after rate_limit=100m (issue 11 #2)"
	assert_reader_output 1
}

# kill_ends_it PID: SIGKILL, then gone (or a zombie).  The daemon looks
# for dying requesters every 100 ms; the bound is generous (a loaded CI
# runner), a reader left in D never meets it.
kill_ends_it() {
	kill -9 "$1"
	poll "$BOUND" gone "$1" ||
		fail "reader $1 still alive ${BOUND}s after SIGKILL: state $(sed 's/.*) //' /proc/"$1"/stat | cut -d' ' -f1), wchan $(cat /proc/"$1"/wchan)"
}

@test "#2 an O_DIRECT reader blocked in pause dies on SIGKILL" {
	mount_it
	"$BLKFUSE" ctl "$MNT" set pause=1
	block_readers direct 1
	kill_ends_it "${READERS[0]}"
}

@test "#2 a buffered reader blocked in pause dies on SIGKILL" {
	mount_it
	"$BLKFUSE" ctl "$MNT" set pause=1
	block_readers buffered 1
	kill_ends_it "${READERS[0]}"
}

@test "#2 an O_DIRECT reader blocked in a slow rate limit dies on SIGKILL" {
	mount_it
	book_the_rate_limit
	block_readers direct 1
	kill_ends_it "${READERS[0]}"
}

@test "#2 a buffered reader blocked in a slow rate limit dies on SIGKILL" {
	mount_it
	book_the_rate_limit
	block_readers buffered 1
	kill_ends_it "${READERS[0]}"
}

detached() {
	! mountpoint -q "$MNT"
}

# sigterm_stops N: with N readers waiting, SIGTERM detaches the mount
# (issue 10: as umount -l); the control file goes with it, so pause and
# rate_limit are lifted (issue 20 #10): the readers get their bytes, and
# the daemon exits 0 once they closed their files.
sigterm_stops() {
	kill -TERM "$DAEMON_PID"
	poll "$BOUND" detached || fail "SIGTERM did not detach the mount"
	poll "$BOUND" all_gone "${READERS[@]}" ||
		fail "readers still waiting ${BOUND}s after SIGTERM (issue 20 #10)"
	assert_reader_output "$1"
	poll "$BOUND" gone "$DAEMON_PID" ||
		fail "daemon still running ${BOUND}s after SIGTERM and its readers' end (issue 11 #2)"
	local pid=$DAEMON_PID
	DAEMON_PID=
	run wait "$pid"
	assert_success
}

@test "#2 SIGTERM stops the daemon while readers wait in pause" {
	mount_it
	"$BLKFUSE" ctl "$MNT" set pause=1
	block_readers direct 2
	sigterm_stops 2
}

@test "#2 SIGTERM stops the daemon while a reader waits in a slow rate limit" {
	mount_it
	book_the_rate_limit
	block_readers direct 1
	sigterm_stops 1
}

# ---- 9. size suffixes -----------------------------------------------------------

@test "#9 set rate_limit=17179869184g (2^64) fails and changes nothing" {
	mount_it
	"$BLKFUSE" ctl "$MNT" set rate_limit=100m
	run "$BLKFUSE" ctl "$MNT" set rate_limit=17179869184g
	assert_equal "$status" 1
	assert_output "blkfuse: error: ctl: bad value in 'rate_limit=17179869184g'"
	run "$BLKFUSE" ctl "$MNT" set rate_limit=18014398509481984k
	assert_equal "$status" 1
	assert_output "blkfuse: error: ctl: bad value in 'rate_limit=18014398509481984k'"
	run ctl_get rate_limit
	assert_output 104857600
}

@test "#9 set pipe_size=18014398509481984k (2^64) fails and changes nothing" {
	mount_it
	"$BLKFUSE" ctl "$MNT" set pipe_size=65536
	run "$BLKFUSE" ctl "$MNT" set pipe_size=18014398509481984k
	assert_equal "$status" 1
	assert_output "blkfuse: error: ctl: bad value in 'pipe_size=18014398509481984k'"
	run "$BLKFUSE" ctl "$MNT" set pipe_size=4194304k
	assert_equal "$status" 1
	assert_output "blkfuse: error: ctl: bad value in 'pipe_size=4194304k'"
	run ctl_get pipe_size
	assert_output 65536
}

# ---- 6. never wider than the source ---------------------------------------------

# A mountpoint that uid 65534 can reach (bats' temp dirs are 0700).
open_mountpoint() {
	OPEN_DIR=$(mktemp -d /tmp/blkfuse-hardening.XXXXXX)
	chmod 755 "$OPEN_DIR"
	MNT=$OPEN_DIR/mnt
	mkdir "$MNT"
	cp "$IMG" "$OPEN_DIR/src.img"
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

@test "#6 allow_other: uid 65534 cannot read p1, disk or free/ of a 0600 image" {
	open_mountpoint
	chmod 600 "$OPEN_DIR/src.img"
	start_blkfuse -o allow_other "$OPEN_DIR/src.img" "$MNT"
	local f
	for f in p1 disk "free/$(ls "$MNT/free" | head -1)"; do
		run as_nobody head -c 512 "$MNT/$f"
		assert_equal "$status" 1
		assert_output "head: cannot open '$MNT/$f' for reading: Permission denied"
	done
}

@test "#6 allow_other: uid 65534 reads p1 of a 0644 image" {
	open_mountpoint
	chmod 644 "$OPEN_DIR/src.img"
	start_blkfuse -o allow_other "$OPEN_DIR/src.img" "$MNT"
	cmp <(as_nobody cat "$MNT/p1") <(dd if="$IMG" bs=1M skip=1 count=8 status=none)
}

@test "#6 without allow_other: uid 65534 cannot read p1 even of a 0644 image" {
	open_mountpoint
	chmod 644 "$OPEN_DIR/src.img"
	start_blkfuse "$OPEN_DIR/src.img" "$MNT"
	run as_nobody head -c 512 "$MNT/p1"
	assert_equal "$status" 1
	assert_output "head: cannot open '$MNT/p1' for reading: Permission denied"
}

@test "#6 exposed files' read bits, owner and group follow the source (never write bits)" {
	open_mountpoint
	chown 65534:65534 "$OPEN_DIR/src.img"
	chmod 640 "$OPEN_DIR/src.img"
	start_blkfuse -o allow_other "$OPEN_DIR/src.img" "$MNT"
	run stat -c '%a %u %g' "$MNT/p1" "$MNT/disk"
	assert_output $'440 65534 65534\n440 65534 65534'
}

# ---- 7. --exclusive claims what it serves ------------------------------------------

@test "#7 --exclusive: the device claimed is the device served, or the daemon refuses" {
	[ -e /dev/loop-control ] || skip "no loop devices on this kernel"
	cc -shared -fPIC -D_GNU_SOURCE -o "$BATS_TEST_TMPDIR/swap_open.so" \
		"$REPO/tests/swap_open.c" -ldl
	random_image "$BATS_TEST_TMPDIR/a.img" 4
	random_image "$BATS_TEST_TMPDIR/b.img" 4
	local a b
	a=$(losetup -r -f --show "$BATS_TEST_TMPDIR/a.img")
	LOOPS=$a
	b=$(losetup -r -f --show "$BATS_TEST_TMPDIR/b.img")
	LOOPS="$a $b"
	# The exclusive reopen by path lands on B, as if A's node were replaced.
	export LD_PRELOAD=$BATS_TEST_TMPDIR/swap_open.so SWAP_OPEN_FROM=$a SWAP_OPEN_TO=$b
	# an ASan build wants its runtime first; the preload is the point here
	local asan_options=${ASAN_OPTIONS-}
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	local rc=0
	start_blkfuse --exclusive "$a" "$MNT" || rc=$?
	unset LD_PRELOAD SWAP_OPEN_FROM SWAP_OPEN_TO
	ASAN_OPTIONS=$asan_options
	if [ "$rc" -ne 0 ]; then
		# refusing is right; it must say why
		grep -q "$a" "$DAEMON_LOG"
		return 0
	fi
	cmp "$BATS_TEST_TMPDIR/a.img" "$MNT/disk" ||
		fail "serves $b, not the $a it was given (exclusive reopen by path, issue 11 #7)"
	run python3 -c 'import os,sys; os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)' "$a"
	assert_equal "$status" 1
	assert_output --partial "OSError: [Errno 16] Device or resource busy: '$a'"
	python3 -c 'import os,sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL))' "$b"
}

# ---- 8. JSON is valid UTF-8 -----------------------------------------------------------

# strict_json [--lines]: stdin is UTF-8 JSON (or JSON Lines) with no lone
# surrogate anywhere, even as a \ud800 escape (strict parsers reject both).
strict_json() {
	python3 -c '
import json, sys
def walk(o):
    if isinstance(o, str):
        o.encode("utf-8")
    elif isinstance(o, dict):
        for k, v in o.items():
            walk(k); walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
text = sys.stdin.buffer.read().decode("utf-8")
docs = text.splitlines() if sys.argv[1:] == ["--lines"] else [text]
for d in docs:
    walk(json.loads(d))
' "$@"
}

@test "#8 --list --json is valid UTF-8 with a lone surrogate in a GPT name" {
	"$BLKFUSE" --list --json "$TABLES/gpt-lone-surrogate.img" >"$BATS_TEST_TMPDIR/out.json"
	run strict_json <"$BATS_TEST_TMPDIR/out.json"
	assert_success
}

@test "#8 --list --json is valid UTF-8 for a source path that is not" {
	cp "$IMG" "$BATS_TEST_TMPDIR/"$'\xff\xfe'".img"
	"$BLKFUSE" --list --json "$BATS_TEST_TMPDIR/"$'\xff\xfe'".img" >"$BATS_TEST_TMPDIR/out.json"
	run strict_json <"$BATS_TEST_TMPDIR/out.json"
	assert_success
}

@test "#8 layout.json and --audit are valid UTF-8 (GPT name, reader's process name)" {
	IMG=$TABLES/gpt-lone-surrogate.img
	mount_it --audit "$BATS_TEST_TMPDIR/audit.jsonl"
	run strict_json <"$MNT/layout.json"
	assert_success
	# a reader whose comm is not UTF-8
	python3 -c '
import sys
open("/proc/self/comm", "wb").write(b"\xff\xfe\x01rd")
open(sys.argv[1], "rb").read(4096)' "$MNT/p1"
	stop_blkfuse
	grep -q '"ev":"read"' "$BATS_TEST_TMPDIR/audit.jsonl"
	run strict_json --lines <"$BATS_TEST_TMPDIR/audit.jsonl"
	assert_success
}

# ---- 3, 4. adversarial partition tables ---------------------------------------------------

# check_table CASE: blkfuse --list --json and the mount against cases.tsv:
# valid entries exposed with exactly their range, invalid ones never exposed
# (and flagged `invalid` if listed; `beyond-end` also for a start past the
# end), free/ exactly the gaps between the valid ones.
check_table() {
	# each invalid or out-of-range entry is one warning, by design
	EXPECTED_LOG='is invalid \(|past the end'
	local case=$1 img=$TABLES/$1.img ss
	ss=$(awk -v c="$case" '$1 == c { print $2; exit }' "$TABLES/cases.tsv")
	"$BLKFUSE" --list --json --sector-size "$ss" "$img" >"$BATS_TEST_TMPDIR/list.json"
	run python3 - "$TABLES/cases.tsv" "$case" "$BATS_TEST_TMPDIR/list.json" <<-'EOF'
	import json, sys
	rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
	rows = [r for r in rows if r[0] == sys.argv[2]]
	doc = json.load(open(sys.argv[3], "rb"))
	ss, size = doc["sector_size"], doc["size"]
	parts = {p["nr"]: p for p in doc["partitions"]}
	bad, valid = [], []
	for _, _, nr, expect, start, length, what in rows:
	    nr = int(nr)
	    p = parts.get(nr)
	    if expect == "valid":
	        s, n = int(start) * ss, int(length) * ss
	        n = min(n, size - s)
	        valid.append((s, s + n))
	        if not p or not p["exposed"] or p["start_bytes"] != s or p["size_bytes"] != n:
	            bad.append("p%d (%s): want exposed at %d, %d bytes; got %s" % (nr, what, s, n, p and
	                       (p["exposed"], p["start_bytes"], p["size_bytes"], p["flags"])))
	    elif p:
	        flags = p["flags"].split(",")
	        if p["exposed"] or not ("invalid" in flags or "beyond-end" in flags):
	            bad.append("p%d (%s): want not exposed, flagged invalid; got exposed=%s flags=%r start %s size %s"
	                       % (nr, what, p["exposed"], p["flags"], p["start_bytes"], p["size_bytes"]))
	# free: the complement of the valid (data) ranges in [0, size)
	want, pos = [], 0
	for s, e in sorted(valid):
	    if s > pos:
	        want.append((pos, s))
	    pos = max(pos, e)
	if pos < size:
	    want.append((pos, size))
	got = sorted((f["start_bytes"], f["start_bytes"] + f["size_bytes"]) for f in doc["free"])
	merged = []
	for s, e in got:
	    if merged and merged[-1][1] == s:
	        merged[-1] = (merged[-1][0], e)
	    else:
	        merged.append((s, e))
	if merged != want:
	    bad.append("free: want %s, got %s" % (want, got))
	print("\n".join(bad))
	sys.exit(1 if bad else 0)
	EOF
	[ "$status" -eq 0 ] || fail "$case: $output"
	# the mount: exactly the valid pN files, of the right sizes
	IMG=$img
	mount_it --sector-size "$ss"
	local want got
	want=$(awk -v c="$case" '$1 == c && $4 == "valid" { print "p" $3 }' "$TABLES/cases.tsv" | sort -V | xargs)
	got=$(ls "$MNT" | grep -E '^p[0-9]+$' | sort -V | xargs)
	[ "$got" = "$want" ] || fail "$case: mount shows '$got', want '$want'"
	stop_blkfuse
}

@test "#3 GPT first LBA 2^55+2048 (byte offset wraps): invalid, not exposed" {
	check_table gpt-overflow
}

@test "#3 GPT last LBA 2^63: invalid, not exposed" {
	check_table gpt-end-overflow
}

@test "#3 GPT on 4096-byte sectors, first LBA 2^52+256: invalid, not exposed" {
	check_table gpt-4k-overflow
}

@test "#4 GPT inverted entry (last < first): invalid, p3 and the free space after it intact" {
	check_table gpt-inverted
}

@test "#4 GPT zero-size entry: invalid, does not split free space" {
	check_table gpt-zero
}

@test "#4 DOS entries past the end, of zero size, overflowing 32 bits: never exposed" {
	check_table dos-edge
}

@test "#4 DOS entry running past the end: clipped, exposed" {
	check_table dos-straddle
}

@test "#4 BSD slices on 4096-byte sectors: misaligned and zero-size slices invalid" {
	check_table bsd-4k
}

@test "#4 BSD zero-size slice: invalid, not a 0-byte file" {
	check_table bsd-zero
}

@test "the source images are unchanged" {
	assert_sources_unchanged
}
