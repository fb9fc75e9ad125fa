"""Admin of the violations app: the rule catalog, cases, and the §9.5 actions on findings."""

from violations.admin import cases, findings, rules  # noqa: F401 — registers the ModelAdmins
