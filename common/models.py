"""Abstract models the apps share (no tables of their own: common is no Django app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models


class Transition(models.Model):
    """The audit row of one move of a state machine (docs/architecture.md, "State machines"):
    who made it and when; the services that move the parent write it, and only they.

    A subclass adds the parent's foreign key, ``from_state`` and ``to_state`` with the
    parent's choices, ``comment`` (its verbose name is the subclass's word for it), and its
    Meta (names, ordering by the parent first). ``actor`` empty is the system (common.actors:
    a task, a command, the demo), shown as 系统 (common.admin.TimelineInline).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    if TYPE_CHECKING:  # the subclass's state fields, with choices (Django's display methods)

        def get_from_state_display(self) -> str: ...
        def get_to_state_display(self) -> str: ...

    class Meta:
        abstract = True

    def __str__(self) -> str:
        # "—" for the row that records the parent's coming in (no state before it).
        return f"{self.get_from_state_display() or '—'} → {self.get_to_state_display()}"
