#!/usr/bin/env bats
# Guest test (runs inside the VM: tests/vm/run-guest-tests): the kernel's
# device-mapper as the oracle for blkfuse's LVM2 reader.  lvm2 makes a
# volume group over two partitions of a loop device and activates it
# (dm-linear, dm-stripe); random bytes are written through the kernel's
# /dev/mapper nodes, then every LV is compared with blkfuse's file of it,
# read from the image file: fragmented, striped, spanning both PVs.
load guest

setup() {
	guest_setup
	command -v lvm >/dev/null || skip "no lvm in the guest"
	LVMDIR=$BATS_TEST_TMPDIR/lvm
	mkdir -p "$LVMDIR"
	: >"$LVMDIR/lvm.conf"
}

teardown() {
	# the LVs hold the loop device: deactivated before it is detached
	[ -n "${CFG:-}" ] && lvmrun vgchange -an vgq
	guest_teardown
}

lvmrun() {
	LVM_SYSTEM_DIR=$LVMDIR lvm "$@" --config "$CFG" >>"$BATS_TEST_TMPDIR/lvm.log" 2>&1
}

@test "LVs activated by device-mapper equal blkfuse's files, byte for byte" {
	local img=$BATS_TEST_TMPDIR/vg.img lv mib
	dd if=/dev/urandom of="$img" bs=1M count=96 status=none
	sfdisk -q "$img" <<-EOT
	label: gpt
	size=40MiB
	size=40MiB
	EOT
	LOOP=$(losetup -P -f --show "$img")
	wait_until "${LOOP}p2 appears" test -b "${LOOP}p2"
	CFG="devices { filter=[ \"a|^${LOOP}p[12]\$|\", \"r|.*|\" ] obtain_device_list_from_udev=0 use_devicesfile=0 hints=\"none\" } global { locking_type=0 } activation { udev_sync=0 udev_rules=0 monitoring=0 } backup { backup=0 archive=0 }"
	lvmrun pvcreate "${LOOP}p1" "${LOOP}p2" || { cat "$BATS_TEST_TMPDIR/lvm.log"; false; }
	lvmrun vgcreate vgq "${LOOP}p1" "${LOOP}p2"
	lvmrun lvcreate -n root -L 8M vgq "${LOOP}p1"
	lvmrun lvcreate -n swap -L 4M vgq "${LOOP}p1"
	lvmrun lvextend -L 16M vgq/root
	lvmrun lvcreate -n st -i2 -I64k -L 16M vgq
	lvmrun lvcreate -n span -L 32M vgq || { cat "$BATS_TEST_TMPDIR/lvm.log"; false; }
	for lv in root:16 swap:4 st:16 span:32; do
		mib=${lv#*:} lv=${lv%:*}
		[ -b "/dev/mapper/vgq-$lv" ] || { cat "$BATS_TEST_TMPDIR/lvm.log"; fail "no /dev/mapper/vgq-$lv"; }
		dd if=/dev/urandom of="/dev/mapper/vgq-$lv" bs=1M count="$mib" conv=fsync status=none
	done
	sync
	start "$img" "$MNT"
	for lv in root swap st span; do
		assert_equal "$(stat -c %s "$MNT/p1.d/vgq-$lv")" "$(blockdev --getsize64 "/dev/mapper/vgq-$lv")"
		cmp "/dev/mapper/vgq-$lv" "$MNT/p1.d/vgq-$lv"
	done
	# the VG's other PV links to them
	cmp "/dev/mapper/vgq-span" "$MNT/p2.d/vgq-span"
}
