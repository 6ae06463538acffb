"""The BOSH release of the CPI (`inception release build`): job `cloudstack_cpi`, package `cloudstack_cpi` of
vendored wheels, compiled offline by `bosh create-env` or a director with nothing but python3.

Build-time only (imports pyyaml); the CPI at run time never imports this package, and its wheel leaves it out.
"""
from cpi.release.builder import BuiltRelease, build_release
from cpi.release.errors import ReleaseBuildError

__all__ = ["BuiltRelease", "ReleaseBuildError", "build_release"]
