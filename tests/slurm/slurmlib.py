# SPDX-License-Identifier: GPL-3.0-or-later
"""A single-node Slurm for a test: munged, slurmctld and slurmd started as plain processes
(service scripts do not start daemons on these machines) with a private munge key, sockets,
state and slurm.conf in a temporary folder, on loopback ports chosen free; stopped always
(context manager). Clients get SLURM_CONF through env()."""

import os
import shutil
import socket
import subprocess
import time

TOOLS = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"]


def missing_tools():
    """The tools not on PATH (or in /usr/sbin), with the Debian package holding each."""
    pkg = {"munged": "munge"}
    return ["%s (%s)" % (t, pkg.get(t, "slurm-wlm")) for t in TOOLS
            if shutil.which(t, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, tmp, cpus=4):
        self.tmp = tmp
        self.cpus = cpus
        self.procs = []
        self.conf = os.path.join(tmp, "slurm.conf")

    def env(self, **extra):
        e = dict(os.environ)
        e["SLURM_CONF"] = self.conf
        e["PATH"] = e.get("PATH", "") + ":/usr/sbin:/sbin"
        e.update(extra)
        return e

    def _start(self, argv):
        log = open(os.path.join(self.tmp, os.path.basename(argv[0]) + ".out"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env(),
                             start_new_session=True)
        self.procs.append(p)
        return p

    def __enter__(self):
        t = self.tmp
        munge = os.path.join(t, "munge")
        os.makedirs(munge, mode=0o755)
        os.chmod(munge, 0o755)
        key = os.path.join(t, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = os.path.join(munge, "munge.socket.2")
        for d in ("state", "spool"):
            os.makedirs(os.path.join(t, d))
        user = "root" if os.getuid() == 0 else os.environ.get("USER", "nobody")
        with open(self.conf, "w") as f:
            f.write("""ClusterName=mmtest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
SlurmctldPort={p1}
SlurmdPort={p2}
StateSaveLocation={t}/state
SlurmdSpoolDir={t}/spool
SlurmctldPidFile={t}/slurmctld.pid
SlurmdPidFile={t}/slurmd.pid
SlurmctldLogFile={t}/slurmctld.log
SlurmdLogFile={t}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
KillWait=2
InactiveLimit=0
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""".format(user=user, sock=self.munge_socket, p1=free_port(), p2=free_port(), t=t,
           cpus=self.cpus))
        self._start(["munged", "--foreground", "--force", "--socket=" + self.munge_socket,
                     "--key-file=" + key, "--pid-file=" + os.path.join(munge, "munged.pid"),
                     "--log-file=" + os.path.join(t, "munged.log"),
                     "--seed-file=" + os.path.join(munge, "seed")])
        self._wait(lambda: os.path.exists(self.munge_socket), 20, "munged's socket")
        self._start(["slurmctld", "-D", "-i", "-f", self.conf])
        self._start(["slurmd", "-D", "-f", self.conf, "-N", "localhost"])
        self._wait(self._idle, 60, "the node to be idle")
        return self

    def _idle(self):
        p = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True,
                           env=self.env())
        return p.returncode == 0 and p.stdout.strip().startswith("idle")

    def _wait(self, cond, seconds, what):
        end = time.time() + seconds
        while time.time() < end:
            for p in self.procs:
                if p.poll() is not None:
                    # The temporary folder goes with the test: say what the daemon said.
                    raise RuntimeError("%s ended (%d) while waiting for %s; its log ends: %s"
                                       % (p.args[0], p.returncode, what,
                                          self._log_tail(p.args[0])))
            if cond():
                return
            time.sleep(0.2)
        raise RuntimeError("timed out waiting for %s; logs in %s" % (what, self.tmp))

    def _log_tail(self, daemon):
        path = os.path.join(self.tmp, os.path.basename(daemon) + ".log")
        try:
            with open(path, errors="replace") as f:
                lines = [l.strip() for l in f.read().splitlines() if "error" in l.lower()]
        except OSError:
            return "(no log at %s)" % path
        return " | ".join(lines[-4:]) or "(no error line in %s)" % path

    def __exit__(self, *exc):
        # Any job still running first, then the daemons, newest first.
        subprocess.run(["scancel", "--full", "-u", "root" if os.getuid() == 0 else
                        os.environ.get("USER", "")], env=self.env(), capture_output=True)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, 9)
                    p.wait()
        return False

    def sbatch(self, *args, **extra_env):
        p = subprocess.run(["sbatch", "--parsable"] + [str(a) for a in args],
                           capture_output=True, text=True, env=self.env(**extra_env))
        if p.returncode != 0:
            raise RuntimeError("sbatch failed: " + p.stderr)
        return p.stdout.strip().split(";")[0]

    def jobs(self, job):
        """{array task id: state} of job's tasks still known to squeue."""
        p = subprocess.run(["squeue", "-h", "-r", "-j", job, "-o", "%K %T"],
                           capture_output=True, text=True, env=self.env())
        if p.returncode != 0:
            # slurmctld slow to answer under load: unknown, not ended.
            return {"?": p.stderr.strip()}
        out = {}
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]] = parts[1]
        return out

    def wait_job(self, job, seconds=600):
        self._wait(lambda: not self.jobs(job), seconds, "job %s to end" % job)

    def scancel(self, job_task):
        subprocess.run(["scancel", job_task], env=self.env(), check=True)
