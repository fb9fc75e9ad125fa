"""The announcements' admin: the items with their work and timeline (announcements.py,
decisions.py, inlines.py), who opens what (scope.py), routes and delegations (routes.py)."""

from announcements.admin import announcements, routes

__all__ = ["announcements", "routes"]
