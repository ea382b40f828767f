# Shared by every tests/*.bats file: load with `load helpers`.
bats_require_minimum_version 1.5.0
# Daemons are started in the foreground with a notify FIFO (no sleeps), and
# teardown always unmounts, kills and detaches whatever a test left, then
# checks the daemon's log.  Every suite has
#	setup()    { blkfuse_setup; }	(then its own lines, if any)
#	teardown() { blkfuse_teardown; }
# A test that expects warnings or errors in the daemon log says which, as an
# extended regex, anywhere in its body: EXPECTED_LOG='p4 starts at byte'.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BLKFUSE=${BLKFUSE:-$REPO/blkfuse}
TESTDATA=${BLKFUSE_TESTDATA:-$REPO/../shared/testdata}
# The shared real images are not in this repository: the skip says where
# they are looked for and how to point elsewhere.
TESTDATA_SKIP="no real partition-table images in $TESTDATA/pt (the project's shared testdata, a checkout beside this tree; BLKFUSE_TESTDATA=DIR points elsewhere)"

# ---- images -------------------------------------------------------------

# random_image FILE MiB: random contents, so every byte range is distinct.
random_image() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

# DOS: two primaries, an extended with two logicals (p5, p6), a 4th primary.
make_dos_image() {
	random_image "$1" 64
	sfdisk -q "$1" <<-EOT
	label: dos
	unit: sectors

	p1 : start=2048, size=16384, type=83
	p2 : start=18432, size=16384, type=83, bootable
	p3 : start=34816, size=61440, type=5
	p4 : start=96256, size=20480, type=83
	p5 : start=36864, size=20480, type=83
	p6 : start=59392, size=20480, type=82
	EOT
}

# GPT with the usual 128-entry array and three named partitions.
make_gpt_image() {
	random_image "$1" 48
	sfdisk -q "$1" <<-EOT
	label: gpt
	first-lba: 34

	size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
	size=16MiB, type=0657FD6D-A4AB-464C-90E6-3A6F5C8C2D47, name="swap"
	size=10MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="data"
	EOT
}

# setup_file of most suites: $DOS and $GPT, checksummed for the last test.
make_dos_and_gpt_images() {
	export DOS=$BATS_FILE_TMPDIR/dos.img GPT=$BATS_FILE_TMPDIR/gpt.img
	make_dos_image "$DOS"
	make_gpt_image "$GPT"
	record_checksums "$DOS" "$GPT"
}

# ---- setup and teardown of every test ----------------------------------

# A fresh $MNT and log; nothing yet to clean up.
blkfuse_setup() {
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	DAEMON_LOG=$BATS_TEST_TMPDIR/daemon.log
	DAEMON_PID= DAEMON_MNT= EXPECTED_LOG=
	LOOP= FSMNT= FAULTY_MNT= FAULTY_PID=
}

# Unmount, kill and detach what the test left (a file system mounted at
# $FSMNT, the daemon, loop device $LOOP, a tests/faulty_fs at $FAULTY_MNT,
# in that order: each may sit on the next), all of it even if one step
# fails; then the daemon log must be clean.
blkfuse_teardown() {
	local rc=0
	if [ -n "${FSMNT:-}" ] && mountpoint -q "$FSMNT"; then
		umount "$FSMNT" || umount -l "$FSMNT" || rc=1
	fi
	cleanup_daemon || rc=1
	if [ -n "${LOOP:-}" ]; then
		partx -d "$LOOP" 2>/dev/null
		losetup -d "$LOOP" || rc=1
		LOOP=
	fi
	if [ -n "${FAULTY_MNT:-}" ] && mountpoint -q "$FAULTY_MNT"; then
		fusermount3 -u -z "$FAULTY_MNT" || rc=1
	fi
	if [ -n "${FAULTY_PID:-}" ]; then
		kill "$FAULTY_PID" 2>/dev/null
		wait "$FAULTY_PID" 2>/dev/null
		FAULTY_PID=
	fi
	[ "$rc" -eq 0 ] || echo "teardown: could not clean everything up" >&2
	assert_clean_log "${EXPECTED_LOG:-}" || rc=1
	return $rc
}

# Partitions as "partno start_bytes size_bytes", from partx (the oracle).
partx_ranges() {
	partx -g -o NR,START,SECTORS "$@" | awk '{ printf "%s %.0f %.0f\n", $1, $2 * 512, $3 * 512 }'
}

# The same from blkfuse --list --json: data partitions as they are exposed.
blkfuse_ranges() {
	"$BLKFUSE" --list --json "$@" 2>/dev/null |
		jq -r '.partitions[] | "\(.nr) \(.start_bytes) \(.table_size_bytes)"'
}

# mmls's data partitions as "start_bytes size_bytes" (slot column NNN or NNN:NNN).
mmls_ranges() {
	mmls "$@" | awk '$2 ~ /^[0-9]+(:[0-9]+)?$/ { printf "%.0f %.0f\n", $3 * 512, $5 * 512 }'
}

# data_files MNT: the disk and pN files of a mount, one a line, sorted.
data_files() {
	ls "$1" | grep -E '^(disk|p[0-9]+)$' | sort -V
}

# ---- the daemon ---------------------------------------------------------

# start_blkfuse [blkfuse args...] SOURCE MOUNTPOINT: mounted when it returns.
start_blkfuse() {
	local fifo=$BATS_TEST_TMPDIR/notify.$$.$RANDOM r
	mkfifo "$fifo"
	DAEMON_LOG=${DAEMON_LOG:-$BATS_TEST_TMPDIR/daemon.log}
	"$BLKFUSE" -f -o notify_pipe="$fifo" "$@" 2>>"$DAEMON_LOG" &
	DAEMON_PID=$!
	DAEMON_MNT=${!#}
	# Bounded: a daemon that died before opening the FIFO cannot hang us.
	r=$(timeout 20 head -c1 "$fifo")
	rm -f "$fifo"
	if [ "$r" != s ]; then
		echo "blkfuse failed to mount (notify: '$r'); log:" >&2
		cat "$DAEMON_LOG" >&2
		return 1
	fi
}

# stop_blkfuse: unmount and require exit status 0.
stop_blkfuse() {
	fusermount3 -u "$DAEMON_MNT"
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	return $rc
}

# ctl_get KEY: one value from the control file of the current mount.
ctl_get() {
	"$BLKFUSE" ctl "$DAEMON_MNT" get "$1"
}

# assert_clean_log [ERE]: the daemon log (of every daemon this test
# started) has no error or warning line ("blkfuse: error: ...",
# "blkfuse: warning: ..."; every message carries its level) and no
# sanitizer report, except lines matching ERE (case-insensitive).
assert_clean_log() {
	local expected=${1:-'^$'} bad
	[ -n "${DAEMON_LOG:-}" ] && [ -e "$DAEMON_LOG" ] || return 0
	bad=$(grep -E '^blkfuse: (error|warning): |^==[0-9]+==ERROR|runtime error:|WARNING: ThreadSanitizer' "$DAEMON_LOG" |
		grep -Eiv -- "$expected" || true)
	if [ -n "$bad" ]; then
		{ echo "unexpected lines in the daemon log (EXPECTED_LOG='${1:-}'):"
		  echo "$bad"; } | fail
		return 1
	fi
}

# wait_until WHAT CMD...: poll CMD (every 20 ms, at most 20 s) until it
# returns 0; 1 means not yet, anything else fails at once.  For states that
# are reached and then kept (a reader held by pause), never as a timer.
wait_until() {
	local what=$1 i rc
	shift
	for ((i = 0; i < 1000; i++)); do
		rc=0
		"$@" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 1 ] || fail "$what: never reached"
		sleep 0.02
	done
	fail "timed out waiting until $what"
}

# mono_ns: CLOCK_MONOTONIC in nanoseconds, for lower bounds on elapsed time.
mono_ns() {
	python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'
}

# counters: the byte, request, fallback and error counters of the current
# mount, for failure messages.
counters() {
	"$BLKFUSE" ctl "$DAEMON_MNT" show |
		grep -E '^(read_bytes|spliced|copied|fallback|inflight|errors|file)' | xargs
}

# assert_counter KEY WANT: the control's KEY is WANT; if not, the message
# shows every counter (which fallback, which file).
assert_counter() {
	local got
	got=$(ctl_get "$1")
	[ "$got" = "$2" ] || fail "$1 is '$got', not '$2'; counters: $(counters)"
}

cleanup_daemon() {
	if [ -n "${DAEMON_MNT:-}" ] && mountpoint -q "$DAEMON_MNT" 2>/dev/null; then
		fusermount3 -u -z "$DAEMON_MNT" 2>/dev/null || umount -l "$DAEMON_MNT"
	fi
	if [ -n "${DAEMON_PID:-}" ]; then
		kill "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	DAEMON_PID=
	return 0
}

# ---- read-only proof ----------------------------------------------------

# record_checksums FILE...: remember sha256 of each source, per test file.
record_checksums() {
	sha256sum "$@" >"$BATS_FILE_TMPDIR/sources.sha256"
}

assert_sources_unchanged() {
	run sha256sum -c "$BATS_FILE_TMPDIR/sources.sha256"
	assert_success
}
