from api.audit.feed import blp as feed_blp
from api.audit.resources import blp

__all__ = ["blp", "feed_blp"]
