"""The team dashboard: server-rendered pages on the same FastAPI app as the API.

``accounts`` holds users, roles, sessions and the audit log; ``security`` the FastAPI
dependencies that check them on every route; ``routes`` the pages.
"""

from streamwise.web.pages.accounts import PERMISSIONS, ROLES, Account, allowed

__all__ = ["PERMISSIONS", "ROLES", "Account", "allowed"]
