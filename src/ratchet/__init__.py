"""Ratchet: a CI coding agent with a memory."""

__version__ = "0.1.0"
