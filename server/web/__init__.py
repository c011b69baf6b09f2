"""Web pages: the citizen's ticket and case pages (opened from a QR code) and the back office."""
