"""The network of halls (DESIGN.md §14): the city's hub and each hall's uplink to it.

Hub side: `registry` (the register of halls, `hub_halls` in `tables`), `ingest` (a batch stored
exactly once, gaps refused), `folder` (the shipped events into the statistics roll-ups), `stats` and
`levels` (the city's numbers by hall, area, level), `staff` (logins), `hub` (the running hub),
`hub_auth` / `hub_api` / `hub_stats_api` (HTTP), `hub_app` (`create_hub_app`), `cli` (`hallq hub`).
Hall side: `uplink` (ships the hall's committed events from its outbox) and `redact` (what never
leaves the hall).
The catalogue (统一事项): `catalogue` (published at the hub), `catalogue_cache` (a hall's copy, read at
start). Cases across halls (转报): `transfers` (the hub's store and forward), `forwarding` (a hall's
side: forward, take in, news back), `forwarder` (the hall's thread), `forward_api` (the hub's routes),
`forward_tables` (their tables).
"""
