"""`ServingError`: a failed request, with TF Serving's status code and message."""


class ServingError(Exception):
    """A failed request: a TF Serving status code name and its message."""

    HTTP_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "FAILED_PRECONDITION": 400, "RESOURCE_EXHAUSTED": 413}

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def http_status(self):
        return self.HTTP_STATUS.get(self.code, 500)
