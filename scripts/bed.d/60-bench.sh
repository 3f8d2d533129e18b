# shellcheck shell=bash
# scripts/bed: make bench.
# Sourced by scripts/bed before main runs (its header lists the stages).

# Build Debian's mbochs sample (samples/vfio-mdev/mbochs.c of linux-source,
# never copied into the repository) for kernel $1 the way stage_build
# builds vslice, in out/build/K/mbochs/. Where it does not build, leaves
# the reason in out/build/K/mbochs/missing instead of mbochs.ko.
bench_build_mbochs() {
	local k=$1 d=$OUT/build/$1/mbochs t err
	stage_fetch "$k"
	stage_ksrc >/dev/null
	t=$(now)
	rm -rf "$d"
	mkdir -p "$d/src"
	cp "$KSRC/samples/vfio-mdev/mbochs.c" "$d/src/"
	echo 'obj-m := mbochs.o' >"$d/src/Kbuild"
	if [ "$K_SUITE" = sid ]; then
		in_sid -b "$K_DIR/root:/vslice/kroot" -b "$d/src:/vslice/src" -- \
			env LC_ALL=C make -C "/vslice/kroot/usr/src/$HEADERS" M=/vslice/src \
			-j"$(nproc)" modules >"$d/build.log" 2>&1 || :
	else
		LC_ALL=C make -C "$K_DIR/root/usr/src/$HEADERS" M="$d/src" -j"$(nproc)" modules \
			>"$d/build.log" 2>&1 || :
	fi
	if [ -e "$d/src/mbochs.ko" ]; then
		cp "$d/src/mbochs.ko" "$d/"
		log "$k: built $d/mbochs.ko in $(since "$t") s"
		return 0
	fi
	# The first error, without this machine's paths.
	err=$(grep -m1 -E 'error:|Error [0-9]' "$d/build.log" |
		sed -e "s|$d/src/||g" -e 's|/vslice/src/||g') || :
	echo "mbochs.c of $KSRC_PKG does not build for $KVER: ${err:-see build.log}" >"$d/missing"
	log "$k: $(cat "$d/missing") ($d/build.log)"
}

# Append the bench's files to kernel $1's initrd (the kernel unpacks
# concatenated archives in order): mbochs.ko and the modules it needs, or
# why it is missing; and vslice_bench's arguments (VSLICE_BENCH_ARGS).
bench_pack() {
	local k=$1 b=$OUT/build/$1 ov=$OUT/build/$1/bench-overlay
	rm -rf "$ov"
	mkdir -p "$ov/vslice"
	if [ -e "$b/mbochs/mbochs.ko" ]; then
		cp "$b/mbochs/mbochs.ko" "$ov/vslice/mbochs.ko"
		modinfo -F depends "$b/mbochs/mbochs.ko" | tr ',' ' ' >"$ov/vslice/mbochs.deps"
	else
		cp "$b/mbochs/missing" "$ov/vslice/mbochs.missing"
	fi
	printf '%s\n' "${VSLICE_BENCH_ARGS:-}" >"$ov/vslice/bench.args"
	# To see the bench fail on a broken boot (bench.rst).
	[ -z "${VSLICE_BENCH_BREAK:-}" ] || printf '%s\n' "$VSLICE_BENCH_BREAK" >"$ov/vslice/bench.break"
	(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
		>>"$b/initrd.img"
}

# What is wrong with one boot of the bench: its results stream $1 and
# serial console $2. Prints one line per fault and fails if there is any:
# no stream, a stream that ends before "# vslice-end" (the VM stopped,
# hung or panicked before guest-bench finished), a "# vslice-bench:" line
# (a module did not load, vslice_bench failed), a "# kernel:" line (the
# guest's kernel log had a WARNING, BUG, Oops, ...), a "# vslice-host:"
# line (QEMU's exit status, a panic), or any of those on the console.
BENCH_KERNEL_BAD='WARNING:|BUG:|Oops|general protection|Call Trace|Kernel panic'
bench_check_boot() {
	local ktap=$1 console=$2 bad=0 line
	if [ ! -s "$ktap" ]; then
		echo "no results stream $ktap"
		return 1
	fi
	if ! grep -q -a '^# vslice-end' "$ktap"; then
		echo "its stream ends before '# vslice-end' after $(wc -l <"$ktap") lines: $(tail -n1 "$ktap" | tr -d '\r' | cut -c1-160)"
		bad=1
	fi
	while IFS= read -r line; do
		echo "$line"
		bad=1
	done < <(grep -a -E '^# (vslice-bench|kernel|vslice-host):' "$ktap" | tr -d '\r' | cut -c1-200)
	if [ -e "$console" ]; then
		while IFS= read -r line; do
			echo "console: $line"
			bad=1
		done < <(grep -a -E "$BENCH_KERNEL_BAD" "$console" | tr -d '\r' | head -n 5 | cut -c1-200)
	fi
	return "$bad"
}

# The faults of boot $1 (stream $2, console $3), one line each, named.
bench_boot_faults() {
	local why line
	why=$(bench_check_boot "$2" "$3") && return 0
	while IFS= read -r line; do
		echo "boot $1 ($3): $line"
	done <<<"$why"
}

# bench_check_boot on made-up boots, each of which it must judge right;
# make bench runs this first, and so does VSLICE_BENCH_CHECK_ONLY=1.
bench_check_selftest() {
	local d fails=0 name want got
	d=$(mktemp -d)
	printf '# parent 0000:00:02.0, 21 rounds\nvslice_bar2_read_ns 900.0 ns\n' >"$d/head"
	printf '[    0.000000] Linux version 6.12\nvslice-init: userspace at 2.1 s\n' >"$d/console"
	# name, expected verdict (0 = good), then how the boot differs
	cp "$d/head" "$d/good.ktap"; echo '# vslice-end' >>"$d/good.ktap"
	cp "$d/head" "$d/truncated.ktap"
	: >"$d/empty.ktap"
	{ cat "$d/head"; echo '# kernel: [   12.3] WARNING: CPU: 1 PID: 80 at mm/slub.c:1 f+0x1/0x2'; echo '# vslice-end'; } >"$d/warning.ktap"
	{ cat "$d/head"; echo '# vslice-bench: vslice_bench exit status 1'; echo '# vslice-end'; } >"$d/exit.ktap"
	{ cat "$d/head"; echo '# vslice-host: QEMU exit status 124 (timeout 900 s)'; } >"$d/timeout.ktap"
	cp "$d/good.ktap" "$d/console-bug.ktap"
	{ cat "$d/console"; echo '[   20.1] BUG: kernel NULL pointer dereference, address: 0000000000000008'; } >"$d/console-bug.console"
	for name in good:0 truncated:1 empty:1 warning:1 exit:1 timeout:1 console-bug:1; do
		want=${name#*:}
		name=${name%:*}
		[ -e "$d/$name.console" ] || cp "$d/console" "$d/$name.console"
		got=0
		bench_check_boot "$d/$name.ktap" "$d/$name.console" >"$d/$name.out" || got=1
		if [ "$got" != "$want" ] || { [ "$want" = 1 ] && [ ! -s "$d/$name.out" ]; }; then
			log "bench: the boot checker judges a $name boot wrong (verdict $got, want $want): $(cat "$d/$name.out")"
			fails=$((fails + 1))
		fi
	done
	rm -rf "$d"
	[ "$fails" = 0 ] || die "bench: the boot checker is broken ($fails cases)"
	log "bench: the boot checker judges 7 made-up boots right"
}

# The figure lines ("name value unit [# why]") of file $3 as JSON, for
# kernel $1 (release $2), host load $4, the failed boots in file $5 (one
# line each): {"kernel", "release", "host_load", "failed_boots": [...],
# "figures": {name: {"value", "unit"[, "missing"]}}}, value null for a
# missing figure.
bench_json() {
	awk -v kernel="$1" -v release="$2" -v load="$4" -v failfile="$5" '
		function esc(s) {
			gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s)
			gsub(/[\001-\037]/, " ", s)
			return s
		}
		/^#/ || NF < 3 || ($1 in seen) { next }
		{
			seen[$1] = 1
			val = $2; why = ""
			if ((i = index($0, " # ")) > 0) why = substr($0, i + 3)
			if (val !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) {
				if (why == "") why = "not a number: " val
				val = "null"
			}
			e = sprintf("    \"%s\": {\"value\": %s, \"unit\": \"%s\"", esc($1), val, esc($3))
			if (why != "") e = e sprintf(", \"missing\": \"%s\"", esc(why))
			out[++n] = e "}"
		}
		END {
			printf "{\n  \"kernel\": \"%s\",\n  \"release\": \"%s\",\n", esc(kernel), esc(release)
			printf "  \"host_load\": \"%s\",\n  \"failed_boots\": [", esc(load)
			nf = 0
			while (failfile != "" && (getline f < failfile) > 0)
				printf "%s\n    \"%s\"", (nf++ ? "," : ""), esc(f)
			printf "%s],\n  \"figures\": {\n", (nf ? "\n  " : "")
			for (i = 1; i <= n; i++) printf "%s%s\n", out[i], (i < n ? "," : "")
			printf "  }\n}\n"
		}' "$3"
}

# From the bench VM's results stream out/bench/K.ktap: out/bench/bench.txt
# (figures and comments), out/bench/bench.json; print the figures. $2 is
# what bench_load said before the VM started; $3 a file of the failed
# boots, one line each.
bench_report() {
	local k=$1 dir=$OUT/bench load
	load="$(nproc) cpus; before the VM: $2; after: $(bench_load)"
	{
		grep -a -E '^(#|[a-z][a-z0-9_]* )' "$dir/$k.ktap" | tr -d '\r' || :
		echo "# host: $load"
		sed 's/^/# failed: /' "$3"
	} >"$dir/bench.txt"
	bench_json "$k" "$KVER" "$dir/bench.txt" "$load" "$3" >"$dir/bench.json.tmp"
	mv "$dir/bench.json.tmp" "$dir/bench.json"
	grep -v '^#' "$dir/bench.txt" || :
	log "bench: $dir/bench.txt, $dir/bench.json"
	# TCG shares the host's cores: other VMs make the figures noisy.
	if [[ $load != *" 0 other VMs"*" 0 other VMs"* ]]; then
		log "bench: warning: other VMs ran on this host ($load): the figures are noisier than usual"
	fi
}

# The host's load average and how many other QEMUs run (call it while ours
# does not).
bench_load() {
	echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $(pgrep -c -x qemu-system-x86 || :) other VMs"
}

# The trapped-access and lifecycle figures move with each boot by more
# than they move between the rounds of one boot (where the kernel and the
# modules land, and how TCG lays out the code it translates): they are
# measured in BENCH_BOOTS boots, and each is the median of the boots'
# figures (a ratio: of the boots' ratios). Merges the figure lines of files $2...
# (the first: the whole bench) into $1.
BENCH_BOOTS=${VSLICE_BENCH_BOOTS:-5}
bench_merge_boots() {
	local out=$1
	shift
	awk '
		function median(name,   n, i, j, t, a) {
			n = split(vals[name], a, " ")
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return n % 2 ? a[(n + 1) / 2] : sprintf("%.4g", (a[n / 2] + a[n / 2 + 1]) / 2)
		}
		FNR == 1 { boot++ }
		/^[a-z][a-z0-9_]* -?[0-9.]+ / {
			if (boot == 1) first[$1] = 1
			if ($1 in first) { vals[$1] = vals[$1] " " $2; nb[$1]++ }
		}
		boot == 1 { lines[++n] = $0 }
		END {
			for (i = 1; i <= n; i++) {
				split(lines[i], f, " ")
				if (f[1] in nb && nb[f[1]] > 1) {
					printf "%s %s %s\n", f[1], median(f[1]), f[3]
					printf "# %s: median of %d boots:%s\n", f[1], nb[f[1]], vals[f[1]]
				} else {
					print lines[i]
				}
			}
		}' "$@" >"$out.tmp"
	mv "$out.tmp" "$out"
}

stage_bench() {
	local k=${1:-${KERNEL:-6.12}} t load b files=() rounds failed nfail
	t=$(now)
	bench_check_selftest
	[ -z "${VSLICE_BENCH_CHECK_ONLY:-}" ] || return 0
	# No nested guests here: the host's QEMU, as for every figure so far,
	# not whichever QEMU the cache happens to hold.
	VSLICE_OUTER_QEMU=${VSLICE_OUTER_QEMU:-host}
	export VSLICE_OUTER_QEMU
	stage_deps
	stage_build "$k"
	stage_userland
	bench_build_mbochs "$k"
	stage_initramfs "$k" "$BED_DIR/guest-bench"
	bench_pack "$k"
	RUN_OUT=$OUT/bench # keep out/test for test results
	mkdir -p "$RUN_OUT"
	failed=$OUT/bench/failed
	: >"$failed"
	load=$(bench_load)
	stage_run "$k" --packed
	files=("$OUT/bench/$k.ktap")
	# Every boot's stream must be whole, and its kernel log clean.
	bench_boot_faults 1 "$OUT/bench/$k.ktap" "$OUT/bench/$k.console" >>"$failed"
	# More boots for the trapped and lifecycle figures, with as many rounds.
	if grep -q -a '^vslice_bar2_read_ns [0-9]' "$OUT/bench/$k.ktap"; then
		rounds=$(sed -n 's/^# parent .*, \([0-9]*\) rounds,.*/\1/p' "$OUT/bench/$k.ktap" | head -n1)
		for b in $(seq 2 "$BENCH_BOOTS"); do
			log "bench: boot $b of $BENCH_BOOTS for the trapped and lifecycle figures"
			stage_initramfs "$k" "$BED_DIR/guest-bench"
			VSLICE_BENCH_ARGS="-r ${rounds:-21} trapped lifecycle" bench_pack "$k"
			RUN_OUT=$OUT/bench/boot$b stage_run "$k" --packed
			files+=("$OUT/bench/boot$b/$k.ktap")
			bench_boot_faults "$b" "$OUT/bench/boot$b/$k.ktap" "$OUT/bench/boot$b/$k.console" >>"$failed"
		done
	fi
	[ ${#files[@]} -eq 1 ] || bench_merge_boots "$OUT/bench/$k.ktap" "${files[@]}"
	bench_report "$k" "$load" "$failed"
	log "bench: $k in $(since "$t") s"
	if [ -s "$failed" ]; then
		nfail=$(cut -d' ' -f2 "$failed" | sort -u | wc -l)
		sed 's/^/bed: bench: /' "$failed" >&2
		die "bench: $nfail of ${#files[@]} boots failed (above; also in bench.txt and bench.json)"
	fi
}
