"""Synthetic chat text: short, varied, about no one. A collector must discard it anyway.

A message's words are picked by a hash, so the same message always reads the same; some
messages carry a global emote (with its `emotes` tag position) or a `!command`.
"""

from __future__ import annotations

# A few of Twitch's global emotes (name, emote id): what chat lines often consist of.
EMOTES: tuple[tuple[str, str], ...] = (
    ("Kappa", "25"),
    ("LUL", "425618"),
    ("PogChamp", "305954156"),
    ("BibleThump", "86"),
    ("NotLikeThis", "58765"),
    ("SeemsGood", "64138"),
)
_OPENERS: dict[str, tuple[str, ...]] = {
    "fr": ("salut", "wesh", "trop bien", "gg", "ah non", "incroyable", "mdr", "bonne idée"),
    "en": ("hey", "gg", "no way", "nice", "lol", "what a play", "good one", "hi chat"),
}
_MIDDLES: dict[str, tuple[str, ...]] = {
    "fr": ("ce jeu", "la partie", "le boss", "cette map", "le stream", "ce moment", "la musique"),
    "en": (
        "this game",
        "the run",
        "the boss",
        "this map",
        "the stream",
        "that moment",
        "the music",
    ),
}
_ENDS: tuple[str, ...] = ("", "!", " !!", " ?", " :)", " xD", "...", " <3")
COMMANDS: tuple[str, ...] = ("!discord", "!planning", "!setup", "!uptime", "!jeu", "!socials")
BOT_ANSWERS: dict[str, str] = {
    "!discord": "Rejoins le serveur Discord de la communauté, lien dans la description.",
    "!planning": "Le planning de la semaine est dans les panneaux sous le stream.",
    "!setup": "Le matériel est listé dans les panneaux sous le stream.",
    "!uptime": "Le stream est en ligne depuis un moment déjà.",
    "!jeu": "Le jeu en cours est affiché dans le titre.",
    "!socials": "Tous les réseaux sont dans la description.",
}
TIMERS: tuple[str, ...] = (
    "Pensez à suivre la chaîne pour être prévenus des prochains lives !",
    "Restez respectueux dans le chat, merci à tous.",
    "Le Discord est ouvert à tous : !discord",
)


def human_text(variant: int, language: str) -> tuple[str, str]:
    """(text, emotes tag) of a viewer's message, from its variant hash."""
    lang = language if language in _OPENERS else "en"
    opener = _OPENERS[lang][variant % 8]
    middle = _MIDDLES[lang][(variant >> 3) % 7]
    end = _ENDS[(variant >> 6) % len(_ENDS)]
    shape = (variant >> 9) % 10
    if shape < 3:
        return f"{opener}{end}", ""
    if shape < 8:
        return f"{opener} {middle}{end}", ""
    name, emote_id = EMOTES[(variant >> 13) % len(EMOTES)]
    text = f"{opener} {name}"
    start = len(opener) + 1
    return text, f"{emote_id}:{start}-{start + len(name) - 1}"


def command_text(variant: int) -> str:
    """A viewer's `!command`."""
    return COMMANDS[variant % len(COMMANDS)]


def bot_text(variant: int, timer: bool) -> str:
    """What a service bot says: a timer, or the answer to the command of `variant`."""
    if timer:
        return TIMERS[variant % len(TIMERS)]
    return BOT_ANSWERS[command_text(variant)]
