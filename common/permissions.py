"""Object permissions through one door, safe for visitors who are not logged in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from guardian.shortcuts import get_objects_for_user


def objects_for_user(user, perms, klass: type[Model] | QuerySet, **kwargs) -> QuerySet:
    """guardian's get_objects_for_user, answering "nothing" for an anonymous visitor.

    With ANONYMOUS_USER_NAME = None guardian has no anonymous user, and asking it about
    one raises User.DoesNotExist (docs/permissions.md: the admin's login page
    builds the app list for a visitor, and every has_module_permission ends up here).
    """
    if user is None or not user.is_authenticated:
        queryset = klass if isinstance(klass, QuerySet) else klass._default_manager.all()
        return queryset.none()
    return get_objects_for_user(user, perms, klass=klass, **kwargs)


def logins_with_perm(perm: str) -> QuerySet:
    """The active logins that hold ``perm`` through their roles or themselves, superusers left
    out (an operator's login is no clerk to tell): whom a notice "for HR" goes to. One query."""
    return (
        get_user_model()
        .objects.with_perm(
            perm, include_superusers=False, backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(is_active=True)
        .order_by("pk")
    )
