"""Actors: pure progress state, the classroom/student virtual actors, shards and the directory."""
