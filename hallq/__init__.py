"""hallq: queue calling and self-service kiosks for government service halls."""

__version__ = "0.1.0"
