"""Benchmark: one ``ansible-playbook jiraops.integration.report_build`` run against the emulator on loopback, against
a playbook of one ``ping`` task (what any playbook with one module task costs at least).

Every CI pipeline that reports its builds pays the role's time, so this is the figure that matters to users: the
ratio of the two medians. Each run is a whole ``ansible-playbook`` process, timed from start to exit, configured
with environment variables only, as a CI job runs it; the role's runs alternate with the ping runs, so that a
change in the machine's load affects both. The emulator's store is reset before each role run and the build is
checked as stored afterwards.

    python benchmarks/report_build/run.py [--repeat 5] [--json out.json] [--profile]

``--profile`` also times two playbooks in each round: a ``ping`` and a ``stat`` task (the floor of any playbook with
two module tasks, as reading the checkout and sending the build are), and ``git_info`` then a module with the
collection's DevOps code that does nothing (the floor of the role's two-module design); and one more role run with
the push_builds benchmark's ``task_timer`` callback, printing each task's wall time and the time outside the tasks
(Ansible's start: interpreter, imports, collection and playbook loading; and its exit).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("push_builds_run", os.path.join(HERE, "..", "push_builds", "run.py"))
push_builds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(push_builds)


def play(name):
    """A play on localhost, as the role runs, up to its task list."""
    return f"""- name: {name}
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
"""


PING = play("One ping task") + """    - name: Ping
      ansible.builtin.ping:
"""
# Two different modules: Ansible assembles each module's AnsiballZ payload once per run (a second ping would reuse
# the first's), as report_build's git_info and build_info each need their own.
TWO_MODULES = PING + """
    - name: Stat
      ansible.builtin.stat:
        path: /
"""
# The role's own two modules as the floor of its design: git_info reading the checkout, then a module that has the
# collection's DevOps code in its payload and imported, as build_info has, and does nothing else (push_builds'
# bench_floor_collection). What the role takes beyond this is its in-controller tasks and build_info's own work.
DESIGN_FLOOR = play("git_info and the DevOps code") + """    - name: Read the checkout
      jiraops.integration.git_info:
        path: "{{ lookup('ansible.builtin.env', 'JIRA_GIT_REPO') }}"

    - name: The collection's DevOps code, no work
      bench_floor_collection:
        token: unused
        count: 1
        wait: 0
"""


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True)


def make_repo(path):
    os.makedirs(path)
    git(path, "init", "-q", "-b", "main")
    git(path, "-c", "user.email=a@example.com", "-c", "user.name=A", "commit", "-q", "--allow-empty", "-m", "Start")
    git(path, "checkout", "-qb", "feature/JJ-12-pink-logo")
    git(path, "-c", "user.email=a@example.com", "-c", "user.name=A", "commit", "-q", "--allow-empty",
        "-m", "JJ-2 make the logo pinker")
    git(path, "remote", "add", "origin", "https://git.example.com/jj/pink-logo.git")


def timed(argv, env):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def profiled(playbook, env, scratch):
    """One role run with the task timer: (seconds before the first task, {task: seconds}, whole run)."""
    timings = os.path.join(scratch, "timings.json")
    callbacks = os.path.join(HERE, "..", "push_builds", "callback_plugins")
    env = dict(env, BUILD_NUMBER="999", BENCH_TIMINGS=timings, ANSIBLE_CALLBACK_PLUGINS=callbacks,
               ANSIBLE_CALLBACKS_ENABLED="task_timer")
    elapsed = timed([playbook, "jiraops.integration.report_build"], env)
    with open(timings, encoding="utf-8") as handle:
        tasks = json.load(handle)
    return elapsed - sum(tasks.values()), tasks, elapsed


def print_profile(profile):
    before, tasks, elapsed = profile
    print(f"profiled run: {elapsed:.2f} s; outside the tasks (start and exit): {before:.2f} s")
    for name, seconds in tasks.items():
        print(f"  {seconds:6.2f} s  {name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each playbook (the median is reported)")
    parser.add_argument("--json", help="also write the runs to this file")
    parser.add_argument("--profile", action="store_true", help="also time each task of one more role run")
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="jiraops-bench-role-")
    repo = os.path.join(scratch, "pink-logo")
    make_repo(repo)
    ping = os.path.join(scratch, "ping.yml")
    two_modules = os.path.join(scratch, "two_modules.yml")
    design_floor = os.path.join(scratch, "design_floor.yml")
    for path, text in ((ping, PING), (two_modules, TWO_MODULES), (design_floor, DESIGN_FLOOR)):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    emulator = push_builds.Emulator(scratch)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(ANSIBLE_COLLECTIONS_PATH=push_builds.collections_root(scratch), ANSIBLE_NOCOLOR="1",
               PWD=repo, JIRA_API_URL=emulator.url, JIRA_URL=emulator.url, JIRA_TOKEN=push_builds.TOKEN,
               JIRA_GIT_REPO=repo, JOB_NAME="pink-logo", BUILD_URL="https://ci.example.com/job/pink-logo/")
    floors = os.path.join(HERE, "..", "push_builds")
    floor_env = dict(env, ANSIBLE_LIBRARY=os.path.join(floors, "library"),
                     ANSIBLE_MODULE_UTILS=os.path.join(floors, "module_utils"))
    runs = {"report_build": [], "ping": [], "two_modules": [], "design_floor": []}
    try:
        for number in range(args.repeat + 1):       # the first round warms the caches and is not counted
            emulator.fresh(0)
            role = timed([playbook, "jiraops.integration.report_build"], dict(env, BUILD_NUMBER=str(number + 1)))
            if emulator.stored() != 1:
                raise SystemExit("report_build did not store the build")
            floor = timed([playbook, ping], env)
            two = timed([playbook, two_modules], env) if args.profile else None
            design = timed([playbook, design_floor], floor_env) if args.profile else None
            if number:
                runs["report_build"].append(role)
                runs["ping"].append(floor)
                if args.profile:
                    runs["two_modules"].append(two)
                    runs["design_floor"].append(design)
        if args.profile:
            emulator.fresh(0)
            profile = profiled(playbook, env, scratch)
    finally:
        emulator.stop()
    role, floor = statistics.median(runs["report_build"]), statistics.median(runs["ping"])
    print(f"report_build: median {role:.2f} s of {args.repeat} runs ({', '.join(f'{t:.2f}' for t in runs['report_build'])})")
    print(f"one ping task: median {floor:.2f} s of {args.repeat} runs ({', '.join(f'{t:.2f}' for t in runs['ping'])})")
    print(f"ratio: {role / floor:.2f}x (goal 1.5x)")
    if args.profile:
        two = statistics.median(runs["two_modules"])
        print(f"ping and stat tasks: median {two:.2f} s ({two / floor:.2f}x one ping task)")
        design = statistics.median(runs["design_floor"])
        print(f"git_info and the DevOps code doing nothing: median {design:.2f} s ({design / floor:.2f}x one ping task)")
        print_profile(profile)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"runs": runs, "median": {"report_build": role, "ping": floor}, "ratio": role / floor}, handle)
    return 0 if role / floor <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
