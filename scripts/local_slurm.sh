#!/bin/sh
# A single-node SLURM cluster on this machine, from Debian's packages (apt-get install slurm-wlm
# munge), to try `snakemake --profile profiles/slurm` without a real cluster. Needs root.
#
#   scripts/local_slurm.sh start    # state, logs and PIDs under ${SLURM_LOCAL:-/tmp/csi-slurm}
#   scripts/local_slurm.sh stop     # stops the daemons by their PIDs
#
# slurm.conf is written to /etc/slurm/slurm.conf: the executor plugin's job step drops
# SLURM_CONF, so the configuration must sit where SLURM looks by default. No slurmdbd: the
# profile reads job states with squeue, which lists finished jobs for MinJobAge seconds.
set -eu
STATE=${SLURM_LOCAL:-/tmp/csi-slurm}
CONF=/etc/slurm/slurm.conf

start() {
    for prog in slurmctld slurmd munged sinfo; do
        command -v "$prog" >/dev/null || { echo "error: $prog not found: apt-get install slurm-wlm munge" >&2; exit 1; }
    done
    mkdir -p "$STATE/ctld" "$STATE/d" "$STATE/munge" "$STATE/log" /etc/slurm /etc/munge /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    fi
    chown -R munge:munge /etc/munge /run/munge "$STATE/munge" 2>/dev/null || true
    chmod 0400 /etc/munge/munge.key
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    cat > "$CONF" <<EOF
ClusterName=csi-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    munged --key-file=/etc/munge/munge.key --pid-file="$STATE/munged.pid" \
        --socket=/run/munge/munge.socket.2 --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/seed" --force
    slurmctld
    slurmd
    for _ in $(seq 30); do
        if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
            echo "SLURM is up: $(sinfo -h -o '%P %D %T %c CPUs %m MB')"
            exit 0
        fi
        sleep 1
    done
    echo "error: the node did not come up; see $STATE/log/" >&2
    exit 1
}

stop() {
    for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/munged.pid"; do
        if [ -s "$pidfile" ]; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
            rm -f "$pidfile"
        fi
    done
    echo "stopped (state left in $STATE)"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
