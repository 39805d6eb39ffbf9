#!/bin/bash
# Runs inside a Debian 12 guest booted with systemd as PID 1 (scripts/
# realkernel-systemd), as a oneshot unit after multi-user.target: installs
# damond's .deb with apt and checks it as an administrator and a desktop
# user would meet it, reboots once (damond then starts at boot), and removes
# the package. Findings go to the second serial port, one per line:
# "figure: ...", "FAIL: ...", and finally "RESULT: PASS" or "RESULT: FAIL".
set -u
out=/dev/ttyS1
say() { echo "$*" > "$out"; }
failed=0
fail() { say "FAIL: $*"; failed=1; }
check() {  # check DESCRIPTION COMMAND...: fails with DESCRIPTION unless COMMAND succeeds
    local what="$1"; shift
    "$@" || fail "$what"
}
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_for SECONDS COMMAND...: polls every 0.1 s. The waits are hang guards
# of a minute: the gate boots this guest beside its sanitizer builds, and a
# healthy step returns as soon as it is done whatever the limit.
wait_for() {
    local until=$(( $(ms_now) + $1 * 1000 )); shift
    while ! "$@" 2>/dev/null; do
        [ "$(ms_now)" -lt "$until" ] || return 1
        sleep 0.1
    done
}
finish() {
    if [ "$failed" -ne 0 ]; then
        # damond's own words, without the per-context state lines.
        journalctl -u damond --no-pager -o short-monotonic 2>/dev/null | grep -v "damond\[[0-9]*\]: context '" |
            tail -n 40 | sed 's/^/# journal: /' > "$out"
        say "RESULT: FAIL"
    else
        say "RESULT: PASS"
    fi
    sync
    systemctl poweroff --no-block
    exit 0
}

DAMON=/sys/kernel/mm/damon/admin
# DAMON's sysfs files answer EBUSY while a write holds the kernel's lock
# (damond's read-backs hold it for as long as the regions walk takes): a
# reader tries again.
damon_read() {
    local i out
    for i in $(seq 30); do
        if out=$(cat "$1" 2>&1); then printf '%s\n' "$out"; return 0; fi
        case "$out" in
        *"resource busy"*) sleep 0.1 ;;
        *) echo "$out" >&2; return 1 ;;
        esac
    done
    cat "$1"
}
MANAGER=(org.damond1 /org/damond1 org.damond1.Manager)
as_user() {  # as_user NAME COMMAND...: with the user's ids, groups and session bus
    local name="$1"; shift
    local uid
    uid=$(id -u "$name")
    setpriv --reuid="$name" --regid="$name" --init-groups \
        env HOME=/tmp XDG_RUNTIME_DIR=/run/user/$uid DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
# The state of an app as ListApps gives it ("" when not registered).
app_state() {
    busctl --json=short call "${MANAGER[@]}" ListApps |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["data"][0]; print(next((s for a,p,s in d if a==sys.argv[1]), ""))' "$1"
}
context_state() {
    busctl --json=short call "${MANAGER[@]}" ListContexts |
        python3 -c 'import json,sys; d=json.load(sys.stdin)["data"][0]; print(next((s for n,p,s in d if n==sys.argv[1]), ""))' "$1"
}
# The kdamond whose context's first target is PID, or "".
kdamond_of() {
    local k
    for k in $(seq 0 $(( $(damon_read $DAMON/kdamonds/nr_kdamonds) - 1 ))); do
        [ "$(damon_read $DAMON/kdamonds/$k/contexts/0/targets/0/pid_target 2>/dev/null)" = "$1" ] &&
            [ "$(damon_read $DAMON/kdamonds/$k/state)" = on ] && { echo "$k"; return; }
    done
}
# context_on_alice NAME SPEC_START: a kernel context NAME watching a new
# process of alice's; sets wl (its pid) and kd (the kdamond that watches it).
context_on_alice() {
    as_user alice sleep 600 &
    wl=$!
    sleep 0.5
    local r
    r=$(busctl call "${MANAGER[@]}" CreateContext ss "$1" "{$2\"targets\": [{\"pid_target\": $wl}]}" 2>&1) ||
        fail "CreateContext $1 on alice's process: $r"
    kd=$(kdamond_of "$wl")
    [ -n "$kd" ] || fail "no running kdamond watches alice's pid $wl (context $1)"
}
main_pid() { systemctl show -P MainPID damond.service; }
active() { [ "$(systemctl is-active damond.service)" = active ]; }
is() { [ "$("${@:2}")" = "$1" ]; }  # is VALUE COMMAND...

# --- DAMON_STAT and damond's figures in its place -----------------------------
STAT=/sys/module/damon_stat/parameters
figures=/var/lib/damond-scenario-figures
# A known workload: 64 MiB written over and over, 256 MiB written once.
start_workload() {
    python3 -c '
hot = bytearray(64 << 20); cold = bytearray(256 << 20)
for i in range(0, len(cold), 4096): cold[i] = 1
while True:
    for i in range(0, len(hot), 4096): hot[i] = (hot[i] + 1) & 255
' &
    workload=$!
}
# One line of figures: the 101 idle-time percentiles (ms) and the bandwidth.
module_figures() { echo "$(cat $STAT/memory_idle_ms_percentiles) $(cat $STAT/estimated_memory_bandwidth)"; }
damond_figures() {
    busctl --json=short get-property "${MANAGER[@]}" SystemStat | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
print(",".join(str(v) for v in d["idle_ms_percentiles"]["data"]), d["estimated_memory_bandwidth"]["data"])'
}
has_damond_figures() { busctl get-property "${MANAGER[@]}" SystemStat | grep -q idle_ms_percentiles; }
# compare_figures WHAT LINE_A LINE_B: the same workload seen by DAMON_STAT
# (A) and by damond's system-stat (B), each a minute after it started. The
# figures vary under emulation (the intervals are tuned to the accesses TCG
# lets the workload make), so they are reported with a goal line, not
# asserted: the median idle time within a factor of two.
compare_figures() {
    python3 - "$@" <<'PY' > "$out"
import sys
what, a, b = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def parse(line):
    p = [int(v) for v in line[0].split(",")]
    return p, int(line[1])
(pa, ba), (pb, bb) = parse(a), parse(b)
def desc(p, bw):
    hot = sum(1 for v in p if v < 0)
    return f"p10 {p[10]} p50 {p[50]} p90 {p[90]} ms, accessed in the last aggregation {hot} %, bandwidth {bw} B/s"
print(f"figure: {what}: DAMON_STAT {desc(pa, ba)}")
print(f"figure: {what}: damond system-stat {desc(pb, bb)}")
ratio = pb[50] / pa[50] if pa[50] else float("inf")
print(f"figure: {what}: p50 ratio damond/DAMON_STAT {ratio:.2f} (goal 0.5-2: {'MET' if 0.5 <= ratio <= 2 else 'MISSED'})")
PY
}

ready_id=5e0c1d2b7a8f4c39b6d4e2f1a0c9b873
phase=/var/lib/damond-scenario-rebooted
say "figure: boot to multi-user $(awk '{printf "%d", $1 * 1000}' /proc/uptime) ms$([ -f $phase ] && echo ' (second boot)')"

# The second boot: damond is enabled, so it starts with the system.
if [ -f "$phase" ]; then
    check "damond.service is not active after the reboot" wait_for 60 active
    ready_us=$(journalctl -b -o json MESSAGE_ID=$ready_id _SYSTEMD_UNIT=damond.service --no-pager |
               python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["__MONOTONIC_TIMESTAMP"])' 2>/dev/null)
    [ -n "$ready_us" ] && say "figure: boot to READY $(( ready_us / 1000 )) ms" || fail "no READY entry in this boot's journal"
    check "after the reboot STATUS= does not name the kernel backend" grep -q native <<< "$(systemctl show -P StatusText damond.service)"
    check "DAMON_STAT booted on and was not turned off by damond at boot" is N cat $STAT/enabled
    # Removal hands DAMON back: a context on a kdamond, then apt-get remove.
    context_on_alice wl2 '"ops": "vaddr", '
    apt-get remove -y -q damond > /tmp/apt-remove.log 2>&1 || fail "apt-get remove damond failed"
    check "damond still runs after the package's removal" sh -c '! pidof damond'
    check "kdamond $kd still runs after the package's removal (Release)" is off damon_read $DAMON/kdamonds/${kd:-0}/state
    check "DAMON_STAT is not on again after the package's removal" is Y cat $STAT/enabled
    # DAMON_STAT's own figures after the release, the same workload a minute on.
    start_workload
    sleep 60
    compare_figures "after the release" "$(module_figures)" "$(cat $figures)"
    kill "$workload"
    finish
fi

# --- DAMON_STAT as Debian's kernel boots it, before damond --------------------
check "Debian's 7.x kernel did not boot with DAMON_STAT on" is Y cat $STAT/enabled
start_workload
# A fresh start, as damond's context will have: idle times count from it.
echo N > $STAT/enabled && echo Y > $STAT/enabled
sleep 60
module_before=$(module_figures)

# --- install ------------------------------------------------------------------
t0=$(ms_now)
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/damond.deb > /tmp/apt.log 2>&1; then
    sed 's/^/# apt: /' /tmp/apt.log | tail -n 20 > "$out"
    fail "apt-get install of the package failed"
    finish
fi
check "damond.service is not active after the install" wait_for 60 active
say "figure: apt install to active $(( $(ms_now) - t0 )) ms"
check "the package did not create the damond group" getent group damond
check "the package did not enable damond.service" systemctl is-enabled --quiet damond.service
# The shipped config on Debian's command line: kernel-backed, DAMON_STAT's
# figures served by damond.
t_active=$(ms_now)
check "the shipped config did not take DAMON from DAMON_STAT" is N cat $STAT/enabled
check "the shipped config is not kernel-backed: $(busctl get-property "${MANAGER[@]}" BackendReason)" \
    is 's "kernel"' busctl get-property "${MANAGER[@]}" Backend
check "damond serves no DAMON_STAT figures" wait_for 60 has_damond_figures
r=$(damonctl status 2>&1)
check "damonctl status does not show DAMON_STAT's figures: $r" grep -q "DAMON_STAT's figures (from context system-stat)" <<< "$r"
left=$(( (60000 - ($(ms_now) - t_active)) / 1000 ))
[ "$left" -le 0 ] || sleep "$left"
damond_figures > $figures
compare_figures "before damond" "$module_before" "$(cat $figures)"
# Memory by cgroup: the workload runs in this scenario's own service.
scenario_mib() {
    busctl --json=short get-property "${MANAGER[@]}" SystemCgroups | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin)["data"] if r[0] == "/system.slice/damond-scenario.service"]
print(sum(rows[0][1:]) >> 20 if rows else -1)'
}
mib=$(scenario_mib)
say "figure: memory by cgroup: damond-scenario.service (a 320 MiB workload) $mib MiB"
check "the scenario's 320 MiB workload is not attributed to its service ($mib MiB): $(damonctl status --cgroups 2>&1 | tr '\n' ' ')" \
    test "$mib" -ge 64
kill "$workload"

# Users: alice (desktop user, then in the damond group), bob (nobody
# special), carol (allowed to pause by a polkit rule in the image).
for u in alice bob carol; do useradd -m "$u"; done

# A logged-in session for alice: logind, user@1000.service, her session bus.
systemd-run --quiet -p PAMName=login -p User=alice --unit=alice-session sleep infinity
check "alice's user manager did not start" wait_for 60 test -S /run/user/"$(id -u alice)"/bus
check "logind has no session for alice" wait_for 60 sh -c 'loginctl list-sessions --no-legend | grep -q alice'

# The scenario's config: the kernel backend, vaddr profiles, desktop focus.
cat > /etc/damond/damond.json <<'EOF'
{"backend": "kernel", "damon_modules": "damon_stat",
 "profiles": {"fine":   {"ops": "vaddr", "intervals": {"sample_us": 5000,  "aggr_us": 100000}},
              "coarse": {"ops": "vaddr", "intervals": {"sample_us": 20000, "aggr_us": 400000}}},
 "apps": {"default": {"foreground": "fine", "background": "coarse"}, "max_apps": 4,
          "desktop": {"app_slices": ["/sys/fs/cgroup/user.slice/user-*.slice/user@*.service/app.slice"]}}}
EOF
t0=$(ms_now)
systemctl restart damond.service
check "damond did not come back after a restart with the scenario's config" active
say "figure: systemctl restart to READY $(( $(ms_now) - t0 )) ms"
status=$(systemctl show -P StatusText damond.service)
say "# STATUS=$status"
check "STATUS= does not name the kernel backend: '$status'" grep -q "native" <<< "$status"

# --- a kernel-backed vaddr context on an ordinary user's process -------------
context_on_alice wl '"ops": "vaddr", "intervals": {"sample_us": 5000, "aggr_us": 100000}, '
kpid=$(damon_read $DAMON/kdamonds/${kd:-0}/pid 2>/dev/null)
say "# context wl on kdamond $kd (pid $kpid)"
busctl call "${MANAGER[@]}" PauseContext s wl >/dev/null || fail "PauseContext wl"
check "pause did not reach kdamonds/$kd/contexts/0/pause" is Y damon_read $DAMON/kdamonds/$kd/contexts/0/pause
busctl call "${MANAGER[@]}" ResumeContext s wl >/dev/null || fail "ResumeContext wl"
check "resume did not reach kdamonds/$kd/contexts/0/pause" is N damon_read $DAMON/kdamonds/$kd/contexts/0/pause

# --- stop, bus activation, SIGKILL, watchdog: the same kdamond throughout -----
systemctl stop damond.service
check "systemctl stop turned damond's kdamond $kd off" is on damon_read $DAMON/kdamonds/$kd/state
t0=$(ms_now)
busctl call "${MANAGER[@]}" ListContexts >/dev/null 2>&1 || fail "the first call did not activate damond"
say "figure: bus activation to answer $(( $(ms_now) - t0 )) ms"
check "bus activation did not start damond.service" active
check "after activation context wl is not running" is running context_state wl
check "after activation kdamond $kd has another pid" is "$kpid" damon_read $DAMON/kdamonds/$kd/pid

before=$(main_pid)
systemctl kill -s KILL damond.service
check "damond was not restarted after SIGKILL" wait_for 60 sh -c "[ \"\$(systemctl show -P MainPID damond.service)\" != $before ] && systemctl is-active --quiet damond.service"
check "after SIGKILL context wl is not running" wait_for 60 is running context_state wl
check "after SIGKILL kdamond $kd has another pid" is "$kpid" damon_read $DAMON/kdamonds/$kd/pid

before=$(main_pid)
restarts=$(systemctl show -P NRestarts damond.service)
kill -STOP "$before"
t0=$(ms_now)
check "the watchdog did not restart a stopped damond" wait_for 60 sh -c "[ \"\$(systemctl show -P MainPID damond.service)\" != $before ] && systemctl is-active --quiet damond.service"
say "figure: SIGSTOP to restarted by the watchdog $(( $(ms_now) - t0 )) ms (WatchdogSec=$(systemctl show -P WatchdogUSec damond.service))"
check "NRestarts did not grow after the watchdog" test "$(systemctl show -P NRestarts damond.service)" -gt "$restarts"
check "after the watchdog kdamond $kd has another pid" is "$kpid" damon_read $DAMON/kdamonds/$kd/pid

# --- who may pause -------------------------------------------------------------
send_pause() {  # send_pause USER: dbus-send shows the error's text, busctl only its name
    as_user "$1" dbus-send --system --print-reply --dest=org.damond1 /org/damond1 org.damond1.Manager.PauseContext string:wl 2>&1
}
r=$(send_pause bob)
check "bob was not denied: $r" grep -q "org.damond1.pause needs root or membership of group 'damond'" <<< "$r"
r=$(send_pause carol)
check "carol (polkit rule) was denied: $r" grep -q "method return" <<< "$r"
busctl call "${MANAGER[@]}" ResumeContext s wl >/dev/null
usermod -aG damond alice
r=$(send_pause alice)
check "alice (group damond) was denied: $r" grep -q "method return" <<< "$r"
busctl call "${MANAGER[@]}" ResumeContext s wl >/dev/null

# --- damonctl from the package, as the README has users run it ----------------
check "the package has no damonctl man page or completion" \
    test -f /usr/share/man/man1/damonctl.1.gz -a -f /usr/share/bash-completion/completions/damonctl
r=$(as_user bob damonctl status 2>&1)
check "bob's damonctl status does not show context wl: $r" grep -Eq '^  wl +running +.* kernel ' <<< "$r"
r=$(as_user bob damonctl pause wl 2>&1; echo "exit $?")
check "bob's damonctl pause was not refused with exit 8: $r" grep -q "needs root or membership of group 'damond'.*exit 8" <<< "$(tr '\n' ' ' <<< "$r")"
r=$(as_user alice damonctl hold --context wl -- damonctl show wl 2>&1)
check "alice's damonctl hold did not show wl paused while its command ran: $r" grep -q '^state: paused' <<< "$r"
check "wl does not run again after alice's hold" wait_for 60 is running context_state wl

# --- privacy: a process's accesses are as private as its smaps ----------------
r=$(as_user bob damonctl snapshot wl 2>&1; echo "exit $?")
check "bob read root's context wl: $r" grep -q "org.damond1.read-others.*exit 8" <<< "$(tr '\n' ' ' <<< "$r")"
r=$(as_user alice dbus-send --system --print-reply --dest=org.damond1 /org/damond1 org.damond1.Manager.CreateContext \
    string:on-init string:'{"ops": "vaddr", "targets": [{"pid_target": 1}]}' 2>&1)
check "alice (group damond) was let watch pid 1: $r" grep -q "uid $(id -u alice) may not watch pid 1: it runs as uid 0" <<< "$r"
check "the state directory is not root's alone: $(stat -c %a /var/lib/damond)" is 700 stat -c %a /var/lib/damond

# --- metrics for the node exporter's textfile collector, under the unit --------
# The collector's directory is there before damond starts (the unit's
# ReadWritePaths= takes it at start): as when prometheus-node-exporter was
# installed first, or damond restarted after it.
mkdir -p /var/lib/prometheus/node-exporter
python3 - <<'EOF'
import json
c = json.load(open("/etc/damond/damond.json"))
c["metrics"] = {"textfile": "/var/lib/prometheus/node-exporter/damond.prom", "interval_ms": 1000,
                "kernel_readback_ms": 2000}
json.dump(c, open("/etc/damond/damond.json", "w"))
EOF
systemctl restart damond.service
check "damond did not come back with a metrics textfile" active
prom=/var/lib/prometheus/node-exporter/damond.prom
check "damond did not write $prom under its unit: $(journalctl -u damond -o cat | grep metrics | tail -n 2)" wait_for 60 test -s $prom
check "$prom is not readable by the collector's user (mode $(stat -c %a $prom 2>&1))" is 644 stat -c %a $prom
# wl's figures come from the kernel's read-back, here every 2 s (a minute by
# default): the rest of the scenario reads the tree while damond does.
wl_monitored() { sed -n 's/^damond_context_monitored_bytes{context="wl",app="",backend="kernel"} \([0-9]*\)$/\1/p' $prom; }
wl_seen() { [ "$(wl_monitored)" -gt 0 ] 2>/dev/null; }
check "wl has no monitored bytes in $prom: $(grep 'context="wl"' $prom | head -n 3)" wait_for 60 wl_seen
say "figure: wl monitored $(wl_monitored) bytes as the textfile says"
check "damonctl metrics is not OpenMetrics" sh -c 'damonctl metrics | tail -n 1 | grep -qx "# EOF"'
# The kernel's own pause file is root's to read.
r=$(damonctl hold --context wl -- bash -c "$(declare -f damon_read); damon_read $DAMON/kdamonds/$kd/contexts/0/pause" 2>&1)
check "damonctl hold did not pause wl's kdamond while its command ran: $r" is Y echo "$r"
check "wl does not run again after alice's hold" wait_for 60 is running context_state wl

# --- the desktop: focus through user.xdg.inactive-since, freeze/thaw ----------
slice=/sys/fs/cgroup/user.slice/user-$(id -u alice).slice/user@$(id -u alice).service
as_user alice systemd-run --user --quiet --scope --unit=app-org.example.Editor-1.scope sleep 600 &
check "the Editor's app was not registered in the foreground" wait_for 60 is foreground app_state org.example.Editor
check "the Editor's foreground context is not on the kernel" test -n "$(kdamond_of "$(cat $slice/app.slice/app-org.example.Editor-1.scope/cgroup.procs | head -n 1)")"
editor=$slice/app.slice/app-org.example.Editor-1.scope
# focus_switch STATE COMMAND...: runs the command, waits for the Editor to be in
# STATE, and prints the milliseconds it took.
switch_ms() {
    local app="$1" state="$2"; shift 2
    local t
    t=$(ms_now)
    "$@"
    wait_for 60 is "$state" app_state "$app" || { echo -1; return; }
    echo $(( $(ms_now) - t ))
}
ms=$(switch_ms org.example.Editor background as_user alice setfattr -n user.xdg.inactive-since -v "$(date +%s%6N)" "$editor")
[ "$ms" -ge 0 ] || fail "setting user.xdg.inactive-since did not send the Editor to the background"
say "figure: xattr focus-out to background seen over the bus $ms ms"
check "the Editor's background context is not running" is running context_state org.example.Editor@background
check "the Editor's foreground context is not paused" is paused context_state org.example.Editor@foreground
ms=$(switch_ms org.example.Editor foreground as_user alice setfattr -n user.xdg.inactive-since -v -1 "$editor")
[ "$ms" -ge 0 ] || fail "user.xdg.inactive-since -1 did not bring the Editor back"
say "figure: xattr focus-in to foreground seen over the bus $ms ms"

# Another app, driven by the cgroup freezer (systemctl --user freeze/thaw).
as_user alice systemd-run --user --quiet --unit=viewer --slice=session.slice sleep 600
python3 - "$slice/session.slice/viewer.service" <<'EOF'
import json, sys
c = json.load(open("/etc/damond/damond.json"))
c["apps"]["freezer"] = [{"cgroup": sys.argv[1], "app_id": "org.example.Viewer"}]
json.dump(c, open("/etc/damond/damond.json", "w"))
EOF
systemctl reload damond.service
check "the Viewer was not registered after the reload" wait_for 60 is foreground app_state org.example.Viewer
ms=$(switch_ms org.example.Viewer background as_user alice systemctl --user freeze viewer.service)
[ "$ms" -ge 0 ] || fail "systemctl --user freeze did not send the Viewer to the background"
say "figure: freeze to background seen over the bus $ms ms"
ms=$(switch_ms org.example.Viewer foreground as_user alice systemctl --user thaw viewer.service)
[ "$ms" -ge 0 ] || fail "systemctl --user thaw did not bring the Viewer back"
say "figure: thaw to foreground seen over the bus $ms ms"

# Switch latency through the real system bus, against a no-op call, both
# through busctl (its start-up included in both).
time_calls() {  # time_calls N COMMAND...: median milliseconds
    local i t times=()
    for i in $(seq "$1"); do
        t=$(date +%s%N); "${@:2}" >/dev/null; times+=($(( ($(date +%s%N) - t) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( ($1 + 1) / 2 ))p"
}
noop=$(time_calls 9 busctl call "${MANAGER[@]}" ListApps)
states=(background foreground)
flip=0
switch_once() { flip=$((1 - flip)); busctl call "${MANAGER[@]}" SetAppState ssa{sv} org.example.Editor "${states[$flip]}" 0; }
sw=$(time_calls 9 switch_once)
say "figure: SetAppState through the system bus p50 ${sw} us, no-op call p50 ${noop} us (ratio $(python3 -c "print(round($sw / $noop, 2))"))"
say "figure: damonctl status $(time_calls 9 damonctl status) us, busctl ListContexts $(time_calls 9 busctl call "${MANAGER[@]}" ListContexts) us (p50 of 9, start-up included)"

# --- the journal ------------------------------------------------------------------
journalctl -o json _SYSTEMD_UNIT=damond.service --no-pager > /tmp/journal.json
python3 - "$kd" > /tmp/journal.check <<'EOF'
import json, sys
kd = sys.argv[1]
entries = [json.loads(l) for l in open("/tmp/journal.json") if l.strip()]
ids = {"ready": "5e0c1d2b7a8f4c39b6d4e2f1a0c9b873", "created": "b3810ccb148441edb78c4b0820b6a6f6",
       "restored": "1b0f5f2d6c9e4d7a8e3b52c0a9d4e671", "denied": "8c936ac4cfb84a1e8601703a2a6056c0",
       "switched": "32e6969271bf4f62ad2989ec22f2274a", "stopping": "c4a7e9b1d2f34e5a9b8c7d6e5f4a3b21"}
def having(**kv): return [e for e in entries if all(e.get(k) == v for k, v in kv.items())]
problems = []
if not having(MESSAGE_ID=ids["ready"]): problems.append("no entry with the ready MESSAGE_ID")
if not having(MESSAGE_ID=ids["stopping"]): problems.append("no entry with the stopping MESSAGE_ID")
if len(having(MESSAGE_ID=ids["created"], CONTEXT="wl")) != 1: problems.append("context wl is not logged as created exactly once")
if not having(MESSAGE_ID=ids["restored"], CONTEXT="wl", KDAMOND=kd): problems.append("no restored entry for wl with KDAMOND=" + kd)
d = having(MESSAGE_ID=ids["denied"])
if not d or d[0].get("PRIORITY") != "5": problems.append("no denial at notice priority")
if not having(MESSAGE_ID=ids["switched"], APP="org.example.Editor"): problems.append("no switch entry with APP=org.example.Editor")
for p in problems: print(p)
EOF
while IFS= read -r p; do fail "journal: $p"; done < /tmp/journal.check

# --- an upgrade (the same package again) restarts damond onto its kdamonds ------
before=$(main_pid)
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall /root/damond.deb > /tmp/apt.log 2>&1 ||
    fail "apt-get install --reinstall failed"
check "the upgrade did not restart damond" test "$(main_pid)" != "$before"
check "after the upgrade context wl is not running" wait_for 60 is running context_state wl
check "after the upgrade kdamond $kd has another pid" is "$kpid" damon_read $DAMON/kdamonds/$kd/pid
check "the upgrade replaced the edited conffile" grep -q '"max_apps": 4' /etc/damond/damond.json

# --- reboot: the second boot goes on at the top --------------------------------
[ "$failed" -eq 0 ] || finish
touch "$phase"
sync
systemctl reboot --no-block
exit 0
