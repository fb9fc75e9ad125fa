"""{% dashboard_for as board %}: the logged-in user's 工作台 (dashboard.selectors), for the
admin's index page; {% bars %}, {% columns %} and {% sparkline %} draw its charts
(dashboard.charts)."""

from __future__ import annotations

from django import template

from dashboard import charts
from dashboard.selectors import Dashboard, dashboard_for

register = template.Library()


@register.simple_tag(takes_context=True, name="dashboard_for")
def dashboard_for_tag(context) -> Dashboard:
    request = context.get("request")
    return dashboard_for(getattr(request, "user", None))


register.simple_tag(charts.bars, name="bars")
register.simple_tag(charts.columns, name="columns")
register.simple_tag(charts.sparkline, name="sparkline")
