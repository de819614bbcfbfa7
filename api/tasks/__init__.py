from api.tasks.resources import blp

__all__ = ["blp"]
