"""Everything `inception` does over SSH on the inception VM: pinned host keys, commands with live output,
SFTP uploads, the `bosh` CLI install and the create-env / delete-env / deploy steps. See docs/remote.md."""
