"""P3 over the whole API: every route of the OpenAPI document, with every day, window and
channel, returns aggregates only: no pseudonym, no viewer field, no count of people under k,
and no route takes a viewer as a parameter."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq

from serve.conftest import ClientFactory
from streamcensus.config import Settings
from streamcensus.transform.serving import is_viewer_column

# Payload keys holding counts of people (chatters are people in chat; value and people are
# habit buckets; population and sample_size are exposure groups).
PEOPLE_KEYS = {
    "chatters",
    "unique_chatters",
    "returning_chatters",
    "shared_chatters",
    "peak_chatters",
    "population",
    "sample_size",
    "value",
    "values",  # a signal's curve of people counts
    "people",
}
VIEWER_WORDS = re.compile(r"viewer|user|pseudonym|chatter|account|login|display", re.IGNORECASE)
CHANNEL_PARAMETERS = {"channel", "q"}  # a broadcaster, never a viewer


def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, leaf value) of a JSON document; list items keep their parent's key."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from walk(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, key)
    else:
        yield key, node


def keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for name, value in node.items():
            yield name
            yield from keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from keys(item)


async def requests_of(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """(path, query) for every route of the OpenAPI document and every value worth trying."""
    doc = (await client.get("/api/openapi.json")).json()
    days = (await client.get("/api/days")).json()["days"]
    logins = sorted(
        {
            c["channel_login"]
            for q in "abcdefghijklmnopqrstuvwxyz0123456789_"
            for c in (await client.get("/api/channels", params={"q": q, "limit": 50})).json()[
                "channels"
            ]
        }
    )
    games = sorted(
        {
            g["game"]["id"]
            for day in days
            for g in (await client.get("/api/games", params={"day": day, "window": 30})).json()[
                "games"
            ]
        }
    )
    values: dict[str, list[Any]] = {
        "day": days,
        "window": [1, 7],
        "q": ["a", "c", "e"],
        "signal": ["chat_list", "chat_activity"],
    }
    requests: list[tuple[str, dict[str, Any]]] = []
    for path, item in sorted(doc["paths"].items()):
        params = item["get"].get("parameters", [])
        for param in params:
            name = param["name"]
            assert not is_viewer_column(name), f"{path} takes a viewer: {name}"
            assert name in CHANNEL_PARAMETERS or not VIEWER_WORDS.search(name), (path, name)
        query_names = [p["name"] for p in params if p["in"] == "query" and p["name"] in values]
        path_values = logins if "{channel}" in path else games if "{game}" in path else [None]
        for login, combo in itertools.product(
            path_values, itertools.product(*(values[n] for n in query_names))
        ):
            url = path.replace("{channel}", login).replace("{game}", login) if login else path
            requests.append((url, dict(zip(query_names, combo, strict=True))))
    return requests


async def check_api(settings: Settings, client_for: ClientFactory) -> list[str]:
    """Walk the API; return every response text."""
    texts: list[str] = []
    async with client_for(settings) as client:
        requests = await requests_of(client)
        assert len({path for path, _ in requests}) >= 9
        for path, query in requests:
            response = await client.get(path, params=query)
            assert response.status_code == 200, (path, query, response.text)
            body = response.json()
            for name in keys(body):
                assert not is_viewer_column(name), (path, name)
            for name, value in walk(body):
                if name in PEOPLE_KEYS and isinstance(value, int | float):
                    assert value >= settings.k, (path, query, name, value)
            texts.append(response.text)
    return texts


async def test_no_count_of_people_under_k_on_the_hand_made_census(
    census: Settings, client_for: ClientFactory
) -> None:
    texts = await check_api(census, client_for)
    assert any('"unique_chatters":null' in t for t in texts)  # eve's chat of one is hidden
    assert any(re.search(r'"values":\[[^\]]*null', t) for t in texts)  # curves under k


async def test_no_pseudonym_reaches_a_response(
    synthetic: Settings, client_for: ClientFactory
) -> None:
    sessions = list((synthetic.lake_dir / "curated").rglob("*.parquet"))
    assert sessions
    pseudonyms = {
        str(v)
        for path in sessions
        for v in pq.read_table(path, columns=["viewer"]).column("viewer").to_pylist()
    }
    assert len(pseudonyms) > 1000
    texts = await check_api(synthetic, client_for)
    numbers = {n for t in texts for n in re.findall(r"-?\d{6,}", t)}
    assert not numbers & pseudonyms
