#!/usr/bin/env bats
# fstab and mount(8) (issue 10, point 1): 'make install' into a temporary
# prefix, then the README's fstab line through mount -T and mount -t
# fuse.blkfuse.  mount.fuse3 starts 'blkfuse' through /bin/sh with the
# shell's default PATH (not the caller's), so the test runs in a private
# mount namespace where the prefix's bin/ is bind-mounted on
# /usr/local/bin: nothing outside the test sees it.
# Also point 6: a mount point that already holds a blkfuse mount, or is
# not empty.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/dos.img DEST=$BATS_FILE_TMPDIR/root
	make_dos_image "$IMG"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
}

teardown() {
	# a daemon left by a failed namespace script: by its command line
	local pid
	for pid in $(pgrep -f "blkfuse $IMG $MNT" || true); do
		kill "$pid" 2>/dev/null || true
	done
	blkfuse_teardown
}

@test "make install DESTDIR= PREFIX=: binary, man page, completion, header" {
	make -s -C "$REPO" install DESTDIR="$DEST" PREFIX=/usr/local >/dev/null
	[ -x "$DEST/usr/local/bin/blkfuse" ]
	[ -f "$DEST/usr/local/share/man/man1/blkfuse.1" ]
	[ -f "$DEST/usr/local/share/bash-completion/completions/blkfuse" ]
	[ -f "$DEST/usr/local/include/blkfuse_ioctl.h" ]
	"$DEST/usr/local/bin/blkfuse" --version
}

# in_namespace SCRIPT: run bash SCRIPT with the installed blkfuse on the
# default PATH, in a mount namespace of its own.
in_namespace() {
	[ -x "$DEST/usr/local/bin/blkfuse" ] ||
		make -s -C "$REPO" install DESTDIR="$DEST" PREFIX=/usr/local >/dev/null
	unshare -m --propagation private bash -euc "
		mount --bind '$DEST/usr/local/bin' /usr/local/bin
		IMG='$IMG' MNT='$MNT' FSTAB='$BATS_TEST_TMPDIR/fstab'
		gone() { for _ in \$(seq 200); do pgrep -f \"blkfuse \$IMG \$MNT\" >/dev/null || return 0; sleep 0.05; done; return 1; }
		$1"
}

@test "the README's fstab line works through mount(8): rw from mount is ro" {
	local line
	line=$(grep -E '^/dev/sdb +/mnt/sdb +fuse\.blkfuse ' "$REPO/README.md")
	[ -n "$line" ]
	# the README's options, on our image and mount point
	printf '%s %s %s\n' "$IMG" "$MNT" "$(awk '{ $1 = $2 = ""; print }' <<<"$line")" >"$BATS_TEST_TMPDIR/fstab"
	run in_namespace '
		mount -T "$FSTAB" "$MNT"
		grep " $MNT fuse.blkfuse ro," /proc/self/mounts
		cmp "$IMG" "$MNT/disk"
		umount "$MNT"
		gone'
	assert_success
}

@test "mount -t fuse.blkfuse, with and without -o ro" {
	run in_namespace '
		for o in allow_other ro,allow_other,noatime; do
			mount -t fuse.blkfuse -o "$o" "$IMG" "$MNT"
			grep " $MNT fuse.blkfuse ro," /proc/self/mounts
			cmp "$IMG" "$MNT/p1" 2>/dev/null && exit 1
			cmp <(tail -c +$((2048 * 512 + 1)) "$IMG" | head -c $((16384 * 512))) "$MNT/p1"
			umount "$MNT"
			gone
		done'
	assert_success
}

@test "a mount point that already holds a blkfuse mount is refused, in one line" {
	start_blkfuse "$IMG" "$MNT"
	run --separate-stderr timeout 10 "$BLKFUSE" -f "$IMG" "$MNT"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: $MNT: already a blkfuse mount (of $IMG); unmount it first"
	# one mount, not two stacked
	assert_equal "$(grep -c " $MNT fuse.blkfuse " /proc/self/mounts)" 1
	stop_blkfuse
}

@test "a mount point that is not empty: one warning" {
	touch "$MNT/hidden-file"
	EXPECTED_LOG='mount point is not empty'
	start_blkfuse "$IMG" "$MNT"
	assert_equal "$(grep -c 'mount point is not empty' "$DAEMON_LOG")" 1
	[ ! -e "$MNT/hidden-file" ]
	stop_blkfuse
	[ -e "$MNT/hidden-file" ]
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
