from api.reviews.resources import blp

__all__ = ["blp"]
