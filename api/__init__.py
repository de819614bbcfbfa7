"""The HTTP API and command line of Mentoring Journeys (`flask --app api ...`)."""

from api.app import create_app

__all__ = ["create_app"]
