"""`streamcensus calibrate`: sample the simulated population as the public dataset was sampled.

It also prints the public figures of Twitch and of its French community beside the
simulated ones (`calibrate_public`), the community structure of the audience-overlap
graph (`calibrate_structure`) and the chat model's figures (messages per viewer, who
posts).

Rappaz, McAuley and Aberer (RecSys 2021) polled every stream's chat list every 10 minutes
for 43 days. An *interaction* is a run of consecutive polls in which one user sits in one
channel's chat; its length is the number of polls × 10 minutes. This module polls the
simulator's ground truth the same way (human accounts only: bots and broadcasters are
left out) and computes the same figures, so the model can be compared with the data.
Everything stays in memory; only aggregates are printed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import click
import numpy as np
import numpy.typing as npt

from streamcensus.simulator.calibrate_public import (
    PUBLIC,
    PollAggregates,
    PublicCalibration,
    finish,
    monthly_chatters,
    public_report_lines,
    record_viewers,
)
from streamcensus.simulator.calibrate_structure import measure_structure, structure_report_lines
from streamcensus.simulator.chat.calibration import (
    MESSAGES_PER_CHATTER_MONTH,
    MESSAGES_PER_VIEWER_MINUTE,
    WEEKLY_POSTING_SHARE,
    ChatCalibration,
    measure,
)
from streamcensus.simulator.chat.calibration import PUBLIC as CHAT_PUBLIC
from streamcensus.simulator.chat.model import ChatModel
from streamcensus.simulator.population import LANG_CODES
from streamcensus.simulator.world import PopulationWorld
from streamcensus.timeutil import day_start, parse_day

POLL_SECONDS = 600  # the dataset's 10-minute polling
STRUCTURE_DAYS = 7  # the overlap graph's window
DATASET_DAYS = 43

# Figures of the public dataset (docs/calibration.md): full dataset, and its 100k-user subset.
DATASET = {
    "interactions_per_user_43d_full": 124e6 / 15.5e6,  # 124M interactions, 15.5M users
    "interactions_per_user_43d_subset": 30.0,  # ~30 stays per active user (100k subset)
    "minutes_per_interaction": 31.0,  # ~31 min average stay seen by 10-minute polling
}


@dataclass(frozen=True)
class Calibration:
    """The simulated figures, over `days` of 10-minute polls."""

    scale: str
    seed: int
    days: float
    polls: int
    users: int
    channels: int
    interactions: int
    interactions_per_user: float
    interactions_per_user_43d: float  # scaled linearly to the dataset's 43 days
    minutes_per_interaction: float
    median_minutes_per_interaction: float
    repeat_share: float  # interactions with a channel the user had an interaction with before
    channels_per_user: float


def _poll(world: PopulationWorld, t: float, people: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """(channel index, account index) pairs of human chatters at t, packed in one int64."""
    state = world.tick_state(t)
    sizes = np.diff(state.chat_offsets)
    channel = np.repeat(np.arange(sizes.shape[0], dtype=np.int64), sizes)
    account = world.accounts.index_of(state.chat_ids)
    keep = people[account]
    return (channel[keep] << 32) | account[keep]


def calibrate(
    world: PopulationWorld,
    first_day: dt.date,
    days: float,
    aggregates: PollAggregates | None = None,
) -> Calibration:
    """Poll the ground truth every 10 minutes over `days` and compute the dataset's figures;
    `aggregates`, when given, also adds up each poll's viewer counts (`calibrate_public`)."""
    start = day_start(first_day).timestamp()
    polls = int(days * 86400 // POLL_SECONDS)
    people = np.zeros(world.operator_index + 1, dtype=np.bool_)
    people[world.n_channels : world.n_channels + world.n_viewers] = True
    pairs: list[npt.NDArray[np.int64]] = []
    when: list[npt.NDArray[np.int64]] = []
    for poll in range(polls):
        seen = _poll(world, start + poll * POLL_SECONDS, people)
        if aggregates is not None:
            aggregates.add(world, start + poll * POLL_SECONDS, POLL_SECONDS)
        pairs.append(seen)
        when.append(np.full(seen.shape[0], poll, dtype=np.int64))
    pair = np.concatenate(pairs) if pairs else np.zeros(0, np.int64)
    poll_of = np.concatenate(when) if when else np.zeros(0, np.int64)
    account = pair & 0xFFFFFFFF
    order = np.lexsort((poll_of, pair, account))
    pair, poll_of, account = pair[order], poll_of[order], account[order]
    new_pair = np.ones(pair.shape[0], dtype=np.bool_)
    new_pair[1:] = pair[1:] != pair[:-1]
    gap = np.ones(pair.shape[0], dtype=np.bool_)
    gap[1:] = poll_of[1:] != poll_of[:-1] + 1
    starts = np.flatnonzero(new_pair | gap)
    lengths = np.diff(np.append(starts, pair.shape[0])) * (POLL_SECONDS / 60)
    repeat = ~new_pair[starts]  # an interaction that is not the pair's first
    users = np.unique(account).shape[0]
    distinct_pairs = int(new_pair.sum())
    interactions = int(starts.shape[0])
    per_user = interactions / users if users else 0.0
    return Calibration(
        scale=world.scale,
        seed=world.seed,
        days=days,
        polls=polls,
        users=int(users),
        channels=int(np.unique(pair >> 32).shape[0]),
        interactions=interactions,
        interactions_per_user=round(per_user, 2),
        interactions_per_user_43d=round(per_user * DATASET_DAYS / days, 1) if days else 0.0,
        minutes_per_interaction=round(float(lengths.mean()), 1) if interactions else 0.0,
        median_minutes_per_interaction=float(np.median(lengths)) if interactions else 0.0,
        repeat_share=round(float(repeat.mean()), 3) if interactions else 0.0,
        channels_per_user=round(distinct_pairs / users, 2) if users else 0.0,
    )


def report_lines(result: Calibration) -> list[str]:
    """Simulated figures beside the dataset's."""
    return [
        f"simulated {result.scale} (seed {result.seed}), {result.days:g} days of 10-minute polls: "
        f"{result.users:,} users, {result.channels:,} channels, "
        f"{result.interactions:,} interactions",
        f"{'figure':<34}{'simulated':>12}{'dataset':>12}",
        f"{'interactions per user (43 days)':<34}{result.interactions_per_user_43d:>12}"
        f"{DATASET['interactions_per_user_43d_full']:>12.1f}  (full; 100k subset: ~30)",
        f"{'minutes per interaction (mean)':<34}{result.minutes_per_interaction:>12}"
        f"{DATASET['minutes_per_interaction']:>12.0f}",
        f"{'minutes per interaction (median)':<34}{result.median_minutes_per_interaction:>12}"
        f"{'':>12}",
        f"{'share of repeat interactions':<34}{result.repeat_share:>12}{'':>12}",
        f"{'channels per user':<34}{result.channels_per_user:>12}{'':>12}",
    ]


def public_calibrate(
    world: PopulationWorld, first_day: dt.date, days: float, aggregates: PollAggregates
) -> PublicCalibration:
    """The public figures: the polls' aggregates, a month of chat lists from `first_day`,
    the record of the year from `first_day`, broadcast lengths over the period."""
    start = day_start(first_day).timestamp()
    monthly = monthly_chatters(world, start)
    record = record_viewers(world, start)
    return finish(world, aggregates, days, int(start // 86_400), monthly, record)


def chat_calibrate(world: PopulationWorld, first_day: dt.date, days: float) -> ChatCalibration:
    """The chat model's figures over the same days (every 5-minute tick)."""
    model = ChatModel(world)
    first = int(day_start(first_day).timestamp()) // model.tick_seconds
    return measure(model, first, int(days * 86_400) // model.tick_seconds)


def chat_report_lines(result: ChatCalibration) -> list[str]:
    """Chat figures beside the public ones."""
    low, high = MESSAGES_PER_VIEWER_MINUTE
    m_low, m_high = MESSAGES_PER_CHATTER_MONTH
    return [
        f"chat: {result.messages:,} messages ({result.bot_message_share:.1%} by bots), "
        f"{result.usernotices:,} USERNOTICE, {result.clearchats:,} CLEARCHAT",
        f"{'figure':<44}{'simulated':>12}{'public':>14}",
        f"{'messages per minute per concurrent viewer':<44}"
        f"{result.messages_per_viewer_minute:>12}{f'{low:g}-{high:g}':>14}",
        f"{'chat-list people who posted in the period':<44}{result.posting_share:>12}"
        f"{WEEKLY_POSTING_SHARE:>14}  (a week)",
        f"{'... who posted in a 5-minute window':<44}{result.window_posting_share:>12}{'':>14}",
        f"{'messages per poster and channel, per month':<44}"
        f"{result.messages_per_poster_channel_month:>12}{f'{m_low:g}-{m_high:g}':>14}",
        f"{'share of messages by the top 10% of posters':<44}"
        f"{result.top_decile_message_share:>12}{'':>14}",
        f"{f'peak messages per second ({result.peak_language} chats)':<44}"
        f"{result.peak_messages_per_second:>12}{'':>14}",
    ]


@click.command("calibrate")
@click.option("--scale", type=click.Choice(["small", "fr"]), default="small", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--days", type=click.FloatRange(0.5, 43), default=7.0, show_default=True)
@click.option("--start", "start_day", default="2026-11-02", show_default=True, metavar="YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def calibrate_command(scale: str, seed: int, days: float, start_day: str, as_json: bool) -> None:
    """Compare the simulated population with the public Twitch dataset (10-minute polls) and
    public figures (hours watched, concentration, monthly chatters, rhythm, the record),
    and measure the community structure of its audience-overlap graph."""
    try:
        first = parse_day(start_day)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--start") from None
    world = PopulationWorld(scale=scale, seed=seed)
    aggregates = PollAggregates(world.n_channels, LANG_CODES.index("fr"))
    result = calibrate(world, first, days, aggregates)
    public = public_calibrate(world, first, days, aggregates)
    shape = measure_structure(world, day_start(first).timestamp(), STRUCTURE_DAYS)
    chat = chat_calibrate(world, first, days)
    if as_json:
        doc = {
            "simulated": asdict(result),
            "dataset": DATASET,
            "public": {"simulated": asdict(public), "figures": PUBLIC},
            "structure": asdict(shape),
            "chat": {"simulated": asdict(chat), "public": CHAT_PUBLIC},
        }
        click.echo(json.dumps(doc, indent=2))
        return
    lines = [*report_lines(result), "", *public_report_lines(public), ""]
    lines += [*structure_report_lines(shape), ""]
    for line in [*lines, *chat_report_lines(chat)]:
        click.echo(line)
