"""The comparison's conclusion: one markdown table (ready for the README)
and the list of targets, each with the ratio measured in this run and
PASS or MISS, so that a regression shows as a MISS rather than as a
number nobody compares.

A row that could not be measured keeps its place and says why; a target
whose inputs are missing says n/a (never PASS).
"""

from __future__ import annotations

from boxup_run import PARALLEL
from measure import GIB, Result

MIB = 1 << 20
HEADER = ("| what | MB/s | ratio | client CPU-s/GiB | server CPU-s/GiB | verifies | durable |\n"
          "|---|---:|---|---:|---:|---|---|")


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def _cpu(r: Result, cpu: float | None) -> str:
    v = r.cpu_per_gib(cpu)
    return "—" if v is None else f"{v:.2f}"


def _ok(r) -> bool:
    return isinstance(r, Result) and r.error is None


def _row(r: Result | None, what: str, ratio: str, durable: str | None = None) -> str:
    if r is None:
        return f"| {what} (skipped) | — | — | — | — | — | — |"
    if r.error is not None:
        return f"| {_cell(r.name)}: FAILED: {_cell(r.error[:300])} | — | — | — | — | — | — |"
    dur = durable or ("yes" if r.durable else "no")
    return (f"| {_cell(r.name)} | {r.mb_s:.0f} | {ratio} | {_cpu(r, r.client_cpu_s)} | "
            f"{_cpu(r, r.server_cpu_s)} | {_cell(r.verifies)} | {dur} |")


def peer_ratio(d: dict, peer: Result, ref: str) -> float | None:
    base = d.get(ref)
    if not (_ok(base) and _ok(peer)) or not peer.mb_s:
        return None
    return base.mb_s / peer.mb_s


def table(d: dict) -> list[str]:
    s = d["sha1"]
    out = ["ratio: for boxup's rows, boxup's MB/s ÷ the reference named in the cell; for a "
           "peer's row, boxup's MB/s in the comparable row (named) ÷ the peer's MB/s, i.e. "
           "boxup is N× this peer (rclone is compared with the boxup CLI over the same TLS "
           "path, the others with boxup e2e on disk). CPU-s per GiB uploaded; the server "
           "column of nginx counts its master and worker.", "", HEADER]
    dd, disk, tmpfs = d.get("dd"), d.get("disk"), d.get("tmpfs")
    out.append(_row(dd, "dd", "reference"))
    if _ok(tmpfs):
        out.append(_row(tmpfs, "", f"{tmpfs.mb_s / s['ceiling_mb_s']:.2f} of 4-pass ceiling "
                                   f"({s['ceiling_mb_s']:.0f})", durable="no (tmpfs)"))
    else:
        out.append(_row(tmpfs, "boxup e2e, tmpfs", ""))
    out.append(_row(disk, "boxup e2e, disk",
                    f"{disk.mb_s / dd.mb_s:.2f} of dd" if _ok(disk) and _ok(dd) else "—"))
    if "tls" in d:
        out.append(_row(d["tls"], "boxup CLI over TLS", "boxup's number for rclone"))
    for peer, ref in d["peers"]:
        ratio = peer_ratio(d, peer, ref)
        label = "boxup CLI over TLS" if ref == "tls" else "boxup e2e disk"
        out.append(_row(peer, peer.name,
                        "—" if ratio is None else f"boxup {ratio:.2f}× ({label})"))
    single, burst = d.get("single"), d.get("sessions")
    if isinstance(single, dict):
        mb = single["mib_s"] * MIB / 1e6
        gib = single["size"] / GIB
        out.append(f"| upload-bench, one session ({single['size'] >> 20} MiB, "
                   f"--parallel {single['parallel']}) | {mb:.0f} | reference for sessions | "
                   f"{single['client_cpu_s'] / gib:.2f} | {single['server_cpu_s'] / gib:.2f} | "
                   f"SHA-1 per part and whole file | yes |")
    elif single is not None:
        out.append(f"| upload-bench, one session: FAILED: {_cell(single[:300])} | — | — | — | — | — | — |")
    if isinstance(burst, dict):
        ratio = (f"{burst['mib_s'] / single['mib_s']:.2f} of one session"
                 if isinstance(single, dict) else "—")
        out.append(f"| upload-bench, {burst['sessions']} sessions × "
                   f"{burst['session_bytes'] >> 20} MiB ({burst['ok']} ok, {burst['failed']} "
                   f"failed) | {burst['mib_s'] * MIB / 1e6:.0f} | {ratio} | — | — | "
                   f"SHA-1 per part and whole file | yes |")
    elif burst is not None:
        out.append(f"| upload-bench, sessions: FAILED: {_cell(burst[:300])} | — | — | — | — | — | — |")
    dl = d.get("download")
    out.append(_row(dl, "boxup download", f"{dl.mb_s / s['speed_mb_s']:.2f} of one core's SHA-1"
                    if _ok(dl) else "—"))
    return out


def _target(what: str, ok: bool | None, detail: str) -> str:
    mark = {True: "PASS", False: "MISS", None: "n/a "}[ok]
    return f"  {mark}  {what}: {detail}"


def _ratio_target(what: str, r: Result | None, reference: float | None,
                  at_least: float) -> str:
    """The target `r`'s MB/s ≥ `at_least` × `reference` MB/s."""
    if not _ok(r) or not reference:
        return _target(what, None, "not measured")
    ratio = r.mb_s / reference
    return _target(what, ratio >= at_least,
                   f"{ratio:.2f} ({r.mb_s:.0f} / {reference:.0f} MB/s)")


def targets(d: dict) -> list[str]:
    s, out = d["sha1"], ["TARGETS"]
    tmpfs, disk, dd = d.get("tmpfs"), d.get("disk"), d.get("dd")
    out.append(_ratio_target("e2e tmpfs ≥ 0.8 × 4-pass ceiling", tmpfs, s["ceiling_mb_s"], 0.8))
    out.append(_ratio_target("e2e disk ≥ 0.9 × dd", disk, dd.mb_s if _ok(dd) else None, 0.9))
    limit = 1.25 * s["four_passes_cpu_s_per_gib"]
    pc = s["page_cache"]["fresh_cpu_s_per_gib"]
    for key, r in (("disk", disk), ("tmpfs", tmpfs)):
        what = f"CPU of e2e {key} (client + server) ≤ 1.25 × four SHA-1 passes"
        if _ok(r):
            c, v = r.cpu_per_gib(r.client_cpu_s), r.cpu_per_gib(r.server_cpu_s)
            out.append(_target(what, c + v <= limit,
                               f"{c:.2f} + {v:.2f} = {c + v:.2f} CPU-s/GiB vs {limit:.2f} "
                               f"({(c + v) / s['four_passes_cpu_s_per_gib']:.2f} × four passes; "
                               f"new page cache costs {pc:.2f} per GiB written here)"))
        else:
            out.append(_target(what, None, "not measured"))
    for peer, ref in d["peers"]:
        ratio = peer_ratio(d, peer, ref)
        out.append(_target(f"boxup ahead of {peer.name}", None if ratio is None else ratio >= 1.0,
                           "not measured" if ratio is None else f"{ratio:.2f}×"))
    burst, single = d.get("sessions"), d.get("single")
    if isinstance(burst, dict):
        out.append(_target(f"{burst['sessions']} sessions all ok",
                           burst["ok"] == burst["sessions"] and burst["failed"] == 0,
                           f"{burst['ok']} ok, {burst['failed']} failed"))
        if isinstance(single, dict):
            r = burst["mib_s"] / single["mib_s"]
            extra = ""
            if _ok(disk):
                extra = (f"; vs boxup e2e disk (CLI) "
                         f"{burst['mib_s'] * MIB / 1e6 / disk.mb_s:.2f}")
            out.append(_target("sessions aggregate ≥ 0.8 × one session", r >= 0.8,
                               f"{r:.2f} ({burst['mib_s']:.0f} / {single['mib_s']:.0f} MiB/s, "
                               f"upload-bench both){extra}"))
        else:
            out.append(_target("sessions aggregate ≥ 0.8 × one session", None,
                               "no one-session reference"))
        out.append(_target("sessions commit p95 ≤ 100 ms", burst["commit_p95_ms"] <= 100,
                           f"{burst['commit_p95_ms']:.1f} ms"))
    else:
        out.append(_target("256 sessions", None, "not measured"))
    if isinstance(burst, dict) and "settled_s" in burst:
        t = burst["settled_s"]
        out.append(_target("RSS back under 2 × idle within 60 s after the 256-session burst",
                           t is not None,
                           f"idle {burst['idle_mib']:.1f} MiB, peak {burst['peak_mib']:.0f} MiB; "
                           + (f"{t:.1f} s ({burst['settle_end_mib']:.1f} MiB)" if t is not None
                              else f"not within 60 s, {burst['settle_end_mib']:.1f} MiB at the end")))
    mem = d.get("mem")
    if mem and "settle" in mem:
        t = mem["settle"]["settled_s"]
        out.append(_target("RSS back under 2 × idle within 60 s after one upload", t is not None,
                           f"idle {mem['idle_rss'] / MIB:.1f} MiB; "
                           + (f"{t:.0f} s" if t is not None else "not within 60 s, "
                              f"{mem['settle']['samples'][-1][1] / MIB:.1f} MiB at the end")))
    else:
        out.append(_target("RSS back under 2 × idle within 60 s after one upload", None,
                           "not measured"))
    if mem and "peak_rss" in mem and _ok(disk):
        part, src = d["part_size"]
        limit_b = 64 * MIB + 2 * part * PARALLEL
        out.append(_target(f"peak RSS during one upload ≤ 64 MiB + 2 × part × {PARALLEL} PUTs",
                           mem["peak_rss"] <= limit_b,
                           f"{mem['peak_rss'] / MIB:.1f} MiB vs {limit_b / MIB:.0f} MiB "
                           f"(part {part / MIB:g} MiB, {src})"))
    else:
        out.append(_target("peak RSS during one upload", None, "not measured"))
    out.append(_ratio_target("download ≥ 0.8 × one core's SHA-1", d.get("download"),
                             s["speed_mb_s"], 0.8))
    return out
