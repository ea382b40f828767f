# Shared by every tests/*.bats file: load with `load helpers`.
bats_require_minimum_version 1.5.0
# Daemons are started in the foreground with a notify FIFO (no sleeps), and
# teardown always unmounts, kills and detaches whatever a test left.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BLKFUSE=${BLKFUSE:-$REPO/blkfuse}
TESTDATA=${BLKFUSE_TESTDATA:-$REPO/../shared/testdata}

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

# setup and teardown of most suites: a fresh $MNT; the daemon always goes.
fresh_mountpoint() {
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
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

# The daemon log must have no warnings or errors except those expected.
assert_clean_log() {
	local expected=${1:-'^$'}
	run grep -Ei 'error|warn|fatal|crash' "$DAEMON_LOG"
	if [ -n "$output" ]; then
		run grep -Eiv "$expected" <<<"$output"
		assert_output ''
	fi
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
