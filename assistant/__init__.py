"""A personal writing assistant for the terminal: a GRU language model suggests how your text goes on."""

__version__ = "0.1.0"
