"""`streamcensus bench`: the benchmarks behind BENCHMARKS.md.

Suites: `simulator` (requests/s, latency, memory of the simulated Twitch in a child
process), `collector` (an `fr` snapshot against the rate-limit floor, CPU, memory, and a
general-purpose Twitch library on the same snapshot), `storage` (bytes per presence
observation against the write-up's gzip CSV, and the compression study).
"""
