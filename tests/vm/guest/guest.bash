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
	DAEMON_PID=
	LOG=$BATS_TEST_TMPDIR/daemon.log
}

guest_teardown() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [ -n "${DAEMON_PID:-}" ]; then
		kill "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	return 0
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
