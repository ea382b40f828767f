#!/usr/bin/env bats
# Source-side readahead: a sequential reader of a file has the source read
# ahead of it (ra_bytes, ra_hits count it); random reads and
# source_readahead_kb=0 ask for nothing; the bytes are always right.

load helpers

setup_file() {
	export GPT=$BATS_FILE_TMPDIR/gpt.img
	make_gpt_image "$GPT"
	record_checksums "$GPT"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# drop_source_cache: the image's pages out of the page cache (a cold read).
drop_source_cache() {
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$GPT"
}

@test "a sequential reader is read ahead of: ra_bytes and ra_hits grow, bytes right" {
	start_blkfuse "$GPT" "$MNT"
	assert_equal "$(ctl_get source_readahead_kb)" 4096
	drop_source_cache
	cmp <(dd if="$GPT" bs=1M skip=9 count=16 status=none) <(dd if="$MNT/p2" bs=128k status=none)
	local bytes hits reads
	bytes=$(ctl_get ra_bytes) hits=$(ctl_get ra_hits) reads=$(ctl_get file.p2.reads)
	# asked for at least what was read after the first window, never past p2
	[ "$bytes" -ge $((8 * 1048576)) ] || fail "ra_bytes=$bytes"
	[ "$bytes" -le $((16 * 1048576)) ] || fail "ra_bytes=$bytes > p2"
	# most reads found their range already asked for
	[ "$hits" -ge $((reads / 2)) ] || fail "ra_hits=$hits of $reads reads"
}

@test "source_readahead_kb=0 (mount option and tunable): nothing asked for" {
	start_blkfuse -o source_readahead_kb=0 "$GPT" "$MNT"
	assert_equal "$(ctl_get source_readahead_kb)" 0
	cmp <(dd if="$GPT" bs=1M skip=9 count=16 status=none) <(dd if="$MNT/p2" bs=128k status=none)
	assert_equal "$(ctl_get ra_bytes)" 0
	"$BLKFUSE" ctl "$MNT" set source_readahead_kb=1024
	assert_equal "$(ctl_get source_readahead_kb)" 1024
	run "$BLKFUSE" ctl "$MNT" set source_readahead_kb=2000000
	assert_failure
	assert_equal "$(ctl_get source_readahead_kb)" 1024
	EXPECTED_LOG='source_readahead_kb must be'
}

@test "random O_DIRECT reads ask for nothing" {
	start_blkfuse "$GPT" "$MNT"
	local i off
	for ((i = 0; i < 32; i++)); do
		off=$(( (i * 7919) % 4000 ))
		cmp <(dd if="$GPT" bs=4096 skip=$((9 * 256 + off)) count=1 status=none) \
			<(dd if="$MNT/p2" bs=4096 skip="$off" count=1 iflag=direct status=none)
	done
	assert_equal "$(ctl_get ra_bytes)" 0
}

# bdi_ra: the kernel's readahead of the current mount, in KiB.
bdi_ra() {
	cat "/sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb"
}

@test "the mount's readahead: 1024 KiB by default, -o readahead_kb=N, max_readahead= left alone" {
	start_blkfuse "$GPT" "$MNT"
	assert_equal "$(bdi_ra)" 1024
	assert_equal "$(ctl_get readahead_kb)" 1024
	cmp <(dd if="$GPT" bs=1M skip=9 count=16 status=none) "$MNT/p2"
	# 16 MiB in READs of up to 512 KiB (max_reply): the window fills them
	[ "$(ctl_get req.read)" -le 40 ] || fail "$(ctl_get req.read) READs for 16 MiB"
	stop_blkfuse
	start_blkfuse -o readahead_kb=256 "$GPT" "$MNT"
	assert_equal "$(bdi_ra)" 256
	stop_blkfuse
	start_blkfuse -o readahead_kb=0 "$GPT" "$MNT"
	assert_equal "$(bdi_ra)" 0
	cmp <(dd if="$GPT" bs=1M skip=1 count=8 status=none) "$MNT/p1"
	stop_blkfuse
	# the user's cap on the kernel's readahead stays the cap
	start_blkfuse -o max_readahead=65536 "$GPT" "$MNT"
	assert_equal "$(bdi_ra)" 64
	stop_blkfuse
	run "$BLKFUSE" -f -o readahead_kb=2000000 "$GPT" "$MNT"
	assert_failure 1
	assert_output --partial "readahead_kb must be 0..1048576"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
