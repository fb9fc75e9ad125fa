"""Finance's settlement sheet (§7.1): what payroll deducted.

In three modules: ``cells`` (amounts, 扣分合计, 考核期间), ``plan`` (every row checked, what it
would change; writes nothing) and ``apply`` (the audit row and the settlements written).

Finance takes the 汇总 sheet of a locked period, adds 扣款金额 (yuan, to the fen) and 备注 to
each row and sends it back. ``settlement_import()`` reads it, checks every row against the
period's results, and records one Settlement per employee — or, on any error, nothing.

What it guarantees:

- Every error is reported, each naming the spreadsheet row and the column
  ("第5行「扣分合计」与系统不符：文件 3.00，系统 4.50"); a period that is not locked gives one
  message and nothing else is read. The command and the admin (appraisal.resources) build
  their messages here, so they say the same.
- The 扣分合计 of each row must equal the system's: a sheet of another period, or of the period
  before a recomputation, is refused rather than paid out.
- All or nothing, in one transaction; a dry run reports exactly what would change (new,
  updated with the old and new amount, unchanged) and writes nothing.
- The same file twice changes nothing the second time: unchanged settlements are not saved
  (no history row). Every committed import is still kept as a SettlementImport with its file,
  its importer and its counts — the audit trail of what finance sent, even when it repeats.
- A fixed number of queries whatever the file's size: the period's results and settlements are
  read into dicts up front, and the writes are bulk ones that keep simple_history's rows
  (bulk_create/bulk_update alone skip history: docs/performance.md, "Finance import").
"""

from appraisal.services.settlements.apply import (
    CHANGE_REASON,
    ERROR_NOT_ALLOWED,
    PERMISSION,
    settlement_apply,
    settlement_check_permission,
    settlement_import,
)
from appraisal.services.settlements.cells import (
    MSG_NEGATIVE,
    MSG_NOT_A_NUMBER,
    MSG_REQUIRED,
    MSG_TOO_LARGE,
    MSG_TOO_MANY_DECIMALS,
    parse_amount,
)
from appraisal.services.settlements.plan import (
    ERROR_NOT_LOCKED,
    HEADER,
    LOCATED_ERROR,
    MSG_DEDUCTED_MISMATCH,
    MSG_DUPLICATE,
    MSG_NO_RESULT,
    MSG_NOTE_TOO_LONG,
    MSG_PERIOD_BLANK,
    MSG_UNKNOWN_EMPLOYEE,
    MSG_WRONG_PERIOD,
    NEW,
    UNCHANGED,
    UPDATED,
    PlannedRow,
    SettlementChange,
    SettlementPlan,
    SettlementReport,
    settlement_plan,
)

__all__ = [
    "CHANGE_REASON",
    "ERROR_NOT_ALLOWED",
    "ERROR_NOT_LOCKED",
    "HEADER",
    "LOCATED_ERROR",
    "MSG_DEDUCTED_MISMATCH",
    "MSG_DUPLICATE",
    "MSG_NEGATIVE",
    "MSG_NOTE_TOO_LONG",
    "MSG_NOT_A_NUMBER",
    "MSG_NO_RESULT",
    "MSG_PERIOD_BLANK",
    "MSG_REQUIRED",
    "MSG_TOO_LARGE",
    "MSG_TOO_MANY_DECIMALS",
    "MSG_UNKNOWN_EMPLOYEE",
    "MSG_WRONG_PERIOD",
    "NEW",
    "PERMISSION",
    "UNCHANGED",
    "UPDATED",
    "PlannedRow",
    "SettlementChange",
    "SettlementPlan",
    "SettlementReport",
    "parse_amount",
    "settlement_apply",
    "settlement_check_permission",
    "settlement_import",
    "settlement_plan",
]
