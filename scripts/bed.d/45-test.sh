# shellcheck shell=bash
# scripts/bed: make test, test-full and demo, and the summary.
# Sourced by scripts/bed before main runs (its header lists the stages).

stage_summary() {
	local args=() k all
	if [ $# = 0 ]; then
		mapfile -t all < <(kernel_names)
		set -- "${all[@]}"
	fi
	for k in "$@"; do args+=("$k" "$OUT/test/$k.ktap"); done
	"$BED_DIR/ktap-summary" "${args[@]}"
}

# A test VM keeps about one host core busy (its tests run one at a time;
# a nested guest's QEMU is one busy thread): on a 2-core host two VMs at a
# time finish sooner than one after the other.
JOBS=${VSLICE_JOBS:-2}
stage_test() {
	local k t all ready=() running=0
	t=$(now)
	# make test's share of the fuzzer: 200000 operations on a
	# bochs-display's instance (make test-full: ten million), then 12 s
	# on edu instances, which run for a time (the engine's pace).  The
	# edu part's 13 s or so came out of the bochs operations: 500000
	# took about 30 s of a VM under make test's load (two VMs on two
	# cores), 200000 take 12, so fuzz_test takes no longer than it did.
	VSLICE_FUZZ_OPS=${VSLICE_FUZZ_OPS:-200000}
	VSLICE_FUZZ_EDU=${VSLICE_FUZZ_EDU:-12}
	export VSLICE_FUZZ_OPS VSLICE_FUZZ_EDU
	if [ $# = 0 ]; then
		mapfile -t all < <(kernel_names)
		set -- "${all[@]}"
	fi
	for k in "$@"; do load_kernel "$k"; done
	stage_deps
	stage_sidroot
	stage_userland
	# QEMU first: every initramfs names it, the nested guests' too.
	"$BED_DIR/bed" qemu-bpo || log "qemu-bpo: stage failed (the nested migration tests will fail)"
	log "test VMs on $("$(outer_qemu)" --version | head -n1)"
	"$BED_DIR/bed" nested-all || log "nested guests: stage failed (nested tests will fail)"
	for k in "$@"; do
		if "$BED_DIR/bed" _one "$k" prep; then ready+=("$k"); else log "$k: pipeline failed"; fi
	done
	# The VMs, JOBS at a time.
	for k in "${ready[@]}"; do
		if [ "$running" -ge "$JOBS" ]; then
			wait -n || :
			running=$((running - 1))
		fi
		"$BED_DIR/bed" _one "$k" run &
		running=$((running + 1))
	done
	wait
	stage_check "$@"
	stage_installcheck
	log "test: $* in $(since "$t") s"
	stage_summary "$@" static install
}

stage_demo() {
	local k=${1:-${KERNEL:-6.12}}
	stage_deps
	stage_build "$k"
	stage_userland
	# the QEMU of the VM, whose nested guest then runs on KVM (qemu_boot)
	"$BED_DIR/bed" qemu-bpo || log "qemu-bpo: stage failed (the demo VM runs on the host's QEMU)"
	VSLICE_IGT_GUEST=none "$BED_DIR/bed" nested-all || log "demo: no nested guest"
	RUN_OUT=$OUT/demo # keep out/test for test results
	stage_run "$k" --script "$BED_DIR/guest-demo" --stream
	demo_png "$k"
}

# The demo's screendump of its nested guest: base64 of a gzipped PPM
# between two marker lines on kernel $1's console -> out/demo/nested-guest.png.
demo_png() {
	local k=$1 con=$OUT/demo/$1.console png=$OUT/demo/nested-guest.png
	rm -f "$png"
	grep -q '^vslice-demo-ppm-begin' "$con" || { log "demo: no screendump of a nested guest"; return 0; }
	tr -d '\r' <"$con" | sed -n '/^vslice-demo-ppm-begin$/,/^vslice-demo-ppm-end$/p' |
		sed '1d;$d' | base64 -d | gunzip | pnmtopng >"$png.tmp"
	mv "$png.tmp" "$png"
	log "demo: what the nested guest drew: $png"
}

# make test-full: make test with the display tests on every guest kernel,
# all of igt on every outer kernel, ten times the fuzzer's operations, and
# a longer VM timeout.
stage_test_full() {
	VSLICE_NESTED_GUESTS=${VSLICE_NESTED_GUESTS:-$(kernel_names | xargs)}
	VSLICE_IGT_KERNELS=${VSLICE_IGT_KERNELS:-all}
	VSLICE_TIMEOUT=${VSLICE_TIMEOUT:-3600}
	VSLICE_FUZZ_OPS=${VSLICE_FUZZ_OPS:-10000000}
	VSLICE_IGT_TESTS=${VSLICE_IGT_TESTS:-all}
	export VSLICE_NESTED_GUESTS VSLICE_IGT_KERNELS VSLICE_TIMEOUT VSLICE_FUZZ_OPS
	export VSLICE_IGT_TESTS
	TIMEOUT=$VSLICE_TIMEOUT
	stage_test "$@"
}
