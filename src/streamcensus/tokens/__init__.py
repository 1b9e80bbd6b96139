"""User tokens that live for months: stored under `state/tokens/`, refreshed, validated.

Below `collect` and the CLI: `store` keeps one 0600 file per user token, `live` keeps a
token usable (refresh before expiry and after a 401, hourly validation, a breaker when it
can no longer be used), `login` runs the device code flow, `simulated` obtains tokens
from the simulator the honest way, and `cli` is the `streamcensus auth` command group.
"""
