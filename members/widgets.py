"""The cells of the employee sheet (员工表): django-import-export widgets, one per kind of cell.

A widget only parses and normalises: a cell it cannot read raises a ``CellError`` (a
ValueError, which import-export turns into that row's error, named by its column in
``members.resources``). Departments and positions are found or made by members.services,
one lookup per distinct value per file (``cache``), not per row.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from import_export import widgets

from common.exceptions import CellError
from common.spreadsheets.cells import (
    cell_text,
    normalize_text,
    parse_date_cell,
    parse_yes_no,
    unescape_formula,
)
from members import services
from members.models import PATH_SEPARATOR, Department, Position

ERROR_BAD_RANK = "职级应是不小于 1 的整数，“{value}”不是。"
ERROR_POSITION_TOO_LONG = "岗位名称不能超过 {limit} 个字。"

RANK_MAX = 32767  # PositiveSmallIntegerField


class TextWidget(widgets.CharWidget):
    """Normalised text; undoes our own export's formula escaping so that a round trip is exact."""

    def __init__(self, required: str | None = None) -> None:
        super().__init__(coerce_to_string=True, allow_blank=True)
        self.required = required  # the message for a blank cell, when one is not allowed

    def clean(self, value, row=None, **kwargs) -> str:
        text = unescape_formula(cell_text(value))
        if not text and self.required:
            raise CellError(self.required)
        return text


class LoginWidget(TextWidget):
    """登录账号: a login name; blank gives None, so that the employee's login stays as it is."""

    def clean(self, value, row=None, **kwargs) -> str | None:
        return super().clean(value, row, **kwargs) or None


class DepartmentWidget(widgets.Widget):
    """A department by its path, "生产部/一车间"; the service creates missing levels."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=True)
        self.cache: dict[str, Department] = {}  # one lookup per path, not per row

    def clean(self, value, row=None, **kwargs) -> Department:
        path = PATH_SEPARATOR.join(services.split_department_path(cell_text(value)))
        if path not in self.cache:
            try:
                self.cache[path] = services.department_get_or_create_by_path(path=path)
            except ValidationError as error:  # a level name too long, for instance
                raise CellError("；".join(error.messages)) from error
        return self.cache[path]

    def render(self, value, obj=None, **kwargs) -> str:
        return value.path if value else ""


class PositionWidget(widgets.Widget):
    """A position by name (blank: none); the service creates a new one with its default rank."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=True)
        self.cache: dict[str, Position] = {}

    def clean(self, value, row=None, **kwargs) -> Position | None:
        name = cell_text(value)
        if not name:
            return None
        limit = Position._meta.get_field("name").max_length
        if len(name) > limit:
            raise CellError(ERROR_POSITION_TOO_LONG.format(limit=limit))
        if name not in self.cache:
            self.cache[name] = services.position_get_or_create(name=name)
        return self.cache[name]

    def render(self, value, obj=None, **kwargs) -> str:
        return value.name if value else ""


class RankWidget(widgets.Widget):
    """职级: an integer from 1 ("5" and "5级" too); blank gives None (the position's default)."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)  # exported as a number

    def clean(self, value, row=None, **kwargs) -> int | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = int(value) if float(value).is_integer() else 0
        else:
            text = cell_text(value)
            if not text:
                return None
            digits = text.removesuffix("级").strip()
            number = int(digits) if re.fullmatch(r"\d{1,5}", digits) else 0
        if not 1 <= number <= RANK_MAX:
            raise CellError(ERROR_BAD_RANK.format(value=cell_text(value)))
        return number

    def render(self, value, obj=None, **kwargs) -> int | None:
        return value


class ChoiceWidget(widgets.Widget):
    """A choice by its Chinese label or its value (行管 or admin); blank gives None."""

    def __init__(self, choices: type[models.TextChoices], error: str) -> None:
        super().__init__(coerce_to_string=True)
        self.choices = choices
        self.error = error
        self.lookup: dict[str, str] = {}
        for member in choices:
            self.lookup[normalize_text(str(member.label)).casefold()] = member.value
            self.lookup[member.value.casefold()] = member.value

    def clean(self, value, row=None, **kwargs) -> str | None:
        text = cell_text(value)
        if not text:
            return None
        try:
            return self.lookup[text.casefold()]
        except KeyError:
            accepted = "、".join(f"“{label}”" for label in self.choices.labels)
            raise CellError(self.error.format(value=text, accepted=accepted)) from None

    def render(self, value, obj=None, **kwargs) -> str:
        return str(self.choices(value).label) if value else ""


class YesNoWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs) -> bool | None:
        return parse_yes_no(value)

    def render(self, value, obj=None, **kwargs) -> str:
        return "是" if value else "否"


class DateCellWidget(widgets.Widget):
    """A real Excel date or text like 2024-03-01, 2024/3/1, 2024年3月1日; exported as a date."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value, row=None, **kwargs):
        return parse_date_cell(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value
