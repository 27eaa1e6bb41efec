#!/usr/bin/env python3
"""Summarizes bench/run.sh's results as markdown: per benchmark a table of
medians and means from the one hyperfine run, ratios against the bare run and
against the peer, and the derived numbers (per-syscall cost, the tar goal).

    bench/summarize.py RESULTS_DIR --loop-iterations N --dd-count C
    bench/summarize.py --across ROUND_DIR... --loop-iterations N --dd-count C
"""

import argparse
import json
import math
import pathlib
import sys

BARE = "bare"
REPEAT = "bare (repeat)"
DOCKER = "bwrap + Docker profile"
TAR_GOAL = 1.05  # the issue: tar under least within 5% of bare

# benchmark -> the peer each row is also compared with (None: bare only)
BENCHMARKS = {
    "startup": DOCKER,
    "tar": None,
    "dd": DOCKER,
    "getppid": DOCKER,
    "personality": DOCKER,
}


def load(results, name):
    path = results / f"{name}.json"
    if not path.exists():
        return None
    rows = json.loads(path.read_text())["results"]
    return {r["command"]: r for r in rows}, [r["command"] for r in rows]


def ms(seconds):
    return f"{seconds * 1e3:.2f}"


def ratio(a, b):
    """a/b of means with the standard deviation propagated."""
    r = a["mean"] / b["mean"]
    sd = r * math.hypot(a["stddev"] / a["mean"], b["stddev"] / b["mean"])
    return r, sd


def table(rows, order, peer):
    bare = rows[BARE]
    head = "| command | median ms | mean ± sd ms | min ms | runs | median ÷ bare | mean ÷ bare |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if peer:
        head += f" median ÷ {peer} |"
        rule += "---:|"
    out = [head, rule]
    for label in order:
        r = rows[label]
        mr, msd = ratio(r, bare)
        line = (f"| {label} | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(r['min'])} "
                f"| {len(r['times'])} | {r['median'] / bare['median']:.3f} | {mr:.3f} ± {msd:.3f} |")
        if peer:
            line += f" {r['median'] / rows[peer]['median']:.3f} |"
        out.append(line)
    return out


def commands(results, name):
    path = results / f"{name}.commands.tsv"
    if not path.exists():
        return []
    out = ["", "Commands (hyperfine -N: no shell; descriptor 9 is the Docker filter, rewound before each run):", ""]
    for line in path.read_text().splitlines():
        label, command = line.split("\t", 1)
        out.append(f"- {label}: `{command}`")
    return out


def load_average(results, name):
    path = results / "load.tsv"
    if not path.exists():
        return []
    loads = {}
    for line in path.read_text().splitlines():
        bench, when, avg = line.split("\t")
        if bench == name:
            loads[when] = avg
    if not loads:
        return []
    return ["", "Load average (1, 5, 15 min) " + ", ".join(f"{w}: {a}" for w, a in loads.items()) + "."]


def drift(rows):
    if REPEAT not in rows:
        return []
    d = rows[REPEAT]["median"] / rows[BARE]["median"]
    return ["", f"Drift within the run: the bare command measured again at the end: median ÷ first = {d:.3f}."]


def per_call(rows, order, calls, what):
    bare = rows[BARE]
    out = ["", f"Per {what} ({calls:,} per run; each wrapper's start-up is included, spread over "
           f"the calls: 4 ms of it would add {4e-3 / calls * 1e9:.1f} ns):", "",
           "| command | ns per call (median) | overhead vs bare, ns (median) | overhead vs bare, ns (mean ± sd) |",
           "|---|---:|---:|---:|"]
    for label in order:
        r = rows[label]
        per = r["median"] / calls * 1e9
        over = (r["median"] - bare["median"]) / calls * 1e9
        over_mean = (r["mean"] - bare["mean"]) / calls * 1e9
        over_sd = math.hypot(r["stddev"], bare["stddev"]) / calls * 1e9
        out.append(f"| {label} | {per:.1f} | {over:+.1f} | {over_mean:+.1f} ± {over_sd:.1f} |")
    return out


def tar_goal(rows, order):
    bare = rows[BARE]
    out = ["", f"Goal: within {TAR_GOAL - 1:.0%} of bare (median ratio ≤ {TAR_GOAL})."]
    for label in order:
        if not label.startswith("least run") or "/bin/true" in label:
            continue
        r = rows[label]["median"] / bare["median"]
        out.append(f"- {label}: {r:.3f} — {'met' if r <= TAR_GOAL else 'missed'}")
    if "least run -- /bin/true" in rows and "bare /bin/true" in rows:
        fixed = rows["least run -- /bin/true"]["median"] - rows["bare /bin/true"]["median"]
        total = rows["least run (default policy)"]["median"] - bare["median"]
        out += ["",
                f"least's fixed start-up cost in this run (least run -- /bin/true minus /bin/true): {ms(fixed)} ms; "
                f"total overhead on tar (default policy): {ms(total)} ms; so the filter's cost during tar's own "
                f"run is about {ms(total - fixed)} ms ({(total - fixed) / bare['median']:+.1%} of bare tar)."]
    return out


def rss(results):
    path = results / "rss.tsv"
    if not path.exists():
        return []
    lines = path.read_text().splitlines()[1:]
    rows = [(l.split("\t")[0], *map(int, l.split("\t")[1:])) for l in lines]
    base = dict((r[0], r[2]) for r in rows)
    bare = base.get("bare /bin/true")
    bwrap = base.get("bwrap --dev-bind / / /bin/true")
    tool_file = results / "rss_tool.txt"
    tool = tool_file.read_text().strip() if tool_file.exists() else "?"
    out = ["## rss", "", f"Peak RSS (ru_maxrss of the largest process in the tree, via {tool}), KiB:", "",
           "| command | min | median | max | median ÷ bare | median ÷ bwrap |", "|---|---:|---:|---:|---:|---:|"]
    for label, lo, med, hi in rows:
        out.append(f"| {label} | {lo} | {med} | {hi} | {med / bare:.2f} | {med / bwrap:.2f} |")
    return out + load_average(results, "rss") + [""]


def across(dirs, a):
    """One table per benchmark: each row's median ÷ bare in every round."""
    out = ["# least benchmark summary across rounds", ""]
    out += header(dirs[0])
    out += [f"{len(dirs)} rounds; every round runs each benchmark as one hyperfine invocation. "
            "Cells: median ÷ bare of that round (median in ms). Details: round-N/summary.md.", ""]
    for name, peer in BENCHMARKS.items():
        rounds = [load(d, name) for d in dirs]
        if any(r is None for r in rounds):
            continue
        order = rounds[0][1]
        cols = " | ".join(f"round {i + 1}" for i in range(len(dirs)))
        out += [f"## {name}", "", f"| command | {cols} | median of rounds |",
                "|---|" + "---:|" * (len(dirs) + 1)]
        for label in order:
            cells, ratios = [], []
            for rows, _ in rounds:
                r = rows[label]["median"] / rows[BARE]["median"]
                ratios.append(r)
                cells.append(f"{r:.3f} ({ms(rows[label]['median'])})")
            out.append(f"| {label} | " + " | ".join(cells) + f" | {median(ratios):.3f} |")
        calls = {"dd": 2 * a.dd_count, "getppid": a.loop_iterations, "personality": a.loop_iterations}.get(name)
        if calls:
            out += ["", f"Overhead per call vs bare, ns ((median − bare median) ÷ {calls:,}):", "",
                    f"| command | {cols} | median of rounds |", "|---|" + "---:|" * (len(dirs) + 1)]
            for label in order:
                ns = [(rows[label]["median"] - rows[BARE]["median"]) / calls * 1e9 for rows, _ in rounds]
                out.append(f"| {label} | " + " | ".join(f"{v:+.1f}" for v in ns) + f" | {median(ns):+.1f} |")
        if name == "tar" and all("least run -- /bin/true" in rows for rows, _ in rounds):
            out += ["", "least's cost during tar's own run (total overhead minus least's fixed start-up, "
                    "both from the same round), ms and % of bare tar:", ""]
            for i, (rows, _) in enumerate(rounds):
                fixed = rows["least run -- /bin/true"]["median"] - rows["bare /bin/true"]["median"]
                for label in order:
                    if label.startswith("least run") and "/bin/true" not in label:
                        inrun = rows[label]["median"] - rows[BARE]["median"] - fixed
                        out.append(f"- round {i + 1}, {label}: {ms(inrun)} ms "
                                   f"({inrun / rows[BARE]['median']:+.1%}); fixed start-up {ms(fixed)} ms")
        out.append("")
    rss_rounds = [d / "rss.tsv" for d in dirs if (d / "rss.tsv").exists()]
    if rss_rounds:
        out += ["## rss", "", "Peak RSS, median KiB of each round:", "",
                "| command | " + " | ".join(f"round {i + 1}" for i in range(len(rss_rounds))) + " |",
                "|---|" + "---:|" * len(rss_rounds)]
        tables = [[l.split("\t") for l in f.read_text().splitlines()[1:]] for f in rss_rounds]
        for i, row in enumerate(tables[0]):
            out.append(f"| {row[0]} | " + " | ".join(t[i][2] for t in tables) + " |")
        out.append("")
    return out


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def header(results):
    """machine.txt and the Docker filter's line, from the results dir or its parent."""
    out = []
    for d in (results, results.parent):
        machine = d / "machine.txt"
        if machine.exists():
            out += ["```", machine.read_text().strip(), "```", ""]
            docker = d / "docker_to_bpf.txt"
            if docker.exists():
                out += [docker.read_text().strip(), ""]
            break
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", type=pathlib.Path, nargs="+")
    p.add_argument("--loop-iterations", type=int, required=True)
    p.add_argument("--dd-count", type=int, required=True)
    p.add_argument("--across", action="store_true", help="compare several rounds' result dirs")
    a = p.parse_args()
    if a.across:
        sys.stdout.write("\n".join(across(a.results, a)) + "\n")
        return
    if len(a.results) != 1:
        p.error("one results dir, or --across with several")
    results = a.results[0]

    out = ["# least benchmark summary", ""] + header(results)
    for name, peer in BENCHMARKS.items():
        loaded = load(results, name)
        if loaded is None:
            continue
        rows, order = loaded
        out += [f"## {name}", ""] + table(rows, order, peer if peer in rows else None) + drift(rows)
        out += load_average(results, name) + commands(results, name)
        if name == "tar":
            out += tar_goal(rows, order)
        if name == "dd":
            out += per_call(rows, order, 2 * a.dd_count, "syscall (dd bs=1: one read and one write per byte)")
        if name in ("getppid", "personality"):
            out += per_call(rows, order, a.loop_iterations, f"{name}() call")
        out.append("")
    out += rss(results)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
