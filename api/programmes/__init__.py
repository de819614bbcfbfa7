from api.programmes.resources import blp

__all__ = ["blp"]
