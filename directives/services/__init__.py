"""Writes for directives (§7.2) and questions (§9.9), split by concept; import from here."""

from directives.services.directives import (
    DirectiveError,
    assignment_accept,
    assignment_acknowledge,
    assignment_done,
    assignment_reopen,
    directive_create,
)
from directives.services.follow_up import FollowUpResult, directives_follow_up
from directives.services.questions import (
    QuestionError,
    question_confirm,
    question_raise,
    question_reopen,
    question_reply,
)

__all__ = [
    "DirectiveError",
    "FollowUpResult",
    "QuestionError",
    "assignment_accept",
    "assignment_acknowledge",
    "assignment_done",
    "assignment_reopen",
    "directive_create",
    "directives_follow_up",
    "question_confirm",
    "question_raise",
    "question_reopen",
    "question_reply",
]
