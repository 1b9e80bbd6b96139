"""The warehouse layer, under both `load` and `transform`: the DuckDB connection, the
tables derived from the lake's record declarations, and the lake's curated zone.

`load` writes sources into it and `transform` builds models on it; neither imports the
other's internals through here, so the layers stay acyclic.
"""
