"""What a request means, once for every door (DESIGN.md §2).

HTTP routers (server/api), MQTT window commands (server/commands_mqtt) and timers (the day ticker)
call these functions; each checks who may act, turns the request into engine commands through
`Dispatcher.execute`, and returns an `Answer` whose body is a typed model of `hallq.api_models`.
Imports point down only: views, runtime, store, engine, auth.
"""
