#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kunit: the KUnit suites of vslice's pure logic (vslice_kunit.ko: config
# space masks, profiles and EDID, VRAM pool, mode decoding). KUnit runs
# them as the module loads; this reads each suite's KTAP from debugfs and
# reports it as subtests, one per suite. Only a kernel built with KUnit
# (the debug kernel, make test-debug) has the module: elsewhere this
# skips, saying so.
KO=/vslice/vslice_kunit.ko
RESULTS=/sys/kernel/debug/kunit
SUITES="vslice_cfg vslice_edid vslice_pool vslice_mode"

if [ ! -e "$KO" ]; then
	echo "1..0 # SKIP the kernel has no KUnit (CONFIG_KUNIT): make test-debug runs the suites"
	exit 4
fi

echo "TAP version 13"
# shellcheck disable=SC2086 # one word per suite
set -- $SUITES
echo "1..$#"
loaded=
# Leave the modules as we found them, however this ends.
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	grep -q '^vslice_kunit ' /proc/modules && rmmod vslice_kunit
	[ -z "$loaded" ] || rmmod vslice
}
trap cleanup EXIT
if ! grep -q '^vslice ' /proc/modules; then
	insmod "$VSLICE_KO" || { echo "# insmod $VSLICE_KO failed"; exit 1; }
	loaded=1
fi
modprobe kunit || { echo "# modprobe kunit failed"; exit 1; }
insmod "$KO" || { echo "# insmod $KO failed"; exit 1; }

i=0 failed=0
for s in $SUITES; do
	i=$((i + 1))
	r=$RESULTS/$s/results
	if [ ! -r "$r" ]; then
		echo "# $s: no results in $r (suite not in the module?)"
		echo "not ok $i $s"
		failed=1
		continue
	fi
	# The file is a KTAP document of one test, the suite: print the
	# suite's own lines (its cases as subtests) and judge them here. A
	# suite passes only if it ran cases and none failed.
	sed -e '1,2d' -e '$d' "$r"
	cases=$(grep -cE '^    ok [0-9]+ ' "$r")
	bad=$(grep -cE '^    not ok [0-9]+ ' "$r")
	if tail -n 1 "$r" | grep -qE "^ok 1 $s\$" && [ "$cases" -gt 0 ] && [ "$bad" -eq 0 ]; then
		echo "ok $i $s"
	else
		echo "# $s: $cases cases passed, $bad failed"
		echo "not ok $i $s"
		failed=1
	fi
done

exit $failed
