"""Benchmark: importing a 1,000,000-line WeChat chat export, streamed (docs/performance.md, 内容筛查).

Run by hand, never in the test suite:

    .venv/bin/python bench/chatlog_import.py [--lines 1000000] [--employees 2000]
    .venv/bin/python bench/chatlog_import.py --database postgres

It builds the demo company once (bench/_db.py: SQLite or PostgreSQL, copied per run), writes a
WeChat PC export CSV of ``--lines`` messages (deterministic: 200 of the demo's employees, by
their WeChat ids, plus a few strangers; factory chatter with images, stickers, links, system
notices and ~0.1 % planted breaches) to /tmp, and imports it with
``screening.services.chatlog_import`` exactly as ``import_chatlog`` does: one transaction,
batches of 2,000, every new message screened by the seeded rules. It reports the time, the
rate, what was found, and the process's peak RSS (``ru_maxrss``) before and after the import —
the issue's bound is 300 MB for 1,000,000 lines. A second import of the same file (everything a
duplicate) is timed too.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import (  # noqa: E402 — after sys.path
    add_database_arguments,
    database_label,
    load_average,
    open_database,
)

PLANTED = ["网赌带你飞 https://t.cn/A6abc", "晚上去賭 博", "代开发票联系我", "你这个废物"]
START = 1_764_460_800  # 2025-11-30 08:00 Beijing time


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_export(path: Path, lines: int, senders: list[tuple[str, str]], seed: int) -> None:
    """The export, written row by row (never held in memory): the columns the readers know,
    the demo's chatter (company.demo.chatlog)."""
    from company.demo.chatlog import WORK_CHATTER as CHATTER
    from screening.readers import WECHAT_COLUMNS

    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(list(WECHAT_COLUMNS.values()))
        for n in range(lines):
            when = START + n * 3  # ~35 days of a busy group
            wechat_id, nick = senders[rng.randrange(len(senders))]
            roll = rng.random()
            kind, sub, content = 1, 0, CHATTER[rng.randrange(len(CHATTER))]
            if roll < 0.001:
                content = PLANTED[rng.randrange(len(PLANTED))]
            elif roll < 0.08:
                kind, content = 3, "<img/>"
            elif roll < 0.10:
                kind, content = 47, "<emoji/>"
            elif roll < 0.105:
                kind, sub, content = 10000, 0, f"“{nick}”邀请“新同事”加入了群聊"
            local = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when + 8 * 3600))
            writer.writerow(
                [
                    n + 1,
                    "12345@chatroom",
                    kind,
                    sub,
                    0,
                    when,
                    2,
                    content,
                    local,
                    "",
                    nick,
                    wechat_id,
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    add_database_arguments(parser)
    args = parser.parse_args()

    def build() -> None:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("seed_policy", stdout=open(os.devnull, "w"))
        call_command("demo", "--employees", str(args.employees), stdout=open(os.devnull, "w"))

    open_database(args, name=f"chatlog_{args.employees}", build=build)
    from groups.models import ChatGroup
    from members.models import Employee

    people = list(
        Employee.objects.exclude(wechat_id="")
        .order_by("pk")
        .values_list("wechat_id", "department__name", "name")[:200]
    )
    senders = [(w, f"{d}-{n}") for w, d, n in people] + [
        (f"wxid_stranger{i}", f"陌生人{i}") for i in range(5)
    ]
    path = Path(f"/tmp/bench-chatlog-{args.lines}.csv")  # noqa: S108 — scratch file
    if not path.exists():
        write_export(path, args.lines, senders, args.seed)
    print(
        f"{database_label(args)}, {args.lines:,} lines ({path.stat().st_size / 1e6:.0f} MB), "
        f"{len(senders)} senders, {load_average()}"
    )
    from common.actors import SystemActor
    from screening.services import chatlog_import

    group = ChatGroup.objects.get(code="work")
    actor = SystemActor("bench")
    before = rss_mb()
    for label in ("first import", "same file again"):
        started = time.perf_counter()
        with path.open("rb") as file:
            result = chatlog_import(group=group, file=file, filename=path.name, actor=actor)
        seconds = time.perf_counter() - started
        print(
            f"{label:16} {seconds:7.1f} s  {result.rows_read / seconds:9,.0f} lines/s  "
            f"new {result.messages_new:,}  duplicates {result.messages_duplicate:,}  "
            f"hits {result.hits}  cases {result.cases_proposed}  "
            f"unmatched senders {result.senders_unmatched}  peak RSS {rss_mb():.0f} MB"
        )
    print(f"peak RSS before the imports {before:.0f} MB; {load_average()}")


if __name__ == "__main__":
    main()
