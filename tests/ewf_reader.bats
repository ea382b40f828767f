#!/usr/bin/env bats
# blkfuse's own EWF-E01 chunk reader (libdeflate) and the decoded-block
# cache shared by all workers (issue 22).  Every E01 here is made by
# ewfacquire in a different way (compression none, empty-block, fast,
# best; chunks of 16 to 2048 sectors; small segments; EnCase 5/6, FTK,
# linen6 and SMART formats), and every byte read through blkfuse must equal
# ewfexport's raw output of the same file, with the own reader and with
# libewf (BLKFUSE_EWF_READER=libewf).  Corrupt stored and compressed
# chunks fail at the same media offset with either reader.

load helpers

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export RAW=$d/disk.raw E=$d/e
	mkdir -p "$E"
	# 24 MiB + 7 sectors (a short last chunk): random, text, zeros, GPT
	random_image "$RAW" 24
	head -c $((7 * 512)) /dev/urandom >>"$RAW"
	yes 'issue 22 evidence container line' | head -c $((6 << 20)) |
		dd of="$RAW" bs=1M seek=3 conv=notrunc status=none
	dd if=/dev/zero of="$RAW" bs=1M seek=12 count=6 conv=notrunc status=none
	sfdisk -q "$RAW" <<-EOT
	label: gpt
	size=10MiB, name="one"
	size=10MiB, name="two"
	EOT
	# name:ewfacquire options
	export SETS="fast6:-c deflate:fast
best:-c deflate:best -b 16
none:-c none -b 128
empty:-c deflate:empty-block -b 2048
segs:-c deflate:fast -S 1048576 -b 32
enc5:-c deflate:fast -f encase5
ftk:-c deflate:best -f ftk
linen6:-c deflate:fast -f linen6 -b 256
smart:-c deflate:fast -f smart"
	local name opts
	while IFS=: read -r name opts; do
		# shellcheck disable=SC2086	# opts is a word list
		ewfacquire -u -q -t "$E/$name" $opts "$RAW" >/dev/null
		ewfexport -q -u -f raw -t "$E/$name.export" "$E/$name".[Es]01 >/dev/null
	done <<<"$SETS"
	record_checksums "$RAW" "$E"/*.[Es][0-9][0-9]
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

first_segment() {
	ls "$E/$1".[Es]01
}

# which_reader NAME: "own" or "libewf", as the daemon says at open.
which_reader() {
	local log=$BATS_TEST_TMPDIR/which.log
	DAEMON_LOG=$log start_blkfuse -d "$(first_segment "$1")" "$MNT"
	stop_blkfuse
	if grep -q "EWF chunks read by blkfuse's own reader" "$log"; then
		echo own
	elif grep -q 'EWF chunks read by libewf' "$log"; then
		echo libewf
	fi
	rm -f "$log"
}

@test "the E01s themselves are right: ewfexport's output is the raw image" {
	local name opts
	while IFS=: read -r name opts; do
		cmp "$RAW" "$E/$name.export.raw"
	done <<<"$SETS"
}

@test "the own reader reads every E01 variant ewfacquire writes (SMART: libewf)" {
	local name opts
	while IFS=: read -r name opts; do
		if [ "$name" = smart ]; then
			assert_equal "$name $(which_reader "$name")" "$name libewf"
		else
			assert_equal "$name $(which_reader "$name")" "$name own"
		fi
	done <<<"$SETS"
	BLKFUSE_EWF_READER=libewf run which_reader fast6
	assert_output libewf
}

@test "every byte equals ewfexport's, with the own reader and with libewf" {
	local name opts reader
	for reader in own libewf; do
		while IFS=: read -r name opts; do
			if [ "$reader" = own ]; then
				start_blkfuse "$(first_segment "$name")" "$MNT"
			else
				BLKFUSE_EWF_READER=libewf start_blkfuse "$(first_segment "$name")" "$MNT"
			fi
			cmp "$MNT/disk" "$E/$name.export.raw"
			# reads that start and end inside chunks
			cmp <(dd if="$MNT/disk" bs=1000 skip=4321 count=3000 status=none) \
			    <(dd if="$E/$name.export.raw" bs=1000 skip=4321 count=3000 status=none)
			cmp "$MNT/p2" <(tail -c +$((1 + $(partx -g -n 2 -o START "$RAW") * 512)) \
					"$E/$name.export.raw" | head -c $((10 << 20)))
			stop_blkfuse
		done <<<"$SETS"
	done
}

@test "blkfuse hash of each E01 equals md5sum of ewfexport's output" {
	local name opts
	while IFS=: read -r name opts; do
		run --separate-stderr "$BLKFUSE" hash -a md5 "$(first_segment "$name")"
		assert_success
		assert_output "$(md5sum <"$E/$name.export.raw" | cut -d' ' -f1)  disk"
	done <<<"$SETS"
}

# parallel READERS BS COUNT FILE: READERS dd's at once, reader i reading
# blocks i, i+READERS, ... of FILE (neighbouring ranges, interleaved),
# O_DIRECT; each block is written to $BATS_TEST_TMPDIR/out at its place.
parallel_read() {
	local n=$1 bs=$2 count=$3 f=$4 i k pids=()
	: >"$BATS_TEST_TMPDIR/out"
	for ((i = 0; i < n; i++)); do
		(for ((k = i; k < count; k += n)); do
			dd if="$f" of="$BATS_TEST_TMPDIR/out" bs="$bs" skip="$k" seek="$k" count=1 \
				iflag=direct conv=notrunc status=none || exit 1
		done) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || return 1; done
}

@test "4 parallel readers of neighbouring ranges, small and default cache: bytes equal" {
	local mb
	for mb in 1 8; do
		start_blkfuse -o max_threads=4 "$(first_segment best)" "$MNT"
		"$BLKFUSE" ctl "$MNT" set cache_mb=$mb
		parallel_read 4 192k 128 "$MNT/disk"
		cmp "$BATS_TEST_TMPDIR/out" <(head -c $((128 * 192 << 10)) "$E/best.export.raw")
		# the same blocks again: now from the cache, still the same bytes
		parallel_read 4 64k 64 "$MNT/disk"
		cmp "$BATS_TEST_TMPDIR/out" <(head -c $((64 << 16)) "$E/best.export.raw")
		[ "$(ctl_get cache_hits)" -gt 0 ]
		stop_blkfuse
	done
}

@test "a sequential reader decoded ahead, the cache resized under it: bytes equal" {
	start_blkfuse "$(first_segment fast6)" "$MNT"
	"$BLKFUSE" ctl "$MNT" set cache_mb=1
	dd if="$MNT/disk" of="$BATS_TEST_TMPDIR/out" bs=128k iflag=direct status=none &
	"$BLKFUSE" ctl "$MNT" set cache_mb=3
	"$BLKFUSE" ctl "$MNT" set cache_mb=0
	"$BLKFUSE" ctl "$MNT" set cache_mb=2
	wait $!
	cmp "$BATS_TEST_TMPDIR/out" "$E/fast6.export.raw"
	# helpers decoded (more bytes decoded than the reader's misses alone)
	dd if="$MNT/disk" of="$BATS_TEST_TMPDIR/out" bs=1M iflag=direct status=none
	cmp "$BATS_TEST_TMPDIR/out" "$E/fast6.export.raw"
	stop_blkfuse
}

@test "AFF: 4 workers reading neighbouring ranges share page decodes; bytes equal" {
	local a=$BATS_TEST_TMPDIR/src.raw r0 r1
	cp "$RAW" "$a"
	(cd "$BATS_TEST_TMPDIR" && affconvert -q -o"$BATS_TEST_TMPDIR/ev.aff" "$a" >/dev/null)
	rm "$a"
	start_blkfuse -o max_threads=4 "$BATS_TEST_TMPDIR/ev.aff" "$MNT"
	r0=$(awk '/^rchar/ { print $2 }' "/proc/$DAEMON_PID/io")
	parallel_read 4 128k 192 "$MNT/disk"
	r1=$(awk '/^rchar/ { print $2 }' "/proc/$DAEMON_PID/io")
	cmp "$BATS_TEST_TMPDIR/out" <(head -c $((192 << 17)) "$RAW")
	# 24 MiB in 16 MiB pages, mostly random (stored about as large): each
	# page read from the file once, not once per worker
	echo "daemon read $((r1 - r0)) bytes" >&2
	[ $((r1 - r0)) -lt $((40 << 20)) ]
	stop_blkfuse
}

# corrupt NAME OFFSET: a copy of NAME's set with 16 bytes at OFFSET of its
# first segment overwritten; prints the copy's first segment
corrupt() {
	local c=$BATS_TEST_TMPDIR/c.$1
	mkdir -p "$c"
	cp "$E/$1".E?? "$c/"
	printf '\xde\xad\xbe\xef%.0s' 1 2 3 4 | dd of="$c/$1.E01" bs=1 seek="$2" conv=notrunc status=none
	echo "$c/$1.E01"
}

# bad_offset READER FILE: where dd of the mounted disk stops (EIO)
bad_offset() {
	if [ "$1" = libewf ]; then
		BLKFUSE_EWF_READER=libewf start_blkfuse "$2" "$MNT"
	else
		start_blkfuse "$2" "$MNT"
	fi
	run dd if="$MNT/disk" of=/dev/null bs=4k
	assert_failure
	stop_blkfuse
	sed -n 's/^\([0-9]*\) bytes .* copied.*/\1/p' <<<"$output"
}

@test "corrupt stored and compressed chunks: EIO at the same chunk with either reader" {
	EXPECTED_LOG='Input/output error'
	local f own lib
	# none: every chunk stored (data + Adler-32); fast6: the text and
	# zeros are compressed, the random data stored
	for f in "$(corrupt none $((1 << 20)))" "$(corrupt fast6 $((2 << 20)))" \
		 "$(corrupt fast6 $((5 << 19)))"; do
		own=$(bad_offset own "$f")
		lib=$(bad_offset libewf "$f")
		[ -n "$own" ] && [ $((own % 32768)) -eq 0 ]
		assert_equal "$f $own" "$f $lib"
		grep -q "Input/output error in the chunk at media offset $own\$" "$DAEMON_LOG"
	done
}

@test "the sources are unchanged" {
	assert_sources_unchanged
}
