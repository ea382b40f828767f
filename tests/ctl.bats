#!/usr/bin/env bats
# The control protocol through the file transport (this kernel has no
# CUSE): every tunable changes behaviour measurably; text and ioctls agree.
# tests/vm/guest/cuse.bats runs the same protocol on a real CUSE node.

load helpers

setup_file() {
	export GPT=$BATS_FILE_TMPDIR/gpt.img
	make_gpt_image "$GPT"
	record_checksums "$GPT"
}

setup() {
	blkfuse_setup
	# With CUSE the protocol is served on /dev/blkfuse-NAME, not in the
	# mount: this file's subject does not exist there.
	[ ! -c /dev/cuse ] ||
		skip "this kernel has CUSE: no control file (tests/vm/guest/cuse.bats covers the protocol)"
	start_blkfuse --ctl=auto "$GPT" "$MNT"
	CTL=$MNT/.blkfuse-ctl
}

teardown() {
	blkfuse_teardown
}

ctl() {
	"$BLKFUSE" ctl "$MNT" "$@"
}

# raw_stats FIELD: a field of struct blkfuse_stats through BLKFUSE_IOC_GET_STATS.
raw_stats() {
	python3 - "$CTL" "$1" <<-'PY'
	import fcntl, struct, sys
	fields = ["version", "size", "uptime_ms", "read_bytes", "spliced_bytes",
	          "copied_bytes", "spliced_reqs", "copied_reqs"]
	size = 520
	IOR = (2 << 30) | (size << 16) | (ord('B') << 8) | 1
	buf = bytearray(size)
	with open(sys.argv[1], "rb", buffering=0) as f:
	    fcntl.ioctl(f, IOR, buf)
	vals = struct.unpack_from("<IIQQQQQQ", buf)
	print(vals[fields.index(sys.argv[2])])
	PY
}

@test "no CUSE here: the control file, root-only, said once on stderr" {
	[ -c /dev/cuse ] && skip "this kernel has CUSE"
	run stat -c '%a %U' "$CTL"
	assert_output '600 root'
	run grep -c 'no CUSE in this kernel' "$DAEMON_LOG"
	assert_output 1
	# not listed by ls, so imaging globs never pick it up
	run ls "$MNT"
	refute_output --partial blkfuse-ctl
}

@test "cat shows every tunable and statistic, one 'key value' per line, and ends" {
	run timeout 5 cat "$CTL"
	assert_success
	local k
	for k in splice pipe_size max_reply readahead_kb source_io rate_limit pause \
		log_level max_background congestion_threshold last_error uptime_s \
		threads waiting read_bytes spliced_bytes copied_bytes spliced_reqs \
		copied_reqs fallback.splice_off fallback.pipe_limit inflight \
		inflight_peak lat_p50_us lat_p99_us file.disk.bytes file.p1.reads; do
		assert_line --regexp "^$k [^ ]"
	done
	run grep -vc '^[a-zA-Z0-9_./-]\+ .\+$' "$CTL"
	assert_output 0
}

# A reply is counted before it is written, so the counters include every
# byte a reader has got by the time its read returns: exact, no waiting.
@test "default config splices every byte of a sequential read; counters exact" {
	cat "$MNT/p2" >/dev/null
	dd if="$MNT/p3" of=/dev/null bs=1M iflag=direct status=none
	local want=$(( $(stat -c %s "$MNT/p2") + $(stat -c %s "$MNT/p3") ))
	assert_counter read_bytes "$want"
	assert_counter spliced_bytes "$want"
	assert_counter copied_bytes 0
	assert_counter file.p2.bytes "$(stat -c %s "$MNT/p2")"
	assert_counter file.p3.bytes "$(stat -c %s "$MNT/p3")"
	local fb
	for fb in splice_off small pipe_limit pipe_error source fuse_write; do
		assert_counter fallback.$fb 0
	done
}

@test "replies under 8 KiB are copied, counted as 'small'" {
	dd if="$MNT/p2" of=/dev/null bs=4096 count=3 iflag=direct status=none
	assert_equal "$(ctl_get fallback.small)" 3
	assert_equal "$(ctl_get copied_bytes)" 12288
	assert_equal "$(ctl_get spliced_bytes)" 0
	dd if="$MNT/p2" of=/dev/null bs=8192 count=1 iflag=direct status=none
	assert_equal "$(ctl_get spliced_bytes)" 8192
}

@test "splice=0 copies (counted as splice_off) and the bytes are the same" {
	ctl set splice=0
	assert_equal "$(ctl_get splice)" 0
	local size; size=$(stat -c %s "$MNT/p1")
	cmp <(dd if="$GPT" bs=1M skip=1 count=$((size / 1048576)) status=none) "$MNT/p1"
	assert_counter copied_bytes "$size"
	assert_counter spliced_bytes 0
	assert_counter fallback.splice_off "$(ctl_get copied_reqs)"
	[ "$(ctl_get copied_reqs)" -gt 0 ]
	ctl set splice=1
	ctl reset
	# after splice=1 every byte of p2 must be spliced: 32 replies of 512 KiB
	dd if="$MNT/p2" of=/dev/null bs=1M iflag=direct status=none
	assert_counter spliced_bytes "$(stat -c %s "$MNT/p2")"
	assert_counter spliced_reqs 32
	assert_counter copied_bytes 0
}

@test "pipe_size too small for a reply: copied, counted as pipe_limit" {
	ctl set pipe_size=65536
	dd if="$MNT/p2" of=/dev/null bs=512K count=4 iflag=direct status=none
	assert_equal "$(ctl_get fallback.pipe_limit)" 4
	assert_equal "$(ctl_get copied_bytes)" $((4 * 524288))
	ctl set pipe_size=0
	dd if="$MNT/p2" of=/dev/null bs=512K count=4 iflag=direct status=none
	assert_equal "$(ctl_get spliced_bytes)" $((4 * 524288))
}

@test "readahead_kb is the mount's bdi read_ahead_kb, and READs grow with it" {
	local bdi=/sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb
	assert_equal "$(ctl_get readahead_kb)" "$(cat "$bdi")"
	ctl set readahead_kb=512
	assert_equal "$(cat "$bdi")" 512
	ctl reset
	cat "$MNT/p2" >/dev/null
	# 16 MiB in READs of up to 512 KiB (max_reply), not 128 KiB
	[ "$(ctl_get req.read)" -le 40 ]
}

@test "max_background and congestion_threshold go to fusectl; waiting is shown" {
	ctl set max_background=30 congestion_threshold=20
	local conn=/sys/fs/fuse/connections/$(mountpoint -d "$MNT" | cut -d: -f2)
	assert_equal "$(cat "$conn/max_background")" 30
	assert_equal "$(cat "$conn/congestion_threshold")" 20
	assert_equal "$(ctl_get max_background)" 30
	[ -n "$(ctl_get waiting)" ]
}

@test "a write is atomic: one bad key or value fails all of it, with last_error" {
	run "$BLKFUSE" ctl "$MNT" set splice=0 nosuchkey=1
	assert_failure
	assert_output "blkfuse: error: ctl: unknown key 'nosuchkey'"
	assert_equal "$(ctl_get splice)" 1
	assert_equal "$(ctl_get last_error)" "unknown key 'nosuchkey'"
	run "$BLKFUSE" ctl "$MNT" set splice=0 readahead_kb=lots
	assert_failure
	assert_equal "$(ctl_get splice)" 1
	run "$BLKFUSE" ctl "$MNT" set max_reply=4096
	assert_failure
	assert_output --partial 'fixed at mount'
	# the raw ioctl says EINVAL
	run python3 -c "
import fcntl, errno
buf = bytearray(b'splice=2'.ljust(1024, b'\0'))
IOW = (1 << 30) | (1024 << 16) | (ord('B') << 8) | 5
try:
    fcntl.ioctl(open('$CTL', 'rb', buffering=0), IOW, buf)
except OSError as e:
    print(errno.errorcode[e.errno])"
	assert_output EINVAL
	ctl set splice=0 log_level=info
	assert_equal "$(ctl_get splice)" 0
	assert_equal "$(ctl_get log_level)" info
	assert_equal "$(ctl_get last_error)" -
}

@test "ioctl GET_STATS and the text agree; RESET_STATS zeroes" {
	cat "$MNT/p1" >/dev/null
	assert_equal "$(raw_stats read_bytes)" "$(ctl_get read_bytes)"
	assert_equal "$(raw_stats spliced_bytes)" "$(ctl_get spliced_bytes)"
	assert_equal "$(raw_stats version)" 1
	assert_equal "$(raw_stats size)" 520
	ctl reset
	assert_equal "$(ctl_get read_bytes)" 0
	assert_equal "$(raw_stats read_bytes)" 0
}

# Only what cannot vary with the machine's speed: each read books a slot
# 1/32 s (256 KiB at 8 MiB/s) after the one before on one clock shared by
# all readers, so 64 reads by two readers take at least 63/32 s; any
# slower is not the rate limit's doing and is not asserted.
@test "rate_limit: a clock shared by all readers; at least 63 slots for 64 reads" {
	ctl set rate_limit=8m
	assert_equal "$(ctl_get rate_limit)" $((8 * 1048576))
	local t0 t1 a b
	t0=$(mono_ns)
	dd if="$MNT/p2" of=/dev/null bs=256K count=32 iflag=direct status=none &
	a=$!
	dd if="$MNT/p2" of=/dev/null bs=256K skip=32 count=32 iflag=direct status=none &
	b=$!
	wait "$a"
	wait "$b"
	t1=$(mono_ns)
	assert_counter file.p2.reads 64
	assert_counter file.p2.bytes $((16 * 1048576))
	[ $((t1 - t0)) -ge $((63 * 1000000000 / 32)) ] ||
		fail "64 reads of 256 KiB at 8 MiB/s took $((t1 - t0)) ns, under 63/32 s"
	# and off again: the limit no longer applies (nothing timed here)
	ctl set rate_limit=0
	assert_equal "$(ctl_get rate_limit)" 0
}

# held_by_pause PID: the reader PID waits in the kernel for a FUSE reply,
# the daemon has the request (inflight 1) and its throttle holds it
# (parked 1): a state that only pause=0 ends.
held_by_pause() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || state=
	if [ -z "$state" ] || [ "$state" = Z ]; then
		echo "the reader finished while paused" >&2
		return 2
	fi
	[[ "$(cat "/proc/$1/wchan")" == fuse_* ]] || return 1
	[ "$(ctl_get inflight)" = 1 ] || return 1
	# parked by the throttle: pause holds it, not a worker
	[ "$(ctl_get parked)" = 1 ] || return 1
	return 0
}

@test "pause holds a new read until pause=0 releases it; stats work meanwhile" {
	local out=$BATS_TEST_TMPDIR/out
	ctl set pause=1
	dd if="$MNT/p3" of="$out" bs=4096 count=1 iflag=direct status=none &
	local reader=$!
	wait_until "the read is held by pause" held_by_pause "$reader"
	# the control works while a read is held, and says so
	assert_equal "$(ctl_get pause)" 1
	assert_equal "$(ctl_get inflight)" 1
	assert_counter file.p3.reads 0
	# still held after all that, with nothing delivered
	held_by_pause "$reader"
	[ ! -s "$out" ]
	ctl set pause=0
	wait "$reader"
	assert_counter file.p3.reads 1
	cmp <(dd if="$GPT" bs=1M skip=$((1 + 8 + 16)) count=1 status=none | head -c 4096) "$out"
}

@test "source_io=direct reopens the source with O_DIRECT (fdinfo) and reads right" {
	ctl set source_io=direct
	assert_equal "$(ctl_get source_io)" direct
	local fd flags direct=0
	for fd in /proc/$DAEMON_PID/fd/*; do
		[ "$(readlink "$fd")" = "$GPT" ] || continue
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$DAEMON_PID/fdinfo/${fd##*/}")
		[ $((8#$flags & 3)) -eq 0 ]		# still O_RDONLY
		[ $((8#$flags & 8#40000)) -ne 0 ] && direct=1	# O_DIRECT
	done
	[ "$direct" = 1 ]
	cmp <(dd if="$GPT" bs=1M skip=9 count=16 status=none) <(dd if="$MNT/p2" bs=1M iflag=direct status=none)
	ctl set source_io=buffered
}

@test "abort ends the connection: readers get ENOTCONN, the daemon exits 0" {
	EXPECTED_LOG='abort requested'
	exec 5<"$MNT/p1"
	ctl set abort=1
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[ "$rc" -eq 0 ]
	# a reader that had the file open gets ENOTCONN, and the mount is gone
	run dd of=/dev/null bs=4096 count=1 <&5
	assert_failure
	assert_output --partial 'Transport endpoint is not connected'
	exec 5<&-
	run mountpoint -q "$MNT"
	assert_failure
	run grep -c 'abort requested' "$DAEMON_LOG"
	assert_output 1
}

@test "--ctl=none: no control file; --ctl=cuse fails without CUSE" {
	cleanup_daemon
	start_blkfuse --ctl=none "$GPT" "$MNT"
	[ ! -e "$MNT/.blkfuse-ctl" ]
	cleanup_daemon
	[ -c /dev/cuse ] && skip "this kernel has CUSE"
	run --separate-stderr "$BLKFUSE" -f --ctl=cuse "$GPT" "$MNT"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: /dev/cuse: No such file or directory (the kernel has no CUSE; use --ctl=auto)"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
