"""Tokens from the built-in simulator, obtained the honest way.

A streamcensus simulator answers `GET /_sim/info`; that is how a collector knows it is
not talking to Twitch. Against it, the collector gets its user tokens exactly as an
operator does against Twitch: it runs the device code flow for the operator account and
for every broadcaster the simulator says consents (`/_sim/truth/permissions`), and the
simulated people approve their user codes through `POST /_sim/auth/device`, as a person
would on the activation page. Tokens are then stored, refreshed and validated like any
other. The flows run side by side, and every person answers before the first poll, so a
large simulated community is provisioned without the clock moving.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from streamcensus.clock import Clock, ClockState
from streamcensus.errors import UserError
from streamcensus.tokens.live import record_from_grant
from streamcensus.tokens.login import SCOPES
from streamcensus.tokens.store import Role, TokenRecord, TokenStore
from streamcensus.twitch import DeviceCode, HelixClient, UserGrant, mock_auth_base

log = logging.getLogger("streamcensus.tokens")

PROBE_TIMEOUT = 3.0
PROVISION_CONCURRENCY = 16


@dataclass(frozen=True)
class SimulatorInfo:
    """What a streamcensus simulator says about itself at `/_sim/info`."""

    base_url: str
    operator_id: str
    operator_login: str
    scale: str

    async def clock_state(self, http: httpx.AsyncClient) -> ClockState:
        response = await http.get(f"{self.base_url}/_sim/clock", timeout=PROBE_TIMEOUT)
        response.raise_for_status()
        body = response.json()
        return ClockState(epoch=float(body["epoch"]), speed=float(body["speed"]))

    async def permissions(self, http: httpx.AsyncClient) -> dict[str, Any]:
        """The simulator's ground truth of who may read which chat list."""
        response = await http.get(f"{self.base_url}/_sim/truth/permissions", timeout=60.0)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def answer(
        self, http: httpx.AsyncClient, user_code: str, user_id: str, *, approve: bool = True
    ) -> None:
        """The simulated person `user_id` approves (or declines) a user code."""
        body = {"user_code": user_code, "user_id": user_id}
        body["action"] = "approve" if approve else "deny"
        response = await http.post(f"{self.base_url}/_sim/auth/device", json=body, timeout=30.0)
        if response.status_code != 200:
            raise UserError(
                f"the simulator refused the approval of {user_id}: "
                f"{response.json().get('message', response.status_code)}"
            )


def is_local(url: str) -> bool:
    host = httpx.URL(url).host
    return host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127.")


async def probe_simulator(http: httpx.AsyncClient, auth_url: str) -> SimulatorInfo | None:
    """The simulator behind `auth_url`, or None for any other server (e.g. real Twitch)."""
    if not is_local(auth_url):
        return None
    base = mock_auth_base(auth_url)
    try:
        response = await http.get(f"{base}/_sim/info", timeout=PROBE_TIMEOUT)
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        operator = body["operator"]
        return SimulatorInfo(
            base_url=base,
            operator_id=str(operator["id"]),
            operator_login=str(operator["login"]),
            scale=str(body.get("scale", "")),
        )
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


async def provision(
    client: HelixClient,
    http: httpx.AsyncClient,
    simulator: SimulatorInfo,
    store: TokenStore,
    clock: Clock,
) -> list[TokenRecord]:
    """Device-flow tokens for the operator and every consenting broadcaster, stored."""
    truth = await simulator.permissions(http)
    people: list[tuple[str, Role]] = [(simulator.operator_id, "operator")]
    people += [(str(c["id"]), "broadcaster") for c in truth.get("consenting", [])]
    gate = asyncio.Semaphore(PROVISION_CONCURRENCY)

    async def start(user_id: str, role: Role) -> DeviceCode:
        async with gate:
            device = await client.oauth.start_device_flow(SCOPES[role])
            await simulator.answer(http, device.user_code, user_id)
            return device

    devices = await asyncio.gather(*(start(u, r) for u, r in people))
    # every person has answered before the first poll, so the first poll of each code gets
    # its token (the first poll is never too soon); no wait on the clock, which a virtual
    # clock could not give while the service's other loops are not running yet

    async def exchange(device: DeviceCode, role: Role) -> TokenRecord:
        async with gate:
            answer = await client.oauth.poll_device_flow(device, SCOPES[role])
            grant = (
                answer
                if isinstance(answer, UserGrant)
                else await client.oauth.wait_for_device_grant(device, SCOPES[role])
            )
            info = await client.oauth.validate(grant.access_token)
            record = record_from_grant(
                grant, info, role=role, auth_url=client.config.auth_url, now=clock.now()
            )
            store.put(record)
            return record

    records = await asyncio.gather(
        *(exchange(d, role) for d, (_, role) in zip(devices, people, strict=True))
    )
    log.info(
        "simulator: %d tokens by the device code flow (operator and %d consenting broadcasters)",
        len(records),
        len(records) - 1,
    )
    return list(records)


def forget_other_simulators(store: TokenStore, auth_url: str) -> int:
    """Delete stored tokens of other local simulators: a simulator forgets its tokens when
    it stops, so they can never be valid again. Returns how many were deleted."""
    gone = 0
    for record in store.records():
        if record.auth_url != auth_url and is_local(record.auth_url):
            gone += store.delete(record.user_id)
    return gone
