"""modelraising: raise language models on a value-infused, first-person, scaffolded corpus."""

__version__ = "0.1.0"
