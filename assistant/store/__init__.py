"""The user's store: where the files are (paths), documents, model versions and their ``active`` pointer,
settings, privacy controls and the learn filter, the personal memory's file, journals and backup archives."""
