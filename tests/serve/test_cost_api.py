"""`/api/cost`: a month of running over the loaded census, aggregates only, 4xx on bad input."""

from __future__ import annotations

from pathlib import Path

from serve.census import FRIDAY, THURSDAY
from serve.conftest import ClientFactory
from streamcensus.config import Settings
from streamcensus.cost.cli import cost_estimate


async def test_cost_is_the_cli_estimate_and_in_the_openapi_document(
    census: Settings, client_for: ClientFactory
) -> None:
    async with client_for(census) as client:
        response = await client.get("/api/cost?days=2&month=3")
        spec = (await client.get("/api/openapi.json")).json()
    assert response.status_code == 200, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    expected = cost_estimate(census, days=2, month=3).model_dump(mode="json")
    # the warehouse file and its measures are the same; only the dict order may differ
    assert body == expected
    assert body["measured"]["first_day"] == THURSDAY.isoformat()
    assert body["measured"]["last_day"] == FRIDAY.isoformat()
    assert body["writeup"]["total_usd_month"] == 4.79
    assert "/api/cost" in spec["paths"]
    # aggregates only: no viewer, no channel in the payload
    assert "viewer" not in response.text
    assert "channel_login" not in response.text


async def test_cost_errors_are_4xx_with_a_message(
    census: Settings, empty: Settings, client_for: ClientFactory, tmp_path: Path
) -> None:
    async with client_for(empty) as client:
        nothing = await client.get("/api/cost")
    assert nothing.status_code == 404
    assert "nothing measured yet" in nothing.json()["detail"]
    async with client_for(census) as client:
        for bad in ("days=0", "days=x", "month=121"):
            response = await client.get(f"/api/cost?{bad}")
            assert 400 <= response.status_code < 500, bad
    broken = tmp_path / "prices.toml"
    broken.write_text("[storage]\ngib_month = 'free'\n")
    async with client_for(census.model_copy(update={"cost_prices": broken})) as client:
        response = await client.get("/api/cost")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("the price table cannot be used: price table")
