"""The Matrix chat bot (``assistant matrix --config FILE``): the chat commands over ``matrix-nio``.

- :mod:`assistant.matrix.config`: the settings (a 0600 TOML file and/or ``ASSISTANT_MATRIX_*`` variables).
- :mod:`assistant.matrix.bot`: the bot (sync loop, replies, direct messages, backoff).
"""
