# shellcheck shell=bash
# scripts/bed: static checks.
# Sourced by scripts/bed before main runs (its header lists the stages).

# The static checks, as KTAP out/test/static.ktap, for the kernels $@ whose
# vslice.ko was built (stage_build builds with W=1 C=1): checkpatch
# --strict on every C file of the tree, kernel-doc -Wall on the driver,
# and for each kernel a build with no warning (compiler, sparse, modpost)
# in the driver's own files. The findings are the diagnostics.
stage_check() {
	local f=$OUT/test/static.ktap tmp n=0 k log bad files=() drv=()
	KSRC=$(stage_ksrc)
	mkdir -p "$OUT/test"
	tmp=$(mktemp)
	mapfile -t files < <(cd "$SRC" && find mdev vfio_core samples selftests -name '*.[ch]' | LC_ALL=C sort)
	mapfile -t drv < <(printf '%s\n' "${files[@]}" | grep -E '^(mdev|vfio_core)/')
	check_result() { # name, findings file
		n=$((n + 1))
		if [ -s "$2" ]; then
			head -n 40 "$2" | sed 's/^/# /'
			echo "not ok $n $1"
		else
			echo "ok $n $1"
		fi
	}
	{
		echo "KTAP version 1"
		echo "1..$((3 + $#))"
		(cd "$SRC" && "$KSRC/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
			-f "${files[@]}") >"$tmp" 2>&1 || [ -s "$tmp" ] || echo "checkpatch.pl failed" >"$tmp"
		check_result checkpatch_strict "$tmp"
		(cd "$SRC" && "$KSRC/scripts/kernel-doc" -none -Wall "${drv[@]}") >"$tmp" 2>&1 ||
			echo "kernel-doc failed" >>"$tmp"
		check_result kernel_doc "$tmp"
		# The summary itself: unlisted skips fail, retries show.
		"$BED_DIR/ktap-summary-test" >"$tmp" 2>&1 || [ -s "$tmp" ] ||
			echo "ktap-summary-test failed" >"$tmp"
		check_result summary_guards_skips "$tmp"
		for k in "$@"; do
			log=$OUT/build/$k/build.log
			if [ ! -e "$OUT/build/$k/vslice.ko" ]; then
				echo "no vslice.ko for $k (see $log)" >"$tmp"
			else
				# Ours only: not the kernel's headers' own.
				bad=$(grep -E '(warning|error):|^WARNING: modpost' "$log" |
					grep -E '(^|/)(mdev|vfio_core)/|modpost' | sed "s|$OUT/build/$k/src/||; s|/vslice/src/||") || :
				{
					[ -z "$bad" ] || printf '%s\n' "$bad"
					grep -q '^ *CHECK ' "$log" || echo "sparse did not run (no CHECK in $log)"
				} >"$tmp"
			fi
			check_result "build_w1_sparse.$k" "$tmp"
		done
		echo "# vslice-end"
	} >"$f"
	rm -f "$tmp"
	log "static checks: $f"
}
