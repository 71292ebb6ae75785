#!/usr/bin/env python3
"""resume_time.py: how long a cluster job stands still after it loses a worker.

examples/fashion_mlp.capnp (10 epochs, 2 workers, a checkpoint every 200 steps) runs on a fresh
`tfmath up` cluster of 3 workers, so a spare takes the lost worker's place. Past step START the
bench SIGKILLs the worker of rank RANK and times, by polling `tfmath status --json`, the seconds
until the requeued job has completed its first step after resuming; it also reads the steps lost.
Prints each run and the medians. Env: BUILD, REPEATS (default 5), START (300), RANK (1).
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tfmath = os.path.join(os.environ.get("BUILD", os.path.join(repo, "build")), "cli", "tfmath")
repeats = int(os.environ.get("REPEATS", "5"))
start_step = int(os.environ.get("START", "300"))
kill_rank = int(os.environ.get("RANK", "1"))
os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def status(endpoint, job):
    out = subprocess.run([tfmath, "status", job, "--json", "--coordinator", endpoint],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["jobs"][0]


def one_run(tmp, job_file):
    state = tempfile.mkdtemp(dir=tmp)
    up = subprocess.Popen([tfmath, "up", "--workers", "3", "--state-dir", state],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = None
        for line in up.stdout:
            if line.startswith("export TFMATH_COORDINATOR="):
                endpoint = line.strip().split("=", 1)[1]
                break
        job = subprocess.run([tfmath, "submit", job_file, "--coordinator", endpoint],
                             capture_output=True, text=True, check=True).stdout.split()[0]
        while True:
            info = status(endpoint, job)
            if info["state"] == "RUNNING" and info["step"] >= start_step:
                break
            time.sleep(0.02)
        pid = int(info["ranks"][kill_rank].rsplit(":", 1)[1])
        lost_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        resume = None
        while True:
            info = status(endpoint, job)
            match = re.search(r"resume[sd] at step (\d+)", info.get("reason", ""))
            if match:
                resume = int(match.group(1))
            if info["attempt"] >= 1 and info["state"] == "RUNNING" and resume is not None \
                    and info["step"] > resume:
                break
            if info["state"] not in ("RUNNING", "PENDING"):
                sys.exit(f"job {job} ended {info['state']}: {info['reason']}")
            time.sleep(0.02)
        seconds = time.monotonic() - lost_at
        subprocess.run([tfmath, "cancel", job, "--coordinator", endpoint], capture_output=True)
        return seconds, info["steps_lost"]
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(repo, "examples", "fashion_mlp.capnp")) as f:
            text = f.read()
        text = re.sub(r"epochs = \d+", "epochs = 10", text)
        text = re.sub(r"workers = \d+", "workers = 2, checkpointEvery = 200", text)
        job_file = os.path.join(tmp, "job.capnp")
        with open(job_file, "w") as f:
            f.write(text)
        times, lost = [], []
        for i in range(repeats):
            seconds, steps = one_run(tmp, job_file)
            print(f"run {i + 1}: {seconds:.2f} s from SIGKILL to the first step after resuming, "
                  f"{steps} step(s) lost", flush=True)
            times.append(seconds)
            lost.append(steps)
        print(f"median: {statistics.median(times):.2f} s to resume "
              f"(min {min(times):.2f}, max {max(times):.2f}); "
              f"median {statistics.median(lost):.0f} step(s) lost")


if __name__ == "__main__":
    main()
