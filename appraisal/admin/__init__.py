"""The appraisal in the admin (§7.1, §7.2, §9.8, §9.12): periods, grades, results, lines, pay.

HR adds a period by its code, computes it (appraisal.compute_period) and locks it
(appraisal.lock_period); each action calls one service per period and reports its
refusals. Whoever holds appraisal.export_period downloads a period's workbook
(appraisal.exports); whoever holds appraisal.import_settlement imports finance's
sheet (appraisal.resources, appraisal.services.settlements). Results, lines and
settlements are records made by services: no one adds, changes or deletes them
here. Who sees which result or line is appraisal.selectors' call (the model
permission: all; a department head: their department's; anyone: their own).
"""

from appraisal.admin import periods, results, settlements  # noqa: F401 — registers the ModelAdmins
