# shellcheck shell=bash
# scripts/bed: nested guests and igt.
# Sourced by scripts/bed before main runs (its header lists the stages).

# The nested guests that tests start inside the test VM (selftests/
# nested_test.c, scripts/nested-init), and igt for them. A nested guest G is
# a kernel of scripts/kernels booted with its cached initramfs base (busybox,
# drm, bochs, virtio, 9p) plus scripts/nested-init as /init; it lives in
# out/build/nested/G/ (vmlinuz, initrd.img), which the test VM
# reads through /host. The test VM learns the paths from /vslice/env.
#
#   VSLICE_NESTED_ACCEL   "tcg" or "kvm": what the nested guests run on
#                         (default: kvm when the test VM's kvm_amd gives it
#                         a /dev/kvm, which it does on QEMU's TCG "max"
#                         CPU, else tcg; see scripts/guest-init)
#   VSLICE_NESTED_GUESTS  guest kernels for the display tests
#                         (make test: 6.12; make test-full: all; "none")
#   VSLICE_IGT_GUEST      the guest kernel that runs igt (default: the first
#                         of VSLICE_NESTED_GUESTS; "none" for no igt)
#   VSLICE_IGT_KERNELS    the outer kernels whose test VM runs igt ("all" or
#                         names; make test: 6.12; make test-full: all)
#   VSLICE_IGT_TESTS      the igt programs to run ("all" or names; make
#                         test: all of selftests/igt_tests.h but
#                         kms_properties and kms_atomic; make test-full:
#                         all, ~4 minutes two levels of TCG deep)
NESTED_DIR=$OUT/build/nested
NESTED_DEFAULT=6.12
IGT_KERNELS_DEFAULT=6.12
# make test runs all of selftests/igt_tests.h but its two longest
# programs (kms_properties, kms_atomic: 140 s of the 6.12 VM, with their
# reference runs); make test-full runs all.
IGT_TESTS_DEFAULT="core_getversion core_getclient core_getstats core_auth core_setmaster kms_addfb_basic kms_getfb kms_rmfb kms_prop_blob kms_invalid_mode kms_lease"
IGT_PKG=igt-gpu-tools-tests
IGT_BIN=/usr/libexec/igt-gpu-tools

nested_guests() {
	local g=${VSLICE_NESTED_GUESTS:-$NESTED_DEFAULT}
	[ "$g" = none ] || echo "$g"
}
igt_guest() {
	local g=${VSLICE_IGT_GUEST:-}
	[ -n "$g" ] || read -r g _ <<<"$(nested_guests)"
	[ "$g" = none ] || echo "$g"
}

# Install igt's test programs into the sid chroot (with its own apt: never
# from the host's sources). Runs locked.
install_igt() {
	[ -x "$SID$IGT_BIN/core_getversion" ] && return 0
	apt_fresh sid
	sid_apt install --no-install-recommends "$IGT_PKG" >/dev/null
}

# Sets IGT_VERSION.
stage_igt() {
	local t
	stage_sidroot
	if [ ! -x "$SID$IGT_BIN/core_getversion" ]; then
		t=$(now)
		locked install_igt
		log "igt: installed $IGT_PKG into the sid chroot in $(since "$t") s"
	fi
	IGT_VERSION=$(dpkg-query --admindir="$SID/var/lib/dpkg" -W -f='${Version}' "$IGT_PKG")
	[ -n "$IGT_VERSION" ] || die "igt: $IGT_PKG is not installed in $SID"
}

# Build nested guest $1 into out/build/nested/$1/.
stage_nested() {
	local g=$1 d=$NESTED_DIR/$1 ov=$NESTED_DIR/$1.overlay base t
	stage_fetch "$g"
	[ -x "$OUT/build/user/vslice-edu-uio" ] || stage_userland
	# the base of the current module list (scripts/guest-modules): packing
	# kernel $g's initramfs builds it if the list changed, and drops the
	# older ones
	"$BED_DIR/bed" initramfs "$g"
	base=$(find "$K_DIR" -maxdepth 1 -name 'initramfs-*.cpio.gz' | head -n1)
	[ -n "$base" ] || die "nested $g: no initramfs base in $K_DIR"
	t=$(now)
	rm -rf "$ov"
	mkdir -p "$d" "$ov/vslice"
	cp "$BED_DIR/nested-init" "$ov/init"
	cp "$OUT/build/user/vslice-fbdraw" "$OUT/build/user/vslice-edu-uio" "$ov/vslice/"
	chmod +x "$ov/init"
	(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$d/overlay.cpio.gz"
	cat "$base" "$d/overlay.cpio.gz" >"$d/initrd.img.tmp"
	mv "$d/initrd.img.tmp" "$d/initrd.img"
	cmp -s "$K_DIR/root/$VMLINUZ" "$d/vmlinuz" || cp "$K_DIR/root/$VMLINUZ" "$d/vmlinuz"
	echo "$KVER" >"$d/release"
	rm -rf "$ov"
	log "nested $g: $d ($KVER) in $(since "$t") s"
}

# Everything the nested tests need, for the guests of VSLICE_NESTED_GUESTS.
stage_nested_all() {
	local g ig
	local -A built=()
	ig=$(igt_guest)
	for g in $(nested_guests) $ig; do
		[ -n "${built[$g]:-}" ] && continue
		stage_nested "$g"
		built[$g]=1
	done
	# igt's reference runs in the test VM (nested_test's igt.reference)
	[ -z "$ig" ] || stage_igt
}

# The lines of /vslice/env that tell outer kernel $1's tests about the
# nested guests (host paths, as the test VM sees them under /host).
nested_env() {
	local k=$1 g names="" ig tests
	for g in $(nested_guests); do
		[ -e "$NESTED_DIR/$g/initrd.img" ] && names="$names $g"
	done
	ig=$(igt_guest)
	case " ${VSLICE_IGT_KERNELS:-$IGT_KERNELS_DEFAULT} " in
	" all " | *" $k "*) ;;
	*) ig="" ;;
	esac
	printf 'VSLICE_NESTED_ROOT=/host\nVSLICE_NESTED_DIR=%s\n' "$NESTED_DIR"
	tests=${VSLICE_IGT_TESTS:-$IGT_TESTS_DEFAULT}
	[ "$tests" != all ] || tests=""
	printf 'VSLICE_NESTED_GUESTS="%s"\nVSLICE_IGT_GUEST=%s\nVSLICE_IGT_ROOT=%s\n' \
		"${names# }" "$ig" "$SID"
	printf 'VSLICE_IGT_TESTS="%s"\n' "$tests"
	# KVM in the test VM only on an outer QEMU that emulates it soundly
	# (see qemu_boot); the test VM's init decides otherwise.
	if [ -n "${VSLICE_NESTED_ACCEL:-}" ]; then
		printf 'VSLICE_NESTED_ACCEL=%s\n' "$VSLICE_NESTED_ACCEL"
	elif [ "$(outer_qemu)" != "$(mq_binary)" ]; then
		echo "VSLICE_NESTED_ACCEL=tcg"
	fi
	mq_env
}
