"""Benchmark: hostile spreadsheets through the reader and the upload doors (docs/security.md, 2).

Run by hand, never in the test suite:

    .venv/bin/python bench/hostile_files.py [--code /tmp/before] [--timeout 200]
        [--only whitespace_xlsx,...] [--dir /tmp/hostile-files]

It writes the hostile files of docs/security.md, 2 (zipfile and raw XML, at their real size; kept in
``--dir``, never committed), then for each file and each door runs a fresh subprocess on the
code in ``--code`` (default: this checkout; give a ``git worktree`` of an older commit to
measure "before") and reports the time to refusal and the process's peak RSS (ru_maxrss,
Django loaded included). Doors:

- ``reader``: ``common.spreadsheets.read_table`` with the settings' caps (50,000 rows);
- ``roster``: ``groups.services.roster.parse_roster``, what the roster upload page and
  ``import_roster`` call (2,000 rows);
- ``employees``: ``members.importing.employee_import_file(dry_run=True)``, what the employee
  import page and ``import_employees`` call (needs the database: DATABASE_URL).

Targets: every file refused in < 5 s, peak RSS < 300 MB. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import write_hostile_xlsx  # noqa: E402 - after the path is set

EXCEL_ROWS = 1_048_576

HEAD = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe7\xbe\xa4\xe6\x98\xb5\xe7\xa7\xb0</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>\xe5\xb7\xa5\xe5\x8f\xb7</t></is></c></row>'  # 群昵称 工号
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c>'
    b'<c r="B2" t="inlineStr"><is><t>E001</t></is></c></row>'
)


def batched(lines, size: int = 10_000):
    buffer = io.BytesIO()
    for index, line in enumerate(lines, start=1):
        buffer.write(line)
        if index % size == 0:
            yield buffer.getvalue()
            buffer = io.BytesIO()
    yield buffer.getvalue()


def whitespace_rows():
    """1,048,575 rows of three cells that hold only spaces: ~2.9 MB, compression ratio ~80,
    under the old ratio check (100), as the file first reported was."""
    yield HEAD
    cells = '<c t="inlineStr"><is><t xml:space="preserve">   </t></is></c>' * 3
    yield from batched(f'<row r="{n}">{cells}</row>'.encode() for n in range(3, EXCEL_ROWS + 1))


def small_rows():
    """A million small rows: one short text each."""
    yield HEAD
    yield from batched(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>m{n}</t></is></c></row>'.encode()
        for n in range(3, 1_000_003)
    )


def tiny_strings(count: int = 4_000_000):
    yield b'<si><t xml:space="preserve">   </t></si>'
    yield from batched(f"<si><t>{n:x}</t></si>".encode() for n in range(count))


def make_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "whitespace_xlsx": folder / "whitespace-1048575-rows.xlsx",
        "shared_strings_xlsx": folder / "shared-strings-4M.xlsx",
        "small_rows_xlsx": folder / "small-rows-1M-no-dimension.xlsx",
        "whitespace_csv": folder / "whitespace-rows.csv",
        "small_rows_csv": folder / "small-rows.csv",
    }
    if not files["whitespace_xlsx"].exists():
        write_hostile_xlsx(
            files["whitespace_xlsx"],
            whitespace_rows(),
            [b'<si><t xml:space="preserve">   </t></si>'],
        )
    if not files["shared_strings_xlsx"].exists():
        write_hostile_xlsx(files["shared_strings_xlsx"], [HEAD], tiny_strings())
    if not files["small_rows_xlsx"].exists():
        write_hostile_xlsx(files["small_rows_xlsx"], small_rows())
    if not files["whitespace_csv"].exists():  # 10 MB of lines of spaces and commas
        body = b" , , , \n" * (10 * 1024 * 1024 // 8 - 10)
        files["whitespace_csv"].write_bytes("群昵称,工号\nx,E001\n".encode() + body)
    if not files["small_rows_csv"].exists():
        lines = "".join(f"m{n},E{n}\n" for n in range(640_000))
        files["small_rows_csv"].write_bytes(("群昵称,工号\n" + lines).encode())
    return files


CHILD = r"""
import os, resource, sys, time
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
import django
django.setup()
import logging
logging.disable(logging.CRITICAL)
door, path = sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
if os.environ.get("BENCH_FORGED_DIRECTORY"):
    # As if the zip directory's sizes were forged: only the caps while streaming remain.
    import common.spreadsheets.xlsx
    common.spreadsheets.xlsx._check_xlsx_archive = lambda *args: None
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if door == "reader":
    from common.spreadsheets import SpreadsheetError, read_table
    try:
        read_table(data)
        outcome = "ACCEPTED"
    except SpreadsheetError as error:
        outcome = str(error)
elif door == "roster":
    from groups.services.roster import RosterImportError, parse_roster
    try:
        parse_roster(data, filename=os.path.basename(path))
        outcome = "ACCEPTED"
    except RosterImportError as error:
        outcome = " ".join(error.errors)
else:
    from common.actors import SystemActor
    from members.importing import employee_import_file
    report = employee_import_file(
        data=data, filename=os.path.basename(path), dry_run=True, actor=SystemActor("bench")
    )
    outcome = " ".join(report.errors)[:200] or "ACCEPTED"
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import json
print(json.dumps({"seconds": seconds, "base_mb": base / 1024, "peak_mb": peak / 1024,
                  "outcome": outcome[:90]}))
"""


def measure(code: Path, door: str, path: Path, timeout: int) -> dict:
    """Run one case in a fresh process; past ``timeout``, report the peak RSS it had reached
    (VmHWM) and stop it."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, str(code), door, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=code,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{child.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
        child.kill()
        child.communicate()
        return {
            "seconds": None,
            "peak_mb": peak_kb / 1024,
            "outcome": f"still reading after {timeout} s (peak so far)",
        }
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"seconds": None, "peak_mb": None, "outcome": stderr.strip()[-200:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hostile-files"))  # noqa: S108
    parser.add_argument("--timeout", type=int, default=200)
    parser.add_argument("--only", default="")
    parser.add_argument("--doors", default="reader,roster,employees")
    parser.add_argument(
        "--forged-directory",
        action="store_true",
        help="skip the zip-directory checks, to measure the caps applied while streaming",
    )
    args = parser.parse_args()
    if args.forged_directory:
        os.environ["BENCH_FORGED_DIRECTORY"] = "1"
    files = make_files(args.dir)
    wanted = set(filter(None, args.only.split(",")))
    print(f"code: {args.code}" + (" (zip directory checks off)" if args.forged_directory else ""))
    print("| file | size | door | time to refusal | peak RSS (Django ~ base) | outcome |")
    print("|---|---|---|---|---|---|")
    for name, path in files.items():
        if wanted and name not in wanted:
            continue
        size = f"{path.stat().st_size / 1024 / 1024:.1f} MB"
        for door in args.doors.split(","):
            result = measure(args.code, door, path, args.timeout)
            seconds = (
                f"> {args.timeout} s" if result["seconds"] is None else f"{result['seconds']:.2f} s"
            )
            peak = "–" if result["peak_mb"] is None else f"{result['peak_mb']:.0f} MB"
            base = f" (base {result['base_mb']:.0f})" if result.get("base_mb") else ""
            print(f"| {name} | {size} | {door} | {seconds} | {peak}{base} | {result['outcome']} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
