"""People and bots per snapshot, from the presence pass's kept snapshots.

`int_presence_people` (a chat's people per snapshot: her presence counted only in the
chats she counts in, `bounded_sessions`), `int_presence_shared` (a person present in more
than one of those chats at a snapshot, so a game's series counts her once) and
`int_bot_presence` (the bots `int_bots` flags, per snapshot) are defined by their SQL,
which joins a day's presence (26 M rows at `fr`) to those tables. Those inputs exist only
once the runner has built them, after the pass; the pass keeps each snapshot's sorted
(channel, viewer) keys, and the runner asks `PresencePeople` for these models' rows when
it reaches them (`RunContext.deferred`): a few array lookups per snapshot instead of a
join over the day's presence. `tests/transform/test_presence_people.py` checks the rows
against the SQL's.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamcensus.transform.engines import Queries
from streamcensus.transform.presence import EMPTY, I64, LOW, Bool, DayPresence

PEOPLE = "int_presence_people"
SHARED = "int_presence_shared"
BOTS = "int_bot_presence"
MODELS = (PEOPLE, SHARED, BOTS)


def _int64(column: pa.ChunkedArray) -> I64:
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _counted(day: DayPresence, viewers: I64, chats: I64) -> Bool:
    """Per viewer code, whether she is counted in every chat she was in (`viewers`: the
    pseudonyms counted, sorted, with the number of `chats` each counts in)."""
    codes = day.viewer_codes(viewers)
    total = day.chats_per_viewer()
    everywhere = np.zeros(len(total), dtype=np.bool_)
    known = codes >= 0
    everywhere[codes[known]] = chats[known] == total[codes[known]]
    return everywhere


def _day_people(
    day: DayPresence, viewers: I64, chats: I64, pairs: tuple[I64, pa.Array]
) -> tuple[pa.Table, pa.Table]:
    """`int_presence_people` and `int_presence_shared` rows of one day and signal.

    `viewers` (sorted) are the pseudonyms counted, each in `chats` chats; `pairs` the
    (pseudonym, channel) pairs counted of every person counted in contribution_bound
    chats (the only people the bound can leave out of a chat): a row counts if its viewer
    counts in all the chats she was in, or if its (channel, viewer) is one of those pairs.
    """
    everywhere = _counted(day, viewers, chats)
    pair_codes = day.viewer_codes(pairs[0])
    pair_chats = day.channel_codes(pairs[1])
    found = (pair_codes >= 0) & (pair_chats >= 0)
    partial = np.zeros(len(everywhere), dtype=np.bool_)
    partial[pair_codes[found]] = True
    partial &= ~everywhere
    counted = np.zeros(len(everywhere), dtype=np.bool_)
    codes = day.viewer_codes(viewers)
    counted[codes[codes >= 0]] = True
    if bool((counted & ~everywhere & ~partial).any()):
        raise ValueError(
            "bounded_sessions leaves a person out of some chats before contribution_bound"
        )
    kept_pairs = np.sort((pair_chats[found] << 32) | pair_codes[found])
    people: list[tuple[int, I64, I64]] = []
    shared: list[tuple[int, I64, I64]] = []
    for slot, keys, multi in day.snapshots:
        chat = keys >> 32
        code = keys & LOW
        kept = everywhere[code]
        some = partial[code]
        if some.any():
            candidates = keys[some]
            at = np.minimum(np.searchsorted(kept_pairs, candidates), len(kept_pairs) - 1)
            kept[some] = kept_pairs[at] == candidates
        counts = np.bincount(chat[kept])
        present = np.flatnonzero(counts)
        people.append((slot, present, counts[present]))
        several = kept & multi
        if several.any():
            codes, repeats = np.unique(np.sort(code[several]), return_counts=True)
            again = several.copy()
            again[several] = np.isin(code[several], codes[repeats > 1])
            shared.append((slot, chat[again], code[again]))
    return _rows(day, people, "people"), _rows(day, shared, "viewer", day.viewers())


def _rows(
    day: DayPresence, rows: list[tuple[int, I64, I64]], value: str, pseudonyms: I64 | None = None
) -> pa.Table:
    """A table of (slot, channel code, value) rows; `value` a viewer code if `pseudonyms`."""
    slots = np.concatenate([np.full(len(r[1]), r[0], dtype=np.int64) for r in rows] or [EMPTY])
    chats = np.concatenate([r[1] for r in rows] or [EMPTY])
    values = np.concatenate([r[2] for r in rows] or [EMPTY])
    if pseudonyms is not None:
        values = pseudonyms[values]
    return pa.table(
        {
            "day": pa.repeat(pa.scalar(day.day, pa.date32()), len(slots)),
            "signal": pa.repeat(pa.scalar(day.signal, pa.string()), len(slots)),
            "slot": pa.array(slots, pa.int64()),
            "channel_id": day.channel_names().take(pa.array(chats, pa.int64())),
            value: pa.array(values, pa.int64()),
        }
    )


def _day_bots(day: DayPresence, bots: I64) -> pa.Table:
    """`int_bot_presence` rows of one day and signal: distinct bots per snapshot."""
    flagged = np.zeros(len(day.viewers()), dtype=np.bool_)
    codes = day.viewer_codes(bots)
    flagged[codes[codes >= 0]] = True
    slots: list[int] = []
    counts: list[int] = []
    for slot, keys, _ in day.snapshots:
        code = keys & LOW
        present = code[flagged[code]]
        if len(present):
            slots.append(slot)
            counts.append(len(np.unique(present)))
    return pa.table(
        {
            "day": pa.repeat(pa.scalar(day.day, pa.date32()), len(slots)),
            "signal": pa.repeat(pa.scalar(day.signal, pa.string()), len(slots)),
            "slot": pa.array(slots, pa.int64()),
            "bots": pa.array(counts, pa.int64()),
        }
    )


class PresencePeople:
    """The rows of `MODELS` for the days and signals of the presence pass, computed when
    first asked for (after `bounded_sessions` and `int_bots` are built)."""

    def __init__(self, days: list[DayPresence]) -> None:
        self.days = days
        self._people: dict[str, pa.Table] | None = None

    def _part(self, table: pa.Table, day: DayPresence) -> pa.Table:
        """The rows of `table` of one day (and signal, if it has one)."""
        mask = pc.equal(table.column("day"), pa.scalar(day.day, pa.date32()))
        if "signal" in table.column_names:
            mask = pc.and_(mask, pc.equal(table.column("signal"), day.signal))
        return table.filter(mask)

    def people(self, queries: Queries) -> dict[str, pa.Table]:
        if self._people is None:
            # per person, the chats she counts in (her chats' contribution ranks are 1 to n);
            # sorted, for the binary search of the pass's pseudonyms
            counted = queries.arrow(
                "select day, signal, viewer, max(contribution_rank) as chats "
                "from bounded_sessions where day in (select day from run_days) "
                "group by day, signal, viewer order by day, signal, viewer"
            )
            # the chats counted of the people the bound may have left out of some chats:
            # those counted in contribution_bound chats
            pairs = queries.arrow(
                "with capped as (select distinct day, signal, viewer from bounded_sessions "
                "where day in (select day from run_days) "
                "and contribution_rank >= (select max(contribution_bound) from run_params)) "
                "select distinct counted.day, counted.signal, counted.viewer, "
                "counted.channel_id from bounded_sessions as counted inner join capped "
                "on counted.day = capped.day and counted.signal = capped.signal "
                "and counted.viewer = capped.viewer"
            )
            people: list[pa.Table] = []
            shared: list[pa.Table] = []
            for day in self.days:
                part = self._part(counted, day)
                listed = self._part(pairs, day)
                rows = _day_people(
                    day,
                    _int64(part.column("viewer")),
                    _int64(part.column("chats")),
                    (_int64(listed.column("viewer")), listed.column("channel_id").combine_chunks()),
                )
                people.append(rows[0])
                shared.append(rows[1])
            self._people = {PEOPLE: pa.concat_tables(people), SHARED: pa.concat_tables(shared)}
        return self._people

    def bots(self, queries: Queries) -> pa.Table:
        flagged = queries.arrow(
            "select distinct day, viewer from int_bots "
            "where is_bot and day in (select day from run_days)"
        )
        return pa.concat_tables(
            [_day_bots(day, _int64(self._part(flagged, day).column("viewer"))) for day in self.days]
        )

    def rows(self, name: str, queries: Queries) -> pa.Table:
        """The rows of one of `MODELS`."""
        if name == BOTS:
            return self.bots(queries)
        return self.people(queries)[name]
