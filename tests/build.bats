#!/usr/bin/env bats
# Issue 21, point 2: the build follows its configuration.  Which optional
# libraries were found, the compiler and its flags are stamps under
# obj/config/; what each affects is rebuilt when it changes, nothing else.
# Each test builds in a directory of its own (make O=), from this tree.

load helpers

setup_file() {
	export B=$BATS_FILE_TMPDIR/b
	make -C "$REPO" -s -j2 O="$B" WERROR=1 >/dev/null
}

setup() { blkfuse_setup; }
teardown() { blkfuse_teardown; }

# build ARGS...: make in $B; prints the files it compiled or linked, one a
# line, relative to $B (a quiet make prints nothing else).
build() {
	make -C "$REPO" -j2 O="$B" WERROR=1 "$@" |
		grep -oE -- "-o $B/[^ ]+" | sed "s|^-o $B/||" | sort
}

@test "HAVE_LIBEWF= after a full build: only the EWF driver and the link; --version and an E01 follow; back again" {
	pkg-config --exists libewf || skip "libewf-dev is not installed"
	command -v ewfacquire >/dev/null || skip "ewfacquire (ewf-tools) is not installed"
	local raw=$BATS_TEST_TMPDIR/raw e01=$BATS_TEST_TMPDIR/ev
	random_image "$raw" 4
	ewfacquire -u -q -t "$e01" -S $((8 << 20)) "$raw" >/dev/null
	run "$B/blkfuse" --version
	assert_line --regexp '^formats: .* ewf( |$)'

	run build HAVE_LIBEWF=
	assert_output $'blkfuse\nobj/core/image/image_ewf.o\ntests/crypt_open'
	run "$B/blkfuse" --version
	refute_line --regexp '^formats: .* ewf( |$)'
	run -1 "$B/blkfuse" --list "$e01.E01"
	assert_output "blkfuse: error: $e01.E01: EWF (E01), but this blkfuse was built without libewf (Debian package libewf-dev)"

	run build
	assert_output $'blkfuse\nobj/core/image/image_ewf.o\ntests/crypt_open'
	run "$B/blkfuse" --version
	assert_line --regexp '^formats: .* ewf( |$)'
	run -0 "$B/blkfuse" --list "$e01.E01"
	run build
	assert_output ''
}

@test "HAVE_LIBURING= switches the transport's file and relinks, though the other file's object is older" {
	pkg-config --exists liburing || skip "liburing-dev is not installed"
	run build HAVE_LIBURING=
	assert_output $'blkfuse\nobj/serve/uring_none.o'
	run "$B/blkfuse" --version
	assert_line 'transports: dev'
	# uring_io.o is unchanged and older than the binary: the link must
	# still happen, or the binary keeps the stub
	run build
	assert_output $'blkfuse\nobj/serve/uring_io.o'
	run "$B/blkfuse" --version
	assert_line 'transports: dev uring'
}

@test "new CFLAGS rebuild every object; the same ones rebuild nothing" {
	local n not_built=serve/uring_none.c
	pkg-config --exists liburing || not_built=serve/uring_io.c
	n=$(cd "$REPO" && ls blkfuse.c splice_io.c cuse_ctl.c serve/*.c read/*.c ctl/*.c \
		cmd/*.c forensic/*.c core/*.c core/*/*.c | grep -vc "$not_built")
	run build CFLAGS='-O1 -g'
	assert_equal "$(grep -c '\.o$' <<<"$output")" "$n"
	assert_line blkfuse
	assert_line tests/faulty_fs
	run build CFLAGS='-O1 -g'
	assert_output ''
	run build
	assert_equal "$(grep -c '\.o$' <<<"$output")" "$n"
}

@test "make clean leaves no stamp behind; a stamp is written only when its content changes" {
	local before
	before=$(stat -c %Y.%y "$B/obj/config/libewf")
	sleep 1.1
	run build
	assert_output ''
	assert_equal "$(stat -c %Y.%y "$B/obj/config/libewf")" "$before"
	make -C "$REPO" -s O="$B" clean
	[ ! -e "$B/obj" ] || fail "make clean left $B/obj"
}
