"""Test helpers other test packages may import: a real OpenSSH sshd on loopback standing in for the inception
VM, a loopback HTTP file server for the downloads, and a `bosh` CLI test double."""
