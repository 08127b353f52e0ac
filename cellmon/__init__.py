"""Cell Monitor: the wire contract, settings and the command line (no Ray needed to import)."""
