"""factory_boy factories for every model the tests need."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from groups.models import ChatGroup, ContentKind, EligibilityRule
from members.models import Department, Employee, Position
from violations.models import Rule


class UserFactory(factory.django.DjangoModelFactory):
    """A staff login; ``roles=[HR]`` puts it in those roles (seeded for every test:
    tests/conftest.py)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")
    is_staff = True

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        from django.contrib.auth.models import Group

        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


def login(username: str, role: str | None = None, **kwargs):
    """A staff login named ``username``, in ``role`` if one is given (``is_staff=False`` for an
    employee's own login)."""
    return UserFactory(username=username, roles=[role] if role else [], **kwargs)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"岗位{n}")
    rank = 1


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employee_no = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    department = factory.SubFactory(DepartmentFactory)
    rank = 1
    category = Employee.Category.PRODUCTION

    class Params:
        left = factory.Trait(status=Employee.Status.LEFT, left_on=factory.Faker("past_date"))


class ChatGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatGroup

    code = factory.Sequence(lambda n: f"group{n}")
    name = factory.Sequence(lambda n: f"测试群{n}")


class ContentKindFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentKind

    code = factory.Sequence(lambda n: f"kind{n}")
    name = factory.Sequence(lambda n: f"内容{n}")


class EligibilityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityRule

    group = factory.SubFactory(ChatGroupFactory)
    kind = EligibilityRule.Kind.EVERYONE


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    code = factory.Sequence(lambda n: f"99.{n}")
    title_zh = factory.Sequence(lambda n: f"测试条款{n}")


class StaffUserFactory(UserFactory):
    """A staff user with the given permissions: StaffUserFactory(permissions=["members.import_employee"])."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def permissions(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        from django.contrib.auth.models import Permission

        for spec in extracted or []:
            app_label, codename = spec.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def xlsx_bytes(rows: list[list], *, sheet_title: str = "Sheet1") -> bytes:
    """An xlsx file (as Excel would save it) whose first sheet holds ``rows``."""
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """A CSV file in ``encoding`` ("utf-8-sig" for Excel's "CSV UTF-8", "gbk" for plain CSV)."""
    import csv
    import io

    output = io.StringIO(newline="")
    writer = csv.writer(output, delimiter=delimiter)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return output.getvalue().encode(encoding)


def _now():
    from django.utils import timezone

    return timezone.now()


class CaseFactory(factory.django.DjangoModelFactory):
    """A proposed case, made directly (no transition row): for lists and permissions.
    Tests of the workflow file cases through violations.services.case_file."""

    class Meta:
        model = "violations.Case"

    rule = factory.SubFactory(RuleFactory)
    employee = factory.SubFactory(EmployeeFactory)
    group = factory.SubFactory(ChatGroupFactory)
    occurred_at = factory.LazyFunction(_now)
    description = factory.Sequence(lambda n: f"经过{n}")


# Leading bytes that evidence_inspect accepts, padded to look like a file.
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


# -- announcements (§4): drafts are made through the service, so each has its version 1 and
# its first timeline row like a real one.


def announcement_draft(
    *,
    author,
    group_codes: tuple[str, ...] = ("work",),
    category_code: str = "notices",
    classification: str = "internal",
    title: str = "关于年终盘点的通知",
    body: str = "各部门于 12 月 28 日前完成盘点。",
    requires_acknowledgement: bool = False,
):
    """A draft by ``author`` for the seeded groups ``group_codes``, of the seeded content kind
    ``category_code`` (groups.policy_data.CONTENT_KINDS)."""
    from announcements.services import announcement_create

    return announcement_create(
        title=title,
        body=body,
        category=ContentKind.objects.get(code=category_code),
        groups=list(ChatGroup.objects.filter(code__in=group_codes)),
        classification=classification,
        requires_acknowledgement=requires_acknowledgement,
        actor=author,
    )


class DelegationFactory(factory.django.DjangoModelFactory):
    """An approver's delegation, made directly (dates as given)."""

    class Meta:
        model = "announcements.Delegation"

    approver = factory.SubFactory(UserFactory)
    delegate = factory.SubFactory(UserFactory)
    starts_on = factory.LazyFunction(lambda: _now().date())
    ends_on = factory.LazyFunction(lambda: _now().date())


# -- screening (docs/screening.md): rules are data HR edits; messages come from an import.


class ScreeningRuleFactory(factory.django.DjangoModelFactory):
    """A keyword rule tied to a fresh catalog rule: ScreeningRuleFactory(words=["赌博"])."""

    class Meta:
        model = "screening.ScreeningRule"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试筛查规则{n}")
    kind = "keywords"
    rule = factory.SubFactory(RuleFactory)

    @factory.post_generation
    def words(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        from screening.models import Keyword

        for word in extracted or []:
            Keyword.objects.create(screening_rule=self, word=word)


class ChatImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "screening.ChatImport"

    group = factory.SubFactory(ChatGroupFactory)
    source_format = "template"
    original_name = "聊天记录.xlsx"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "screening.Message"

    chat_import = factory.SubFactory(ChatImportFactory)
    group = factory.SelfAttribute("chat_import.group")
    identity = factory.Sequence(lambda n: f"id:test-{n}")
    sent_at = factory.LazyFunction(_now)
    sender_name = factory.Sequence(lambda n: f"发言人{n}")
    kind = "text"
    content = "收到"
