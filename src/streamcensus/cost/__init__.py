"""`streamcensus cost`: a month of running, from this installation's measured figures.

`measure.py` reads the figures from the warehouse, `prices.py` holds the price table,
`model.py` multiplies one by the other, `cli.py` is the command.
"""
