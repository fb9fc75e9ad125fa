"""Who is acting: a person's login, or the system itself — never "nobody".

Every service that writes takes ``actor: Actor`` as a required keyword. A person's
permissions are checked; ``SystemActor`` is the system acting on its own account (a
scheduled task, a management command run by the operator, the demo, the seed), which
passes every permission check *on purpose* and is recorded as no person (NULL in the
audit rows' actor columns, shown as "系统"). Because the argument is required and
``None`` is refused, no caller can skip a check by forgetting it (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

ERROR_NO_ACTOR = (
    "actor is required: pass the request's user, or a SystemActor for a task or command"
)


@dataclass(frozen=True)
class SystemActor:
    """The system acting on its own; ``reason`` names the door ("task:groups.reconcile_all",
    "command:import_roster", "demo") for the logs."""

    reason: str

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = False

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return True

    def get_username(self) -> str:
        return f"system:{self.reason}"

    def __str__(self) -> str:
        return "系统"


Actor: TypeAlias = Union["AbstractBaseUser", "AnonymousUser", SystemActor]


def is_system(actor: Actor) -> bool:
    return isinstance(actor, SystemActor)


def actor_may(actor: Actor, perm: str, obj: object = None) -> bool:
    """Whether ``actor`` holds ``perm``: the system always, a person by their permissions."""
    if actor is None:
        raise TypeError(ERROR_NO_ACTOR)
    return actor.has_perm(perm, obj) if obj is not None else actor.has_perm(perm)


def actor_user(actor: Actor):
    """The login to store in an audit row's actor column: None for the system."""
    if actor is None:
        raise TypeError(ERROR_NO_ACTOR)
    if isinstance(actor, SystemActor) or not getattr(actor, "is_authenticated", False):
        return None
    return actor
