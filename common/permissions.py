"""Object permissions through one door, safe for visitors who are not logged in."""

from __future__ import annotations

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
