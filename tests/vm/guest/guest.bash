# Shared by the guest bats files (load guest): the daemon's start and
# teardown inside the VM, where the host's tests/helpers.bash cannot run
# (no python3, jq or sleuthkit in the guest).
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
BLKFUSE=$REPO/blkfuse

# setup: on the host every test skips (skip in setup_file misbehaves in
# bats 1.8); in the guest a fresh $MNT and $LOG.
guest_setup() {
	[ -n "${BLKFUSE_IN_VM:-}" ] || skip "guest test: run it with tests/vm/run-guest-tests"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	DAEMON_PID= LOOP= EXPECTED_LOG=
	LOG=$BATS_TEST_TMPDIR/daemon.log
}

# Unmount, kill, detach $LOOP; then, as on the host (tests/helpers.bash),
# the daemon log may hold no error or warning but those the test declared
# in EXPECTED_LOG (an extended regex).
guest_teardown() {
	local bad
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [ -n "${DAEMON_PID:-}" ]; then
		kill "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	if [ -n "${LOOP:-}" ]; then
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	[ -e "$LOG" ] || return 0
	# every message says its level: an error or warning nobody expected,
	# or a sanitizer's report, fails the test (as tests/helpers.bash)
	bad=$(grep -E '^blkfuse: (error|warning): |^==[0-9]+==ERROR|runtime error:' "$LOG" |
		grep -Eiv -- "${EXPECTED_LOG:-^\$}" || true)
	[ -z "$bad" ] || fail "unexpected lines in the daemon log: $bad"
}

# wait_until WHAT CMD...: poll CMD until it returns 0 (1: not yet; other:
# fail at once), at most 30 s.  For states that are reached and kept.
wait_until() {
	local what=$1 i rc
	shift
	for ((i = 0; i < 1500; i++)); do
		rc=0
		"$@" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 1 ] || fail "$what: never reached"
		sleep 0.02
	done
	fail "timed out waiting until $what"
}

# start [blkfuse args...] SOURCE MOUNTPOINT: mounted when it returns.
start() {
	local fifo=$BATS_TEST_TMPDIR/fifo.$RANDOM r
	mkfifo "$fifo"
	"$BLKFUSE" -f -o notify_pipe="$fifo" "$@" 2>>"$LOG" &
	DAEMON_PID=$!
	r=$(timeout 30 cat "$fifo") || true
	rm -f "$fifo"
	[ "$r" = s ] || { cat "$LOG" >&2; fail "blkfuse did not mount (notify: '$r')"; }
}
