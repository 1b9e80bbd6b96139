"""Scale profiles of the simulated Twitch: how many channels, viewers and bots.

`fr` is calibrated against public figures (docs/calibration.md: about 2,000 French channels
live at the evening peak, ~140k average concurrent viewers, several hundred thousand
concurrent chatters at peak); `small` keeps the same shape at about 1/75 of the size,
for demos and tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScaleProfile:
    """The sizes and calibration constants of one scale."""

    name: str
    channels: dict[str, int]  # channels per language, fr first
    viewers: int  # viewer accounts (bots, channels and the operator come on top)
    viewer_language_share: dict[str, float]
    lurker_bots: int
    zipf_alpha: float  # popularity exponent within a language
    favourites: int  # favourite slots per viewer
    sessions_per_day: float  # mean viewing sessions per viewer account and day
    streams_per_week: float  # mean scheduled days per week of a small channel


SCALES: dict[str, ScaleProfile] = {
    "small": ScaleProfile(
        name="small",
        channels={"fr": 300, "en": 85, "es": 40, "de": 40, "it": 20, "pt": 15},
        viewers=40_000,
        viewer_language_share={
            "fr": 0.78,
            "en": 0.10,
            "es": 0.04,
            "de": 0.04,
            "it": 0.02,
            "pt": 0.02,
        },
        lurker_bots=30,
        zipf_alpha=0.6,
        favourites=8,
        sessions_per_day=1.25,
        streams_per_week=5.5,
    ),
    "fr": ScaleProfile(
        name="fr",
        channels={"fr": 8_500, "en": 1_800, "es": 700, "de": 600, "it": 250, "pt": 150},
        viewers=3_000_000,
        viewer_language_share={
            "fr": 0.78,
            "en": 0.10,
            "es": 0.04,
            "de": 0.04,
            "it": 0.02,
            "pt": 0.02,
        },
        lurker_bots=100,
        zipf_alpha=0.6,
        favourites=8,
        sessions_per_day=1.25,
        streams_per_week=5.2,
    ),
}


def profile(scale: str) -> ScaleProfile:
    """The profile of a scale name, or a ValueError naming the valid ones."""
    try:
        return SCALES[scale]
    except KeyError:
        valid = ", ".join(sorted(SCALES))
        raise ValueError(f"unknown simulator scale {scale!r} (valid: {valid})") from None
