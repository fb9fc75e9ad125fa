"""Demo chat logs: three days of 工作群 and 俊马欢乐谷 as their admins would export them, imported
and screened exactly as an upload is (screening.services.chatlog_import), so that HR's review
queue holds real hits in context: keywords (one in traditional characters, one spaced out),
a short link, a §9.7 image flood, a hit by a sender nobody could match, and a 误报 (废物率, a
quality figure) that HR has already dismissed, so its allowed-phrase suggestion waits.

Running it again adds nothing: the demo's files carry the name DEMO_FILE, and once one was
imported the step is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from common.actors import SystemActor
from company.demo.case_people import demo_hr_logins
from groups.models import ChatGroup
from members.models import Employee
from screening.models import ChatImport, Hit
from screening.services import chatlog_import
from screening.services.review import hit_dismiss

DEMO_FILE = "演示聊天记录-{group}.csv"
ACTOR = SystemActor("demo")
HEADER = ["时间", "群昵称", "微信号", "类型", "内容"]

WORK_CHATTER = [
    "明天早班提前半小时到岗，排产计划已发群里",
    "A线今天品质异常两起，请质检部下午三点开会",
    "出货单已经打印，司机十点到厂",
    "这周六加班，需要加班的同事找班长登记",
    "来料检验发现一批螺丝尺寸不对，已通知供应商",
    "返工的那批货今晚要赶出来，辛苦大家",
    "设备保养安排在周日，各车间注意",
    "收到",
    "好的，马上安排",
    "交期很紧，大家注意安全，别疲劳作业",
    "客户验厂下周二，5S 再整理一遍",
    "报销单请在月底前交财务",
]
LEISURE_CHATTER = [
    "周末有人去爬山吗",
    "食堂今天的红烧肉不错",
    "生日快乐🎂",
    "哈哈哈",
    "篮球赛报名找工会",
    "下班一起吃火锅？",
]


@dataclass
class DemoChatlogs:
    imports: int = 0
    messages: int = 0
    hits: int = 0
    cases: int = 0


def _row(when: dt.datetime, person: Employee, content: str, kind: str = "文字") -> list[str]:
    nick = f"{person.department.name}-{person.name}"
    return [when.strftime("%Y-%m-%d %H:%M:%S"), nick, person.wechat_id, kind, content]


def _csv(rows: list[list[str]]) -> io.BytesIO:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(sorted(rows, key=lambda row: row[0]))
    return io.BytesIO(text.getvalue().encode("utf-8-sig"))


@transaction.atomic
def demo_chatlogs_apply(
    *, seed: int, today: dt.date, reserved_employee_nos: list[str]
) -> DemoChatlogs:
    result = DemoChatlogs()
    if ChatImport.objects.filter(original_name__startswith="演示聊天记录").exists():
        return result
    rng = random.Random(seed)
    zone = ZoneInfo(settings.TIME_ZONE)
    people = list(
        Employee.objects.active()
        .exclude(wechat_id="")
        .exclude(employee_no__in=reserved_employee_nos)
        .select_related("department")
        .order_by("employee_no")[:120]
    )
    if len(people) < 10:
        return result
    days = [today - dt.timedelta(days=n) for n in (2, 1, 0)]

    def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), zone)

    work, leisure = [], []
    for day in days:
        for _ in range(40):
            when = at(day, rng.randint(8, 17), rng.randint(0, 59))
            work.append(_row(when, rng.choice(people), rng.choice(WORK_CHATTER)))
        for _ in range(25):
            when = at(day, rng.randint(12, 22), rng.randint(0, 59))
            leisure.append(_row(when, rng.choice(people), rng.choice(LEISURE_CHATTER)))
    gambler, rumour, advert, insulter, flooder, quality = people[:6]
    work += [
        # §9.4: gambling words, spaced out, behind a short link.
        _row(at(days[1], 10, 12), gambler, "周末带大家去网 赌，稳赚 https://t.cn/A6xYz9"),
        # §5.3.d: a rumour in traditional characters.
        _row(at(days[1], 15, 40), rumour, "聽說公司要倒閉了，大家早做打算"),
        # §9.11: advertising.
        _row(at(days[2], 9, 30), advert, "有需要代开发票的私聊我，价格优惠"),
        # A likely 误报: 废物率 is a quality figure, not an insult (allow-list suggestion).
        _row(at(days[0], 11, 5), quality, "这批货的废物率太高了，质检部跟进一下"),
    ]
    # A sender no employee record matches: a hit, and no case (nobody is charged on a guess).
    work.append(
        [
            at(days[2], 14, 0).strftime("%Y-%m-%d %H:%M:%S"),
            "小李",
            "wxid_demo_stranger",
            "文字",
            "兼职刷单，日结三百",
        ]
    )
    leisure += [
        # §9.3 at an odd hour (weighted up in the queue).
        _row(at(days[1], 23, 15), insulter, "你就是个废物，别在群里说话"),
    ]
    # §9.7: 25 images in one evening, over the daily limit of 20.
    leisure += [_row(at(days[1], 19, n), flooder, "", "图片") for n in range(25)]

    for code, rows in (("work", work), ("leisure", leisure)):
        group = ChatGroup.objects.filter(code=code).first()
        if group is None:
            continue
        done = chatlog_import(
            group=group, file=_csv(rows), filename=DEMO_FILE.format(group=code), actor=ACTOR
        )
        result.imports += 1
        result.messages += done.messages_new
        result.hits += done.hits
        result.cases += done.cases_proposed
    # HR has already dismissed the 废物率 hit as 误报: its allowed-phrase suggestion waits.
    _, reviewer = demo_hr_logins(set(reserved_employee_nos))
    false_positive = Hit.objects.filter(
        message__content__contains="废物率", case__isnull=False
    ).first()
    if false_positive is not None:
        hit_dismiss(
            hit=false_positive,
            actor=reviewer,
            false_positive=True,
            comment="废物率是品质指标，不是骂人。",
        )
    return result
