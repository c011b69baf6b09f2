"""The phone queue's messages (DESIGN.md §13): "还有N位" and the call, by SMS, from the outbox."""
