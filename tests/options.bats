#!/usr/bin/env bats
# The command line (issue 10, point 2 and 3): every command fails first, in
# one line, on an option it does not know, before anything is printed or
# opened; -h lists what blkfuse honours, once; the CUSE fallback note never
# comes before a failure.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/dos.img
	make_dos_image "$IMG"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
}

teardown() {
	# a binary that took an option it should refuse may have mounted
	! mountpoint -q "$MNT" || fusermount3 -u -z "$MNT"
	blkfuse_teardown
}

# unrecognized WHAT ARGS...: exactly the two lines, exit 1, no mount.
unrecognized() {
	local what=$1 try=${TRY:-blkfuse}
	shift
	run --separate-stderr timeout 10 "$BLKFUSE" "$@"
	assert_equal "$status" 1
	assert_output ''
	assert_equal "$stderr" "blkfuse: error: unrecognized option '$what'
Try '$try --help' for more information."
}

@test "daemon: an unknown option is one line, before anything is opened" {
	unrecognized --bogus --bogus "$IMG" "$MNT"
	unrecognized --bogus -f --bogus "$IMG" "$MNT"
	unrecognized '-o bogus' -o bogus "$IMG" "$MNT"
	unrecognized '-o bogus' -o allow_other,bogus,nofail "$IMG" "$MNT"
	# not even the source is opened: its own error would come first
	unrecognized --bogus --bogus /nonexistent/sdz "$MNT"
	unrecognized --bogus "$IMG" "$MNT" --bogus
}

@test "daemon: FUSE options blkfuse does not honour are refused" {
	local o
	for o in max_idle_threads=3 auto_unmount subtype=x fsname=x; do
		unrecognized "-o $o" -f -o "$o" "$IMG" "$MNT"
	done
}

@test "--list: unknown options are refused, not ignored" {
	unrecognized --bogus --list --bogus "$IMG"
	unrecognized -Z --list -Z "$IMG"
	unrecognized --bogus --bogus --list /nonexistent/sdz
	run --separate-stderr "$BLKFUSE" --list -o NOSUCH "$IMG"
	assert_equal "$status" 1
	[[ "$stderr" == "blkfuse: error: unknown column: NOSUCH"* ]]
}

@test "hash and ctl: the same line" {
	TRY='blkfuse hash' unrecognized --bogus hash --bogus "$IMG"
	TRY='blkfuse hash' unrecognized --bogus hash --bogus /nonexistent/sdz
	TRY='blkfuse ctl' unrecognized --bogus ctl --bogus
	TRY='blkfuse ctl' unrecognized --bogus ctl "$MNT" --bogus
	TRY='blkfuse ctl' unrecognized -z ctl "$MNT" stats -z
}

@test "--json without --list says so" {
	run --separate-stderr timeout 10 "$BLKFUSE" -f --json "$IMG" "$MNT"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: --json needs --list"
}

@test "-o rw typed on the command line stays an error" {
	run --separate-stderr "$BLKFUSE" -f "$IMG" "$MNT" -o rw
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: 'rw' is not possible: blkfuse is read-only"
	run mountpoint -q "$MNT"
	assert_failure
}

@test "-h: once, blkfuse's own options and defaults, no libfuse help" {
	run "$BLKFUSE" -h
	assert_success
	refute_line --partial 'FUSE options:'
	# clone_fd once: blkfuse's own, not libfuse's loop option
	assert_equal "$(grep -c 'clone_fd' <<<"$output")" 1
	refute_line --partial 'max_idle_threads'
	refute_line --partial 'auto_unmount'
	assert_line --regexp 'max_threads=N +worker threads \(default 4\)'
	assert_equal "$(grep -c -e '-h, --help' <<<"$output")" 1
	assert_equal "$(grep -c -e '-V, --version' <<<"$output")" 1
	# every option the help names is taken (not refused as unknown)
	local opt
	for opt in $(grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' <<<"$output" | grep -oE -- '--[a-z-]+' | sort -u); do
		run --separate-stderr "$BLKFUSE" "$opt"
		[[ "$stderr" != *"unrecognized option '$opt'"* ]] && continue
		run --separate-stderr "$BLKFUSE" --list "$opt"
		[[ "$stderr" != *"unrecognized option '$opt'"* ]] || fail "$opt is in -h but refused"
	done
}

# No CUSE here: the fallback note must not precede a failure.
@test "the no-CUSE note never comes before a failure" {
	[ -c /dev/cuse ] && skip "this kernel has CUSE"
	run --separate-stderr "$BLKFUSE" -f --audit /nonexistent/dir/a.jsonl "$IMG" "$MNT"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: /nonexistent/dir/a.jsonl: No such file or directory"
	run --separate-stderr "$BLKFUSE" -f --verify sha256:$(printf '0%.0s' {1..64}) "$IMG" "$MNT"
	assert_equal "$status" 3
	[[ "$stderr" != *"no CUSE"* ]]
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$BLKFUSE" -f "$IMG" "$MNT"
	assert_equal "$status" 1
	[[ "$stderr" != *"no CUSE"* ]]
	# and once mounted it is said, once
	start_blkfuse "$IMG" "$MNT"
	assert_equal "$(grep -c 'no CUSE in this kernel' "$DAEMON_LOG")" 1
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
