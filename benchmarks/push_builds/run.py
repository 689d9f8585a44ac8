"""Benchmark: push 10,000 builds to the Jira emulator three ways and compare requests and time per build.

1. ``jiraops.integration.build_info``: one task, all builds (batches of 100, every build validated first), as users
   run it (module defaults, the builds given as the file's JSON text); the same with ``src`` (the module reads the
   file itself); and for context with ``parallel_requests: 1``.
2. an ``ansible.builtin.uri`` loop, one build per request as Atlassian's curl tutorial does, on a sample (200 by
   default) and scaled per build;
3. a bare Python ``requests`` script sending the same batches of 100, one after another, with no validation or
   error handling. For context, the same script with 4 threads.

Requests are counted by the emulator (its request log), not by the clients, and every build is checked as stored
after each run. Times are wall-clock: an Ansible task from its start to its result (a small callback records it),
the bare script as a whole process, and for context the whole ansible-playbook process and a ping task (the floor
of any module task on this machine).

The physical limit of one module task is ceil(ceil(N / 100) / parallel_requests) round trips of the latency (the
requests cannot go faster than the server answers) plus the ping task measured in the same run (Ansible's floor
for any module task); build_info is compared with it as well as with the bare script.

Two floor modules (library/, benchmark only) tell how much of the distance to that limit no module could save: one
waits as long as the limit's round trips and returns build_info's result for N builds; the other does the same with
the collection's DevOps code in its payload and imported, as build_info has it.

Each scenario is a per-request latency of the bulk endpoint, the emulator's response time (its own processing
inside it, as a remote server's is): 0 (loopback, the emulator answers 100 builds in a few ms) and --latency
(default 0.05 s, less than a request to Atlassian Cloud takes). Every way but the uri loop runs --repeat times,
interleaved; medians are shown. The uri loop runs once per scenario (--uri-repeat; 0 skips it and its ratios).

    python benchmarks/push_builds/run.py [--builds 10000] [--sample 200] [--repeat 3] [--latency 0.05] [--json F]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLOUD_ID = "11111111-2222-3333-4444-555555555555"
TOKEN = "benchmark-build-provider-token"
SCOPES = ["write:build:jira-software", "read:build:jira-software"]
ISSUES = ["JJ-1", "JJ-2", "JJ-3", "JJ-12", "OPS-7"]
BULK_GLOB = "/jira/builds/0.1/cloud/*/bulk"
PARALLEL_REQUESTS = 4   # build_info's default, which the build_info and src ways use


def collections_root(scratch):
    parts = REPO.split(os.sep)
    if len(parts) >= 3 and parts[-3] == "ansible_collections":
        return os.sep.join(parts[:-3])
    link = os.path.join(scratch, "ansible_collections", "jiraops", "integration")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(REPO, link)
    return scratch


def make_builds(count):
    """Complete builds (every field the module would default is given) so that all three ways send the same data."""
    stamp = int(time.time() * 1000)
    return [{
        "schemaVersion": "1.0",
        "pipelineId": f"pink-logo-{i // 1000}",
        "buildNumber": i,
        "updateSequenceNumber": stamp,
        "displayName": f"pink-logo #{i}",
        "description": f"Build {i} of the pink logo",
        "label": f"1.{i // 100}.{i % 100}",
        "url": f"https://ci.example.com/job/pink-logo/{i}/",
        "state": ("successful", "failed", "in_progress")[i % 3],
        "lastUpdated": "2024-05-01T12:30:00.000Z",
        "issueKeys": [ISSUES[i % len(ISSUES)], ISSUES[(i + 1) % len(ISSUES)]],
        "testInfo": {"totalNumber": 120, "numberPassed": 118, "numberFailed": 1, "numberSkipped": 1},
        "references": [{"commit": {"id": f"{i:040x}", "repositoryUri": "https://git.example.com/jj/pink-logo"},
                        "ref": {"name": "main", "uri": "https://git.example.com/jj/pink-logo/tree/main"}}],
    } for i in range(count)]


class Emulator:
    def __init__(self, scratch):
        url_file = os.path.join(scratch, "emulator.url")
        self.proc = subprocess.Popen([sys.executable, "-m", "jira_emulator", "--port", "0",
                                      "--url-file", url_file], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _attempt in range(200):
            if os.path.exists(url_file):
                break
            time.sleep(0.05)
        with open(url_file, encoding="utf-8") as handle:
            self.url = handle.read().strip()

    def control(self, method, path, **kw):
        resp = requests.request(method, f"{self.url}/_emulator{path}", timeout=60, **kw)
        resp.raise_for_status()
        return resp.json()

    def fresh(self, latency):
        self.control("POST", "/reset")
        token = {"user": "alice", "scopes": SCOPES, "expires_at": None, "client_id": "bench"}
        self.control("POST", "/seed", json={"bearer_tokens": {TOKEN: token}})
        if latency:
            self.control("POST", "/faults", json={"path": BULK_GLOB, "kind": "latency", "delay": latency, "times": -1})

    def bulk_posts(self):
        return self.control("GET", "/requests", params={"path": "/jira/builds/", "method": "POST"})["count"]

    def stored(self):
        return self.control("GET", "/devops/builds")["count"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run_playbook(name, env, extra_vars, scratch, task="Push the builds"):
    timings = os.path.join(scratch, f"{name}.timings.json")
    env = dict(env, BENCH_TIMINGS=timings)
    vars_file = os.path.join(scratch, f"{name}.vars.json")
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                           os.path.join(HERE, f"{name}.yml"), "-e", f"@{vars_file}"],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode:
        sys.exit(f"{name}.yml failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    with open(timings, encoding="utf-8") as handle:
        tasks = json.load(handle)
    floor = next((v for k, v in tasks.items() if k.startswith("Floor")), None)
    return next(v for k, v in tasks.items() if k.startswith(task)), wall, floor


# The ways, in the order they run in each round: (name, label, how). Playbook ways give extra vars for
# build_info.yml; script ways give the bare script's worker count.
WAYS = (
    ("build_info", "build_info (1 task)", {"playbook": {}}),
    ("src", "  with src", {"playbook": {"bench_src": True}}),
    ("sequential", "  with parallel_requests: 1", {"playbook": {"bench_parallel": 1}}),
    ("bare", "bare requests script", {"workers": 1}),
    ("bare_threads", "  with 4 threads", {"workers": 4}),
    ("floor", "floor module (waits, returns)", {"floor": "bench_floor"}),
    ("floor_collection", "  with the collection's code", {"floor": "bench_floor_collection"}),
)
FLOOR_TASKS = {"bench_floor": "Push the builds (a floor module)",
               "bench_floor_collection": "Push the builds (a floor module with the collection's code)"}


def scenario(emulator, env, files, args, latency, scratch):
    common = {"bench_url": emulator.url, "bench_cloud_id": CLOUD_ID, "bench_token": TOKEN}
    runs = {name: [] for name, _label, _how in WAYS}
    runs["uri"] = []
    for _round in range(args.repeat):
        for name, _label, how in WAYS:
            emulator.fresh(latency)
            if "floor" in how:
                wait = math.ceil(math.ceil(args.builds / 100) / PARALLEL_REQUESTS) * latency
                task, wall, floor = run_playbook("floor", env, dict(common, bench_module=how["floor"], bench_wait=wait,
                                                                    bench_count=args.builds),
                                                 scratch, task=FLOOR_TASKS[how["floor"]])
            elif "playbook" in how:
                task, wall, floor = run_playbook("build_info", env, dict(common, bench_builds_file=files["full"],
                                                                         bench_count=args.builds, **how["playbook"]),
                                                 scratch)
            else:
                started = time.perf_counter()
                subprocess.run([sys.executable, os.path.join(HERE, "bare_requests.py"), files["full"], emulator.url,
                                CLOUD_ID, TOKEN, str(how["workers"])], env=env, check=True)
                task = wall = time.perf_counter() - started
                floor = None
            runs[name].append({"task": task, "process": wall, "floor": floor, "requests": emulator.bulk_posts(),
                               "stored": emulator.stored(), "builds": args.builds})
    for _round in range(args.uri_repeat):
        emulator.fresh(latency)
        task, wall, _floor = run_playbook("uri_loop", env, dict(common, bench_builds_file=files["sample"]), scratch)
        runs["uri"].append({"task": task, "process": wall, "requests": emulator.bulk_posts(),
                            "stored": emulator.stored(), "builds": args.sample})
    for name, items in runs.items():
        for item in items:
            if item["stored"] != item["builds"] and not name.startswith("floor"):
                sys.exit(f"{name}: {item['stored']} of {item['builds']} builds stored")
    return runs


def report(runs, args, latency):
    def med(name, key):
        return statistics.median(item[key] for item in runs[name])

    def per_build(name, key="task"):
        return med(name, key) / runs[name][0]["builds"]

    print(f"\nlatency {latency * 1000:.0f} ms per bulk request ({args.builds} builds; medians of "
          f"{args.repeat} runs of each way, {args.uri_repeat} uri run)")
    print(f"{'way':<30}{'builds':>7}{'requests':>9}{'req/build':>10}{'task s':>9}{'process s':>10}"
          f"{'ms/build':>10}{f's/{args.builds}':>10}")
    rows = [(name, label) for name, label, _how in WAYS]
    if runs["uri"]:
        rows.append(("uri", f"uri loop ({args.sample}-build sample)"))
    for name, label in rows:
        n = runs[name][0]["builds"]
        reqs = runs[name][0]["requests"]
        print(f"{label:<30}{n:>7}{reqs:>9}{reqs / n:>10.3f}{med(name, 'task'):>9.2f}{med(name, 'process'):>10.2f}"
              f"{per_build(name) * 1000:>10.3f}{per_build(name) * args.builds:>10.1f}")
    floor = med("build_info", "floor")
    print(f"{'(ping task: any module floor)':<30}{'':>7}{'':>9}{'':>10}{floor:>9.2f}")
    round_trips = math.ceil(math.ceil(args.builds / 100) / PARALLEL_REQUESTS)
    limit = round_trips * latency + floor
    print(f"{'(physical limit)':<30}{'':>7}{'':>9}{'':>10}{limit:>9.2f}   = {round_trips} round trips x "
          f"{latency * 1000:.0f} ms + ping task {floor:.2f} s")
    bare = med("bare", "task")
    figures = {
        "latency": latency,
        "floor_s": floor,
        "limit_s": limit,
        "limit_ratio": med("build_info", "task") / limit,
        "src_limit_ratio": med("src", "task") / limit,
        "bare_ratio": med("build_info", "task") / bare,
        "bare_ratio_process": med("build_info", "process") / med("bare", "process"),
        "overhead_s": med("build_info", "task") - bare,
        "src_ratio": med("src", "task") / bare,
        "sequential_ratio": med("sequential", "task") / bare,
        "threads_ratio": med("build_info", "task") / med("bare_threads", "task"),
        "floor_limit_ratio": med("floor", "task") / limit,
        "floor_collection_limit_ratio": med("floor_collection", "task") / limit,
        "runs": runs,
    }
    if runs["uri"]:
        figures["requests_ratio"] = ((runs["uri"][0]["requests"] / args.sample)
                                     / (runs["build_info"][0]["requests"] / args.builds))
        figures["time_ratio"] = per_build("uri") / per_build("build_info")
        print(f"  requests per build, uri loop / build_info:  {figures['requests_ratio']:.0f}x  (goal >= 50x)")
        print(f"  time per build, uri loop / build_info:      {figures['time_ratio']:.0f}x  (goal >= 20x)")
    print(f"  build_info task / physical limit:           {figures['limit_ratio']:.2f}x  (goal <= 1.3x at 50 ms)")
    print(f"    with src / physical limit:                {figures['src_limit_ratio']:.2f}x")
    print(f"  floor module / physical limit:              {figures['floor_limit_ratio']:.2f}x  (Ansible's cost of a "
          "task returning build_info's result)")
    print(f"    with the collection's code / limit:       {figures['floor_collection_limit_ratio']:.2f}x  "
          "(and of the collection's payload and imports)")
    print(f"  build_info task / bare script:              {figures['bare_ratio']:.2f}x; "
          f"{figures['overhead_s']:+.2f} s")
    print(f"    with src / bare script:                   {figures['src_ratio']:.2f}x")
    print(f"    with parallel_requests 1 / bare script:   {figures['sequential_ratio']:.2f}x")
    print(f"    build_info / bare script with 4 threads:  {figures['threads_ratio']:.2f}x")
    print(f"  ansible-playbook run / bare script:         {figures['bare_ratio_process']:.2f}x  "
          "(adds ansible-playbook start-up)")
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--builds", type=int, default=10000)
    parser.add_argument("--sample", type=int, default=200, help="builds pushed by the uri loop (scaled per build)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--uri-repeat", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.05,
                        help="response time of each bulk request in seconds (0: loopback only)")
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="jiraops-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "ANSIBLE_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_root(scratch), ANSIBLE_CALLBACKS_ENABLED="task_timer",
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    builds = make_builds(args.builds)
    files = {"full": os.path.join(scratch, "builds.json"), "sample": os.path.join(scratch, "sample.json")}
    with open(files["full"], "w", encoding="utf-8") as handle:
        json.dump(builds, handle)
    with open(files["sample"], "w", encoding="utf-8") as handle:
        json.dump(builds[:args.sample], handle)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"push_builds: {os.cpu_count()} CPUs, load average {load:.1f} at start, Python {sys.version.split()[0]}")
    emulator = Emulator(scratch)
    results = []
    try:
        for latency in sorted({0.0, args.latency}):
            results.append(report(scenario(emulator, env, files, args, latency, scratch), args, latency))
    finally:
        emulator.stop()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"load_at_start": load, "scenarios": results}, handle, indent=1)
    # The uri-loop goals hold at every latency. The limit goal is judged where requests cross a network (>= 50 ms,
    # as every request to Atlassian Cloud does); on loopback the emulator answers 100 builds in ~4 ms, less than
    # validating them and Ansible handling 10,000 per-build results take (see benchmarks/README.md).
    uri_ok = all(r.get("requests_ratio", 50) >= 50 and r.get("time_ratio", 20) >= 20 for r in results)
    networked = [r for r in results if r["latency"] >= 0.05]
    best = {r["latency"]: min(r["limit_ratio"], r["src_limit_ratio"]) for r in results}
    limit_ok = bool(networked) and all(best[r["latency"]] <= 1.3 for r in networked)
    print(f"\ngoals: uri loop ratios {'met' if uri_ok else 'NOT met'}; build_info (as a module, best of inline and "
          f"src) <= 1.3x the physical limit at >= 50 ms per request "
          f"{'met' if limit_ok else 'NOT met' if networked else 'not measured (--latency < 0.05)'}"
          + "".join(f"; {r['limit_ratio']:.2f}x inline, {r['src_limit_ratio']:.2f}x src at "
                    f"{r['latency'] * 1000:.0f} ms" for r in results))
    # What no module returning build_info's result, with the collection's code, could go below in this run.
    for r in networked:
        print(f"floor at {r['latency'] * 1000:.0f} ms: a module that only waits and returns this result, with the "
              f"collection's DevOps code, takes {r['floor_collection_limit_ratio']:.2f}x the limit; build_info with "
              f"src takes {r['src_limit_ratio'] / r['floor_collection_limit_ratio']:.2f}x that floor")
    return 0 if uri_ok and limit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
