from api.meetings.resources import blp

__all__ = ["blp"]
