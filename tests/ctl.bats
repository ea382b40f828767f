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
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	start_blkfuse --ctl=auto "$GPT" "$MNT"
	CTL=$MNT/.blkfuse-ctl
}

teardown() {
	cleanup_daemon
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

@test "default config splices every byte of a sequential read; counters exact" {
	cat "$MNT/p2" >/dev/null
	dd if="$MNT/p3" of=/dev/null bs=1M iflag=direct status=none
	local want=$(( $(stat -c %s "$MNT/p2") + $(stat -c %s "$MNT/p3") ))
	assert_equal "$(ctl_get read_bytes)" "$want"
	assert_equal "$(ctl_get spliced_bytes)" "$want"
	assert_equal "$(ctl_get copied_bytes)" 0
	assert_equal "$(ctl_get file.p2.bytes)" "$(stat -c %s "$MNT/p2")"
	assert_equal "$(ctl_get file.p3.bytes)" "$(stat -c %s "$MNT/p3")"
	assert_equal "$(ctl_get fallback.pipe_limit)" 0
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
	assert_equal "$(ctl_get copied_bytes)" "$size"
	assert_equal "$(ctl_get spliced_bytes)" 0
	[ "$(ctl_get fallback.splice_off)" -gt 0 ]
	ctl set splice=1
	dd if="$MNT/p2" of=/dev/null bs=1M iflag=direct status=none
	assert_equal "$(ctl_get spliced_bytes)" "$(stat -c %s "$MNT/p2")"
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
	assert_output "blkfuse: ctl: unknown key 'nosuchkey'"
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

@test "rate_limit holds throughput within 10% of the limit" {
	ctl set rate_limit=8m
	local t0 t1 bytes=$((16 * 1048576))
	t0=$(date +%s.%N)
	dd if="$MNT/p2" of=/dev/null bs=256K iflag=direct status=none
	t1=$(date +%s.%N)
	# 16 MiB at 8 MiB/s: 2 s
	run python3 -c "r = $bytes / ($t1 - $t0) / 1048576; print(r); exit(0 if 7.2 <= r <= 8.8 else 1)"
	assert_success
	ctl set rate_limit=0
}

@test "pause blocks new reads until resumed; stats work meanwhile" {
	ctl set pause=1
	dd if="$MNT/p3" of="$BATS_TEST_TMPDIR/out" bs=4096 count=1 iflag=direct status=none &
	local reader=$!
	sleep 0.5
	kill -0 "$reader"		# still blocked
	assert_equal "$(ctl_get pause)" 1
	assert_equal "$(ctl_get inflight)" 1
	ctl set pause=0
	wait "$reader"
	cmp <(dd if="$GPT" bs=1M skip=$((1 + 8 + 16)) count=1 status=none | head -c 4096) "$BATS_TEST_TMPDIR/out"
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
	assert_equal "$stderr" "blkfuse: /dev/cuse: No such file or directory (the kernel has no CUSE; use --ctl=auto)"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
