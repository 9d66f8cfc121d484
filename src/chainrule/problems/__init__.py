"""Problem families: draw givens (seeded), build a trace, evaluate it, make a Problem."""
