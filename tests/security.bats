#!/usr/bin/env bats
# Issue 20: who may steer a daemon, what a hostile container may make it
# read, and what a signal at the wrong moment leaves behind.  Each test was
# seen failing on main before its fix.
load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/gpt.img
	make_gpt_image "$IMG"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
	OPEN_DIR=
}

teardown() {
	blkfuse_teardown
	[ -z "$OPEN_DIR" ] || rm -rf "$OPEN_DIR"
}

teardown_file() {
	assert_sources_unchanged
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# A mount point and image that uid 65534 can reach (bats' temp dirs are 0700).
open_mountpoint() {
	OPEN_DIR=$(mktemp -d /tmp/blkfuse-security.XXXXXX)
	chmod 755 "$OPEN_DIR"
	MNT=$OPEN_DIR/mnt
	mkdir "$MNT"
	cp "$IMG" "$OPEN_DIR/src.img"
	chmod 644 "$OPEN_DIR/src.img"
}

# ---- 1. reading the control file is not controlling the daemon ------------------

@test "#1 --ctl-mode 0644: uid 65534 reads the control file but cannot set, reset or abort" {
	open_mountpoint
	start_blkfuse --ctl=auto --ctl-mode=0644 -o allow_other "$OPEN_DIR/src.img" "$MNT"
	run as_nobody "$BLKFUSE" ctl "$MNT" get pause
	assert_success
	assert_output 0
	cat "$MNT/p1" >/dev/null
	local k
	for k in pause=1 rate_limit=1 abort=1; do
		run as_nobody "$BLKFUSE" ctl "$MNT" set "$k"
		assert_failure
		assert_output "blkfuse: error: $MNT/.blkfuse-ctl: Permission denied"
	done
	run as_nobody "$BLKFUSE" ctl "$MNT" reset
	assert_failure
	assert_output --partial 'Permission denied'
	assert_equal "$(ctl_get pause)" 0
	assert_equal "$(ctl_get rate_limit)" 0
	[ "$(ctl_get read_bytes)" -gt 0 ]
	mountpoint -q "$MNT"
	# the raw ioctls too, not only the client's choice of them
	run as_nobody /usr/bin/python3 - "$MNT/.blkfuse-ctl" <<-'PY'
	import errno, fcntl, sys
	SET_TEXT = (1 << 30) | (1024 << 16) | (ord('B') << 8) | 5
	RESET = (ord('B') << 8) | 4
	with open(sys.argv[1], "rb", buffering=0) as f:
	    for cmd, arg in ((SET_TEXT, bytearray(b"pause=1".ljust(1024, b"\0"))), (RESET, 0)):
	        try:
	            fcntl.ioctl(f, cmd, arg)
	            print("accepted")
	        except OSError as e:
	            print(errno.errorcode[e.errno])
	PY
	assert_output $'EACCES\nEACCES'
	assert_equal "$(ctl_get pause)" 0
	# the owner (root here) still steers it
	"$BLKFUSE" ctl "$MNT" set rate_limit=8m
	assert_equal "$(ctl_get rate_limit)" $((8 * 1048576))
}

@test "#1 --ctl-mode 0666: the write bit lets uid 65534 set" {
	open_mountpoint
	start_blkfuse --ctl=auto --ctl-mode=0666 -o allow_other "$OPEN_DIR/src.img" "$MNT"
	as_nobody "$BLKFUSE" ctl "$MNT" set rate_limit=8m
	assert_equal "$(ctl_get rate_limit)" $((8 * 1048576))
}

@test "#1 CUSE node opened for reading: set refused with EACCES" {
	[ -c /dev/cuse ] || skip "no CUSE in this kernel (tests/vm/guest/cuse.bats)"
	open_mountpoint
	start_blkfuse --ctl=cuse --name "sec-a-$$" --ctl-mode=0644 "$OPEN_DIR/src.img" "$MNT"
	run as_nobody "$BLKFUSE" ctl "/dev/blkfuse-sec-a-$$" set pause=1
	assert_failure
	assert_output --partial 'Permission denied'
	assert_equal "$(ctl_get pause)" 0
}

@test "review: ctl get whose read fails says why and exits 1 (not 251)" {
	run "$BLKFUSE" ctl /proc/self/mem get pause
	assert_equal "$status" 1
	assert_output "blkfuse: error: ctl: reading the snapshot: Input/output error"
}

# ---- 2. split raw sets of more segments than the soft limit on open files ------

# split_set DIR N: N segments of 32 KiB (DIR/ev.0001 ...), DIR/whole joined.
split_set() {
	mkdir -p "$1"
	head -c $(($2 * 32768)) /dev/urandom >"$1/whole"
	(cd "$1" && split -b 32K -a 4 -d --numeric-suffixes=1 whole ev.)
}

@test "#2 a 1280-segment split set under ulimit -Sn 1024 lists, mounts and reads right" {
	split_set "$BATS_TEST_TMPDIR/set" 1280
	ulimit -Sn 1024
	run "$BLKFUSE" --list "$BATS_TEST_TMPDIR/set/ev.0001"
	assert_success
	assert_output --partial 'split, 1280 files'
	start_blkfuse "$BATS_TEST_TMPDIR/set/ev.0001" "$MNT"
	cmp "$MNT/disk" "$BATS_TEST_TMPDIR/set/whole"
	cat "$BATS_TEST_TMPDIR"/set/ev.* | cmp - "$BATS_TEST_TMPDIR/set/whole"
}

@test "#2 too few descriptors even at the hard limit: the failure names the set" {
	split_set "$BATS_TEST_TMPDIR/set" 1016
	run bash -c 'ulimit -n 1024; exec "$0" -f "$1" "$2"' "$BLKFUSE" \
		"$BATS_TEST_TMPDIR/set/ev.0001" "$MNT"
	assert_failure
	assert_output --partial "Too many open files"
	# the last line says which source (not a bare "Too many open files")
	assert_equal "$(tail -1 <<<"$output" | grep -c "^blkfuse: error: $BATS_TEST_TMPDIR/set/ev.0001: ")" 1
	run bash -c 'ulimit -n 1000; exec "$0" --list "$1"' "$BLKFUSE" "$BATS_TEST_TMPDIR/set/ev.0001"
	assert_failure
	assert_output --regexp "^blkfuse: error: $BATS_TEST_TMPDIR/set/ev\.[0-9]+: Too many open files"
}

# ---- 9. glob characters in the path -----------------------------------------------

@test "#9 in a folder named 'case[1]*?', a split set missing .005 is refused like anywhere" {
	local d="$BATS_TEST_TMPDIR/case[1]*?"
	mkdir "$d"
	head -c 8M /dev/urandom >"$BATS_TEST_TMPDIR/whole"
	split -b 1M -d -a 3 --numeric-suffixes=1 "$BATS_TEST_TMPDIR/whole" "$d/ev."
	rm "$d/ev.005"
	run -1 "$BLKFUSE" --list "$d/ev.001"
	assert_output "blkfuse: error: $d/ev.005: missing segment of the split set $d/ev.001 (4 found before it, more after)"
	# relative, from inside the folder: no directory part at all
	run -1 bash -c 'cd "$1" && exec "$0" --list ev.001' "$BLKFUSE" "$d"
	assert_output --regexp "^blkfuse: .*ev\.005: missing segment of the split set .*ev\.001 \(4 found before it, more after\)$"
}

# ---- 7. a descriptor cannot name any host file; never wider than a backing file -

# flat_vmdk DESC EXTENT SECTORS: a one-extent flat descriptor.
flat_vmdk() {
	cat >"$1" <<-EOT
	# Disk DescriptorFile
	version=1
	CID=12345678
	parentCID=ffffffff
	createType="monolithicFlat"
	RW $3 FLAT "$2" 0
	EOT
}

@test "#7 flat VMDK extents: absolute, '..' and symlinks out are refused; --extents-anywhere allows them" {
	local d=$BATS_TEST_TMPDIR/case secret=$BATS_TEST_TMPDIR/secret
	mkdir "$d"
	head -c 1M /dev/urandom >"$secret"
	flat_vmdk "$d/abs.vmdk" "$secret" 2048
	run -1 "$BLKFUSE" --list "$d/abs.vmdk"
	assert_output "blkfuse: error: $d/abs.vmdk: extent \"$secret\" is outside the descriptor's folder (an absolute path, '..' or a symbolic link out of it); refused (--extents-anywhere allows it)"
	flat_vmdk "$d/up.vmdk" ../secret 2048
	run -1 "$BLKFUSE" --list "$d/up.vmdk"
	assert_output --partial "extent \"../secret\" is outside the descriptor's folder"
	ln -s "$secret" "$d/link-flat.vmdk"
	flat_vmdk "$d/link.vmdk" link-flat.vmdk 2048
	run -1 "$BLKFUSE" --list "$d/link.vmdk"
	assert_output --partial "extent \"link-flat.vmdk\" is outside the descriptor's folder"
	start_blkfuse --extents-anywhere "$d/link.vmdk" "$MNT"
	cmp "$MNT/disk" "$secret"
}

@test "#7 flat VMDK: a 0644 descriptor over a 0600 extent gives 0400 files; uid 65534 reads nothing" {
	open_mountpoint
	head -c 1M /dev/urandom >"$OPEN_DIR/x-flat.vmdk"
	chmod 600 "$OPEN_DIR/x-flat.vmdk"
	flat_vmdk "$OPEN_DIR/x.vmdk" x-flat.vmdk 2048
	chmod 644 "$OPEN_DIR/x.vmdk"
	start_blkfuse -o allow_other "$OPEN_DIR/x.vmdk" "$MNT"
	run stat -c '%a' "$MNT/disk"
	assert_output 400
	run as_nobody head -c 512 "$MNT/disk"
	assert_failure
	assert_output --partial 'Permission denied'
}

@test "#7 split raw: one segment of another owner, 0600, takes others' and the group's read bits away" {
	open_mountpoint
	head -c 2M /dev/urandom >"$OPEN_DIR/whole"
	split -b 1M -d -a 3 --numeric-suffixes=1 "$OPEN_DIR/whole" "$OPEN_DIR/ev."
	chmod 644 "$OPEN_DIR/ev.001"
	chown 65534:65534 "$OPEN_DIR/ev.002"
	chmod 600 "$OPEN_DIR/ev.002"
	start_blkfuse -o allow_other "$OPEN_DIR/ev.001" "$MNT"
	run stat -c '%a %u' "$MNT/disk"
	assert_output '0 0'
	run as_nobody head -c 512 "$MNT/disk"
	assert_failure
}

# ---- 8. a FIFO among the segments ---------------------------------------------------

@test "#8 a FIFO as a split segment or a VMDK extent: refused at once, naming it" {
	local d=$BATS_TEST_TMPDIR/f
	mkdir "$d"
	head -c 3M /dev/urandom >"$BATS_TEST_TMPDIR/whole"
	split -b 1M -d -a 3 --numeric-suffixes=1 "$BATS_TEST_TMPDIR/whole" "$d/ev."
	rm "$d/ev.002"
	mkfifo "$d/ev.002"
	run -1 timeout 10 "$BLKFUSE" --list "$d/ev.001"
	assert_output "blkfuse: error: $d/ev.002: segment is not a regular file"
	run -1 timeout 10 "$BLKFUSE" -f "$d/ev.001" "$MNT"
	assert_output "blkfuse: error: $d/ev.002: segment is not a regular file"
	mkfifo "$d/p-flat.vmdk"
	flat_vmdk "$d/p.vmdk" p-flat.vmdk 2048
	run -1 timeout 10 "$BLKFUSE" --list "$d/p.vmdk"
	assert_output "blkfuse: error: $d/p-flat.vmdk: segment is not a regular file"
}

# ---- 3. audit records are JSON however long ------------------------------------------

# assert_jsonl FILE: every line is one JSON object.
assert_jsonl() {
	local line n=0
	while IFS= read -r line; do
		n=$((n + 1))
		jq -e 'type == "object"' <<<"$line" >/dev/null ||
			fail "line $n of $1 is not JSON (${#line} bytes)"
	done <"$1"
	[ "$n" -gt 0 ] || fail "$1 is empty"
}

@test "#3 the audit start record of 60 E01 segments under a long path is whole JSON" {
	local d=$BATS_TEST_TMPDIR/$(printf 'd%.0s' {1..200})/$(printf 'e%.0s' {1..200})
	local log=$BATS_TEST_TMPDIR/audit.jsonl desc
	desc=$(printf 'a long case description, ' {1..40})
	mkdir -p "$d"
	head -c 60M /dev/urandom >"$BATS_TEST_TMPDIR/raw"
	ewfacquire -u -q -t "$d/ev" -c none -S 1MiB -D "$desc" "$BATS_TEST_TMPDIR/raw" >/dev/null
	[ -f "$d/ev.E60" ]
	start_blkfuse --audit "$log" "$d/ev.E01" "$MNT"
	cmp "$MNT/disk" "$BATS_TEST_TMPDIR/raw"
	stop_blkfuse
	assert_jsonl "$log"
	run jq -r 'select(.ev == "start") | "\(.source) \(.container.segments | length)"' "$log"
	assert_output "$d/ev.E01 $(ls "$d" | grep -c '^ev\.E')"
	run jq -r 'select(.ev == "start") | .container.metadata.description // .container.description' "$log"
	assert_output --partial "$desc"
}

@test "#3 a rotated record over 5120 bytes (a source path of control characters) is written, as JSON" {
	local c=$(printf '\001%.0s' {1..250}) log=$BATS_TEST_TMPDIR/audit.jsonl
	local d=$BATS_TEST_TMPDIR/$c/$c/$c/$c
	mkdir -p "$d"
	cp "$IMG" "$d/src.img"
	start_blkfuse --audit "$log" "$d/src.img" "$MNT"
	mv "$log" "$log.1"
	kill -HUP "$DAEMON_PID"
	wait_until "the rotated file" test -s "$log"
	stop_blkfuse
	assert_jsonl "$log.1"
	assert_jsonl "$log"
	run jq -r 'select(.ev == "rotated") | .source' "$log"
	assert_output "$d/src.img"
	[ "$(head -1 "$log" | wc -c)" -gt 5120 ]
}

# ---- 6. a truncated container: EIO or zeros, never the daemon's heap ---------------

@test "#6 a truncated QCOW2: EIO where the file ends (logged); --on-error=zero gives qemu-img's bytes, zeros for the cut" {
	EXPECTED_LOG='Input/output error'
	local q=$BATS_TEST_TMPDIR/s.qcow2 ref=$BATS_TEST_TMPDIR/ref.raw
	head -c 8M /dev/urandom >"$BATS_TEST_TMPDIR/raw"
	qemu-img convert -f raw -O qcow2 "$BATS_TEST_TMPDIR/raw" "$q"
	truncate -s -767 "$q"
	qemu-img convert -O raw "$q" "$ref"
	start_blkfuse "$q" "$MNT"
	run dd if="$MNT/disk" of="$BATS_TEST_TMPDIR/out" bs=64k
	assert_failure
	assert_output --partial 'Input/output error'
	local got
	got=$(stat -c %s "$BATS_TEST_TMPDIR/out")
	[ "$got" -gt $((7 << 20)) ]
	cmp "$BATS_TEST_TMPDIR/out" <(head -c "$got" "$ref")
	grep -q 'Input/output error' "$DAEMON_LOG"
	stop_blkfuse
	start_blkfuse --on-error=zero "$q" "$MNT"
	# what differs from qemu-img is the one sector the cut runs through,
	# and there blkfuse has zeros
	run bash -c "cmp -l '$MNT/disk' '$ref' | awk '\$2 != 0 || \$1 <= $((8 << 20)) - 1024 { bad++ } END { print NR, bad + 0 }'"
	assert_success
	read -r n bad <<<"$output"
	[ "$n" -lt 512 ] && [ "$bad" -eq 0 ] || fail "$n bytes differ, $bad not zeros of the last sector"
	grep -q 'zero' "$DAEMON_LOG"
}

@test "review: a QCOW2's relative backing file is looked for beside the image, not in the daemon's cwd" {
	local s=$BATS_TEST_TMPDIR/b
	mkdir "$s"
	head -c 1M /dev/zero >"$s/base.raw"
	qemu-img create -q -u -f qcow2 -b base.raw -F raw "$s/child.qcow2" 1M
	head -c 1M /dev/urandom >"$s/base.raw"
	qemu-img convert -q -f qcow2 -O raw "$s/child.qcow2" "$s/flat.raw"
	# from another working directory: the chain is read through base.raw
	# beside the image (never a base.raw in the daemon's cwd)
	head -c 1M /dev/zero >"$BATS_TEST_TMPDIR/base.raw"
	run -0 bash -c "cd '$BATS_TEST_TMPDIR' && '$BLKFUSE' hash '$s/child.qcow2' 2>/dev/null"
	assert_output "$(sha256sum <"$s/flat.raw" | cut -d' ' -f1)  disk"
}

# ---- 4. SIGTERM stops --verify-after -----------------------------------------------

@test "#4 SIGTERM during --verify-after of a 64 GiB source: stops, says interrupted (stderr, audit), exit 1" {
	EXPECTED_LOG='no partition table|interrupted by SIGTERM'
	local src=$BATS_TEST_TMPDIR/big.img log=$BATS_TEST_TMPDIR/a.jsonl rc=0
	truncate -s 64G "$src"
	start_blkfuse --verify-after --audit "$log" "$src" "$MNT"
	fusermount3 -u "$MNT"
	# unmounted: the daemon is hashing the source again (for tens of seconds)
	wait_until "the mount is gone" bash -c "! grep -qs ' $MNT fuse' /proc/self/mounts"
	sleep 1
	kill -TERM "$DAEMON_PID"
	if ! timeout 10 tail --pid="$DAEMON_PID" -f /dev/null; then
		kill -9 "$DAEMON_PID"
		fail "still running 10 s after SIGTERM"
	fi
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 1
	grep -q "big.img: --verify-after interrupted by SIGTERM; the source was not verified" "$DAEMON_LOG"
	run jq -c 'select(.ev == "stop") | [.exit, .verify_after, .verify_after_matches]' "$log"
	assert_output '[1,"interrupted by SIGTERM",null]'
}

# ---- 5. a signal during the private probe mount -------------------------------------

# In a mount namespace of its own, with a tmpfs on /run (other runs' probe
# mounts are not ours to judge): 'blkfuse --list SRC', sent SIG once its
# probe mount is up; says "clean", or what stays (and releases it).
probe_and_signal() {
	cat >"$BATS_TEST_TMPDIR/inner" <<-'SH'
	set -u
	blkfuse=$1 src=$2 sig=$3 log=$4
	# probe mounts on our /run only (the rest of the host's are shadowed)
	probes() {
		awk -v run="$run" '$2 == run && $5 ~ /blkfuse-probe/ { print $3, $5 }' \
			/proc/self/mountinfo
	}
	release() {
		for d in $(probes | cut -d' ' -f1); do
			echo 1 >"/sys/fs/fuse/connections/${d#0:}/abort"
		done
	}
	mount -t tmpfs blkfuse-test /run || exit 90
	exec 2>/dev/null	# bash's "Killed" line is not a finding; stdout says
	run=$(awk '$5 == "/run" && / - tmpfs blkfuse-test / { id = $1 } END { print id }' \
		/proc/self/mountinfo)
	"$blkfuse" --list "$src" >/dev/null 2>"$log" &
	pid=$!
	for _ in $(seq 200); do
		[ -n "$(probes)" ] && break
		sleep 0.05
	done
	[ -n "$(probes)" ] || { echo "no probe mount"; kill -9 $pid; exit 1; }
	sleep 0.3	# libblkid's first read is now waiting on faulty_fs
	kill -"$sig" $pid
	# what is in flight is answered first (a readahead: many slow reads)
	if ! timeout 40 tail --pid=$pid -f /dev/null; then
		echo "still there 40 s after SIG$sig: $(cut -d' ' -f3 /proc/$pid/stat)"
		release
		exit 1
	fi
	wait $pid
	for _ in $(seq 50); do
		[ -z "$(probes)" ] && break
		sleep 0.1
	done
	[ -z "$(probes)" ] || { echo "mounted: $(probes)"; release; exit 1; }
	left=$(printf '%s\n' /run/blkfuse-probe.* | grep -v '\*')
	[ -z "$left" ] || { echo "a directory stays: $left"; exit 1; }
	echo clean
	SH
	unshare -m --propagation private bash "$BATS_TEST_TMPDIR/inner" "$@"
}

# signal_during_probe SIG: a QCOW2 on faulty_fs whose data reads take
# 0.1 s each (a probe then takes seconds), so that the signal comes while a
# read of the probe mount waits.
signal_during_probe() {
	local q=$BATS_TEST_TMPDIR/p.qcow2 from
	qemu-img convert -f raw -O qcow2 "$IMG" "$q"
	from=$(qemu-img map --output=json "$q" | jq '[.[] | select(.data) | .offset] | min')
	FAULTY_MNT=$BATS_TEST_TMPDIR/faulty
	mkdir -p "$FAULTY_MNT"
	FAULTY_SLOW_MS=100 FAULTY_SLOW_FROM=$from \
		"$REPO/tests/faulty_fs" "$q" 0 0 "$FAULTY_MNT" -f 2>/dev/null &
	FAULTY_PID=$!
	wait_until "faulty_fs is mounted" test -e "$FAULTY_MNT/img"
	run probe_and_signal "$BLKFUSE" "$FAULTY_MNT/img" "$1" "$DAEMON_LOG"
	assert_output clean
	assert_success
}

@test "#5 SIGTERM while the probe mount is read: blkfuse exits, nothing stays mounted" {
	signal_during_probe TERM
}

@test "#5 SIGINT (Ctrl-C, default action before serve()) during the probe: nothing stays mounted" {
	signal_during_probe INT
}

@test "#5 SIGKILL during the probe: nothing stays mounted" {
	signal_during_probe KILL
}

# ---- review items ------------------------------------------------------------------

@test "review: an instance that fails (--verify mismatch, busy mount point) leaves another's --pidfile" {
	local pf=$BATS_TEST_TMPDIR/blkfuse.pid m2=$BATS_TEST_TMPDIR/m2
	mkdir "$m2"
	start_blkfuse --pidfile "$pf" "$IMG" "$MNT"
	assert_equal "$(cat "$pf")" "$DAEMON_PID"
	run "$BLKFUSE" --pidfile "$pf" --verify "sha256:$(printf '0%.0s' {1..64})" "$IMG" "$m2"
	assert_equal "$status" 3
	run "$BLKFUSE" --pidfile "$pf" "$IMG" "$MNT"
	assert_failure
	[ -f "$pf" ] || fail "the running instance's pid file was removed"
	assert_equal "$(cat "$pf")" "$DAEMON_PID"
}

@test "#7 EWF set: an E02 readable by its owner only makes the mount's files 0400" {
	open_mountpoint
	head -c 3M /dev/urandom >"$OPEN_DIR/raw"
	ewfacquire -u -q -t "$OPEN_DIR/ev" -c none -S 1MiB "$OPEN_DIR/raw" >/dev/null
	chmod 644 "$OPEN_DIR"/ev.E0*
	chmod 600 "$OPEN_DIR/ev.E02"
	start_blkfuse -o allow_other "$OPEN_DIR/ev.E01" "$MNT"
	run stat -c '%a' "$MNT/disk"
	assert_output 400
	run as_nobody head -c 512 "$MNT/disk"
	assert_failure
	assert_output --partial 'Permission denied'
}
