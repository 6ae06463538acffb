"""The CloudStack side of an environment: one small idempotent step per resource (find by name or tag, else
create, tag with the environment's name, record in the state), run as a dependency graph."""
