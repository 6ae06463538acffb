"""`inception init`: the step-by-step wizard writing the project config (saved after every answer)."""
from inception.wizard.flow import run_wizard

__all__ = ["run_wizard"]
