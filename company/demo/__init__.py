"""The demo company of `make run` (`python manage.py demo`), built on the policy's seed data.

In the order the command runs them: ``plan`` (its departments, positions and personas) and
``build`` (the company in memory, pure) → ``write`` (upsert it) → ``rosters`` (WeChat member
lists, reconciled) → ``cases`` (the case workflow in every state, with ``case_people``) →
``appraisal`` (last month's period, computed). Each step is deterministic for a seed and
changes nothing when run again.
"""

from common.actors import SystemActor

# The demo acting on its own account (common.actors): what it does without a persona (the
# proposals, the rosters, the computed period) is recorded as the system's, like a task's.
DEMO = SystemActor("demo")
