"""Attribution: tiers with evidence, multi-partner credit, explain.

``reference`` decides one deal at a time in plain Python (clear, used by ``explain`` and as the
oracle); ``engine`` decides every deal at once as relational expressions (Ibis on DuckDB by
default). Both produce :mod:`cosell.results` rows and must agree to the cent.
"""
