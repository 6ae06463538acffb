"""The project config file: schema.json (format), loader (validation), zone/credentials/stemcell helpers."""
from inception.config.loader import ConfigError, Problem, ProjectConfig, load_config, save_config, validate_config

__all__ = ["ConfigError", "Problem", "ProjectConfig", "load_config", "save_config", "validate_config"]
