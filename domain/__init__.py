"""The write side: mentoring programmes and journeys as event-sourced aggregates."""
