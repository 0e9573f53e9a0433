class ImportFailed(Exception):
    """An import that cannot go on; the message is shown to the analyst as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
