"""Who is acting: a person's login, or the system itself — never "nobody".

Every service that writes takes ``actor: Actor`` as a required keyword. A person's
permissions are checked; ``SystemActor`` is the system acting on its own account (a
scheduled task, a management command run by the operator, the demo, the seed), which
passes every permission check *on purpose* and is recorded as no person (NULL in the
audit rows' actor columns, shown as "系统") — except where a person must answer for the
decision: the system never confirms, dismisses or decides an appeal of a case
(violations.services.cases, §7.1). Because the argument is required and
``None`` is refused, no caller can skip a check by forgetting it (docs/architecture.md).
A visitor who is not logged in is no actor either: recording them would write them down
as the system, so they are refused like ``None`` (require_actor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the project's login (no AUTH_USER_MODEL)
    from django.db.models import Model

ERROR_NO_ACTOR = (
    "actor is required: pass the request's user, or a SystemActor for a task or command"
)
ERROR_ANONYMOUS_ACTOR = (
    "actor is not logged in: a service acts for a logged-in user or a SystemActor, never "
    "for an anonymous visitor"
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

    def has_perm(self, perm: str, obj: Model | None = None) -> bool:
        return True

    def get_username(self) -> str:
        return f"system:{self.reason}"

    def __str__(self) -> str:
        return "系统"


# A person (the request's logged-in user) or the system. Not AnonymousUser: a visitor who
# is not logged in never acts (require_actor refuses one at run time too).
Actor: TypeAlias = Union["User", SystemActor]


def is_system(actor: Actor) -> bool:
    return isinstance(actor, SystemActor)


def require_actor(actor: Actor | None) -> Actor:
    """``actor`` itself, or TypeError for no actor (None) or a visitor who is not logged in
    (AnonymousUser): a programming error of the caller, never a refusal to show a user.
    Every service that takes an actor calls it (or actor_may/actor_user, which do) before
    it can return, so forgetting the argument fails even when there is nothing to do."""
    if actor is None:
        raise TypeError(ERROR_NO_ACTOR)
    if not isinstance(actor, SystemActor) and not getattr(actor, "is_authenticated", False):
        raise TypeError(ERROR_ANONYMOUS_ACTOR)
    return actor


def actor_may(actor: Actor, perm: str, obj: Model | None = None) -> bool:
    """Whether ``actor`` holds ``perm``: the system always, a person by their permissions."""
    require_actor(actor)
    return actor.has_perm(perm, obj) if obj is not None else actor.has_perm(perm)


def actor_user(actor: Actor) -> User | None:
    """The login to store in an audit row's actor column: None for the system, the user
    for a person; TypeError for no actor or an anonymous visitor (require_actor)."""
    require_actor(actor)
    if isinstance(actor, SystemActor):
        return None
    return actor
