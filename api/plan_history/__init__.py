from api.plan_history.resources import blp

__all__ = ["blp"]
