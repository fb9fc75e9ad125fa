"""Writes for the groups app, split by concept; import from here.

Reconciliation has one door per use (groups.services.runs): ``reconcile_start`` (a snapshot,
from the admin or a command), ``reconcile_start_all`` (the nightly schedule) and
``reconcile_now`` (the `reconcile` command and the demo). The pipeline behind them
(``reconcile.snapshot_reconcile``) and the worker's side (``runs.run_execute``) are the
package's own."""

from groups.services.reconcile import ReconcileResult
from groups.services.runs import reconcile_now, reconcile_start, reconcile_start_all
from groups.services.staffing import (
    ADMIN_PERMISSIONS,
    CREATOR_PERMISSIONS,
    MANAGED_PERMISSIONS,
    chat_group_assign_default_staff,
    chat_group_sync_all_permissions,
    chat_group_sync_permissions,
    desired_permissions,
    seed_groups,
)

__all__ = [
    "ADMIN_PERMISSIONS",
    "CREATOR_PERMISSIONS",
    "MANAGED_PERMISSIONS",
    "ReconcileResult",
    "chat_group_assign_default_staff",
    "chat_group_sync_all_permissions",
    "chat_group_sync_permissions",
    "desired_permissions",
    "reconcile_now",
    "reconcile_start",
    "reconcile_start_all",
    "seed_groups",
]
