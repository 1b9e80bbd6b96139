"""Names of the simulated Twitch: account logins, categories, stream titles, known bots.

Logins are built from a table of *stems* (word combinations such as `darkwolf`,
`le_chat`, `kevinttv`) plus a numeric suffix that tells apart accounts sharing a stem
(`darkwolf`, `darkwolf97`, `darkwolf2004`, ...). A stem never ends with a digit and a
suffix never starts with `0`, so a login splits back into (stem, suffix) without
ambiguity: the simulator stores two small integers per account instead of a string,
renders a page of logins on demand, and answers a login lookup by parsing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_WORD_TEXT = """
dark wolf chat loup ninja pixel shadow storm fire ice blue red black white golden
silver iron steel night moon sun star nova lune soleil ciel nuage pluie neige vent
ombre lumiere dragon tiger lion fox renard ours bear eagle aigle corbeau raven
crow viper cobra shark requin panda koala kiwi mango banane peche fraise cerise
pomme tomate patate frite burger pizza taco sushi ramen cookie gateau crepe
baguette fromage cafe the milk lait choco sucre sel poivre piment king roi reine
queen prince duke baron chef boss capitaine captain major general sergent soldat
hero zero ghost fantome spectre demon angel ange saint diable devil titan giant
geant nain elfe orc troll goblin gobelin mage sorcier witch wizard knight chevalier
archer hunter chasseur sniper gamer joueur player noob pro mega ultra hyper super
turbo nitro rapide speed flash quick lent slow chill calme zen happy sad mad crazy
fou folle petit grand gros mini maxi lucky chance random hasard kevin lucas hugo
louis jules leo nathan enzo tom theo noah adam arthur paul maxime antoine thomas
nicolas julien romain alex sarah emma lea chloe manon camille ines jade lina zoe
marie julie laura clara anna eva nina lola alice sophie pauline marine oceane
axel yanis rayan mehdi karim samir nora yasmine sofia milo sacha gabin tim ben
sam max jack nico flo seb fred jo ju vince mat bastien quentin kylian dylan
jordan kevin loic cedric cyril damien bob lolo toto titi tata riri fifi loulou
paris lyon marseille nantes lille rennes brest nice bordeaux toulouse breizh corse
alpes jura rhone loire seine tempest blizzard tornado cyclone volcan lava magma
crystal cristal diamant diamond ruby rubis jade onyx opale emerald quartz cosmo
astro galaxy orbit comet comete rocket fusee robot cyborg android matrix neon
laser retro vintage arcade console manette clavier souris mouse keyboard joystick
"""

_PREFIXES = ["xx", "le", "la", "mr", "its", "the", "im", "el", "real", "not", "iam", "lil", "big"]
_SUFFIXES = ["tv", "ttv", "yt", "live", "off", "gaming", "_fr", "fr", "lol", "games", "zz", "x"]

# Pattern of a stem, and the share of accounts drawn from each pattern.
PATTERN_SHARES: tuple[float, ...] = (0.50, 0.12, 0.15, 0.15, 0.08)

LOGIN_RE = re.compile(r"^[a-z0-9_]{4,25}$")
_SPLIT_RE = re.compile(r"^(.*?)([1-9][0-9]*)?$")


def _words() -> list[str]:
    """The deduplicated vocabulary, 3 to 8 lowercase letters each."""
    seen: dict[str, None] = {}
    for word in _WORD_TEXT.split():
        if 3 <= len(word) <= 8 and word.isalpha() and word.isascii():
            seen.setdefault(word, None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class StemTable:
    """All login stems, their display forms, and where each pattern's block starts."""

    stems: list[str]
    display: list[str]
    pattern_starts: npt.NDArray[np.int64]  # len(PATTERN_SHARES) + 1 offsets
    index: dict[str, int]


def build_stems() -> StemTable:
    """Enumerate every stem once, in a fixed order (the same on every machine)."""
    words = _words()
    blocks: list[list[tuple[str, str]]] = [[], [], [], [], []]
    for a in words:
        for b in words:
            if a != b:
                blocks[0].append((a + b, a.capitalize() + b.capitalize()))
                blocks[1].append((f"{a}_{b}", f"{a.capitalize()}_{b.capitalize()}"))
        for p in _PREFIXES:
            blocks[2].append((p + a, p.capitalize() + a.capitalize()))
        for s in _SUFFIXES:
            blocks[3].append((a + s, a.capitalize() + s.upper()))
        if len(a) >= 4:
            blocks[4].append((a, a.capitalize()))
    stems: list[str] = []
    display: list[str] = []
    starts = [0]
    index: dict[str, int] = {}
    for block in blocks:
        for stem, shown in block:
            if stem not in index and 4 <= len(stem) <= 18:
                index[stem] = len(stems)
                stems.append(stem)
                display.append(shown)
        starts.append(len(stems))
    return StemTable(stems, display, np.asarray(starts, dtype=np.int64), index)


class SuffixTable:
    """The k-th account sharing a stem gets suffix k: "" first, then digits.

    Years and two-digit numbers come first (as people pick them), then larger numbers.
    The order is a fixed shuffle so suffixes look chosen, not counted.
    """

    def __init__(self, needed: int) -> None:
        rng = np.random.Generator(np.random.PCG64(20_240_601))
        years = rng.permutation(np.arange(1988, 2011))
        small = rng.permutation(np.arange(1, 100))
        chunks: list[npt.NDArray[np.int64]] = [years, small]
        taken = {int(x) for x in years} | {int(x) for x in small}
        low = 100
        total = len(taken)
        while total < needed:
            high = low * 10
            block = np.array([x for x in range(low, high) if x not in taken], dtype=np.int64)
            chunks.append(rng.permutation(block))
            total += len(block)
            low = high
        numbers = np.concatenate(chunks)
        self.text: list[str] = ["", *(str(int(x)) for x in numbers[: max(0, needed - 1)])]
        self.rank: dict[str, int] = {s: k for k, s in enumerate(self.text)}


def split_login(login: str) -> tuple[str, str]:
    """Split a login into (stem, digit suffix); the suffix may be empty."""
    match = _SPLIT_RE.match(login)
    if match is None:  # pragma: no cover - the pattern matches any string
        return login, ""
    return match.group(1), match.group(2) or ""


def display_variant(login: str, shown_stem: str, style: int) -> str:
    """A display name: the login with some capitals (Twitch lets users change case only)."""
    if style == 1:
        return login.capitalize()
    if style == 2:
        return shown_stem + login[len(shown_stem) :]
    if style == 3:
        return login.upper()
    return login


# Known public service bots (kept by name and flagged) and the share of channels using each.
SERVICE_BOTS: tuple[tuple[str, str, float], ...] = (
    ("nightbot", "Nightbot", 0.30),
    ("streamelements", "StreamElements", 0.35),
    ("wizebot", "WizeBot", 0.15),
    ("streamlabs", "Streamlabs", 0.12),
    ("moobot", "Moobot", 0.04),
    ("fossabot", "Fossabot", 0.06),
    ("sery_bot", "Sery_Bot", 0.08),
    ("soundalerts", "SoundAlerts", 0.06),
    ("pokemoncommunitygame", "PokemonCommunityGame", 0.05),
    ("kofistreambot", "KofiStreamBot", 0.03),
)


@dataclass(frozen=True, slots=True)
class Category:
    """A Twitch category (game) with its numeric id and its share of channels."""

    id: str
    name: str
    share: float


CATEGORIES: tuple[Category, ...] = (
    Category("509658", "Just Chatting", 0.22),
    Category("21779", "League of Legends", 0.10),
    Category("33214", "Fortnite", 0.07),
    Category("516575", "VALORANT", 0.06),
    Category("32982", "Grand Theft Auto V", 0.06),
    Category("27471", "Minecraft", 0.06),
    Category("32399", "Counter-Strike", 0.05),
    Category("513143", "Teamfight Tactics", 0.03),
    Category("511224", "Apex Legends", 0.03),
    Category("30921", "Rocket League", 0.03),
    Category("18122", "World of Warcraft", 0.03),
    Category("138585", "Hearthstone", 0.02),
    Category("29595", "Dota 2", 0.01),
    Category("512710", "Call of Duty: Warzone", 0.02),
    Category("491487", "Dead by Daylight", 0.02),
    Category("263490", "Rust", 0.02),
    Category("491931", "Escape from Tarkov", 0.01),
    Category("515025", "Overwatch 2", 0.02),
    Category("512953", "Elden Ring", 0.02),
    Category("510218", "Among Us", 0.01),
    Category("743", "Chess", 0.01),
    Category("26936", "Music", 0.02),
    Category("509660", "Art", 0.02),
    Category("417752", "Talk Shows & Podcasts", 0.02),
    Category("518203", "Sports", 0.01),
    Category("27284", "Retro", 0.01),
    Category("66082", "Games + Demos", 0.01),
    Category("509670", "Science & Technology", 0.01),
    Category("498566", "Slots", 0.01),
)
JUST_CHATTING = 0

# Languages: code, UTC offset of the audience (hours), stream tag.
LANGUAGES: tuple[tuple[str, int, str], ...] = (
    ("fr", 1, "Français"),
    ("en", -5, "English"),
    ("es", 1, "Español"),
    ("de", 1, "Deutsch"),
    ("it", 1, "Italiano"),
    ("pt", -3, "Português"),
)
EXTRA_TAGS: tuple[str, ...] = ("Chill", "FR", "Gaming", "Competitif", "Fun", "FPS", "RP")

_TITLES: dict[str, tuple[str, ...]] = {
    "fr": (
        "On découvre {game} !",
        "Ranked {game} jusqu'au bout | !discord",
        "Chill et discussion avec vous",
        "Soirée {game} entre potes",
        "Objectif top 500 sur {game}",
        "JOUR {n} | {game}",
        "Petit stream du soir",
        "On teste la nouvelle maj de {game}",
        "!drops actifs | {game}",
        "Tournoi communautaire {game} ce soir",
        "Session {game} tranquille",
        "Viewer games ! !join",
    ),
    "en": (
        "Grinding {game} ranked | !socials",
        "Chill stream, come hang out",
        "Day {n} of {game}",
        "First time playing {game}!",
        "Road to top 500 in {game}",
        "Late night {game} with chat",
        "!drops enabled | {game}",
        "Viewer games all night",
    ),
    "es": (
        "Jugando {game} con ustedes",
        "Directo chill | !redes",
        "Día {n} de {game}",
        "Ranked {game} hasta el amanecer",
    ),
    "de": (
        "{game} mit euch | !discord",
        "Entspannter Stream",
        "Tag {n}: {game}",
        "Ranked {game} bis zum Ende",
    ),
    "it": ("Giochiamo a {game} insieme", "Live tranquilla", "Giorno {n} di {game}"),
    "pt": ("Jogando {game} com vocês", "Live de boa | !redes", "Dia {n} de {game}"),
}


_CHAT_TITLES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Chill et discussion avec vous",
        "Réaction aux vidéos de la semaine",
        "On parle de tout et de rien",
        "Petit stream du soir | !discord",
    ),
    "en": ("Just chatting, come hang out", "Reacting to videos | !socials", "Late night talks"),
}


def title_for(language: str, variant: int, game: str, day_number: int) -> str:
    """A stream title of a language, picked by `variant`, mentioning the game."""
    templates = _TITLES.get(language, _TITLES["en"])
    if game == "Just Chatting":
        templates = _CHAT_TITLES.get(language, tuple(t for t in templates if "{game}" not in t))
    text = templates[variant % len(templates)]
    return text.format(game=game, n=day_number)


_BIO: dict[str, str] = {
    "fr": "Streamer {game} | Live presque tous les soirs | business: voir panneaux",
    "en": "{game} streamer | live most evenings | business inquiries in panels",
}


def description_for(language: str, game: str) -> str:
    """A channel description (viewers have none)."""
    return _BIO.get(language, _BIO["en"]).format(game=game)
