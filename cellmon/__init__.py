"""Cell Monitor's bottom layer: the wire contract, validation, the legacy camelCase mapping,
settings, limits, view models and the pure class simulator. No I/O and no Ray."""
