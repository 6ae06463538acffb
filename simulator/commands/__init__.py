"""API command handlers, one module per resource family; importing the package registers them all (a new
module is added to this list)."""
from . import (  # noqa: F401
    accounts, addresses, affinitygroups, asyncjobs, firewall, infrastructure, keypairs, networks, projects,
    securitygroups, snapshots, tags, templates, virtualmachines, volumes,
)
