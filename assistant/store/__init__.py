"""The user's store: directories, documents, model versions, settings."""
