#!/usr/bin/env bats
# Issue 21, point 4: the Debian package.  dpkg-buildpackage -us -uc -b in a
# copy of the tree (git's files, as a clone has them), then: its files, its
# Depends from the shared libraries the binary really links, lintian, and
# the package installed -- apt-get resolves it (--simulate), and its files
# are laid over /usr in a mount namespace of the test's own (nothing
# outside sees them), where mount(8) finds fuse.blkfuse and the README's
# first examples run against the packaged binary.

load helpers

setup_file() {
	command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null &&
		[ -e /usr/share/perl5/Debian/Debhelper/Dh_Lib.pm ] ||
		skip "dpkg-dev, debhelper or lintian missing (tests/install-deps)"
	export W=$BATS_FILE_TMPDIR/w IMG=$BATS_FILE_TMPDIR/gpt.img
	mkdir -p "$W/blkfuse"
	(cd "$REPO" && git ls-files -co --exclude-standard -z |
		tar --null -cf - -T -) | tar -xf - -C "$W/blkfuse"
	(cd "$W/blkfuse" && dpkg-buildpackage -us -uc -b >"$W/build.log" 2>&1) ||
		{ tail -30 "$W/build.log" >&3; return 1; }
	export DEB=$W/blkfuse_$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)_$(dpkg --print-architecture).deb
	mkdir -p "$W/root"
	dpkg-deb -x "$DEB" "$W/root"
	make_gpt_image "$IMG"
	record_checksums "$IMG"
}

setup() { blkfuse_setup; }
teardown() { blkfuse_teardown; }

@test "the package holds the binary, the man page, the completion and the header, under /usr" {
	run -0 dpkg-deb -c "$DEB"
	assert_line --regexp ' \./usr/bin/blkfuse$'
	assert_line --regexp ' \./usr/share/man/man1/blkfuse\.1\.gz$'
	assert_line --regexp ' \./usr/share/bash-completion/completions/blkfuse$'
	assert_line --regexp ' \./usr/include/blkfuse_ioctl\.h$'
	refute_line --regexp '/usr/local/'
	run -0 "$W/root/usr/bin/blkfuse" --version
	# the package reads every format and has both transports
	assert_line 'formats: raw split ewf aff qcow2 vmdk vhd vhdx'
	assert_line 'transports: dev uring'
	[ -z "$(MANWIDTH=80 man --warnings -l "$W/root/usr/share/man/man1/blkfuse.1.gz" 2>&1 >/dev/null)" ]
}

@test "Depends names the package of every shared library the binary links (\${shlibs:Depends}), and fuse3" {
	local depends lib so pkg f
	depends=$(dpkg-deb -f "$DEB" Depends)
	grep -qE '(^|, )fuse3(,|$)' <<<"$depends" || fail "no fuse3 in: $depends"
	local bin=$W/root/usr/bin/blkfuse needed
	# the libraries the binary names itself (NEEDED), not theirs
	for needed in $(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }'); do
		lib=$(ldd "$bin" | awk -v n="$needed" '$1 == n { print $3 }')
		# dpkg knows a library by the path its package ships (merged
		# /usr: /lib/... or /usr/lib/...), the link or the file
		pkg=
		so=$(realpath "$lib")
		for f in "$lib" "$so" "${so#/usr}" "/usr$lib"; do
			pkg=$(dpkg -S "$f" 2>/dev/null | head -1 | cut -d: -f1)
			[ -n "$pkg" ] && break
		done
		[ -n "$pkg" ] || fail "no package owns $lib"
		# libc6 always; everything else by name, with a version
		grep -qE "(^|, )$pkg \(>= [^)]+\)" <<<"$depends" ||
			fail "$lib ($pkg) is not in Depends: $depends"
	done
}

@test "lintian: no errors, no warnings" {
	run lintian --fail-on error,warning "$W"/blkfuse_*.changes
	assert_success
	refute_output --regexp '^[EW]: '
}

@test "installed: apt-get resolves it; mount(8) finds fuse.blkfuse; the README's first examples work" {
	run -0 apt-get install --simulate "$DEB"
	assert_line --regexp '^Inst blkfuse '
	run unshare -m --propagation private bash -euc '
		# the package over /usr/bin, in this namespace only
		mount -t overlay overlay -o lowerdir="$0/usr/bin:/usr/bin" /usr/bin
		[ "$(command -v blkfuse)" = /usr/bin/blkfuse ]
		blkfuse --list "$1" | grep -q "^Table: *gpt"
		blkfuse --list -o NR,SIZE,TYPENAME,FSTYPE,LABEL "$1" | grep -q "^NR"
		mount -t fuse.blkfuse -o allow_other "$1" "$2"
		grep -q " $2 fuse.blkfuse ro," /proc/self/mounts
		ls "$2" | grep -qx p2
		dd if="$1" bs=512 skip=$((2048 + 16384)) count=32768 status=none | cmp - "$2/p2"
		[ "$(sha256sum <"$2/p2")" = "$(dd if="$1" bs=512 skip=$((2048 + 16384)) count=32768 status=none | sha256sum)" ]
		umount "$2"
		echo done' "$W/root" "$IMG" "$MNT"
	assert_success
	assert_line done
	# nothing of the namespace is left here
	[ ! -e /usr/bin/blkfuse ] || [ "$(dpkg -S /usr/bin/blkfuse 2>/dev/null)" ] ||
		fail "/usr/bin/blkfuse appeared outside the namespace"
	! mountpoint -q "$MNT"
}

@test "the image is unchanged" {
	assert_sources_unchanged
}
