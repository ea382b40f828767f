#!/usr/bin/env bats
# Guest test (issue 11, findings 3 and 4): the adversarial tables of
# tests/gen-tables (made on the host by run-guest-tests) against the
# kernel's own partition parsers.  Each image is attached with losetup -P;
# what the kernel made (/sys/block/loopN/loopNpM/{start,size}, in 512-byte
# units, as the blkfuse byte offsets are shown too) is compared
# with `blkfuse --list --json`:
#   - an entry the kernel rejects is never exposed by blkfuse, and is
#     flagged `invalid` if listed (`beyond-end` also for a start past the end);
#   - an entry blkfuse exposes, the kernel has, at the same start and size;
#   - an entry cases.tsv calls valid, the kernel and blkfuse both expose.
# Each entry's verdicts go to the TAP as comments.
load guest
TABLES=/repo/tests/vm/tables

setup() {
	guest_setup
	[ -f "$TABLES/cases.tsv" ] || fail "no $TABLES/cases.tsv (run-guest-tests runs tests/gen-tables)"
	LOOP=
}

teardown() {
	[ -z "${LOOP:-}" ] || losetup -d "$LOOP"
	guest_teardown
}

# kernel_parts LOOP: "nr start size" (512-byte units) for each partition the kernel made.
kernel_parts() {
	local d n=${1##*/}
	for d in /sys/block/"$n"/"$n"p*; do
		[ -e "$d/start" ] || continue
		echo "${d##*p} $(cat "$d/start") $(cat "$d/size")"
	done
}

compare_case() {
	local case=$1 ss nr expect what k b bad=0 line
	ss=$(awk -v c="$case" '$1 == c { print $2; exit }' "$TABLES/cases.tsv")
	LOOP=$(losetup -r -P -f --show --sector-size "$ss" "$TABLES/$case.img")
	kernel_parts "$LOOP" >"$BATS_TEST_TMPDIR/kernel"
	# Debian's cloud kernel has no CONFIG_BSD_DISKLABEL: nothing to compare
	if [[ $case == bsd-* ]] && ! awk '$1 > 4 { f = 1 } END { exit !f }' "$BATS_TEST_TMPDIR/kernel"; then
		skip "this kernel has no BSD disklabel parser (tests/hardening.bats checks these on the host)"
	fi
	"$BLKFUSE" --list --json --sector-size "$ss" "$TABLES/$case.img" 2>"$BATS_TEST_TMPDIR/err" |
		jq -r '.partitions[] | "\(.nr) \(.exposed) \(.start_bytes / 512 | floor) \(.size_bytes / 512 | floor) \(.flags)"' \
			>"$BATS_TEST_TMPDIR/blkfuse"
	# every entry blkfuse exposes: the kernel has it, same range
	while read -r nr exposed start size flags; do
		[ "$exposed" = true ] || continue
		k=$(awk -v n="$nr" '$1 == n { print $2, $3 }' "$BATS_TEST_TMPDIR/kernel")
		if [ "$k" != "$start $size" ]; then
			echo "# $case p$nr: blkfuse exposes $start+$size, kernel: ${k:-none}" >&3
			bad=1
		fi
	done <"$BATS_TEST_TMPDIR/blkfuse"
	while IFS=$'\t' read -r c _ nr expect _ _ what; do
		[ "$c" = "$case" ] || continue
		k=$(awk -v n="$nr" '$1 == n { print $2 "+" $3 }' "$BATS_TEST_TMPDIR/kernel")
		b=$(awk -v n="$nr" '$1 == n { print ($2 == "true" ? "exposed " : "listed ") $3 "+" $4 " [" $5 "]" }' \
			"$BATS_TEST_TMPDIR/blkfuse")
		line="# $case p$nr ($expect: $what): kernel ${k:-rejects}; blkfuse ${b:-does not list}"
		echo "$line" >&3
		if [ -z "$k" ]; then
			# the kernel rejects it: never exposed, flagged if listed
			case $b in
			exposed*) bad=1 ;;
			listed*) [[ $b == *invalid* || $b == *beyond-end* ]] || bad=1 ;;
			esac
		fi
		if [ "$expect" = valid ] && { [ -z "$k" ] || [[ $b != exposed* ]]; }; then
			bad=1
		fi
	done <"$TABLES/cases.tsv"
	[ "$bad" = 0 ] || fail "$case: blkfuse and the kernel disagree (TAP comments above)"
}

@test "tables: GPT first LBA 2^55+2048" { compare_case gpt-overflow; }
@test "tables: GPT last LBA 2^63" { compare_case gpt-end-overflow; }
@test "tables: GPT 4096-byte sectors, first LBA 2^52+256" { compare_case gpt-4k-overflow; }
@test "tables: GPT inverted entry" { compare_case gpt-inverted; }
@test "tables: GPT zero-size entry" { compare_case gpt-zero; }
@test "tables: DOS past the end, zero size, 32-bit overflow" { compare_case dos-edge; }
@test "tables: DOS entry running past the end" { compare_case dos-straddle; }
@test "tables: BSD slices on 4096-byte sectors (misaligned, zero size)" { compare_case bsd-4k; }
@test "tables: BSD zero-size slice" { compare_case bsd-zero; }
