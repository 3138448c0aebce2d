"""Question answering over Chinese news articles: verbatim quotes with title, source and date."""

__version__ = "0.1.0"
