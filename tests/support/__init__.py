"""Shared test support: a private PostgreSQL server and throwaway databases."""
