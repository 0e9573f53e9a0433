"""One way to turn a refused action (ValidationError, PermissionDenied, bad value) into words."""


def validation_messages(exc: Exception) -> list[str]:
    """Each message of a ValidationError (field errors included), or the PermissionDenied text."""
    messages = getattr(exc, "messages", None)
    return list(messages) if messages else [str(exc)]


def validation_message(exc: Exception) -> str:
    """All of them as one sentence run (for a flash message or a JSON `detail`)."""
    return " ".join(validation_messages(exc))
