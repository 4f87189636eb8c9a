"""The council's own pages: home, accessibility statement, privacy notice, cookies, contact."""

from portal.site.views import bp

__all__ = ["bp"]
