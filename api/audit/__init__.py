from api.audit.resources import blp

__all__ = ["blp"]
