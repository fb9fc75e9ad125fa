"""The page behind the set-password link HR sends (members.services.employee_logins_invite)."""

from __future__ import annotations

from django.contrib.auth.views import PasswordResetConfirmView

from members.services import login_may_get_invite_link
from members.tokens import invite_token_generator


class InvitePasswordSetView(PasswordResetConfirmView):
    """Django's set-password page for HR's links, routed at /accounts/reset/… before Django's own.

    The link's token is members.tokens' (void once the login is made staff, superuser or
    inactive), and the login is checked again on every request: a staff or superuser login,
    one that already has a password, or one that belongs to no employee is refused with a
    Chinese message and no form, whatever the token says (docs/permissions.md).
    """

    token_generator = invite_token_generator
    template_name = "registration/password_reset_confirm.html"
    refused = False

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is not None and not login_may_get_invite_link(user):
            # A password already set reads as a used link; anything else is refused as such.
            self.refused = not user.has_usable_password()
            return None  # the parent then shows no form (validlink False)
        return user

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["refused"] = self.refused
        return context
