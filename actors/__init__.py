"""Actors: the pure domain, its adapters, and the Ray runtime that hosts them (see README)."""
