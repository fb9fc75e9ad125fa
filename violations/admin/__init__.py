"""Admin of the violations app: the rule catalog and cases."""

from violations.admin import cases, rules  # noqa: F401 — registers the ModelAdmins
