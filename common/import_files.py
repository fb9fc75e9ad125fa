"""The file an admin import's preview stores until the clerk confirms (docs/security.md, 4).

django-import-export's confirm step (``process_import``) reads ``import_file_name`` from
the POST and opens that name in its temporary storage: any file of the temporary folder
was read, its first line echoed in the error page, then deleted. Here:

- ``PrivateTempStorage`` (IMPORT_EXPORT_TMP_STORAGE_CLASS, config/settings/base.py) keeps
  previews in their own folder (IMPORT_TMP_DIR) under random names and refuses any other
  name, so no path from a form ever reaches the disk;
- the confirm form carries a signed token instead of the name (``ConfirmationMixin``),
  bound to the user, the session, the model and everything the preview decided
  (format, resource, period…): a name this session's preview did not issue is a form
  error, never a read or a delete;
- ``import_files_sweep`` removes the previews nobody confirmed (command
  ``sweep_import_files``, beat entry ``import-files-sweep-nightly``).

The table a preview parsed is kept next to its file until the confirmation (``read_table_kept``):
the confirmation of a 20,000-row sheet read and parsed the same xlsx again, 0.6 s of CPU
(docs/performance.md, "Finance import"). It is named after the SHA-256 of the file's bytes,
which the server computes from the bytes it reads back — never after a name from a form — so a
different file under the same stored name finds no table, and a table is only ever that of the
bytes being imported. The confirmation still plans every row against the database as it is
then; only the parse is skipped.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast
from uuid import uuid4

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from import_export.tmp_storages import TempFolderStorage

from common.spreadsheets import reading
from common.spreadsheets.reading import Row, Table, read_table

ERROR_CONFIRM_FOREIGN = "这个确认不是您本次预览生成的，没有导入任何数据。请重新上传文件并预览。"
ERROR_CONFIRM_EXPIRED = "预览已过期，没有导入任何数据。请重新上传文件并预览。"
ERROR_CONFIRM_CHANGED = (
    "确认的内容（文件、格式或选项）与预览时不一致，没有导入任何数据。请重新上传文件并预览。"
)
ERROR_CONFIRM_GONE = (
    "预览时保存的文件已不在（已导入或已清理），没有导入任何数据。请重新上传文件并预览。"
)

# uuid4().hex: the only names PrivateTempStorage ever makes or opens.
STORED_NAME = re.compile(r"[0-9a-f]{32}")
# A preview's parsed table: "table-" + the SHA-256 of the file's bytes (+ a temporary suffix
# while it is written). A table kept by other code (table_version) is not used.
KEPT_TABLE = re.compile(r"table-[0-9a-f]{64}\.json(\.[0-9a-f]{32}\.tmp)?")
TABLE_FORMAT = 1  # of the JSON written here
logger = logging.getLogger(__name__)

CONFIRM_SALT = "common.import_files.confirm"
# A preview older than this is abandoned: its token is refused and the sweep deletes the file.
ABANDONED_AFTER = dt.timedelta(days=1)


def import_tmp_dir() -> Path:
    return Path(settings.IMPORT_TMP_DIR)


def stored_path(name: object) -> Path:
    """The path of a stored preview; SuspiciousFileOperation for any name this module
    did not make (``../../x``, ``/etc/passwd``, another folder's file)."""
    if not isinstance(name, str) or not STORED_NAME.fullmatch(name):
        raise SuspiciousFileOperation("不是导入预览保存的文件名")
    return import_tmp_dir() / name


class PrivateTempStorage(TempFolderStorage):
    """The library's temporary folder storage, confined to IMPORT_TMP_DIR: files made
    owner-only under a random name, opened and removed only by such a name.

    The library's TempFolderStorage joins any name to the system's temporary folder
    (``/tmp``), which every other program shares."""

    def save(self, data: bytes | str) -> None:
        directory = import_tmp_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.name = uuid4().hex
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        descriptor = os.open(self.get_full_path(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)

    def get_full_path(self) -> str:
        return str(stored_path(self.name))

    def _open(self, mode: str = "r"):
        # The library's _open makes a new file in /tmp when the name is empty; here an
        # empty name is refused like any other name this storage did not make.
        return open(self.get_full_path(), mode, encoding=self.encoding)


def import_file_discard(*, name: str | None) -> bool:
    """Delete a stored preview (a refused or failed import) and the table kept for it;
    False if it was not there."""
    if not name:
        return False
    try:
        path = stored_path(name)
        with open(path, "rb") as file, contextlib.suppress(OSError):
            # Left behind, the nightly sweep removes it: never fail the response for it.
            kept_table_path(file.read()).unlink(missing_ok=True)
        path.unlink()
    except (FileNotFoundError, SuspiciousFileOperation):
        return False
    return True


# -- the table a preview parsed, kept for its confirmation --------------------------------------
# What read_table_kept() does in this request: "keep" (the preview), "use" (the confirmation),
# or nothing (every other reader). Set by the admin's views (common.admin.ClerkImportMixin)
# around import-export's own, which call the format's create_dataset() with the bytes only.
_TABLE_MODE: contextvars.ContextVar[str | None] = contextvars.ContextVar("table_mode", default=None)
KEEP, USE = "keep", "use"
# How many rows the table a preview (KEEP) read has: for its confirm form to sign, so that the
# confirmation knows the file's size without reading it (members' import: a job when large).
_PREVIEW_ROWS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "preview_rows", default=None
)


@contextlib.contextmanager
def kept_tables(mode: str) -> Iterator[None]:
    """Within this block, read_table_kept() keeps (KEEP) or uses (USE) a preview's table."""
    token, rows = _TABLE_MODE.set(mode), _PREVIEW_ROWS.set(None)
    try:
        yield
    finally:
        _PREVIEW_ROWS.reset(rows)
        _TABLE_MODE.reset(token)


def previewed_rows() -> int | None:
    """The number of data rows of the table this preview read (within ``kept_tables(KEEP)``),
    None before it read one or outside a preview."""
    return _PREVIEW_ROWS.get()


@functools.cache
def table_version() -> str:
    """What a kept table was written by: the JSON's format and the reader's code
    (common/spreadsheets), so that a table kept before a deploy that changed how a file reads
    is parsed again after it — no version number to remember to raise."""
    digest = hashlib.sha256()
    for source in sorted(Path(reading.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return f"{TABLE_FORMAT}-{digest.hexdigest()[:16]}"


def kept_table_path(data: bytes) -> Path:
    return import_tmp_dir() / f"table-{hashlib.sha256(data).hexdigest()}.json"


def read_table_kept(data: bytes) -> Table:
    """read_table(data), through the table kept for these bytes when the admin asks:

    - a preview (KEEP) parses the file with every cap and check of read_table(), then keeps
      the table (only a file that parsed: a refused one keeps nothing);
    - its confirmation (USE) takes the table kept for exactly these bytes and removes it
      (one confirmation per preview), or parses the file again if there is none (swept,
      confirmed in another tab, unreadable, kept by older code) — and keeps nothing;
    - anything else parses the file.
    """
    mode = _TABLE_MODE.get()
    if mode == USE:
        table = _take_kept_table(kept_table_path(data))
        if table is not None:
            return table
    table = read_table(data)
    if mode == KEEP:
        _PREVIEW_ROWS.set(len(table.rows))
        try:
            _keep_table(kept_table_path(data), table)
        except OSError:  # a full disk, a folder made read-only: the confirmation parses again
            logger.warning("could not keep the table of an import preview", exc_info=True)
    return table


def _cell_to_json(value: object) -> object:
    # json.dumps calls this for the cells JSON has no type for: dates and date-times.
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    raise TypeError(f"a spreadsheet cell of type {type(value).__name__}")


def _cell_from_json(value: dict) -> object:
    if value.keys() == {"datetime"}:
        return dt.datetime.fromisoformat(value["datetime"])
    if value.keys() == {"date"}:
        return dt.date.fromisoformat(value["date"])
    if value.keys() >= {"version", "rows"}:  # the table itself
        return value
    raise ValueError("not a kept table")


def _keep_table(path: Path, table: Table) -> None:
    """Write the table next to the stored file: owner-only, whole or not at all (written
    under a temporary name, then renamed), never over a name the storage did not make."""
    text = json.dumps(
        {
            "version": table_version(),
            "header_row": table.header_row,
            "headers": table.headers,
            "rows": table.rows,  # Rows are tuples: [number, [cells]]
        },
        default=_cell_to_json,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid4().hex}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _take_kept_table(path: Path) -> Table | None:
    """The table kept at ``path``, removed; None when there is none or it cannot be read."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):  # none, or unreadable: the file is parsed again
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)  # used once, or unreadable
    try:
        kept = json.loads(text, object_hook=_cell_from_json)
        if kept["version"] != table_version():
            return None
        headers = [str(header) for header in kept["headers"]]
        rows = [Row(number, values) for number, values in kept["rows"]]
        # The shape read_table() gives (only this module writes here, in a folder only the
        # server may open; a table that does not have it is parsed again).
        if not all(
            type(row.number) is int and type(row.values) is list and len(row.values) == len(headers)
            for row in rows
        ):
            return None
        return Table(headers=headers, rows=rows, header_row=int(kept["header_row"]))
    except (ValueError, KeyError, TypeError):
        return None


# Where an import's file waits in private media for its background job (jobs.services).
JOB_UPLOADS_DIR = "jobs/uploads/"


def job_upload_save(content, *, suffix: str) -> str:
    """``content`` (a File, streamed) saved under a random name in private media for a
    background job (JOB_UPLOADS_DIR, which jobs.services cleans up); returns the media name.
    The name is never the user's: ``suffix`` is the caller's, checked."""
    return default_storage.save(f"{JOB_UPLOADS_DIR}{uuid4().hex}{suffix}", content)


def import_file_to_private_media(*, name: str) -> str:
    """Move a stored preview into private media (``jobs/uploads/``) for a background job,
    which may run on another host than the preview's folder; returns the media name. The
    preview's copy and its kept table are deleted (the job reads the file, then deletes it)."""
    path = stored_path(name)
    media_name = job_upload_save(ContentFile(path.read_bytes()), suffix=path.suffix or ".xlsx")
    import_file_discard(name=name)
    return media_name


def import_files_sweep(*, older_than: dt.timedelta = ABANDONED_AFTER) -> int:
    """Delete the previews stored longer ago than ``older_than`` (abandoned: nobody
    confirmed them, and their tokens have expired), and the tables kept for them; returns
    how many previews.

    Only names PrivateTempStorage and read_table_kept() make are touched, only in
    IMPORT_TMP_DIR."""
    cutoff = (timezone.now() - older_than).timestamp()
    removed = 0
    try:
        entries = list(os.scandir(import_tmp_dir()))
    except FileNotFoundError:
        return 0
    for entry in entries:
        stored = STORED_NAME.fullmatch(entry.name)
        if not (stored or KEPT_TABLE.fullmatch(entry.name)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += bool(stored)
        except FileNotFoundError:  # confirmed or swept meanwhile
            continue
    return removed


def confirmation_salt(request, opts) -> str:
    """Tokens of one model's import, one user, one session: a token from another
    session, user or import page does not verify."""
    return f"{CONFIRM_SALT}:{opts.label}:{request.user.pk}:{request.session.session_key}"


def confirmation_token(*, salt: str, initial: dict) -> str:
    """What the preview decided (stored name, format, resource, period…), signed."""
    return signing.dumps({field: str(value) for field, value in initial.items()}, salt=salt)


if TYPE_CHECKING:
    _Form = forms.Form  # what ConfirmationMixin is mixed into (confirmation_form)
else:
    _Form = object


class ConfirmationMixin(_Form):
    """For the confirm form of an import: ``import_file_name`` carries a token from
    ``confirmation_token``, never a name. The form is valid only when the token is this
    session's, recent, and every other field is what the preview signed; its cleaned
    ``import_file_name`` is then the stored name, which exists.

    Every refusal is one non-field error in Chinese (a tampered hidden field too)."""

    def __init__(self, *args, confirmation_salt: str, **kwargs):
        self.confirmation_salt = confirmation_salt
        super().__init__(*args, **kwargs)

    def clean_import_file_name(self) -> str:
        # Replaces the library's os.path.basename(): the token is checked in clean().
        return self.cleaned_data["import_file_name"]

    def clean(self):
        # Form.clean() returns cleaned_data, a dict (typed "or None" for overrides).
        cleaned = cast("dict[str, object]", super().clean())
        try:
            signed = signing.loads(
                self.data.get("import_file_name", ""),
                salt=self.confirmation_salt,
                max_age=ABANDONED_AFTER,
            )
        except signing.SignatureExpired as error:
            raise forms.ValidationError(ERROR_CONFIRM_EXPIRED) from error
        except signing.BadSignature as error:
            raise forms.ValidationError(ERROR_CONFIRM_FOREIGN) from error
        name = signed.get("import_file_name")
        changed = any(
            str(self.data.get(field, "")) != value
            for field, value in signed.items()
            if field != "import_file_name"
        )
        if changed or any(field in self.errors for field in self.fields):
            raise forms.ValidationError(ERROR_CONFIRM_CHANGED)
        try:
            exists = stored_path(name).is_file()
        except SuspiciousFileOperation:
            exists = False
        if not exists:
            raise forms.ValidationError(ERROR_CONFIRM_GONE)
        cleaned["import_file_name"] = name
        return cleaned


@functools.cache
def confirmation_form(form_class: type[forms.Form]) -> type[forms.Form]:
    """``form_class`` (the admin's confirm form) checked by ConfirmationMixin."""
    name = f"Confirmed{form_class.__name__}"
    metaclass: type = type(form_class)  # the form's own, which collects the declared fields
    return metaclass(name, (ConfirmationMixin, form_class), {"__module__": __name__})
