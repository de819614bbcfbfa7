from api.journeys.resources import blp

__all__ = ["blp"]
