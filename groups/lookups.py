"""``field__any_of=values``: ``IN`` for a long list of values, bound as one array on PostgreSQL.

Django compiles ``field__in=[…]`` to ``IN (%s, %s, …)``: every value is prepared by the field
and resolved as an expression parameter one by one, and psycopg's client-side binding then
scans the statement and quotes each placeholder. A reconciliation asks about a few hundred
WeChat ids, names and employee ids per group — about 285,000 values per run over the demo
company of 20,000 (docs/performance.md). ``= ANY(%s)`` sends them as one array parameter:
the server reads the same index, the client does no work per value. On SQLite, where there
are no arrays, it is Django's ``IN`` as before.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field
from django.db.models.lookups import In

from common.db import array_type


@Field.register_lookup
class AnyOf(In):
    lookup_name = "any_of"
    # The values are compared as they are (ids, text): no per-value preparation.
    prepare_rhs = False

    def as_postgresql(self, compiler, connection):
        if not hasattr(self.rhs, "__iter__") or isinstance(self.rhs, str | bytes):
            raise TypeError("any_of takes a list of values")
        values = [value for value in self.rhs if value is not None]
        if not values:  # as In: matches nothing (and NOT of it everything)
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # array_type: a cast to varchar(n)[] would cut a longer value short and make it
        # equal to one that fits.
        return f"{lhs} = ANY(%s::{array_type(self.lhs.output_field)}[])", [*lhs_params, values]
