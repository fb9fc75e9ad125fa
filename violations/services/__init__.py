"""Writes for violations, split by concept; import from here."""

from violations.services.cases import (
    CaseError,
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    repeat_offence,
)
from violations.services.catalog import RULE_CATALOG, seed_rule_catalog
from violations.services.evidence import (
    EvidenceError,
    evidence_add_all,
    evidence_check_all,
    evidence_inspect,
)
from violations.services.intake import case_file, case_propose
from violations.services.roster_cases import (
    OverdueResult,
    finding_decide_left_group,
    roster_actions_handle_overdue,
)
from violations.services.telling import case_explain, case_record_told, explanation_due

__all__ = [
    "RULE_CATALOG",
    "CaseError",
    "EvidenceError",
    "OverdueResult",
    "case_appeal",
    "case_confirm",
    "case_decide_appeal",
    "case_dismiss",
    "case_explain",
    "case_file",
    "case_propose",
    "case_record_told",
    "evidence_add_all",
    "evidence_check_all",
    "evidence_inspect",
    "explanation_due",
    "finding_decide_left_group",
    "repeat_offence",
    "roster_actions_handle_overdue",
    "seed_rule_catalog",
]
