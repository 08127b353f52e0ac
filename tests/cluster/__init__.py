"""End-to-end tests that need a Ray cluster with settings of their own (module scope).

Collected after tests/browser and before tests/e2e, whose session cluster lives until the end:
one Ray cluster per test process at a time, each started and stopped by its own handle."""
