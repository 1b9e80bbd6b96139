"""The serving tables: what the API and dashboard may read, and the rule they all obey.

Every serving table has a `day` column (the UTC day its row describes or ends on), and no
column that identifies one viewer (P3): no pseudonym, no user id, no login of a viewer.
"""

from __future__ import annotations

import re

SERVING_TABLES = (
    "stream_sessions",
    "stream_session_games",
    "channel_day",
    "channel_day_presence",
    "community_timeseries",
    "community_timeseries_by_game",
    "community_chatters",
    "community_chatters_by_game",
    "audience_overlap",
    "communities",
    "viewer_habits",
    "exposure",
    "bot_share",
    "chat_list_grounds",
    "chat_list_readers",
    "channel_followers",
    "channel_followers_hourly",
    "pipeline_health",
    "game_day",
    "game_channel_day",
    "ranking_chatters",
    "rankings",
)

# Column names that would carry a viewer's identity or pseudonym.
_VIEWER_COLUMN = re.compile(
    r"^(viewer|viewer_id|pseudonym|pseudonyms?_.*|user|user_id|user_login|user_name|"
    r"login|display_name|key_id|chatter|chatter_id|account|account_id)$"
)


def is_viewer_column(name: str) -> bool:
    """True for a column name that would identify one viewer."""
    return bool(_VIEWER_COLUMN.match(name.lower()))
