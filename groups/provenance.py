"""How a member came into a group, in words (§5.3.a: do not invite unrelated people).

A STRANGER or INELIGIBLE finding keeps who invited the member in its own fields
(Finding.inviter_text, Finding.inviter) and the roster row keeps when and how they joined —
never in Finding.detail, which everyone who sees the finding reads: in a confidential group
(§6.1) the inviter is another member of it, which a department head seeing only their own
person's finding may not learn (groups.admin.findings hides these words from them). The
words are made here, when a page or a file that may show them is made.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import prefetch_related_objects
from django.utils import timezone

from groups.models import Finding, RosterMember

PROVENANCE_KINDS = frozenset({Finding.Kind.STRANGER, Finding.Kind.INELIGIBLE})


def roster_rows_of(findings: Iterable[Finding]) -> dict[int, RosterMember]:
    """Each STRANGER/INELIGIBLE finding's row in the snapshot that last showed it (by pk of
    the finding), in one query for any number of findings."""
    wanted = [f for f in findings if f.kind in PROVENANCE_KINDS and f.last_seen_id]
    if not wanted:
        return {}
    rows = RosterMember.objects.filter(
        snapshot_id__in={f.last_seen_id for f in wanted},
        display_name__in={f.display_name for f in wanted},
    ).order_by("-row_number")  # the first row wins below, as the finding took the first
    by_key = {(m.snapshot_id, m.display_name, m.wechat_id): m for m in rows}
    found = {f.pk: by_key.get((f.last_seen_id, f.display_name, f.wechat_id)) for f in wanted}
    return {pk: member for pk, member in found.items() if member is not None}


def provenance_text(finding: Finding, member: RosterMember | None) -> str:
    """ "由 李娜（JM004） 邀请（二维码，2024-03-01）", "入群（链接）", or "" when the roster
    said nothing. ``member``: the finding's row from roster_rows_of (when and how)."""
    if finding.kind not in PROVENANCE_KINDS:
        return ""
    how = []
    if member is not None and member.join_method:
        how.append(member.get_join_method_display())
    if member is not None and member.joined_at:
        how.append(f"{timezone.localtime(member.joined_at):%Y年%-m月%-d日}")
    when = f"（{'，'.join(how)}）" if how else ""
    written = finding.inviter_text
    if finding.inviter_id:
        inviter = finding.inviter
        who = f"{inviter.name}（{inviter.employee_no}）"
        if written and written not in (inviter.name, inviter.wechat_id):
            who += f"，名单记为“{written}”"
        return f"由 {who} 邀请{when}"
    if written:
        return f"由 {written} 邀请{when}"
    return f"入群{when}" if when else ""


def provenance_of(findings: list[Finding]) -> dict[int, str]:
    """The words of each finding that has some (by pk), in at most two queries whatever the
    number of findings (the inviters, the roster rows). For pages and files whose readers may
    see who invited whom: the group's page and the creator's to-do list (its roster's
    viewers: HR, the group's admins, its creator)."""
    wanted = [f for f in findings if f.kind in PROVENANCE_KINDS]
    prefetch_related_objects([f for f in wanted if f.inviter_id], "inviter")
    rows = roster_rows_of(wanted)
    words = {f.pk: provenance_text(f, rows.get(f.pk)) for f in wanted}
    return {pk: text for pk, text in words.items() if text}
