"""Evaluation: bits per character, next-word accuracy and keystroke savings."""
