"""Chat-log screening (§5.2, §5.3.d, §6.1, §9.1, §9.3, §9.4, §9.7, §9.11): the messages of a
group's exported chat, HR's screening rules, and the hits they make — each hit a *proposed*
case for HR to decide (docs/screening.md). A machine never deducts by itself."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from groups.models import ChatGroup
from members.models import Employee
from violations.models import Case, Rule


class ChatImport(models.Model):
    """One exported chat file read into a group: what it held and what screening made of it."""

    class Format(models.TextChoices):
        WECHAT_PC = "wechat_pc", "微信电脑版导出（CSV/Excel）"
        WECOM = "wecom", "企业微信会话存档（JSON 行）"
        TEMPLATE = "template", "本系统模板"

    group = models.ForeignKey(
        ChatGroup, verbose_name="微信群", on_delete=models.PROTECT, related_name="chat_imports"
    )
    source_format = models.CharField("格式", max_length=16, choices=Format.choices)
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows_read = models.PositiveIntegerField("读取行数", default=0)
    messages_new = models.PositiveIntegerField("新消息", default=0)
    messages_duplicate = models.PositiveIntegerField("重复（已导入过）", default=0)
    # Private chats and other rooms in the same file: never stored (a WeCom archive holds the
    # whole company's conversations; only this group's are HR's business, §5.2).
    messages_skipped = models.PositiveIntegerField("其他会话（未导入）", default=0)
    room_id = models.CharField("会话 ID", max_length=128, blank=True)
    senders_unmatched = models.PositiveIntegerField("未匹配到员工的发言人", default=0)
    hits = models.PositiveIntegerField("命中", default=0)
    cases_proposed = models.PositiveIntegerField("提出的案件", default=0)
    first_at = models.DateTimeField("最早消息", null=True, blank=True)
    last_at = models.DateTimeField("最晚消息", null=True, blank=True)

    class Meta:
        verbose_name = "聊天记录导入"
        verbose_name_plural = "聊天记录导入"
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.group} · {self.original_name or self.pk}"


class Message(models.Model):
    """One message of a group's chat, stored once however often its file is imported."""

    class Kind(models.TextChoices):
        TEXT = "text", "文字"
        IMAGE = "image", "图片"
        VOICE = "voice", "语音"
        VIDEO = "video", "视频"
        STICKER = "sticker", "表情"
        LINK = "link", "链接"
        FILE = "file", "文件"
        MINI_PROGRAM = "mini_program", "小程序"
        SYSTEM = "system", "系统消息"
        OTHER = "other", "其他"

    group = models.ForeignKey(
        ChatGroup,
        verbose_name="微信群",
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,  # the (group, sent_at) index leads with it
    )
    chat_import = models.ForeignKey(
        ChatImport, verbose_name="导入", on_delete=models.PROTECT, related_name="messages"
    )
    # "id:<the export's message id>", else "h:<sha256 of time, sender and content>": the same
    # message imported twice is stored once (unique with the group).
    identity = models.CharField("消息标识", max_length=100)
    sent_at = models.DateTimeField("发送时间")
    sender_wechat_id = models.CharField("微信号", max_length=64, blank=True)
    sender_name = models.CharField("群昵称", max_length=128, blank=True)
    # Matched as reconciliation matches a roster (§5.3.b): WeChat id, HR's remembered
    # identity, then the real name in the display name.
    employee = models.ForeignKey(
        Employee,
        verbose_name="员工",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_messages",
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices, default=Kind.TEXT)
    content = models.TextField("内容", blank=True)

    class Meta:
        verbose_name = "群消息"
        verbose_name_plural = "群消息"
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "identity"], name="screening_message_once_per_group"
            )
        ]
        # The context around a hit, and the §9.7 daily counts, read a group's messages by time.
        indexes = [models.Index(fields=["group", "sent_at", "id"], name="message_group_time_idx")]

    def __str__(self) -> str:
        return f"{self.sender_name or self.sender_wechat_id} {self.sent_at:%Y-%m-%d %H:%M}"


class ScreeningRule(models.Model):
    """One of HR's screening rules, tied to the catalog rule a hit would breach."""

    class Kind(models.TextChoices):
        KEYWORDS = "keywords", "关键词"
        # §6.1: classified names are a breach only outside the confidential group (管理群).
        CONFIDENTIAL = "confidential", "涉密名称（管理群以外）"
        LINKS = "links", "链接、二维码与小程序"
        FLOOD = "flood", "刷图（每人每群每天）"

    name = models.CharField("名称", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    rule = models.ForeignKey(
        Rule, verbose_name="违规条款", on_delete=models.PROTECT, related_name="screening_rules"
    )
    is_active = models.BooleanField("启用", default=True)
    notes = models.TextField("说明", blank=True)
    # LINKS
    flag_short_links = models.BooleanField(
        "标记短链接", default=True, help_text="短链接看不出指向哪里，一律交人工审核。"
    )
    flag_unlisted_domains = models.BooleanField(
        "标记允许名单以外的域名", default=False, help_text="只允许“允许”名单上的网站。"
    )
    flag_mini_programs = models.BooleanField("标记小程序与二维码分享", default=True)
    # FLOOD (§9.7)
    daily_limit = models.PositiveSmallIntegerField(
        "每人每群每天图片与表情上限",
        null=True,
        blank=True,
        help_text="按北京时间的自然日计算；超过上限的那一条提出一次，每人每群每天至多一次。",
    )
    # Messages sent at odd hours (SCREENING_ODD_HOURS) come first in the review queue.
    odd_hours_weight = models.DecimalField(
        "非工作时间权重", max_digits=4, decimal_places=2, default=1
    )

    class Meta:
        verbose_name = "筛查规则"
        verbose_name_plural = "筛查规则"
        ordering = ["rule__code", "name"]

    def __str__(self) -> str:
        return self.name


class Keyword(models.Model):
    screening_rule = models.ForeignKey(
        ScreeningRule, verbose_name="筛查规则", on_delete=models.CASCADE, related_name="keywords"
    )
    word = models.CharField("关键词", max_length=64)
    whole_word = models.BooleanField(
        "整词匹配", default=False, help_text="不匹配更长的词中的一部分（如英文单词、拼音缩写）。"
    )
    initials = models.CharField(
        "拼音首字母", max_length=32, blank=True, help_text="如“赌博”填 db：按整词匹配。"
    )

    class Meta:
        verbose_name = "关键词"
        verbose_name_plural = "关键词"
        ordering = ["screening_rule", "word"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening_rule", "word"], name="screening_keyword_once_per_rule"
            )
        ]

    def __str__(self) -> str:
        return self.word

    def clean(self) -> None:
        # 整词匹配 keeps an ASCII word out of longer ones ("db" not in "feedback"); Chinese runs
        # its words together, so the engine reads a Chinese letter's edge as a word boundary and
        # the box would change nothing on a Chinese word (docs/screening.md, 规则). Full width
        # counts as ASCII, as the engine reads it: ＤＢ is db.
        word = unicodedata.normalize("NFKC", self.word or "")
        if self.whole_word and not any(char.isascii() and char.isalnum() for char in word):
            raise ValidationError(
                {"whole_word": "整词匹配只用于英文单词或拼音缩写；中文关键词按字面匹配。"}
            )


class AllowedPhrase(models.Model):
    """A harmless phrase that holds a keyword ("赌气" holds "赌"): a keyword found inside one
    is not a hit."""

    screening_rule = models.ForeignKey(
        ScreeningRule,
        verbose_name="筛查规则",
        on_delete=models.CASCADE,
        related_name="allowed_phrases",
    )
    phrase = models.CharField("允许词", max_length=64)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="添加人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    added_at = models.DateTimeField("添加时间", auto_now_add=True)

    class Meta:
        verbose_name = "允许词"
        verbose_name_plural = "允许词"
        ordering = ["screening_rule", "phrase"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening_rule", "phrase"], name="screening_allowed_once_per_rule"
            )
        ]

    def __str__(self) -> str:
        return self.phrase


class Domain(models.Model):
    class Listing(models.TextChoices):
        BLOCK = "block", "禁止"
        ALLOW = "allow", "允许"
        SHORTENER = "shortener", "短链接服务"

    screening_rule = models.ForeignKey(
        ScreeningRule, verbose_name="筛查规则", on_delete=models.CASCADE, related_name="domains"
    )
    # Lower case, without "www."; a listed domain covers its subdomains.
    domain = models.CharField("域名", max_length=253)
    listing = models.CharField("名单", max_length=16, choices=Listing.choices)

    class Meta:
        verbose_name = "域名"
        verbose_name_plural = "域名"
        ordering = ["screening_rule", "listing", "domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening_rule", "domain"], name="screening_domain_once_per_rule"
            )
        ]

    def __str__(self) -> str:
        return self.domain


class Hit(models.Model):
    """A message a screening rule flagged, and the case it proposed (none when its sender
    matched no employee: nobody is charged on a guess)."""

    message = models.ForeignKey(
        Message, verbose_name="消息", on_delete=models.PROTECT, related_name="hits"
    )
    screening_rule = models.ForeignKey(
        ScreeningRule, verbose_name="筛查规则", on_delete=models.PROTECT, related_name="hits"
    )
    matched = models.CharField("命中内容", max_length=255)
    # The match with the letters around it, normalised ("废物率"): offered as an allowed
    # phrase when HR dismisses the hit as 误报.
    phrase = models.CharField("命中处", max_length=64, blank=True)
    weight = models.DecimalField("权重", max_digits=5, decimal_places=2, default=1)
    case = models.OneToOneField(
        Case,
        verbose_name="案件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="screening_hit",
    )
    created_at = models.DateTimeField("筛查时间", auto_now_add=True)

    class Meta:
        verbose_name = "筛查命中"
        verbose_name_plural = "筛查命中"
        ordering = ["-weight", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "screening_rule"], name="screening_hit_once_per_message_rule"
            )
        ]

    def __str__(self) -> str:
        return f"{self.screening_rule} · {self.matched}"


class AllowSuggestion(models.Model):
    """A phrase around a keyword that HR dismissed as 误报: offered as an allowed phrase."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        ACCEPTED = "accepted", "已加入允许词"
        REJECTED = "rejected", "不采纳"

    screening_rule = models.ForeignKey(
        ScreeningRule,
        verbose_name="筛查规则",
        on_delete=models.CASCADE,
        related_name="allow_suggestions",
    )
    phrase = models.CharField("建议允许词", max_length=64)
    keyword = models.CharField("关键词", max_length=64)
    dismissals = models.PositiveIntegerField("误报次数", default=0)
    example = models.TextField("示例消息", blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.OPEN)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "允许词建议"
        verbose_name_plural = "允许词建议"
        ordering = ["status", "-dismissals", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening_rule", "phrase"], name="screening_suggestion_once_per_rule"
            )
        ]

    def __str__(self) -> str:
        return self.phrase
