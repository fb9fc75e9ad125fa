"""python manage.py ensure_admin — the local admin account for `make run`.

Creates the superuser once. The password comes from DJANGO_SUPERUSER_PASSWORD,
or is generated and printed this one time. Running it again changes nothing
(unless DJANGO_SUPERUSER_PASSWORD is set, which then becomes the password).
"""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "创建本地管理员账号（已存在则不变）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--username", default=os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        )

    def handle(self, *args, username: str, **options) -> None:
        user_model = get_user_model()
        given = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        user = user_model.objects.filter(username=username).first()
        if user is not None:
            if given:
                user.set_password(given)
                user.save(update_fields=["password"])
                self.stdout.write(
                    f"管理员 {username} 已存在，密码已设为 DJANGO_SUPERUSER_PASSWORD。"
                )
            else:
                self.stdout.write(f"管理员 {username} 已存在，密码未改变。")
            return
        password = given or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email="", password=password)
        shown = "（来自 DJANGO_SUPERUSER_PASSWORD）" if given else password
        self.stdout.write(
            self.style.SUCCESS(
                f"已创建管理员  用户名: {username}  密码: {shown}\n"
                "请记下密码，它只显示这一次。登录 http://127.0.0.1:8000/admin/"
            )
        )
