from api.key_results.resources import blp

__all__ = ["blp"]
