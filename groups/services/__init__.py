"""Writes for the groups app, split by concept; import from here."""

from groups.services.reconcile import ReconcileResult, snapshot_reconcile
from groups.services.runs import (
    latest_snapshots,
    reconcile_now,
    reconcile_start,
    reconcile_start_all,
    run_reconciliation,
)
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
    "ReconcileResult",
    "latest_snapshots",
    "reconcile_now",
    "reconcile_start",
    "reconcile_start_all",
    "run_reconciliation",
    "snapshot_reconcile",
    "ADMIN_PERMISSIONS",
    "CREATOR_PERMISSIONS",
    "MANAGED_PERMISSIONS",
    "chat_group_assign_default_staff",
    "chat_group_sync_all_permissions",
    "chat_group_sync_permissions",
    "desired_permissions",
    "seed_groups",
]
