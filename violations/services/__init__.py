"""Writes for violations, split by concept; import from here."""

from violations.services.cases import (
    CaseError,
    case_appeal,
    case_confirm,
    case_decide_appeal,
    case_dismiss,
    case_file,
    case_propose,
    repeat_offence,
)
from violations.services.catalog import RULE_CATALOG, seed_rule_catalog
from violations.services.evidence import EvidenceError, evidence_add, evidence_inspect

__all__ = [
    "RULE_CATALOG",
    "CaseError",
    "EvidenceError",
    "case_appeal",
    "case_confirm",
    "case_decide_appeal",
    "case_dismiss",
    "case_file",
    "case_propose",
    "evidence_add",
    "evidence_inspect",
    "repeat_offence",
    "seed_rule_catalog",
]
