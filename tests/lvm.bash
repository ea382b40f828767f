# shellcheck shell=bash
# Volume groups made by lvm2 itself for the tests (volumes.bats,
# nesting.bats): on loop devices, --driverloaded n (metadata only, no
# device-mapper), a private LVM_SYSTEM_DIR ($LVMDIR) and a device filter
# that shows lvm2 only the test's own loop devices; what each LV holds
# from lvs --segments.  The suite sets LVMDIR and LVMLOG (setup_file).

# lvmrun CMD ARGS...: an lvm2 command restricted to the loop devices of
# with_loops, in the private LVM_SYSTEM_DIR; its output to $LVMLOG.
lvmrun() {
	LVM_SYSTEM_DIR=$LVMDIR "$@" --config "$LVM_CONFIG" --driverloaded n \
		>>"$LVMLOG" 2>&1
}

# lvmq CMD ARGS...: the same, its report on stdout (no headings, bytes).
lvmq() {
	LVM_SYSTEM_DIR=$LVMDIR "$@" --config "$LVM_CONFIG" --driverloaded n \
		--noheadings --units b --nosuffix 2>>"$LVMLOG"
}

# with_loops IMG "START:SIZE ..." FUNC: a loop device on each byte range of
# IMG (LOOPDEV[0], ...), FUNC run with lvm2 allowed to see only them; the
# devices are detached by a trap whatever happens.  In a subshell.
with_loops() {
	local img=$1 ranges=$2 fn=$3
	(
		set -e
		LOOPDEV=()
		trap 'for d in "${LOOPDEV[@]}"; do losetup -d "$d"; done' EXIT
		for r in $ranges; do
			LOOPDEV+=("$(losetup -f --show -o "${r%:*}" --sizelimit "${r#*:}" "$img")")
		done
		local filter=
		for d in "${LOOPDEV[@]}"; do filter+="\"a|^$d\$|\", "; done
		LVM_CONFIG="devices { filter=[ $filter\"r|.*|\" ] obtain_device_list_from_udev=0 use_devicesfile=0 hints=\"none\" } global { locking_type=0 } activation { udev_sync=0 udev_rules=0 } backup { backup=0 archive=0 }"
		"$fn"
	)
}

# save_segments VG/LV OUT: "STRIPE_SIZE IMGOFF:FIRST-LAST ..." per segment
# (IMGOFF: where the PV's first extent lies in the image), then the extent
# size on a line "ext N".  Inside with_loops; RANGES as given to it.
save_segments() {
	local i=0 r dev base ext line
	ext=$(lvmq vgs -o vg_extent_size "${1%/*}" | tr -d ' ')
	: >"$2"
	lvmq lvs --segments -o stripe_size,seg_pe_ranges -O seg_start "$1" >"$2.raw"
	for r in $RANGES; do
		dev=${LOOPDEV[$i]}
		base=$(( ${r%:*} + $(lvmq pvs -o pe_start "$dev" | tr -d ' ') ))
		sed -i "s|$dev:|$base:|g" "$2.raw"
		i=$((i + 1))
	done
	cat "$2.raw" >"$2"
	echo "ext $ext" >>"$2"
}

# expected_lv IMG SEGS: the LV's bytes, cut from IMG with dd, on stdout.
expected_lv() {
	local img=$1 ext chunk ranges r row
	ext=$(awk '$1 == "ext" { print $2 }' "$2")
	while read -r chunk ranges; do
		[ "$chunk" = ext ] && continue
		set -- $ranges
		if [ $# -eq 1 ]; then
			r=${1#*:}
			dd if="$img" iflag=skip_bytes,count_bytes bs=1M status=none \
				skip=$(( ${1%%:*} + ${r%-*} * ext )) \
				count=$(( (${r#*-} - ${r%-*} + 1) * ext ))
			continue
		fi
		# striped: chunk after chunk, stripe after stripe, as dm-stripe
		r=${1#*:}
		for ((row = 0; row < (${r#*-} - ${r%-*} + 1) * ext / chunk; row++)); do
			for s in "$@"; do
				r=${s#*:}
				dd if="$img" iflag=skip_bytes,count_bytes bs=$chunk status=none \
					skip=$(( ${s%%:*} + ${r%-*} * ext + row * chunk )) count="$chunk"
			done
		done
	done <"$2"
}

# assert_lv FILE IMG SEGS: FILE holds exactly the LV's bytes.
assert_lv() {
	local want=$BATS_TEST_TMPDIR/want
	expected_lv "$2" "$3" >"$want"
	[ -s "$want" ] || fail "no expected bytes for $1"
	assert_equal "$(stat -c %s "$1")" "$(stat -c %s "$want")"
	cmp "$want" "$1"
}

# A GPT image of random bytes with partitions of the given MiB sizes.
gpt_image() {
	local img=$1 sizes
	shift
	random_image "$img" "$1"
	shift
	{ echo "label: gpt"; for s in "$@"; do echo "size=${s}MiB"; done; } |
		sfdisk -q "$img"
}

# "START:SIZE" of partition N of IMG, in bytes.
part_range() {
	partx -g -n "$2" -o START,SECTORS "$1" |
		awk '{ printf "%.0f:%.0f\n", $1 * 512, $2 * 512 }'
}

# vg_grown VG FIRST:MIB:GROWN_MIB SECOND:MIB DIR: a VG on a whole-disk PV
# (LOOPDEV[0]): LV FIRST made, SECOND after it, then FIRST grown, so that
# it lies in two segments; each LV's segments in DIR/LV.segs.
vg_grown() {
	local vg=$1 a=${2%%:*} b=${3%%:*} dir=$4 sizes=${2#*:}
	lvmrun pvcreate "${LOOPDEV[0]}"
	lvmrun vgcreate "$vg" "${LOOPDEV[0]}"
	lvmrun lvcreate -n "$a" -L "${sizes%:*}M" "$vg"
	lvmrun lvcreate -n "$b" -L "${3#*:}M" "$vg"
	lvmrun lvextend -L "${sizes#*:}M" "$vg/$a"
	save_segments "$vg/$a" "$dir/$a.segs"
	save_segments "$vg/$b" "$dir/$b.segs"
}
