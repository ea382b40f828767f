#!/usr/bin/env bats
# Issue 20, items 10, 12 and 13: what a signal leaves behind.  SIGTERM
# while reads are parked releases them (nobody could lift pause once the
# control file is gone); an instance killed with SIGKILL is not listed as
# running; the audit trail is in the file as events happen, so SIGKILL
# loses no record; a record that cannot be written is counted and said.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/dos.img
	make_dos_image "$IMG"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
	READER= TMPFS= NAME=
}

teardown() {
	# a reader stuck in the daemon dies with it: killed now, reaped after
	[ -z "$READER" ] || kill -9 "$READER" 2>/dev/null
	# a mount whose daemon died: not `mountpoint -q` (it says no on ENOTCONN)
	if grep -qs " $MNT fuse" /proc/self/mounts; then
		fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	[ -z "$NAME" ] || rm -f "/run/blkfuse/$NAME"
	blkfuse_teardown
	[ -z "$READER" ] || wait "$READER" 2>/dev/null
	[ -z "$TMPFS" ] || umount "$TMPFS"
}

gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 0
	[ "$st" = Z ] || [ -z "$st" ]
}

parked_is() { [ "$(ctl_get parked)" = "$1" ]; }
detached() { ! mountpoint -q "$MNT"; }

# ---- 10. SIGTERM while paused ------------------------------------------------

@test "10 SIGTERM while paused: the parked O_DIRECT reader gets its bytes, the daemon exits 0" {
	start_blkfuse "$IMG" "$MNT"
	"$BLKFUSE" ctl "$MNT" set pause=1
	dd if="$MNT/p1" of="$BATS_TEST_TMPDIR/out" bs=4096 skip=3 count=1 iflag=direct status=none &
	READER=$!
	wait_until "the read is parked" parked_is 1
	kill -TERM "$DAEMON_PID"
	wait_until "the mount is detached" detached
	wait_until "the reader is done (not left in D)" gone "$READER"
	wait "$READER"
	READER=
	cmp "$BATS_TEST_TMPDIR/out" <(dd if="$IMG" bs=4096 skip=$((256 + 3)) count=1 status=none)
	wait_until "the daemon exits after the last close" gone "$DAEMON_PID"
	local pid=$DAEMON_PID
	DAEMON_PID=
	run -0 wait "$pid"
	grep -q 'pause and rate_limit lifted' "$DAEMON_LOG"
}

@test "10 SIGTERM while a reader waits in a 1 B/s rate limit: it is released too" {
	start_blkfuse "$IMG" "$MNT"
	"$BLKFUSE" ctl "$MNT" set rate_limit=1
	dd if="$MNT/p1" of=/dev/null bs=4096 count=1 iflag=direct status=none
	dd if="$MNT/p1" of="$BATS_TEST_TMPDIR/out" bs=4096 skip=5 count=1 iflag=direct status=none &
	READER=$!
	wait_until "the read is parked" parked_is 1
	kill -TERM "$DAEMON_PID"
	wait_until "the reader is done" gone "$READER"
	wait "$READER"
	READER=
	cmp "$BATS_TEST_TMPDIR/out" <(dd if="$IMG" bs=4096 skip=$((256 + 5)) count=1 status=none)
	wait_until "the daemon exits" gone "$DAEMON_PID"
	local pid=$DAEMON_PID
	DAEMON_PID=
	run -0 wait "$pid"
}

# ---- 12. an instance killed with SIGKILL is not running ----------------------------

@test "12 blkfuse ctl does not list an instance killed with SIGKILL as running" {
	NAME=lifecycle-$$-$RANDOM
	start_blkfuse --name "$NAME" "$IMG" "$MNT"
	run "$BLKFUSE" ctl no-such-instance-$$
	assert_failure
	assert_output --partial "$NAME"		# listed while it runs
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
	[ -L "/run/blkfuse/$NAME" ]		# the entry it could not remove
	run "$BLKFUSE" ctl no-such-instance-$$
	assert_failure
	refute_output --partial "$NAME"
	run "$BLKFUSE" ctl "$NAME" get pid
	assert_equal "$status" 1
	assert_output --partial "no blkfuse instance '$NAME'"
	# the next instance of that name takes the stale entry (not NAME-2),
	# though the dead mount is still there
	local mnt2=$BATS_TEST_TMPDIR/mnt2
	mkdir "$mnt2"
	start_blkfuse --name "$NAME" "$IMG" "$mnt2"
	assert_equal "$(readlink "/run/blkfuse/$NAME")" "$mnt2/.blkfuse-ctl"
	assert_equal "$("$BLKFUSE" ctl "$NAME" get pid)" "$DAEMON_PID"
	stop_blkfuse
}

# ---- 13. the audit trail survives SIGKILL ---------------------------------------------

# p4_bytes AUDIT: the bytes its read records of p4 say were returned.
p4_bytes() {
	jq -s '[.[] | select(.ev == "read" and .file == "p4") | .returned] | add // 0' "$1"
}

# p4_recorded AUDIT SIZE: p4's release and reads of all its SIZE bytes are in.
p4_recorded() {
	grep -q '"ev":"release","file":"p4"' "$1" && [ "$(p4_bytes "$1")" = "$2" ]
}

@test "13 audit: read p1, hash p4, SIGKILL: every record is in the file" {
	local audit=$BATS_TEST_TMPDIR/audit.jsonl
	start_blkfuse --audit "$audit" "$IMG" "$MNT"
	local p4_size
	p4_size=$(stat -c %s "$MNT/p4")
	dd if="$MNT/p1" of=/dev/null bs=64k count=4 iflag=direct status=none
	sha256sum "$MNT/p4" >/dev/null
	# a record is written just after its reply: wait for the last one
	# (buffered records never come: this is where main fails)
	wait_until "p4's read and release records are in the file" p4_recorded "$audit" "$p4_size"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
	run jq -r .ev "$audit"
	assert_success
	assert_line --index 0 start
	[ "$(jq -c 'select(.ev == "open" and .file == "p1")' "$audit" | wc -l)" -eq 1 ]
	[ "$(jq -c 'select(.ev == "release" and .file == "p4")' "$audit" | wc -l)" -eq 1 ]
	# every byte of p4 that was read, and p1's 256 KiB
	assert_equal "$(jq -s '[.[] | select(.ev == "read" and .file == "p1") | .returned] | add' "$audit")" $((256 << 10))
	assert_equal "$(p4_bytes "$audit")" "$p4_size"
}

@test "13 audit records that cannot be written are counted (audit_lost, lost_records) and said" {
	TMPFS=$BATS_TEST_TMPDIR/small
	mkdir -p "$TMPFS"
	mount -t tmpfs -o size=64k tmpfs "$TMPFS"
	local audit=$TMPFS/audit.jsonl
	EXPECTED_LOG='audit records (lost|could not be written)'
	start_blkfuse --audit "$audit" "$IMG" "$MNT"
	assert_equal "$(ctl_get audit_lost)" 0
	# fill the file system: later records have no room
	dd if=/dev/zero of="$TMPFS/fill" bs=4k status=none 2>/dev/null || true
	dd if="$MNT/p1" of=/dev/null bs=4k count=256 iflag=direct status=none
	local lost
	lost=$(ctl_get audit_lost)
	# (the file's last page may still hold a few records)
	[ "$lost" -ge 200 ] || fail "audit_lost is $lost after 256 reads with a full disk"
	rm "$TMPFS/fill"
	stop_blkfuse
	grep -q "$audit: .*audit records lost" "$DAEMON_LOG"
	grep -qE "$audit: [0-9]+ audit records could not be written" "$DAEMON_LOG"
	jq -e "select(.ev == \"stop\") | .lost_records >= $lost" "$audit"
}


# ---- throttle: no memory to park a read -------------------------------------------

@test "pause=1 and no memory to park a read: it is sent at once (its reader is never stranded)" {
	# the preload replaces malloc: a sanitizer's allocator must not be under it
	if ldd "$BLKFUSE" | grep -qE 'lib[at]san'; then
		skip "$BLKFUSE is built with a sanitizer: malloc cannot be preloaded"
	fi
	local d=$BATS_TEST_TMPDIR
	cc -shared -fPIC -o "$d/fail_malloc.so" "$REPO/tests/fail_malloc.c"
	# the size of the throttle's parked record (read/throttle.c)
	cat >"$d/size.c" <<-'C'
	#include <stdbool.h>
	#include <stdio.h>
	#include "read/read_path.h"
	struct parked { struct parked *next; struct blk_read rd; bool interrupted; };
	int main(void) { printf("%zu\n", sizeof(struct parked)); return 0; }
	C
	cc -D_GNU_SOURCE -DFUSE_USE_VERSION=314 -I"$REPO" -I"$REPO/include" -I"$REPO/core" \
		$(pkg-config --cflags fuse3) -o "$d/size" "$d/size.c"
	local w=$d/with-fail-malloc
	printf '#!/bin/sh\nexport LD_PRELOAD=%s FAIL_MALLOC_SIZE=%s FAIL_MALLOC_FLAG=%s\nexec "%s" "$@"\n' \
		"$d/fail_malloc.so" "$("$d/size")" "$d/oom" "$BLKFUSE" >"$w"
	chmod +x "$w"
	BLKFUSE=$w start_blkfuse "$IMG" "$MNT"
	"$BLKFUSE" ctl "$MNT" set pause=1
	touch "$d/oom"
	dd if="$MNT/p1" of="$d/out" bs=4096 skip=7 count=1 iflag=direct status=none &
	READER=$!
	wait_until "the reader is answered (main left it waiting for ever)" gone "$READER"
	rm "$d/oom"
	wait "$READER"
	READER=
	cmp "$d/out" <(dd if="$IMG" bs=4096 skip=$((256 + 7)) count=1 status=none)
	run grep -c 'no memory to park a read: sent at once' "$DAEMON_LOG"
	assert_output 1
	EXPECTED_LOG='no memory to park a read'
	"$BLKFUSE" ctl "$MNT" set pause=0
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
