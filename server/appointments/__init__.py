"""预约: slots, bookings from the phone and the kiosk, check-in into the queue (DESIGN.md §13)."""
