"""The voice caller (`hallq voice`): announces the hall's calls through a loudspeaker and/or WAV files.

Parts, each replaceable on its own:
- `text`: what is said (template, ticket letters and digits read one by one, window names);
- `voices`: which espeak-ng voice says Mandarin words in Mandarin (checked by phonemes);
- `tts`: the `Synthesizer` interface, a pyttsx3 worker process with a watchdog, an espeak-ng fallback;
- `audio`: chime, volume, repetitions, WAV files, and measuring them;
- `output`: the loudspeaker (aplay), and whether it can play at all;
- `announcer`: one queue, one worker — one announcement at a time, in order;
- `rules`: which calls are announced (duplicates, stale calls, zones, malformed payloads);
- `service`: wires them to MQTT and the dispatcher.
"""
