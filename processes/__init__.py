"""Process definitions shipped with picycle."""
