"""A group's exported chat read in, screened, and its hits proposed as cases (docs/screening.md).

One pass over the file, in batches: each batch's messages are stored once (their identity
decides), their senders matched as reconciliation matches a roster (§5.3.b), and the new
ones screened by HR's rules. A hit by a matched sender becomes a *proposed* case through
``case_propose`` — HR decides, a machine never deducts (§7.1). After the file, the §9.7
image counts of each sender's days in it are read back from the database, so a day split
across two files is still counted whole.

All or nothing: one transaction, so a bad row 900,000 lines in leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import CharField, Count, F, Value, When
from django.db.models.functions import Cast, Concat, TruncDate

from common.actors import Actor, SystemActor, actor_user
from common.dates import day_text, moment_text
from groups.matching import match_members
from groups.models import ChatGroup
from members.models import Employee
from screening.engine import EngineHit, Incoming
from screening.models import ChatImport, Hit, Message, ScreeningRule
from screening.readers import ChatLogError, ParsedMessage, read_chatlog
from screening.services.rules import flood_rules, screen_compile
from violations.models import Case
from violations.services import case_propose

# Messages per batch: one existence query, one insert and one automaton pass each. 2,000
# keeps a batch's objects to a few MB whatever the file's size (the 1,000,000-line import
# stays under 300 MB peak: docs/performance.md, 内容筛查).
BATCH_SIZE = 2_000

# The proposer when no person supplied the file (the command, the demo).
PROPOSER = SystemActor("screening")

FLOOD_KINDS = (Message.Kind.IMAGE, Message.Kind.STICKER)
# Kinds that carry nothing to screen.
UNSCREENED_KINDS = frozenset({Message.Kind.SYSTEM})

DESCRIPTION = "内容筛查：{group} {when}，{sender}的消息命中“{rule}”（{matched}）：{content}"
FLOOD_DESCRIPTION = (
    "内容筛查：{group} {day}，{sender}当天发送图片与表情 {count} 条，"
    "超过每人每群每天 {limit} 条的上限（§9.7）。"
)
EXCERPT_CHARS = 200
CONFIDENTIAL_CONTENT = "（保密群的消息，内容见筛查命中 #{hit}，仅人力资源部可见）"

Progress = Callable[[int], None]


@dataclass
class _Totals:
    # Who proposes the cases (four eyes): see _proposer.
    proposer: Actor = PROPOSER
    rows_read: int = 0
    messages_new: int = 0
    messages_duplicate: int = 0
    hits: int = 0
    cases_proposed: int = 0
    messages_skipped: int = 0
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    unmatched: set[tuple[str, str]] = field(default_factory=set)
    # §9.7: (flood_key, Beijing day) of each image or sticker stored.
    flood_days: set[tuple[str, dt.date]] = field(default_factory=set)


@dataclass
class _Sender:
    """A sender as groups.matching reads a roster member."""

    pk: int
    wechat_id: str
    display_name: str
    inviter: str = ""
    snapshot_id: int | None = None


def message_identity(parsed: ParsedMessage, occurrence: int, *, with_sender: bool = False) -> str:
    """The export's own id when it has one that names the message (WeCom's msgid), else a hash
    of its time, type and content — and of ``occurrence``, the how-many-th such message of that
    second in the file, so that two "收到" in one second are two messages, and the same two
    imported again are still two.

    The sender is left out on purpose: a WeChat PC export writes each sender as the exporting
    computer knows them (its contacts' nicknames, its owner's private remarks, its owner's own
    messages with no Sender at all), so two admins' exports of the same chat name the same
    message differently; its time to the second, type and text do not change. Our template
    (``with_sender``) is written by a person on purpose, one sender per row: its 微信号 and
    群昵称 are part of the message there, so two people's "收到" typed in are two."""
    if parsed.source_id and len(parsed.source_id) <= 90:
        return f"id:{parsed.source_id}"
    sender = (parsed.sender_wechat_id, parsed.sender_name) if with_sender else ()
    text = "\x1f".join(
        (
            *sender,
            parsed.sent_at.astimezone(dt.UTC).isoformat(),
            parsed.kind,
            parsed.content,
            str(occurrence),
        )
    )
    return "h:" + hashlib.sha256(text.encode()).hexdigest()


def flood_key(employee_id: int | None, wechat_id: str, name: str) -> str:
    """Who sent a message, for the §9.7 count: the employee when matched (however the export
    wrote them), else the WeChat id, else the display name — as stored (truncated)."""
    if employee_id is not None:
        return f"e:{employee_id}"
    return f"s:{wechat_id[:64] or name[:128]}"


@transaction.atomic
def chatlog_import(
    *,
    group: ChatGroup,
    file: BinaryIO,
    filename: str,
    actor: Actor,
    room: str = "",
    progress: Progress | None = None,
) -> ChatImport:
    """Read ``file`` (an export in any of the readers' formats) into ``group`` and screen it.

    ``room`` is the chat's id in the export (WeChat's TalkerId, WeCom's roomid) when the file
    holds several chats: only its messages are read. Without it the file must hold one group
    chat; private chats (WeCom messages without a room, a WeChat TalkerId that is no
    "…@chatroom") are never read (§5.2: the groups' messages are HR's business, nobody's
    private ones).

    Raises ChatLogError (screening.readers) with the row and column to blame; nothing is
    stored then. ``progress(percent)`` is told how far through the file it is."""
    # One import of a group at a time: two at once would race on the same messages (the
    # second would fail on the unique identity); the second now waits for the first.
    group = ChatGroup.objects.select_for_update().get(pk=group.pk)
    source_format, parsed = read_chatlog(file, filename=filename)
    chat_import = ChatImport.objects.create(
        group=group,
        source_format=source_format,
        original_name=os.path.basename(filename)[:255],
        imported_by=actor_user(actor),
        room_id=room,
    )
    screen, rules = screen_compile()
    totals = _Totals(proposer=_proposer(actor))
    senders: dict[tuple[str, str], int | None] = {}
    size = _size(file)
    rooms = _RoomFilter(room, source_format, totals)
    with_sender = source_format == ChatImport.Format.TEMPLATE
    identified = _with_identity(rooms.keep(parsed), with_sender=with_sender)
    for batch in _batches(identified, BATCH_SIZE):
        totals.rows_read += len(batch)
        new = _store(chat_import, batch, senders, totals)
        if new and rules:
            _screen(group, new, screen, rules, totals)
        if progress and size:
            progress(min(99, int(file.tell() * 100 / size)))
    _screen_floods(group, totals)
    chat_import.rows_read = totals.rows_read
    chat_import.hits = totals.hits
    chat_import.messages_new = totals.messages_new
    chat_import.messages_duplicate = totals.messages_duplicate
    chat_import.messages_skipped = totals.messages_skipped
    chat_import.room_id = rooms.room
    chat_import.cases_proposed = totals.cases_proposed
    chat_import.senders_unmatched = len(totals.unmatched)
    chat_import.first_at = totals.first_at
    chat_import.last_at = totals.last_at
    chat_import.save()
    return chat_import


ERROR_SEVERAL_ROOMS = (
    "第{row}行：文件中有不止一个群聊的记录（{rooms}）。请只导出本群的聊天记录，"
    "或在“会话 ID”中填写本群的会话 ID。"
)


class _RoomFilter:
    """The messages of one chat room: ``room`` if given, else the first room met — a second
    one refuses the file, since nobody can tell which is this group."""

    def __init__(self, room: str, source_format: str, totals: _Totals) -> None:
        self.room = room
        self.fixed = bool(room)
        self.private_without_room = source_format == ChatImport.Format.WECOM
        self.wechat = source_format == ChatImport.Format.WECHAT_PC
        self.totals = totals

    def private_chat(self, room_id: str) -> bool:
        # WeChat names every group chat "…@chatroom"; any other TalkerId is a person, an
        # official account (gh_…), the file helper (filehelper) or a WeCom contact (…@openim).
        return self.wechat and not room_id.endswith("@chatroom")

    def keep(self, parsed: Iterable[ParsedMessage]) -> Iterator[ParsedMessage]:
        for message in parsed:
            room_id = message.room_id
            if not room_id:
                if self.private_without_room:  # a WeCom private chat
                    self.totals.messages_skipped += 1
                    continue
                yield message  # the template and plain exports name no room
                continue
            if self.private_chat(room_id):
                self.totals.messages_skipped += 1
                continue
            if not self.room:
                self.room = room_id
            if room_id != self.room:
                if self.fixed:
                    self.totals.messages_skipped += 1
                    continue
                raise ChatLogError(
                    ERROR_SEVERAL_ROOMS.format(row=message.row, rooms=f"{self.room}、{room_id}")
                )
            yield message


def _proposer(actor: Actor) -> Actor:
    """Who proposes the cases a file's hits make: the person who supplied the file, recorded as
    the cases' reporter — the file is their evidence, so four eyes keep them from confirming
    what it shows (violations.services.cases); the system when no person did (a command)."""
    return actor if actor_user(actor) is not None else PROPOSER


def _size(file: BinaryIO) -> int:
    try:
        return os.fstat(file.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        return getattr(file, "size", 0) or 0


# Seconds whose occurrence counters are kept: an export that steps back in time (two files
# joined, a sort by sender) still counts a repeated second on, within this many seconds.
OCCURRENCE_SECONDS = 4_096


def _with_identity(
    parsed: Iterable[ParsedMessage], *, with_sender: bool = False
) -> Iterator[tuple[str, ParsedMessage]]:
    # Counters per second, the oldest dropped beyond OCCURRENCE_SECONDS (memory stays flat).
    seconds: OrderedDict[dt.datetime, dict[tuple[str, ...], int]] = OrderedDict()
    for message in parsed:
        seen = seconds.get(message.sent_at)
        if seen is None:
            seen = seconds[message.sent_at] = {}
            if len(seconds) > OCCURRENCE_SECONDS:
                seconds.popitem(last=False)
        key: tuple[str, ...] = (message.kind, message.content)
        if with_sender:
            key += (message.sender_wechat_id, message.sender_name)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        yield message_identity(message, occurrence, with_sender=with_sender), message


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _store(
    chat_import: ChatImport,
    batch: list[tuple[str, ParsedMessage]],
    senders: dict[tuple[str, str], int | None],
    totals: _Totals,
) -> list[Message]:
    """The batch's messages not stored before, saved (with their pks) and returned."""
    group = chat_import.group
    existing = _stored(group, batch)
    fresh: dict[str, ParsedMessage] = {}
    # Stored before with no employee (its sender unnamed or unmatched then): this file may
    # name them (another admin's export of the exporter's own messages).
    unattributed: dict[int, ParsedMessage] = {}
    for identity, parsed in batch:
        if identity in existing or identity in fresh:
            totals.messages_duplicate += 1
            stored = existing.get(identity)
            if stored and stored[1] is None and (parsed.sender_wechat_id or parsed.sender_name):
                unattributed[stored[0]] = parsed
        else:
            fresh[identity] = parsed
    _match_senders(group, [*fresh.values(), *unattributed.values()], senders)
    if unattributed:
        _attribute(group, unattributed, senders, totals)
    zone = ZoneInfo(settings.TIME_ZONE)
    messages = []
    for identity, parsed in fresh.items():
        key = (parsed.sender_wechat_id, parsed.sender_name)
        employee_id = senders.get(key)
        if employee_id is None and any(key) and parsed.kind not in UNSCREENED_KINDS:
            totals.unmatched.add(key)
        messages.append(
            Message(
                group=group,
                chat_import=chat_import,
                identity=identity,
                sent_at=parsed.sent_at,
                sender_wechat_id=parsed.sender_wechat_id[:64],
                sender_name=parsed.sender_name[:128],
                employee_id=employee_id,
                kind=parsed.kind,
                content=parsed.content,
            )
        )
        if totals.first_at is None or parsed.sent_at < totals.first_at:
            totals.first_at = parsed.sent_at
        if totals.last_at is None or parsed.sent_at > totals.last_at:
            totals.last_at = parsed.sent_at
        if parsed.kind in FLOOD_KINDS:
            day = parsed.sent_at.astimezone(zone).date()
            who = flood_key(employee_id, parsed.sender_wechat_id, parsed.sender_name)
            totals.flood_days.add((who, day))
    # PostgreSQL and SQLite ≥ 3.35 return the new pks (Django's bulk_create).
    Message.objects.bulk_create(messages)
    totals.messages_new += len(messages)
    return messages


def _attribute(
    group: ChatGroup,
    unattributed: dict[int, ParsedMessage],
    senders: dict[tuple[str, str], int | None],
    totals: _Totals,
) -> None:
    """Stored messages that had no employee, now matched through this file's sender: they
    take the sender and employee, and their hits that could propose no case propose one now
    (by this file's supplier: it names the sender). Their images count for §9.7 again."""
    matched = {
        pk: (parsed, senders.get((parsed.sender_wechat_id, parsed.sender_name)))
        for pk, parsed in unattributed.items()
    }
    matched = {pk: pair for pk, pair in matched.items() if pair[1] is not None}
    if not matched:
        return
    messages = Message.objects.in_bulk(list(matched))
    zone = ZoneInfo(settings.TIME_ZONE)
    for pk, (parsed, employee_id) in matched.items():
        message = messages[pk]
        message.employee_id = employee_id
        message.sender_wechat_id = parsed.sender_wechat_id[:64]
        message.sender_name = parsed.sender_name[:128]
        if message.kind in FLOOD_KINDS:
            day = message.sent_at.astimezone(zone).date()
            totals.flood_days.add((flood_key(employee_id, "", ""), day))
    Message.objects.bulk_update(
        list(messages.values()), ["employee", "sender_wechat_id", "sender_name"]
    )
    hits = list(
        Hit.objects.filter(message__in=list(matched), case__isnull=True)
        .exclude(screening_rule__kind=ScreeningRule.Kind.FLOOD)
        .select_related("screening_rule__rule")
    )
    for hit in hits:
        hit.message = messages[hit.message_id]
    _propose(group, hits, totals, description=_description)


# A batch whose messages span at most this long is checked against the group's messages of
# that time (time order, read along the (group, sent_at) index) instead of by identity.
WINDOW = dt.timedelta(hours=6)


def _stored(group: ChatGroup, batch: list[tuple[str, ParsedMessage]]) -> dict[str, tuple]:
    """The messages of ``batch`` already stored for ``group``: identity → (pk, employee id).

    A hashed identity holds the message's time, so a stored duplicate lies in the batch's time
    span. Exports run in time order: the span is minutes, and reading the group's messages of
    those minutes walks one stretch of the time index. Looking the random hashes up one by one
    in the identity index touched a page per message instead (1,000,000 lines again: 250 s on
    SQLite, its cache far smaller than the index). A batch spread over more than WINDOW, and
    WeCom's msgids (whose time another export may give otherwise), are looked up by identity."""
    hashed = [(identity, parsed) for identity, parsed in batch if identity.startswith("h:")]
    named = [identity for identity, _ in batch if not identity.startswith("h:")]
    found: dict[str, tuple] = {}
    queries = []
    if hashed:
        times = [parsed.sent_at for _, parsed in hashed]
        start, end = min(times), max(times)
        if end - start <= WINDOW:
            queries.append(
                Message.objects.filter(group=group, sent_at__gte=start, sent_at__lte=end)
            )
        else:
            named += [identity for identity, _ in hashed]
    if named:
        queries.append(Message.objects.filter(group=group, identity__in=named))
    wanted = {identity for identity, _ in batch}
    for query in queries:
        for identity, pk, employee_id in query.values_list(
            "identity", "pk", "employee_id"
        ).iterator():
            if identity in wanted:
                found[identity] = (pk, employee_id)
    return found


def _match_senders(
    group: ChatGroup,
    messages: Iterable[ParsedMessage],
    senders: dict[tuple[str, str], int | None],
) -> None:
    """Match the senders not met before by reconciliation's rules (§5.3.b): WeChat id, HR's
    remembered identity for the display name, then the real name in it — never a guess
    between namesakes. Remembered for the rest of the file."""
    unknown = {
        (m.sender_wechat_id, m.sender_name)
        for m in messages
        if (m.sender_wechat_id, m.sender_name) not in senders
    }
    if not unknown:
        return
    members = [_Sender(pk, wechat_id, name) for pk, (wechat_id, name) in enumerate(unknown)]
    matches, _, _ = match_members(group, members)  # type: ignore[arg-type]
    for member in members:
        senders[(member.wechat_id, member.display_name)] = matches[member.pk].employee_id


def _weight(rule: ScreeningRule, sent_at: dt.datetime) -> Decimal:
    """Odd hours (SCREENING_ODD_HOURS, Beijing time) weigh a hit up in HR's queue."""
    start, end = settings.SCREENING_ODD_HOURS
    hour = sent_at.astimezone(ZoneInfo(settings.TIME_ZONE)).hour
    odd = hour >= start or hour < end if start > end else start <= hour < end
    return rule.odd_hours_weight if odd else Decimal(1)


def _confidential(group: ChatGroup) -> bool:
    # A family member (欢乐谷2群) follows its root's rules, as announcements do.
    return group.rules_group.is_confidential


def _screen(
    group: ChatGroup,
    messages: list[Message],
    screen,
    rules: dict[int, ScreeningRule],
    totals: _Totals,
    *,
    existing_hits: bool = False,
) -> None:
    """The batch's hits stored in one insert, then a proposed case for each by a matched
    sender (case_propose, a few queries each: the employee is told). ``existing_hits``: the
    messages may have been screened before (chatlog_rescreen), so hits already made are left
    out rather than made twice."""
    confidential = _confidential(group)
    incoming = [
        Incoming(
            kind=message.kind,
            content="" if message.kind in UNSCREENED_KINDS else message.content,
            confidential_group=confidential,
        )
        for message in messages
    ]
    found: list[EngineHit] = screen.screen(incoming)
    if not found:
        return
    done: set[tuple[int, int]] = set()
    if existing_hits:
        done = set(
            Hit.objects.filter(message__in=[messages[h.index] for h in found]).values_list(
                "message_id", "screening_rule_id"
            )
        )
    hits = []
    for engine_hit in found:
        message, rule = messages[engine_hit.index], rules[engine_hit.rule_id]
        if (message.pk, rule.pk) in done:
            continue
        hits.append(
            Hit(
                message=message,
                screening_rule=rule,
                matched=engine_hit.matched[:255],
                phrase=engine_hit.phrase[:64],
                weight=_weight(rule, message.sent_at),
            )
        )
    Hit.objects.bulk_create(hits)
    totals.hits += len(hits)
    _propose(group, hits, totals, description=_description)


def _description(hit: Hit, group: ChatGroup) -> str:
    message = hit.message
    matched = hit.matched
    if _confidential(group):
        # §6.1: a confidential group's words stay with HR (the hit's page); a case is read by
        # finance, leaders and the employee's department head — not even the matched link's
        # host (a project's site may name it).
        content = CONFIDENTIAL_CONTENT.format(hit=hit.pk)
        if hit.screening_rule.kind == ScreeningRule.Kind.LINKS:
            matched = "链接"
    else:
        content = message.content[:EXCERPT_CHARS]
    return DESCRIPTION.format(
        group=group.name,
        when=moment_text(message.sent_at),
        sender=message.sender_name or message.sender_wechat_id,
        rule=hit.screening_rule.name,
        matched=matched,
        content=content,
    )


def _propose(
    group: ChatGroup, hits: list[Hit], totals: _Totals, *, description, source_key=None
) -> None:
    """A proposed case for each hit whose sender is an employee (case_propose: one per source
    key), stored on the hit. A sender matched to nobody proposes nothing: nobody is charged on
    a guess, HR sees the hit in the queue as 未匹配员工."""
    charged = [hit for hit in hits if hit.message.employee_id is not None]
    if not charged:
        return
    employees = Employee.objects.in_bulk({hit.message.employee_id for hit in charged})
    for hit in charged:
        message, rule = hit.message, hit.screening_rule
        case, created = case_propose(
            rule_code=rule.rule.code,
            employee=employees[message.employee_id],
            source=Case.Source.SCREENING,
            source_key=(source_key or _message_key)(hit),
            description=description(hit, group),
            occurred_at=message.sent_at,
            actor=totals.proposer,
            group=group,
        )
        hit.case = case
        totals.cases_proposed += created
    Hit.objects.bulk_update(charged, ["case"])


def _message_key(hit: Hit) -> str:
    return f"message:{hit.message.pk}:rule:{hit.screening_rule.pk}"


def _screen_floods(group: ChatGroup, totals: _Totals) -> None:
    """§9.7: each sender's images and stickers per group per Beijing day, the days this file
    touched counted whole from the database (with what earlier files stored); over a rule's
    daily limit, the message past the limit is the hit — one per sender, group, day and rule.
    A sender is the employee when matched (however each file wrote them: flood_key).

    At most five queries whatever the number of senders and days — one counts, one reads the
    over-limit senders' images in order, one the days flagged before, one the crossing
    messages — then each new hit and its case (a query per (sender, day) took a PostgreSQL import of 1,000,000 lines
    past 30 minutes)."""
    rules = flood_rules()
    if not rules or not totals.flood_days:
        return
    zone = ZoneInfo(settings.TIME_ZONE)
    days = {day for _, day in totals.flood_days}
    start = dt.datetime.combine(min(days), dt.time(), zone)
    end = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time(), zone)
    # flood_key() in SQL.
    key = SqlCase(
        When(
            employee__isnull=False,
            then=Concat(Value("e:"), Cast("employee_id", output_field=CharField())),
        ),
        When(sender_wechat_id="", then=Concat(Value("s:"), F("sender_name"))),
        default=Concat(Value("s:"), F("sender_wechat_id")),
        output_field=CharField(),
    )
    in_range = Message.objects.filter(
        group=group, kind__in=FLOOD_KINDS, sent_at__gte=start, sent_at__lt=end
    ).annotate(sender=key)
    lowest = min(rule.daily_limit or 0 for rule in rules)
    counts = {
        (row["sender"], row["day"]): row["count"]
        for row in in_range.annotate(day=TruncDate("sent_at", tzinfo=zone))
        .values("sender", "day")
        .annotate(count=Count("pk"))
        .filter(count__gt=lowest)
        if (row["sender"], row["day"]) in totals.flood_days
    }
    if not counts:
        return
    # The over-limit senders' images of those days, in order: the (limit + 1)-th of each day.
    ordered: dict[tuple[str, dt.date], list[int]] = {pair: [] for pair in counts}
    for pk, sender, sent_at in (
        in_range.filter(sender__in={sender for sender, _ in counts})
        .order_by("sent_at", "pk")
        .values_list("pk", "sender", "sent_at")
        .iterator()
    ):
        pks = ordered.get((sender, sent_at.astimezone(zone).date()))
        if pks is not None:
            pks.append(pk)
    # The (rule, sender, day) an earlier file flagged.
    flagged = {
        (rule_id, flood_key(employee_id, wechat_id, name), sent_at.astimezone(zone).date())
        for rule_id, employee_id, wechat_id, name, sent_at in Hit.objects.filter(
            screening_rule__in=rules,
            message__group=group,
            message__kind__in=FLOOD_KINDS,
            message__sent_at__gte=start,
            message__sent_at__lt=end,
        ).values_list(
            "screening_rule_id",
            "message__employee_id",
            "message__sender_wechat_id",
            "message__sender_name",
            "message__sent_at",
        )
    }
    crossing: list[tuple[ScreeningRule, int, dt.date, int]] = []
    for (sender, day), count in counts.items():
        for rule in rules:
            limit = rule.daily_limit or 0
            if count > limit and (rule.pk, sender, day) not in flagged:
                crossing.append((rule, ordered[(sender, day)][limit], day, count))
    messages = Message.objects.in_bulk([pk for _, pk, _, _ in crossing])
    for rule, pk, day, count in crossing:
        message = messages[pk]
        hit = Hit(
            message=message,
            screening_rule=rule,
            matched=FLOOD_MATCHED.format(number=(rule.daily_limit or 0) + 1),
            weight=_weight(rule, message.sent_at),
        )
        hit.save()
        totals.hits += 1
        _propose(
            group,
            [hit],
            totals,
            description=partial(_flood_description, day=day, count=count),
            source_key=partial(_flood_key, day=day),
        )


FLOOD_MATCHED = "当天第 {number} 条图片或表情"


def _flood_description(hit: Hit, group: ChatGroup, *, day: dt.date, count: int) -> str:
    return FLOOD_DESCRIPTION.format(
        group=group.name,
        day=day_text(day),
        sender=hit.message.sender_name or hit.message.sender_wechat_id,
        count=count,
        limit=hit.screening_rule.daily_limit,
    )


def _flood_key(hit: Hit, *, day: dt.date) -> str:
    message = hit.message
    return (
        f"flood:{hit.screening_rule.pk}:{message.group_id}:{message.employee_id}:{day.isoformat()}"
    )


RESCREEN_BATCH = 5_000


@transaction.atomic
def chatlog_rescreen(
    *, chat_import: ChatImport, actor: Actor, progress: Progress | None = None
) -> int:
    """Screen the messages ``chat_import`` stored again, with the rules as they are now (HR
    added a word, a domain, a rule): what was found before is not found twice (one hit per
    message and rule, one case per source key). Returns the number of new hits, which are
    added to the import's figures.

    ``actor`` is who asked (HR, who edits the rules); the new cases are proposed by whoever
    supplied the file, as its import's were (_proposer: four eyes)."""
    actor_user(actor)  # a person or the system, never an anonymous visitor
    group = ChatGroup.objects.select_for_update().get(pk=chat_import.group_id)
    screen, rules = screen_compile()
    supplier = chat_import.imported_by
    totals = _Totals(proposer=supplier if supplier is not None else PROPOSER)
    messages = (
        Message.objects.filter(chat_import=chat_import)
        .exclude(kind__in=UNSCREENED_KINDS)
        .order_by("sent_at", "pk")
    )
    total = chat_import.messages_new or 1
    done = 0
    if rules:
        for batch in _batches(messages.iterator(chunk_size=RESCREEN_BATCH), RESCREEN_BATCH):
            _screen(group, batch, screen, rules, totals, existing_hits=True)
            done += len(batch)
            if progress:
                progress(min(99, done * 100 // total))
    # §9.7 with the limits as they are now: the days this import's images fall on.
    zone = ZoneInfo(settings.TIME_ZONE)
    for employee_id, wechat_id, name, sent_at in (
        Message.objects.filter(chat_import=chat_import, kind__in=FLOOD_KINDS)
        .values_list("employee_id", "sender_wechat_id", "sender_name", "sent_at")
        .iterator()
    ):
        totals.flood_days.add(
            (flood_key(employee_id, wechat_id, name), sent_at.astimezone(zone).date())
        )
    _screen_floods(group, totals)
    ChatImport.objects.filter(pk=chat_import.pk).update(
        hits=F("hits") + totals.hits, cases_proposed=F("cases_proposed") + totals.cases_proposed
    )
    return totals.hits
