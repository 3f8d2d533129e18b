# shellcheck shell=bash
# scripts/bed: the test VM: boot, watch, run the tests.
# Sourced by scripts/bed before main runs (its header lists the stages).

# Boot kernel $1 with initrd $2; serial console to $3, results port to $4.
# iomem=relaxed: the tests read the parent's BAR0 through resource0 (with
# IO_STRICT_DEVMEM); log_buf_len: dmesg_clean reads the whole run's log.
# la57=off: four-level paging. Twice a debug kernel (make test-debug) hung
# in its boot: a timer interrupt while it was still identifying the boot
# CPU, and KASAN reporting wild accesses at addresses of the five-level
# direct map (0xff11...) in a loop. Without la57 that window is gone.
# Two bochs-displays and two edus (1234:11e8): the first of each kind is
# the tests' parent, the second a spare (a second parent, or a vfio-pci
# peer). The edus come after the displays, which keep their slots.
# Streams the results port to stderr when $5 is 1. Returns QEMU's status
# (124 when the VM ran over VSLICE_TIMEOUT).
#
# The QEMU is outer_qemu's: by default the backports QEMU (10.x) of
# stage_qemu_bpo. The test VM's CPU has AMD SVM (TCG emulates it), so on
# that QEMU kvm_amd gives the VM a /dev/kvm and its nested guests run on
# KVM, five times faster than on TCG: make test from an empty cache takes
# 12 minutes instead of 30. With VSLICE_OUTER_QEMU=host the VMs run on
# the host's QEMU 7.2, on which KVM in the VM broke the VM's own kernel
# now and then (an int3 oops at a static branch KVM had just flipped, a
# corrupted task stack), so there nested guests stay on TCG (nested_env).
# No audio: the backports QEMU's audio modules are not unpacked.
#
# With SCREENS set (screens_dir), QEMU also takes QMP on $SCREENS/qmp.sock,
# and a line "vslice-outer-screendump ID" on the console gets the VM a
# screendump of its first display (the parent) in $SCREENS/ID.ppm, which it
# reads through /host: the physical-scanout test's view of its own screen.
qemu_boot() {
	local kernel=$1 initrd=$2 console=$3 results=$4 stream=${5:-0} pid rc=0 qmp=()
	: >"$console"
	: >"$results"
	if [ -n "${SCREENS:-}" ]; then
		rm -rf "$SCREENS"
		mkdir -p "$SCREENS"
		qmp=(-qmp "unix:$SCREENS/qmp.sock,server=on,wait=off")
	fi
	timeout -k 10 "$TIMEOUT" "$(outer_qemu)" -audiodev none,id=noaudio \
		-accel tcg -cpu max,la57=off -smp 2 -m 2G \
		-M q35 -device intel-iommu,caching-mode=on \
		-display none -monitor none -no-reboot -vga none -nic none \
		-device bochs-display,vgamem=256M -device bochs-display,vgamem=256M \
		-device edu -device edu \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		-serial "file:$console" -serial "file:$results" "${qmp[@]}" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 intel_iommu=on iomem=relaxed log_buf_len=4M" </dev/null &
	pid=$!
	boot_watch "$console" "$pid" &
	if [ -n "${SCREENS:-}" ]; then
		echo "$pid" >"$SCREENS/pid"
		echo "$SCREENS" >"$SCREENS/qdir"
		screens_watch "$console" "$pid" &
	fi
	# timeout runs QEMU in its own process group, out of reach of the
	# terminal's ^C: stop it ourselves if we are interrupted.
	trap 'kill -TERM "$pid" 2>/dev/null; exit 130' INT TERM
	# tail exits by itself when QEMU does.
	if [ "$stream" = 1 ]; then tail -n +1 -f --pid="$pid" "$results" >&2; fi
	wait "$pid" || rc=$?
	trap - INT TERM
	return "$rc"
}

# Stop the VM whose QEMU is $2 if its kernel has not reached userspace
# (a line on console $1) within BOOT_TIMEOUT seconds: it hung while
# booting. Leaves $1.stalled behind for qemu_run. Runs in the background.
BOOT_TIMEOUT=${VSLICE_BOOT_TIMEOUT:-300}
boot_watch() {
	local console=$1 pid=$2 waited=0
	rm -f "$console.stalled"
	while kill -0 "$pid" 2>/dev/null; do
		grep -q -a 'vslice-init: userspace at' "$console" && return 0
		if [ "$waited" -ge "$BOOT_TIMEOUT" ]; then
			echo "no userspace after $BOOT_TIMEOUT s" >"$console.stalled"
			kill -TERM "$pid" 2>/dev/null
			return 0
		fi
		sleep 5
		waited=$((waited + 5))
	done
}

# qemu_boot, and once more if the kernel died or hung while booting:
# QEMU 7.2's TCG with two vCPUs now and then kills a kernel seconds into
# its boot (an oops in an interrupt while it patches its own text, before
# any module is loaded), and a KASAN kernel has hung there. The results
# stream says so.
qemu_run() {
	local console=$3 results=$4 rc=0 panic crashed
	qemu_boot "$@" || rc=$?
	if ! grep -q -a 'vslice-init: userspace at' "$console" &&
		{ grep -q -a 'Kernel panic' "$console" || [ -e "$console.stalled" ]; }; then
		panic=$(grep -m1 -a 'Kernel panic' "$console" | tr -d '\r' | sed 's/^\[[ 0-9.]*\] //') || :
		[ -n "$panic" ] || panic=$(cat "$console.stalled")
		rm -f "$console.stalled"
		log "the kernel did not reach userspace ($panic): booting once more"
		mv "$console" "$console.boot1"
		rc=0
		qemu_boot "$@" || rc=$?
		echo "# vslice-host: the first boot did not reach userspace ($panic); booted again" >>"$results"
	fi
	# The emulator itself crashed (QEMU 10's TCG once aborted in
	# iotlb_to_section(), an assertion on its own memory map, in the
	# middle of removal_test): nothing the VM ran is to blame, and what
	# it had not run yet is lost, so the whole VM runs once more.
	if [ "$rc" = 134 ] || [ "$rc" = 139 ]; then
		crashed=$rc
		log "QEMU crashed (exit status $crashed): booting once more"
		mv "$console" "$console.crash1"
		rc=0
		qemu_boot "$@" || rc=$?
		echo "# vslice-host: the first run's QEMU crashed (exit status $crashed; its console is $(basename "$console").crash1); ran again" >>"$results"
	fi
	if [ -e "$console.stalled" ]; then
		echo "# vslice-host: stopped: $(cat "$console.stalled")" >>"$results"
		rm -f "$console.stalled"
	fi
	return "$rc"
}

# Where kernel $1's VM gets its screendumps (see qemu_run); nothing when
# the QMP socket's path would be too long for a unix socket.
screens_dir() {
	local d=$OUT/screens/$1
	if [ "${#d}" -lt 96 ]; then echo "$d"; fi
}

# Answer the screendump requests on console $1 of the VM whose QEMU is $2
# (in the background; ends with QEMU).
screens_watch() {
	local console=$1 pid=$2 line id
	tail -n +1 -F --pid="$pid" "$console" 2>/dev/null | while read -r line; do
		line=${line%$'\r'}
		case $line in
		"vslice-outer-screendump "*)
			id=${line#vslice-outer-screendump }
			[[ $id =~ ^[0-9-]+$ ]] || continue
			"$OUT/build/user/vslice-nested" screendump "$SCREENS" "$SCREENS/$id.ppm.tmp" >&2 &&
				mv "$SCREENS/$id.ppm.tmp" "$SCREENS/$id.ppm"
			;;
		esac
	done
}

# Boot kernel $1 and run a guest script; its stdout lands in
# $RUN_OUT/$1.ktap, the serial console in $RUN_OUT/$1.console.
RUN_OUT=$OUT/test
stage_run() {
	local k=$1 script="" stream=${VSLICE_VERBOSE:-0} pack=1
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--script) script=$(realpath "$2"); shift 2 ;;
		--stream) stream=1; shift ;;
		--packed) pack=0; shift ;; # the initramfs stage has just run
		*) die "run: unknown option $1" ;;
		esac
	done
	if [ "$pack" = 1 ]; then stage_initramfs "$k" "$script"; else stage_fetch "$k"; fi
	mkdir -p "$RUN_OUT"
	log "$k: booting $KVER"
	vm_boot "$k" "$k" "$OUT/build/$k/initrd.img" "$stream"
	return 0
}

# Boot kernel $1 (loaded) with initramfs $3 as test VM $2: console and
# results in $RUN_OUT/$2.console and .ktap, streamed when $4 is 1. Why a
# run ended early goes into the stream, where the summary reads it.
vm_boot() {
	local k=$1 name=$2 initrd=$3 stream=$4 t rc=0 up panic
	t=$(now)
	SCREENS=$(screens_dir "$k") qemu_run "$K_DIR/root/$VMLINUZ" "$initrd" \
		"$RUN_OUT/$name.console" "$RUN_OUT/$name.ktap" "$stream" || rc=$?
	up=$(sed -n 's/.*vslice-init: userspace at \([0-9.]*\) s.*/\1/p' "$RUN_OUT/$name.console" | head -n1)
	log "$name: VM ran $(since "$t") s wall (userspace at ${up:-?} s guest time), exit status $rc"
	if [ "$rc" != 0 ]; then
		echo "# vslice-host: QEMU exit status $rc$([ "$rc" = 124 ] && echo " (timeout ${TIMEOUT} s)")" >>"$RUN_OUT/$name.ktap"
	fi
	panic=$(grep -m1 -a 'Kernel panic' "$RUN_OUT/$name.console" | sed 's/^\[[ 0-9.]*\] //') || :
	[ -z "$panic" ] || echo "# vslice-host: $panic" >>"$RUN_OUT/$name.ktap"
}

# One kernel's pipeline, $2 = "prep" (fetch, build, initramfs; fails if
# one of them did, saying so in its KTAP stream) or "run" (boot it); run as
# its own process so that set -e holds (bash ignores it in a function
# called from an || list).
stage_one() {
	local k=$1 stage
	if [ "$2" = run ]; then
		stage_run "$k" --packed
		return 0
	fi
	mkdir -p "$OUT/test"
	rm -f "$OUT/test/$k.ktap" "$OUT/test/$k.console"
	for stage in fetch build initramfs; do
		"$BED_DIR/bed" "$stage" "$k" || {
			echo "# vslice-host: stage '$stage' failed" >"$OUT/test/$k.ktap"
			return 1
		}
	done
}
