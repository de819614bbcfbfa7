from api.obstacles.resources import blp

__all__ = ["blp"]
