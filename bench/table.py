"""One table of the hot paths (issue 16): our figure, the raw baseline's from the same run, the
ratio, the target and whether it is met, read from the JSON each benchmark wrote.

`python -m bench` prints it after running every benchmark and writes it to
`bench/results/table-<time>.json`; `python -m bench table` prints the newest results again;
`python -m bench compare` sets them beside `bench/baseline.json` (the last accepted run), so a
regression shows at review; `python -m bench compare --accept` makes the newest the baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .profile import where_text

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BASELINE = Path(__file__).resolve().parent / "baseline.json"
CONCURRENCY = 4  # the gateway rows: 4 concurrent clients


@dataclass(frozen=True)
class Row:
    key: str
    """Stable name, for comparing runs."""
    path: str
    ours: float | None
    baseline: float | None
    unit: str
    target: str
    met: bool | None
    """None: not measured in this run."""
    lower_is_better: bool = True
    note: str = ""
    where: str = ""
    """Where the time goes, from a profile taken in the same run (printed under a missed row)."""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline

    @property
    def limit(self) -> float | None:
        """The target's first figure in the row's unit: `<= 3 x bare` is three times the baseline."""
        found = _TARGET.match(self.target)
        if found is None:
            return None
        figure = float(found["figure"].replace(",", ""))
        if not found["times"]:
            return figure
        return figure * self.baseline if self.baseline else None

    @property
    def miss(self) -> str:
        """By how much a missed target is missed, as a factor (`3.6x`), or "" if met or unknown."""
        limit = self.limit
        if self.met is not False or self.ours is None or not limit or not self.ours:
            return ""
        factor = self.ours / limit if self.lower_is_better else limit / self.ours
        return f"{factor:.1f}x" if factor >= 1 else ""


_TARGET = re.compile(r"\s*[<>]=?\s*(?P<figure>[\d,]+(?:\.\d+)?)\s*(?P<times>x\b)?")


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# --- one reader per benchmark's JSON ----------------------------------------------------------


def webhook_rows(doc: dict[str, Any]) -> list[Row]:
    steps = doc.get("steps", [])
    rates = sorted({s["rate"] for s in steps if s["server"] == "messenger"})
    if not rates:
        return []
    rate = min(rates, key=lambda r: abs(r - 500))

    def step(server: str) -> dict[str, Any]:
        return next((s for s in steps if s["server"] == server and s["rate"] == rate), {})

    ours, bare = step("messenger"), step("bare")
    cpu, bare_cpu = _num(ours.get("server_cpu_ms_per_webhook")), _num(bare.get("server_cpu_ms_per_webhook"))
    p99, bare_p99 = _num(ours.get("p99_ms")), _num(bare.get("p99_ms"))
    stored = ours.get("stored_acked") == ours.get("ok") and not ours.get("errors") and not ours.get("non_200")
    return [
        Row("webhook.cpu", f"webhook: CPU per webhook at {rate:g}/s (store + apply)", cpu, bare_cpu, "ms",
            "<= 2 x bare", None if cpu is None or not bare_cpu else cpu <= 2 * bare_cpu,
            where=where_text(doc.get("where") or {})),
        Row("webhook.p99", f"webhook: p99 to the 200 at {rate:g}/s, every one stored", p99, bare_p99, "ms",
            "<= 3 x bare", None if p99 is None or not bare_p99 else bool(stored) and p99 <= 3 * bare_p99,
            note="" if stored else "NOT every webhook stored"),
    ]  # fmt: skip


def reply_rows(doc: dict[str, Any]) -> list[Row]:
    v = doc.get("verdict") or {}
    if not v:
        return []
    rate, p50, p99, cpu = (
        v.get("rate"),
        _num(v.get("p50_ms")),
        _num(v.get("p99_ms")),
        _num(v.get("stack_cpu_ms")),
    )
    complete = all(s["replied"] == s["conversations"] for s in doc.get("steps", []))
    note = "" if complete else "NOT every conversation answered"
    return [
        Row("reply.p50", f"chat-to-reply at {rate:g}/s: p50", p50, _num(v.get("baseline_p50_ms")), "ms",
            "<= 25 ms", None if p50 is None else complete and p50 <= 25, note=note),
        Row("reply.p99", f"chat-to-reply at {rate:g}/s: p99", p99, _num(v.get("baseline_p99_ms")), "ms",
            "<= 100 ms", None if p99 is None else complete and p99 <= 100, note=note),
        Row("reply.cpu", f"chat-to-reply at {rate:g}/s: stack CPU per conversation", cpu, None, "ms",
            "<= 20 ms", None if cpu is None else cpu <= 20, note="summed over every process of the stack",
            where=where_text(doc.get("where") or {})),
    ]  # fmt: skip


def consumer_rows(doc: dict[str, Any]) -> list[Row]:
    ours, raw = _num(doc.get("ours", {}).get("per_core_s")), _num(doc.get("raw", {}).get("per_core_s"))
    return [
        Row("consumer.per_core", "event consumer with the inbox: events/s per core", ours, raw, "/s",
            ">= 2,000/s", None if ours is None else ours >= 2000, lower_is_better=False,
            where=where_text(doc.get("where") or {})),
    ]  # fmt: skip


def gateway_rows(doc: dict[str, Any]) -> list[Row]:
    rows = [r for r in doc.get("rows", []) if r.get("cache") == "empty"]
    concurrencies = sorted({r["concurrency"] for r in rows})
    if not concurrencies:
        return []
    c = min(concurrencies, key=lambda x: abs(x - CONCURRENCY))
    profiled = (doc.get("setup") or {}).get("where") or {}
    out: list[Row] = []
    for ours in (r for r in rows if r["server"] == "gateway" and r["concurrency"] == c):
        where = where_text({"gateway": profiled[ours["scenario"]]}) if ours["scenario"] in profiled else ""
        bare: dict[str, Any] = next((r for r in rows if r["server"] == "bare" and r["concurrency"] == c
                     and r["scenario"] == ours["scenario"]), {})  # fmt: skip
        cpu, bare_cpu = _num(ours.get("server_cpu_ms_per_req")), _num(bare.get("server_cpu_ms_per_req"))
        key = "gateway." + "".join(ch if ch.isalnum() else "-" for ch in ours["scenario"]).strip("-")
        if ours["group"] == "order":
            per_s = _num(ours.get("per_s"))
            met = None if per_s is None else per_s >= 200 and not ours.get("failed")
            out.append(Row(f"{key}.per_s", f"order creation, {c} clients: orders/s", per_s,
                           _num(bare.get("per_s")), "/s", ">= 200/s", met, lower_is_better=False,
                           note="baseline: a bare FastAPI endpoint"))  # fmt: skip
            out.append(Row(f"{key}.cpu", f"order creation, {c} clients: CPU per order", cpu, bare_cpu, "ms",
                           "<= 3 ms", None if cpu is None else cpu <= 3, where=where))  # fmt: skip
            continue
        p99 = _num(ours.get("p99_ms"))
        met = None if cpu is None or not bare_cpu or p99 is None else cpu <= 3 * bare_cpu and p99 <= 20
        label = f"{ours['scenario']}, {c} clients: CPU per read (p99 {p99} ms)"
        out.append(
            Row(f"{key}.cpu", label, cpu, bare_cpu, "ms", "<= 3 x bare, p99 <= 20 ms", met, where=where)
        )
    return out


def insights_rows(doc: dict[str, Any]) -> list[Row]:
    rows, copy_s = _num(doc.get("rows")), _num(doc.get("copy_s"))
    store_rows, store_s = _num(doc.get("store_rows")), _num(doc.get("store_s"))
    end_s = _num(doc.get("end_to_end_s"))
    if not rows or not copy_s or not store_rows or not store_s:
        return []
    copy, store = rows / copy_s, store_rows / store_s
    full_year = doc.get("days", 0) >= 365 and doc.get("ads", 0) >= 200
    return [
        Row("insights.store", "insights store stage: rows/s", store, copy, "/s", ">= 0.5 x COPY",
            store >= copy / 2, lower_is_better=False, where=where_text(doc.get("where") or {})),
        Row("insights.year", f"insights end to end: {doc.get('days')} days x {doc.get('ads')} ads hourly",
            end_s, copy_s, "s", "< 60 s (a year, 200 ads)",
            None if end_s is None or not full_year else end_s < 60,
            note="" if full_year else "not a full year: not judged"),
    ]  # fmt: skip


def dashboards_rows(doc: dict[str, Any]) -> list[Row]:
    rows = doc.get("rows", [])
    out: list[Row] = []
    for g, b in zip(rows[::2], rows[1::2], strict=False):
        if g.get("concurrency") != 1:
            continue
        per_s, bare = _num(g.get("per_s")), _num(b.get("per_s"))
        key = "cached." + "".join(ch if ch.isalnum() else "-" for ch in g["scenario"]).strip("-")
        met = None if per_s is None or not bare else per_s >= 0.7 * bare and not g.get("failed")
        label = f"cached read: {g['scenario']}, 1 client: req/s"
        shares = (doc.get("where") or {}).get(g["scenario"])
        where = where_text({"gateway": shares}) if shares else ""
        out.append(
            Row(key, label, per_s, bare, "/s", ">= 0.7 x bare", met, lower_is_better=False, where=where)
        )
    return out


READERS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "webhook": webhook_rows,
    "reply": reply_rows,
    "consumer": consumer_rows,
    "gateway": gateway_rows,
    "insights": insights_rows,
    "dashboards": dashboards_rows,
}


def newest_results(results_dir: Path, since: datetime | None = None) -> dict[str, dict[str, Any]]:
    """The newest JSON of each benchmark in `results_dir` (written after `since`, if given)."""
    found: dict[str, tuple[float, dict[str, Any]]] = {}
    for path in results_dir.glob("*.json"):
        mtime = path.stat().st_mtime
        if since is not None and mtime < since.timestamp():
            continue
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        name = doc.get("benchmark") if isinstance(doc, dict) else None
        if name in READERS and (name not in found or found[name][0] < mtime):
            found[name] = (mtime, doc)
    return {name: doc for name, (_, doc) in found.items()}


def rows_of(results: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for name, reader in READERS.items():
        if name in results:
            rows += reader(results[name])
    return rows


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}{unit}"


def render(rows: Iterable[Row]) -> str:
    lines = [f"{'path':<58} {'ours':>10} {'baseline':>10} {'ratio':>7}  {'target':<26} met"]
    for r in rows:
        met = "-" if r.met is None else "yes" if r.met else f"NO by {r.miss}" if r.miss else "NO"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        lines.append(
            f"{r.path[:58]:<58} {_fmt(r.ours, ' ' + r.unit):>10}"
            f" {_fmt(r.baseline, ' ' + r.unit):>10} {ratio:>7}"
            f"  {r.target:<26} {met}" + (f"  ({r.note})" if r.note else "")
        )
        if r.met is False and r.where:
            lines.append(f"    where the time goes (profile): {r.where}")
    return "\n".join(lines)


def write(rows: list[Row], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"table-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    doc = {"benchmark": "table", "rows": [asdict(r) | {"ratio": r.ratio, "missed_by": r.miss} for r in rows]}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def compare(current: list[Row], baseline: dict[str, Any]) -> str:
    """Each row beside the accepted baseline's figure; a change of over 20 % for the worse is flagged."""
    before = {r["key"]: r for r in baseline.get("rows", [])}
    lines = [f"{'path':<58} {'accepted':>10} {'now':>10} {'change':>8}"]
    for r in current:
        old = _num(before.get(r.key, {}).get("ours"))
        change = "-"
        if old and r.ours is not None:
            delta = (r.ours - old) / old
            worse = delta > 0.2 if r.lower_is_better else delta < -0.2
            change = f"{delta:+.0%}" + (" WORSE" if worse else "")
        lines.append(
            f"{r.path[:58]:<58} {_fmt(old, ' ' + r.unit):>10} {_fmt(r.ours, ' ' + r.unit):>10} {change:>8}"
        )
    missing = sorted(set(before) - {r.key for r in current})
    if missing:
        lines.append(f"not measured now: {', '.join(missing)}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument(
        "--accept", action="store_true", help="(compare) make the newest results the baseline"
    )


def show(args: argparse.Namespace) -> int:
    rows = rows_of(newest_results(args.results_dir))
    if not rows:
        print(f"no results in {args.results_dir}: run `python -m bench` first")
        return 1
    print(render(rows))
    return 0


def compare_main(args: argparse.Namespace) -> int:
    rows = rows_of(newest_results(args.results_dir))
    if not rows:
        print(f"no results in {args.results_dir}: run `python -m bench` first")
        return 1
    if args.accept:
        args.baseline.write_text(json.dumps({"rows": [asdict(r) for r in rows]}, indent=2) + "\n")
        print(f"{args.baseline} now holds these {len(rows)} rows")
        return 0
    if not args.baseline.exists():
        print(f"{args.baseline} is missing: `python -m bench compare --accept` records one")
        return 1
    print(compare(rows, json.loads(args.baseline.read_text())))
    return 0
