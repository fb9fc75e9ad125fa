"""SQLite with the real bound-parameter limit instead of Django 5.2's fixed 999.

Django 5.2 assumes SQLite's old compile-time default of 999 parameters per
query, so bulk_create/bulk_update of a 500-member roster split into many small
queries and the query count of a reconciliation grew with the roster. SQLite
builds since 3.32 allow 32,766 (this machine's: 250,000); Django 6.0 reads the
limit from the connection the same way (ticket #36143). Everything else is the
stock backend.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int:
        self.connection.ensure_connection()
        return self.connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
