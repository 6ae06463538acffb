"""CloudStack's error model: HTTP status == errorcode, plus a cserrorcode naming the Java exception class."""
from __future__ import annotations

# ApiErrorCode (api/src/main/java/org/apache/cloudstack/api/ApiErrorCode.java)
UNAUTHORIZED = 401
METHOD_NOT_ALLOWED = 405
API_LIMIT_EXCEED = 429
MALFORMED_PARAMETER_ERROR = 430
PARAM_ERROR = 431
UNSUPPORTED_ACTION_ERROR = 432
INTERNAL_ERROR = 530
ACCOUNT_ERROR = 531
ACCOUNT_RESOURCE_LIMIT_ERROR = 532
INSUFFICIENT_CAPACITY_ERROR = 533
RESOURCE_UNAVAILABLE_ERROR = 534
RESOURCE_ALLOCATION_ERROR = 535
RESOURCE_IN_USE_ERROR = 536
NETWORK_RULE_CONFLICT_ERROR = 537

# CSExceptionErrorCode: the exception class that produced the error.
CS_CLOUD_RUNTIME = 4250
CS_ACCOUNT_LIMIT = 4280
CS_INSUFFICIENT_CAPACITY = 4325
CS_INVALID_PARAMETER_VALUE = 4350
CS_PERMISSION_DENIED = 4365
CS_RESOURCE_ALLOCATION = 4370
CS_RESOURCE_IN_USE = 4375
CS_SERVER_API = 9999

UNAUTHORIZED_TEXT = "unable to verify user credentials and/or request signature"


class ApiError(Exception):
    """An error the simulated management server answers with, exactly as CloudStack serialises it."""

    def __init__(self, errorcode: int, errortext: str, cserrorcode: int = CS_INVALID_PARAMETER_VALUE) -> None:
        super().__init__(errortext)
        self.errorcode = errorcode
        self.cserrorcode = cserrorcode
        self.errortext = errortext

    def body(self) -> dict:
        return {"uuidList": [], "errorcode": self.errorcode, "cserrorcode": self.cserrorcode,
                "errortext": self.errortext}


def param_error(text: str) -> ApiError:
    """InvalidParameterValueException -> 431/4350."""
    return ApiError(PARAM_ERROR, text, CS_INVALID_PARAMETER_VALUE)


def server_error(code: int, text: str) -> ApiError:
    """ServerApiException raised by the API layer itself -> cserrorcode 9999."""
    return ApiError(code, text, CS_SERVER_API)


def in_use(text: str) -> ApiError:
    return ApiError(RESOURCE_IN_USE_ERROR, text, CS_RESOURCE_IN_USE)


def internal(text: str) -> ApiError:
    return ApiError(INTERNAL_ERROR, text, CS_CLOUD_RUNTIME)


def insufficient_capacity(text: str) -> ApiError:
    return ApiError(INSUFFICIENT_CAPACITY_ERROR, text, CS_INSUFFICIENT_CAPACITY)


def allocation(text: str) -> ApiError:
    return ApiError(RESOURCE_ALLOCATION_ERROR, text, CS_RESOURCE_ALLOCATION)


def rule_conflict(text: str) -> ApiError:
    return ApiError(NETWORK_RULE_CONFLICT_ERROR, text, CS_SERVER_API)
