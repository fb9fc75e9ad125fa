"""Reading a real name out of a WeChat display name (§5.3.b).

Pure functions, no database: what the matcher and the NOT_REAL_NAME check share.
Display names seen in practice: "生产部-张伟", "张伟", "一车间－张伟", "张伟（品质）",
"销售 李娜🌸", "小王". Real names are 2–4 CJK characters (a few more for
some minority names with "·", which then stand as one segment).
"""

from __future__ import annotations

import re
import unicodedata

from groups.models import ChatGroup

# Separators people put between department and name. Full-width forms are
# folded by normalize_display_name first.
SEPARATOR_RE = re.compile(r"[-—–_|/\\\s:,，、()（）\[\]【】<>《》]+")
CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·]+")
MIN_NAME_LEN, MAX_NAME_LEN = 2, 4


def normalize_display_name(value: str) -> str:
    """Fold full-width ASCII to half-width and collapse spaces; keep CJK and emoji."""
    folded = "".join(
        unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" or ch == "\u3000" else ch
        for ch in value
    )
    return " ".join(folded.split())


def segments(display_name: str) -> list[str]:
    """The parts between separators, in order, without empty ones."""
    return [part for part in SEPARATOR_RE.split(normalize_display_name(display_name)) if part]


def name_candidates(display_name: str) -> list[list[str]]:
    """Possible real names, best first, as tiers of equally good guesses.

    Tier 1: whole segments ("生产部-张伟" -> 生产部, 张伟). Tier 2: CJK runs of a
    segment with its decoration removed ("张伟🌸" -> 张伟). Tier 3: every
    2–4-character piece of a CJK run, longest first ("销售李娜" -> …, 李娜).
    """
    parts = segments(display_name)
    runs = [run for part in parts for run in CJK_RUN_RE.findall(part)]
    pieces: list[str] = []
    for length in range(MAX_NAME_LEN, MIN_NAME_LEN - 1, -1):
        for run in runs:
            pieces.extend(run[i : i + length] for i in range(len(run) - length + 1))
    return [parts, runs, pieces]


def all_candidates(display_name: str) -> set[str]:
    return {c for tier in name_candidates(display_name) for c in tier}


def follows_convention(
    display_name: str, *, real_name: str, department_path: str, convention: str
) -> bool:
    """Does the display name show the real name in the group's form (§5.3.b)?

    部门-姓名: exactly two parts, the name part equal to the real name and the
    department part naming the employee's department or one above it.
    姓名 (the policy's own rule): the real name, alone or in the 部门-姓名 form — §5.3.b asks
    for the real name, and a member who puts their own department in front still shows it;
    never a nickname or a decorated name.
    """
    parts = segments(display_name)
    departments = set(department_path.split("/"))
    with_department = len(parts) == 2 and parts[1] == real_name and parts[0] in departments
    if convention == ChatGroup.NamingConvention.NAME:
        return parts == [real_name] or with_department
    return with_department


def suggested_display_name(*, real_name: str, department_name: str, convention: str) -> str:
    if convention == ChatGroup.NamingConvention.NAME:
        return real_name
    return f"{department_name}-{real_name}"
