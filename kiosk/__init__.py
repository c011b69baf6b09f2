"""hallq kiosk package."""
