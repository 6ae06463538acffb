"""Typed errors of the CloudStack API client.

Every error carries the CloudStack command and, when the server answered, its ``errorcode``
(= HTTP status), ``cserrorcode`` and ``errortext``. Messages never include the request URL,
body, API key or signature: they are built from the command name and the server's text only.
"""

from __future__ import annotations

import re

# errorcode CloudStack uses for invalid parameters, including ids of entities that do not
# exist (ApiErrorCode.PARAM_ERROR).
PARAM_ERROR = 431
# Catch-all code of ApiServer for unexpected exceptions (ApiErrorCode.INTERNAL_ERROR).
INTERNAL_ERROR = 530
# Highest ApiErrorCode (NETWORK_RULE_CONFLICT_ERROR); 531..537 are deliberate refusals.
LAST_API_ERROR = 537
API_LIMIT_EXCEEDED = 429

# Texts of CloudStack's "not found" answers, e.g.
#   "Unable to execute API command deletevolume due to invalid value. Invalid parameter id
#    value=... due to incorrect long value format, or entity does not exist or due to
#    incorrect parameter annotation for the field in api cmd class." (ParamProcessWorker)
#   "Unable to find virtual machine with id 42", "Unable to find volume with ID: 7",
#   "Unable to find resource by id 9 and type UserVm" (services, InvalidParameterValueException)
#   "Object vm_instance(uuid: ...) does not exist." (older dispatcher)
_NOT_FOUND_TEXT = re.compile(
    r"unable to find|entity does not exist|does not exist|not found|could not find|couldn't find",
    re.IGNORECASE,
)


class CloudStackError(Exception):
    """An error reported by (or while talking to) the CloudStack API."""

    def __init__(
        self,
        message: str,
        *,
        command: str | None = None,
        errorcode: int | None = None,
        cserrorcode: int | None = None,
        errortext: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.command = command
        self.errorcode = errorcode
        self.cserrorcode = cserrorcode
        self.errortext = errortext

    @property
    def is_not_found(self) -> bool:
        """True when CloudStack says an entity the command referenced does not exist."""
        return self.errorcode == PARAM_ERROR and bool(self.errortext and _NOT_FOUND_TEXT.search(self.errortext))

    @property
    def is_throttled(self) -> bool:
        return self.errorcode == API_LIMIT_EXCEEDED

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(command={self.command!r}, errorcode={self.errorcode!r}, "
            f"cserrorcode={self.cserrorcode!r}, errortext={self.errortext!r})"
        )


class CloudStackConfigError(CloudStackError):
    """The client configuration is missing or invalid (names the setting and how to fix it).
    `missing` lists the settings (endpoint, api_key, secret_key) that no source provided."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.missing = missing


class CloudStackConnectionError(CloudStackError):
    """The API endpoint could not be reached (after the retries allowed for the command)."""


class OutcomeUnknownError(CloudStackError):
    """A mutating command may or may not have been executed.

    Raised instead of blindly repeating the command when the connection dropped after the
    request was sent, the read timed out, or the server answered with a 5xx that is not a
    definite CloudStack refusal. Callers converge by looking the resource up (see
    ``CloudStackClient.create_or_find``).
    """


class JobError(CloudStackError):
    """Base of async job errors; ``jobid`` names the job."""

    def __init__(self, message: str, *, jobid: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.jobid = jobid


class JobFailedError(JobError):
    """The async job finished with a failure (errorcode/errortext from its jobresult)."""


class JobTimeoutError(JobError):
    """The async job did not finish within the operation's timeout."""

    def __init__(self, message: str, *, operation: str, timeout: float, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.operation = operation
        self.timeout = timeout
