"""Metrics and health of the long-running processes: `/metrics`, `/healthz`, `/readyz`.

Each process keeps its own `CollectorRegistry` (`registry.py`), so nothing is global and
two collectors in one test never share a counter. The collector (`collector.py`) derives
its series from each snapshot's manifest record, the daily load service (`loader.py`) from
each load's report, and the dashboard (`dashboard.py`) times its routes by template. The
collector and the load service have no web server of their own: `probes.py` serves the
three routes for them on a small port of their own. No series and no label is ever derived
from a viewer: labels are statuses, endpoints, route templates, error kinds and the user
ids of the operator's and consenting broadcasters' tokens (channel accounts).
"""
