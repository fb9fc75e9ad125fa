"""The one-time set-password link HR sends a new employee (members.services.employee_logins_invite).

Django's default password-reset token is void once the password or the last login changes,
but not when the login is made staff or superuser, nor when it is deactivated: a link kept
by the HR user who made it would then open a staff account (docs/permissions.md). This
token also covers is_staff, is_superuser and is_active, so any of these changing voids it,
and its own salt keeps it apart from Django's password-reset links.
"""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmployeeInviteTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "members.tokens.EmployeeInviteTokenGenerator"

    def _make_hash_value(self, user, timestamp) -> str:
        base = super()._make_hash_value(user, timestamp)
        return f"{base}|{int(user.is_staff)}{int(user.is_superuser)}{int(user.is_active)}"


invite_token_generator = EmployeeInviteTokenGenerator()
