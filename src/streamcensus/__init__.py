"""streamcensus: a census of a Twitch language community every five minutes."""

__version__ = "0.1.0"
