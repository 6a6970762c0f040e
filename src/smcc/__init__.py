"""smcc — a social media command center for the terminal."""

__version__ = "0.1.0"
