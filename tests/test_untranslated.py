"""No English where people read: one language, done properly (issue 14, point 5).

The product offers 简体中文 only (settings.LANGUAGES), so an English word on a page is an
untranslated string, not a choice. On the demo company (as tests/test_crawl.py builds it):

- every page the superuser reaches by links (tests/test_crawl.crawl), plus, for every model
  registered in the admin, its changelist, its add page and the change page of one row, and
  every page the employee reaches from /me/: no visible text — nor a title, placeholder,
  aria-label or button value — holds an English word that is not on ALLOWED;
- every label a user can see on a model — verbose names, each field's verbose name, each
  choice — holds a Chinese character, in our apps and in the third-party ones HR opens;
- the demo company's data is Chinese, so what the check finds is a label, not a name.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from guardian.models import BaseObjectPermission

from tests.demo_company import demo_company_rolled_back
from tests.test_crawl import DEMO_EMPLOYEES, PASSWORD, SUPERUSER, client_for, crawl, fetch

# Words that stay as they are in Chinese text: product, format and protocol names and the
# abbreviations Chinese office staff write in Latin letters. Compared lower case. The demo's
# logins and the seeded groups' and content kinds' codes are data, added by the fixture.
ALLOWED = {
    *("excel", "xlsx", "xls", "csv", "json", "pdf", "png", "jpeg", "gif", "webp", "mb", "kb"),
    *("id", "ip", "url", "http", "get", "post", "accept", "sha", "utf", "gbk", "ldap"),
    "pmc",  # 生产物料控制, as factories name the department (PMC部)
    *("wechat", "wxid", "mac", "control", "command"),
    "db",  # 拼音首字母 as HR types them: the keyword help text's example (赌博 → db)
    *("cron", "crontab", "amqp", "rabbitmq", "redis", "utc", "gmt", "asia", "shanghai"),
}
# An English word: two or more Latin letters (a lone letter is a column like "A", a unit, an
# enumeration). Digits and punctuation around it do not matter.
WORD = re.compile(r"(?<![A-Za-z0-9_@./-])[A-Za-z][A-Za-z’']+(?![A-Za-z0-9_@./-])")
# Data that looks Latin but is no sentence: addresses, file and task names, identifiers.
DATA = re.compile(
    r"manage\.py \w+"  # a command, as typed
    r"|\S+@\S+|\b\w+(?:\.\w+)+\b|\b\w*_\w*\b|https?://\S+|\S*\*{3,}\S*"
)
# alt included: Django's admin writes its icons' alt text in English without a catalogue
# entry (alt="True"/"False" on yes/no cells, alt="Search" on the search box), which
# company.chinese and templates/admin/search_form.html put in Chinese.
ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
# Selects whose options are values, not labels: a time zone's name is the same everywhere.
DATA_SELECTS = {"timezone"}
BUTTON_INPUTS = {"submit", "button", "reset"}
CJK = re.compile(r"[\u4e00-\u9fff]")


class VisibleText(HTMLParser):
    """The strings a person reads on a page: text outside <script>/<style>, and the
    attributes a browser shows (title, placeholder, aria-label, a button's value)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = []
        self._hidden = 0
        self._data_select = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {name: value or "" for name, value in attrs}
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "select":
            self._data_select = a.get("name") in DATA_SELECTS
        self.strings += [a[name] for name in ATTRIBUTES if a.get(name)]
        if tag == "input" and a.get("type", "").lower() in BUTTON_INPUTS and a.get("value"):
            self.strings.append(a["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if tag == "select":
            self._data_select = False

    def handle_data(self, data):
        if not self._hidden and not self._data_select and data.strip():
            self.strings.append(data.strip())


def english_in(html: str, data: frozenset[str] = frozenset()) -> list[str]:
    """The strings of ``html`` a person reads that hold an English word neither on ALLOWED
    nor among ``data`` (lower case words the demo company's rows hold)."""
    found = []
    allowed = ALLOWED | data
    for text in VisibleText(html).strings:
        words = [w for w in WORD.findall(DATA.sub(" ", text)) if w.lower() not in allowed]
        if words:
            found.append(text[:120])
    return found


# --- the pages ------------------------------------------------------------------------------


def admin_pages() -> list[str]:
    """For every registered model: its changelist, add page and one row's change page."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:app_list", args=[info[0]]))
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        urls.append(reverse("admin:{}_{}_add".format(*info)))
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            try:
                urls.append(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
            except NoReverseMatch:
                continue
    return list(dict.fromkeys(urls))


def demo_words() -> frozenset[str]:
    """Latin words that are data on the demo company: logins, and the codes of the seeded
    groups and content kinds (stable identifiers, shown as they are)."""
    from django.contrib.auth import get_user_model

    from groups.models import ChatGroup, ContentKind

    values = [
        *get_user_model().objects.values_list("username", flat=True),
        *ChatGroup.objects.values_list("code", flat=True),
        *ContentKind.objects.values_list("code", flat=True),
    ]
    return frozenset(word.lower() for value in values for word in re.split(r"[\W_]+", value))


# Files served under the name they were uploaded with (an evidence screenshot, an
# announcement's attachment): the uploader's name, not ours.
UPLOADED_FILES = re.compile(r"^/evidence/\d+/|/attachments?/")


@dataclass
class Checked:
    english: list[str] = dataclasses.field(
        default_factory=list
    )  # 'who GET url: the English strings'
    downloads: dict[str, str] = dataclasses.field(default_factory=dict)  # url: Content-Disposition


@pytest.fixture(scope="module")
def checked(django_db_setup, django_db_blocker) -> Checked:
    """Every page checked once for the module; every download's name kept."""
    found = Checked()
    with (
        django_db_blocker.unblock(),
        demo_company_rolled_back(employees=DEMO_EMPLOYEES, password=PASSWORD),
        transaction.atomic(),
    ):
        data = demo_words()
        for persona, start in ((SUPERUSER, admin_pages()), ("employee", [])):
            client = client_for(persona)
            urls = [visit.url for visit in crawl(client, persona).visits.values()]
            for url in dict.fromkeys(urls + start):
                status, content_type, body, error = fetch(client, url)
                assert not error, f"{persona} GET {url}: {error}"
                if strings := english_in(body, data):
                    found.english.append(f"{persona} GET {url}: {' | '.join(strings)}")
                if status == 200 and "html" not in content_type and not UPLOADED_FILES.search(url):
                    disposition = client.get(url).get("Content-Disposition", "")
                    if disposition:
                        found.downloads[url] = disposition
        transaction.set_rollback(True)
    return found


@pytest.mark.django_db
def test_no_page_shows_an_english_word(checked):
    assert not checked.english, f"{len(checked.english)} page(s):\n" + "\n".join(checked.english)


@pytest.mark.django_db
def test_every_download_has_a_chinese_name(checked):
    """员工-2026-11-24.xlsx, 考核结果-2026-10.xlsx …: RFC 5987's filename*=utf-8''… carries
    the Chinese name (common/downloads.py)."""
    assert checked.downloads, "the crawl found no download"
    names = {
        url: unquote(d.partition("filename*=utf-8''")[2]) for url, d in checked.downloads.items()
    }
    assert not [
        f"{url}: {checked.downloads[url]}" for url, name in names.items() if not CJK.search(name)
    ]


def test_the_check_finds_english_and_lets_data_through():
    page = """<html><head><title>Site administration</title><script>var Add = 1</script></head>
    <body><input type="submit" value="Save"><input type="text" value="Smith">
    <a title="Show all">全部</a><p>导出 Excel（员工-2026-11-24.xlsx），admin@example.com</p>
    <p>wxid_abc123 · celery.backend_cleanup · 演示数据（manage.py demo）</p>
    <select name="timezone"><option>America/New York</option></select>
    <td class="field-code">leisure</td></body></html>"""

    assert english_in(page, frozenset({"leisure"})) == ["Site administration", "Save", "Show all"]


# --- the labels -----------------------------------------------------------------------------

# Labels without a Chinese character that are right as they are.
LABELS_ALLOWED = {"ID", "Excel", "URL", "IP", "SHA-256"}


# Values, not labels: a time zone's name is the same in every language.
DATA_CHOICES = {"django_celery_beat.CrontabSchedule.timezone"}


def shown_by_no_form(model) -> bool:
    """Rows users read only through a page of their own (the history list, guardian's
    object-permission page, both crawled above), never through their fields' names:
    simple_history's historical records and our direct-foreign-key permission rows."""
    return hasattr(model, "instance_type") or issubclass(model, BaseObjectPermission)


def models_users_see() -> list:
    """Our apps' models and every model the admin shows (third-party ones included)."""
    ours = [
        model
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR)) and ".venv" not in config.path
        for model in config.get_models()
        if not shown_by_no_form(model)
    ]
    return list(dict.fromkeys([*ours, *admin.site._registry]))


def labels_of(model) -> list[tuple[str, str]]:
    """(where, label) for the model's names, its fields' names and its choices."""
    opts = model._meta
    where = opts.label
    labels = [(where, str(opts.verbose_name)), (where, str(opts.verbose_name_plural))]
    for field in opts.get_fields():
        if field.auto_created and not field.concrete:
            continue  # a reverse relation: named on the other model
        labels.append((f"{where}.{field.name}", str(field.verbose_name)))
        if field.is_relation or not field.choices or f"{where}.{field.name}" in DATA_CHOICES:
            continue
        for value, label in field.flatchoices:
            if value not in ("", None):
                labels.append((f"{where}.{field.name}={value}", str(label)))
    return labels


def test_every_label_users_see_is_chinese():
    with translation.override("zh-hans"):
        english = [
            f"{where}: {label!r}"
            for model in models_users_see()
            for where, label in labels_of(model)
            if not CJK.search(label) and label not in LABELS_ALLOWED
        ]
    assert not english, f"{len(english)} label(s) without Chinese:\n" + "\n".join(english)


def test_the_app_names_in_the_admin_are_chinese():
    with translation.override("zh-hans"):
        names = {config.label: str(config.verbose_name) for config in apps.get_app_configs()}
    shown = {model._meta.app_label for model in admin.site._registry}
    assert not [f"{label}: {names[label]}" for label in shown if not CJK.search(names[label])]
