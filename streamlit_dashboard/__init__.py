"""Instructor dashboard (Streamlit): arrives with the dashboard issue."""
