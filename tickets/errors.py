"""Domain errors, defined once. The API's exception handler and the page views
map them to responses (409, 400 field by field, 403)."""


class DomainError(Exception):
    """Base for refusals that are the user's to fix, never a 500."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    """The ticket is not in a state that allows this action (often: someone else acted first)."""


class ConcurrentUpdate(DomainError):
    """The ticket changed since the caller read it (optimistic version check failed)."""


class NotAllowed(DomainError):
    """The acting user may see the ticket but not do this to it."""


class InvalidInput(DomainError):
    """Input refused field by field; nothing was changed."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Some fields need attention."):
        super().__init__(message)
        self.errors = errors
