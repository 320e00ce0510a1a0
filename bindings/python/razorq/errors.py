# SPDX-License-Identifier: Apache-2.0
"""Exceptions raised for failing razorq calls: one class per rq_status code.

Each also derives from the closest built-in exception, so `except ValueError`
or `except OSError` catch what a Python programmer would expect."""
import enum


class Status(enum.IntEnum):
    """rq_status values (ABI: fixed, never renumbered)."""
    OK = 0
    ERR_INVALID_ARG = -1
    ERR_NOMEM = -2
    ERR_IO = -3
    ERR_FORMAT = -4
    ERR_UNSUPPORTED = -5
    ERR_NONFINITE = -6
    ERR_NOT_FOUND = -7
    ERR_EXISTS = -8
    ERR_STATE = -9
    ERR_ABI = -10
    ERR_CHECKSUM = -11
    ERR_ISA = -12
    ERR_INTERNAL = -90
    ERR_CALLBACK = -99


class RazorqError(Exception):
    """A razorq call failed. `status` is the rq_status code and `detail` the
    message from rq_last_error() (also the exception's text)."""

    status = None

    def __init__(self, detail, status=None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status

    @property
    def status_name(self):
        try:
            return "RQ_" + Status(self.status).name
        except ValueError:
            return "RQ_ERR_UNKNOWN"


class InvalidArgumentError(RazorqError, ValueError):
    status = Status.ERR_INVALID_ARG


class OutOfMemoryError(RazorqError, MemoryError):
    status = Status.ERR_NOMEM


class RazorqIOError(RazorqError, OSError):
    status = Status.ERR_IO


class FormatError(RazorqError, ValueError):
    status = Status.ERR_FORMAT


class UnsupportedError(RazorqError, NotImplementedError):
    status = Status.ERR_UNSUPPORTED


class NonFiniteError(RazorqError, ValueError):
    status = Status.ERR_NONFINITE


class NotFoundError(RazorqError, LookupError):
    status = Status.ERR_NOT_FOUND


class ExistsError(RazorqError, ValueError):
    status = Status.ERR_EXISTS


class StateError(RazorqError, RuntimeError):
    status = Status.ERR_STATE


class AbiError(RazorqError, RuntimeError):
    status = Status.ERR_ABI


class ChecksumError(RazorqError, ValueError):
    status = Status.ERR_CHECKSUM


class IsaError(RazorqError, RuntimeError):
    status = Status.ERR_ISA


class InternalError(RazorqError, RuntimeError):
    status = Status.ERR_INTERNAL


class CallbackError(RazorqError, RuntimeError):
    status = Status.ERR_CALLBACK


ERROR_CLASSES = {cls.status: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, RazorqIOError, FormatError, UnsupportedError, NonFiniteError,
    NotFoundError, ExistsError, StateError, AbiError, ChecksumError, IsaError, InternalError, CallbackError)}


def error_for(status, detail):
    """The exception for a failing status; RazorqError for a code this
    version of the bindings does not know (a newer library)."""
    cls = ERROR_CLASSES.get(status)
    if cls is None:
        return RazorqError(detail, status)
    return cls(detail)
