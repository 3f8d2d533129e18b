#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Check vslice-exporter and vslice-info on the host, without vslice: both
# read a fake sysfs (--sysfs-root) with one edu instance, one bochs-display
# instance and one instance of another mdev driver; vslice-info's --trace
# reads a fake tracefs in it.
#
#   samples/fake-sysfs-test.sh [DIR with vslice-exporter and vslice-info]
#
# (make -C samples check KSFT_INC=... builds them and runs this.)  Prints
# "ok N name" / "not ok N name" per check; exits 1 if any failed.
set -u

BIN=${1:-$(dirname "$0")/out}
T=$(mktemp -d /tmp/vslice-fake.XXXXXX)
trap 'rm -rf "$T"' EXIT
S=$T/sys
EDU=6a2b2d1c-0c4e-4f3a-9d3e-000000000001
BOCHS=6a2b2d1c-0c4e-4f3a-9d3e-000000000002
OTHER=6a2b2d1c-0c4e-4f3a-9d3e-000000000003
GONE=6a2b2d1c-0c4e-4f3a-9d3e-000000000004
PEER=6a2b2d1c-0c4e-4f3a-9d3e-000000000005
n=0 failed=0

check() { # name, command...
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		failed=$((failed + 1))
	fi
}

# attr FILE VALUE
attr() { mkdir -p "$(dirname "$1")" && echo "$2" >"$1"; }

# inst UUID BDF TYPE: the device, its links, its type
inst() {
	local d=$S/devices/pci0000:00/$2
	mkdir -p "$d/$1/vslice" "$d/mdev_supported_types/$3" "$S/bus/mdev/devices" "$S/bus/pci/devices"
	ln -sfn "../../../devices/pci0000:00/$2/$1" "$S/bus/mdev/devices/$1"
	ln -sfn "../../../devices/pci0000:00/$2" "$S/bus/pci/devices/$2"
	ln -sfn "../mdev_supported_types/$3" "$d/$1/mdev_type"
	attr "$d/mdev_supported_types/$3/name" "$3"
	attr "$d/mdev_supported_types/$3/description" "a $3 instance"
	echo "$d/$1"
}

d=$(inst $EDU 0000:00:05.0 vslice-edu)
attr "$S/devices/pci0000:00/0000:00:05.0/vslice/sched_policy" weighted
for a in parent:0000:00:05.0 opens:2 weight:250 cap:40 watchdog_ms:1000 \
	jobs:17 engine_ns:1234567890 queued_ns:5000 dma_bytes:65536 irqs:17 \
	ctx_switches:3 watchdog_hits:1; do
	attr "$d/vslice/${a%%:*}" "${a#*:}"
done
d=$(inst $BOCHS 0000:00:02.0 vslice-16M)
for a in parent:0000:00:02.0 opens:1 vram_offset:0x1000000 vram_size:16777216 \
	mode:off migration_dirty_rate:4096 clear_on_close:0; do
	attr "$d/vslice/${a%%:*}" "${a#*:}"
done
# another driver's instance: no vslice/
d=$(inst $OTHER 0000:00:06.0 mtty-1)
rmdir "$d/vslice"
# an instance removed mid-scan: its link is left, its directory gone
d=$(inst $GONE 0000:00:02.0 vslice-16M)
rm -rf "$d"

# tracefs: one event already on, tracing off; trace_pipe a plain file
tr=$S/kernel/tracing
for e in submit start complete ctx_switch; do
	attr "$tr/events/vslice/vslice_engine_$e/enable" 0
done
attr "$tr/events/vslice/vslice_engine_start/enable" 1
attr "$tr/tracing_on" 0
cat >"$tr/trace_pipe" <<EOF
 edu_test-101 [000] ..... 10.000001: vslice_engine_submit: tenant=$EDU job=fact arg=12
 edu_test-102 [001] ..... 10.000002: vslice_engine_submit: tenant=$PEER job=dma arg=4096
 vslice-edu/0-90 [001] ..... 10.000003: vslice_engine_ctx_switch: from=$PEER to=$EDU ns=20000
 vslice-edu/0-90 [001] ..... 10.000004: vslice_engine_start: tenant=$EDU job=fact arg=3000
 vslice-edu/0-90 [001] ..... 10.000005: vslice_engine_complete: tenant=$EDU job=fact arg=700000
 vslice-edu/0-90 [001] ..... 10.000006: vslice_engine_start: tenant=$PEER job=dma arg=9000
 vslice-edu/0-90 [001] ..... 10.000007: vslice_engine_ctx_switch: from=$EDU to=$PEER ns=21000
 vslice-edu/0-90 [001] ..... 10.000008: vslice_engine_start: tenant=${EDU}0 job=fact arg=1
 vslice-edu/0-90 [001] ..... 10.000009: vslice_engine_complete: tenant=$EDU job=fact arg=500000
 <idle>-0 [000] d.h1. 10.000010: irq_handler_entry: irq=24 name=$EDU
EOF

# --- vslice-exporter ---
"$BIN/vslice-exporter" --sysfs-root "$S" --stdout >"$T/out.prom" 2>"$T/err"
check "exporter exits 0 with an instance gone and another driver's" [ $? -eq 0 ]
check "exporter says nothing of either" [ ! -s "$T/err" ]
echo "# vslice-exporter --stdout:"
sed 's/^/#   /' "$T/out.prom"

# The text format: HELP then TYPE (counter|gauge) once per family, then its
# samples, contiguous; every sample's metric has a TYPE before it; names,
# labels and values well-formed.
format_ok() {
	awk '
	function fail(why) { print "#   line " NR ": " why ": " $0; bad = 1 }
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / {
		if ($3 in type) fail("second TYPE")
		if (!($3 in help)) fail("TYPE without HELP")
		if ($4 != "counter" && $4 != "gauge") fail("type " $4)
		if ($4 == "counter" && $3 !~ /_total$/) fail("counter not _total")
		type[$3] = $4; cur = $3; next
	}
	/^#/ { next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",)*[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"\} [0-9]+(\.[0-9]+)?$/)
			fail("malformed sample")
		name = $0; sub(/\{.*/, "", name)
		if (!(name in type)) fail("no TYPE before " name)
		else if (name != cur) fail("family " name " not contiguous")
		samples++
	}
	END { if (!samples) { print "#   no samples"; bad = 1 } exit bad }
	' "$1"
}
check "exporter output is well-formed" format_ok "$T/out.prom"

sample() { # metric uuid -> value
	awk -v m="$1" -v u="$2" 'index($0, m "{uuid=\"" u "\"") == 1 { print $2 }' "$T/out.prom"
}
labels='{uuid="'$EDU'",parent="0000:00:05.0",type="vslice-edu"}'
check "edu labels" grep -qxF "vslice_engine_jobs_total$labels 17" "$T/out.prom"
check "ns in seconds" [ "$(sample vslice_engine_time_seconds_total $EDU)" = 1.234567890 ]
check "queued seconds" [ "$(sample vslice_engine_queued_seconds_total $EDU)" = 0.000005000 ]
check "cap as a ratio" [ "$(sample vslice_engine_cap_ratio $EDU)" = 0.40 ]
check "weight" [ "$(sample vslice_engine_weight $EDU)" = 250 ]
check "edu: 10 samples" [ "$(grep -c "uuid=\"$EDU\"" "$T/out.prom")" = 10 ]
check "bochs: opens, vram, dirty rate" [ "$(grep "uuid=\"$BOCHS\"" "$T/out.prom" |
	sed 's/{.*} / /' | tr '\n' ' ')" = "vslice_instance_opens_total 1 vslice_vram_bytes 16777216 vslice_migration_dirty_bytes_per_second 4096 " ]
check "bochs has no engine metrics" [ -z "$(grep "^vslice_engine.*$BOCHS" "$T/out.prom")" ]
check "no other driver's or vanished instance" [ -z "$(grep -e "$OTHER" -e "$GONE" "$T/out.prom")" ]

mkdir "$T/prom"
"$BIN/vslice-exporter" --sysfs-root "$S" --dir "$T/prom"
check "--dir writes vslice.prom, same as --stdout" cmp -s "$T/prom/vslice.prom" "$T/out.prom"
check "--dir leaves no temporary file" [ "$(ls "$T/prom")" = vslice.prom ]
check "--dir: the file is 0644" [ "$(stat -c %a "$T/prom/vslice.prom")" = 644 ]
"$BIN/vslice-exporter" --sysfs-root "$S" --dir "$T/none" 2>/dev/null
check "a directory that is not there: exit 1" [ $? -eq 1 ]
"$BIN/vslice-exporter" --sysfs-root "$S" --stdout >/dev/full 2>/dev/null
check "stdout full: exit 1" [ $? -eq 1 ]
"$BIN/vslice-exporter" --sysfs-root "$T/nothing" --stdout >"$T/empty"
check "no mdev bus: no samples, exit 0" [ $? -eq 0 ] && [ ! -s "$T/empty" ]
"$BIN/vslice-exporter" --interval x --stdout 2>/dev/null
check "a bad option: exit 2" [ $? -eq 2 ]

# An attribute that cannot be parsed: that instance is left out, said why.
cp "$S/bus/mdev/devices/$EDU/vslice/engine_ns" "$T/engine_ns"
echo garbage >"$S/bus/mdev/devices/$EDU/vslice/engine_ns"
"$BIN/vslice-exporter" --sysfs-root "$S" --stdout >"$T/out2.prom" 2>"$T/err"
check "unparsable attribute: exit 0" [ $? -eq 0 ]
check "unparsable attribute: instance left out, said why" \
	grep -q "leaving $EDU out: engine_ns" "$T/err"
check "unparsable attribute: the others still there" grep -q "$BOCHS" "$T/out2.prom"
cp "$T/engine_ns" "$S/bus/mdev/devices/$EDU/vslice/engine_ns"

# --interval rewrites the file until SIGTERM, then exits 0.
"$BIN/vslice-exporter" --sysfs-root "$S" --dir "$T/prom" --interval 1 &
pid=$!
sleep 1.5
echo 99 >"$S/bus/mdev/devices/$EDU/vslice/jobs"
sleep 1
kill -TERM $pid
wait $pid
check "--interval: SIGTERM ends it with 0" [ $? -eq 0 ]
check "--interval: the file follows the counters" \
	grep -qxF "vslice_engine_jobs_total$labels 99" "$T/prom/vslice.prom"
echo 17 >"$S/bus/mdev/devices/$EDU/vslice/jobs"

# --- vslice-info ---
"$BIN/vslice-info" --sysfs-root "$S" $EDU >"$T/info" 2>&1
check "info: edu exits 0" [ $? -eq 0 ]
echo "# vslice-info --sysfs-root $EDU:"
sed 's/^/#   /' "$T/info"
check "info: sched_policy" grep -qE '^  sched_policy +weighted$' "$T/info"
for a in weight:250 cap:40 watchdog_ms:1000 jobs:17 'engine_ns:1234567890 (1.234 s)' \
	'queued_ns:5000 (0.000 s)' dma_bytes:65536 irqs:17 ctx_switches:3 watchdog_hits:1; do
	# shellcheck disable=SC2016 # awk's own $1
	check "info: ${a%%:*}" awk -v n="${a%%:*}" -v v="${a#*:}" \
		'$1 == n { sub(/^ *[^ ]+ +/, ""); ok = $0 == v } END { exit !ok }' "$T/info"
done
"$BIN/vslice-info" --sysfs-root "$S" $BOCHS >"$T/info" 2>&1
check "info: bochs exits 0" [ $? -eq 0 ]
check "info: bochs as before (parent, name, description)" [ "$(cat "$T/info")" = "instance $BOCHS
  parent          0000:00:02.0
  name            vslice-16M
  description     a vslice-16M instance" ]
"$BIN/vslice-info" --sysfs-root "$S" $GONE >/dev/null 2>&1
check "info: an instance that is not there: exit 1" [ $? -eq 1 ]

"$BIN/vslice-info" --sysfs-root "$S" --trace 1 $EDU >"$T/info" 2>&1
check "info --trace: exit 0" [ $? -eq 0 ]
echo "# vslice-info --sysfs-root --trace 1 $EDU (trace part):"
sed -n '/^trace:/,$p' "$T/info" | sed 's/^/#   /'
check "info --trace: the instance's 6 events, no other" \
	[ "$(grep -c 'vslice_engine_' "$T/info")" = 6 ] &&
	! grep -q "tenant=$PEER\|irq_handler\|tenant=${EDU}0" "$T/info"
check "info --trace: summary" grep -qxF \
	"trace: 6 events; 1 jobs submitted, 1 started (queued 3 us on average), 2 completed (600 us on the engine on average); 2 context switches" "$T/info"
restored() {
	[ "$(cat "$tr/tracing_on")" = 0 ] &&
		[ "$(cat "$tr/events/vslice/vslice_engine_start/enable")" = 1 ] &&
		for e in submit complete ctx_switch; do
			[ "$(cat "$tr/events/vslice/vslice_engine_$e/enable")" = 0 ] || return 1
		done
}
check "info --trace: tracefs as it was" restored

# Interrupted (SIGTERM: a background job of a script ignores SIGINT):
# tracefs restored all the same, then the signal takes effect.
mkfifo "$T/pipe"
mv "$tr/trace_pipe" "$T/trace_pipe.txt"
ln -s "$T/pipe" "$tr/trace_pipe"
sleep 10 >"$T/pipe" &
writer=$!
"$BIN/vslice-info" --sysfs-root "$S" --trace 60 $EDU >"$T/info" 2>&1 &
pid=$!
sleep 1
enabled=$(cat "$tr/tracing_on" "$tr"/events/vslice/*/enable | tr -d '\n')
kill -TERM $pid
wait $pid
st=$?
kill $writer 2>/dev/null
check "info --trace: events and tracing_on on while it traces" [ "$enabled" = 11111 ]
check "info --trace: SIGTERM ends it (status 143)" [ $st -eq 143 ]
check "info --trace: tracefs as it was after SIGTERM" restored

"$BIN/vslice-info" --sysfs-root "$S" --trace 1 $BOCHS >/dev/null 2>&1
check "info --trace on a bochs instance: exit 1" [ $? -eq 1 ]
rm -rf "$tr"
"$BIN/vslice-info" --sysfs-root "$S" --trace 1 $EDU >/dev/null 2>&1
check "info --trace without tracefs: exit 1" [ $? -eq 1 ]

echo "# $n checks, $failed failed"
[ "$failed" -eq 0 ]
