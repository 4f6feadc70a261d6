"""The chat bots' shared rules over the service layer: per-user chat spaces, command arguments and replies.

The Errbot plugin (``plugins/errbot``) and the Matrix bot (:mod:`assistant.matrix`) both answer through it, so a
command means the same on every chat network. No chat framework is imported here.
"""
