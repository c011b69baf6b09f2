"""hallq server package."""
