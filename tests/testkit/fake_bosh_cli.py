#!/usr/bin/env python3
"""A `bosh` CLI test double (stdlib only: it runs on the test "VM" with the system python3).

Every call appends one JSON line to `<this file>.log.jsonl`: argv, cwd, the BOSH_* environment, stdin and
the sha256 of every argument naming an existing file. It prints output shaped like the real CLI's, and
`create-env` writes a state file at `--state` like bosh-cli's
(cloudfoundry/bosh-cli config/deployment_state_service.go) and adds a generated value
to the `--vars-store`; `delete-env` removes the state file as bosh-cli does. A manifest containing
`fake-bosh: fail` makes create-env/deploy fail after printing some output; a file `<this file>.fail-<command>`
makes that command fail (e.g. `.fail-delete-deployment`). While a file `<this file>.hold` exists, create-env
waits after writing its state (mid-deploy, where an interrupted run leaves a real one). `env --json` answers with
a fixed director UUID; `delete-deployment` and `clean-up` print what the real CLI prints.
"""
import hashlib
import json
import os
import sys
import time
import uuid

DIRECTOR_UUID = "5d1a5b9e-7c3f-4a57-9a8e-2f0c6b4d8e11"


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def option(args, name):
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def record(args):
    files = {}
    for arg in args:
        if os.path.isfile(arg):
            with open(arg, "rb") as handle:
                files[arg] = hashlib.sha256(handle.read()).hexdigest()
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    entry = {"argv": args, "cwd": os.getcwd(), "env": {k: v for k, v in os.environ.items() if k.startswith("BOSH_")},
             "stdin": stdin, "files": files}
    with open(os.path.realpath(sys.argv[0]) + ".log.jsonl", "a") as log:
        log.write(json.dumps(entry) + "\n")


def fails(manifest):
    with open(manifest) as handle:
        return "fake-bosh: fail" in handle.read()


def create_env(args):
    manifest, state, vars_store = args[1], option(args, "--state"), option(args, "--vars-store")
    say(f"Deployment manifest: '{os.path.abspath(manifest)}'")
    say(f"Deployment state: '{os.path.abspath(state)}'")
    say("")
    say("Started validating")
    say("  Validating release 'cloudstack-cpi'... Finished (00:00:00)")
    say("  Validating cpi release... Finished (00:00:00)")
    say("  Validating deployment manifest... Finished (00:00:00)")
    say("  Validating stemcell... Finished (00:00:00)")
    say("Finished validating (00:00:00)")
    if fails(manifest):
        sys.stderr.write("Deploying:\n  Creating instance 'bosh/0':\n    Expected to find exactly one job with bin/cpi\n")
        sys.exit(1)
    if vars_store:
        text = open(vars_store).read() if os.path.exists(vars_store) else ""
        if "fake_generated_password:" not in text:
            with open(vars_store, "a") as handle:
                handle.write(f"fake_generated_password: {uuid.uuid4().hex}\n")
    previous = json.load(open(state)) if os.path.exists(state) and os.path.getsize(state) else {}
    vm = previous.get("current_vm_cid") or str(uuid.uuid4())
    disk = previous.get("current_disk_id") or str(uuid.uuid4())
    stemcell_id = previous.get("current_stemcell_id") or str(uuid.uuid4())
    state_doc = {
        "director_id": previous.get("director_id") or str(uuid.uuid4()),
        "installation_id": previous.get("installation_id") or str(uuid.uuid4()),
        "current_vm_cid": vm, "current_stemcell_id": stemcell_id, "current_disk_id": disk,
        "current_release_ids": [str(uuid.uuid4())],
        "current_manifest_sha": hashlib.sha1(open(manifest, "rb").read()).hexdigest(),
        "disks": [{"id": disk, "cid": "vol-" + disk[:8], "size": 65536, "cloud_properties": {}}],
        "stemcells": [{"id": stemcell_id, "name": "bosh-cloudstack-kvm-ubuntu-jammy-go_agent", "version": "1.0",
                       "api_version": 2, "cid": "tpl-" + stemcell_id[:8]}],
        "releases": [{"id": str(uuid.uuid4()), "name": "cloudstack-cpi", "version": "0+dev.1"}],
    }
    say("")
    say("Started installing CPI")
    say("  Compiling package 'cloudstack_cpi/0123abcd'... Finished (00:00:00)")
    say("  Installing packages... Finished (00:00:00)")
    say("  Rendering job templates... Finished (00:00:00)")
    say("  Installing job 'cloudstack_cpi'... Finished (00:00:00)")
    say("Finished installing CPI (00:00:00)")
    say("")
    say("Uploading stemcell 'bosh-cloudstack-kvm-ubuntu-jammy-go_agent/1.0'... Finished (00:00:00)")
    say("")
    say("Started deploying")
    say(f"  Creating VM for instance 'bosh/0' from stemcell '{state_doc['stemcells'][0]['cid']}'... Finished (00:00:00)")
    with open(state, "w") as handle:
        json.dump(state_doc, handle, indent=2)
    time.sleep(0.05)
    while os.path.exists(os.path.realpath(sys.argv[0]) + ".hold"):
        time.sleep(0.05)
    say(f"  Waiting for the agent on VM '{vm}' to be ready... Finished (00:00:00)")
    say(f"  Attaching disk '{state_doc['disks'][0]['cid']}' to VM '{vm}'... Finished (00:00:00)")
    say("  Updating instance 'bosh/0'... Finished (00:00:00)")
    say("  Waiting for instance 'bosh/0' to be running... Finished (00:00:00)")
    say("Finished deploying (00:00:00)")
    say("")
    say("Succeeded")


def delete_env(args):
    state = option(args, "--state")
    if not state or not os.path.exists(state):
        say("No deployment state file found.")
        return
    doc = json.load(open(state))
    say("Started deleting deployment")
    say(f"  Deleting VM '{doc.get('current_vm_cid')}'... Finished (00:00:00)")
    for disk in doc.get("disks", []):
        say(f"  Deleting disk '{disk['cid']}'... Finished (00:00:00)")
    for stemcell in doc.get("stemcells", []):
        say(f"  Deleting stemcell '{stemcell['cid']}'... Finished (00:00:00)")
    say("Finished deleting deployment (00:00:00)")
    os.remove(state)
    say("")
    say("Succeeded")


def main():
    args = sys.argv[1:]
    record(args)
    if args == ["--version"]:
        say("version 7.9.9-fake-test-double")
        say("")
        say("Succeeded")
        return
    words = [a for a in args if a not in ("-n", "--non-interactive", "--tty")]
    while words and words[0] in ("-e", "-d", "--environment", "--deployment"):
        words = words[2:]
    command = words[0] if words else ""
    if os.path.exists(os.path.realpath(sys.argv[0]) + ".fail-" + command):
        sys.stderr.write("Director responded with non-successful status code '401' response 'Unauthorized'\n")
        sys.exit(1)
    if command == "create-env":
        create_env(words)
    elif command == "delete-env":
        delete_env(words)
    elif command in ("upload-release", "upload-stemcell"):
        kind = command.split("-")[1]
        say(f"Task 1{len(args)}")
        say(f"Task 1{len(args)} | 12:00:00 | Extracting {kind}: Extracting {kind} (00:00:00)")
        say(f"Task 1{len(args)} | 12:00:00 | Update {kind}: Uploading {kind} {os.path.basename(words[1])} (00:00:00)")
        say("")
        say("Succeeded")
    elif command in ("update-cloud-config", "update-runtime-config"):
        say("Succeeded")
    elif command == "env" and "--json" in words:
        rows = [{"name": "bosh", "uuid": DIRECTOR_UUID, "version": "280.1.6 (00000000)", "cpi": "cloudstack_cpi",
                 "user": os.environ.get("BOSH_CLIENT", "")}]
        say(json.dumps({"Tables": [{"Content": "", "Header": {}, "Rows": rows, "Notes": None}], "Blocks": None,
                        "Lines": ["Using environment '%s' as client '%s'" % (os.environ.get("BOSH_ENVIRONMENT"),
                                                                           os.environ.get("BOSH_CLIENT")), "Succeeded"]}))
    elif command == "delete-deployment":
        say("Using deployment '%s'" % option(args, "-d"))
        say("Task 43 | 12:00:00 | Deleting instances: router/0 (00:00:01)")
        say("")
        say("Succeeded")
    elif command == "clean-up":
        say("Task 44 | 12:00:00 | Deleting releases: cf/175 (00:00:00)")
        say("Task 44 | 12:00:00 | Deleting stemcells: bosh-cloudstack-kvm-ubuntu-jammy-go_agent/1.0 (00:00:01)")
        say("")
        say("Succeeded")
    elif command == "deploy":
        if fails(words[1]):
            sys.stderr.write("Error: fake deploy failure\n")
            sys.exit(1)
        vars_store = option(words, "--vars-store")
        if vars_store and not os.path.exists(vars_store):
            with open(vars_store, "w") as handle:
                handle.write(f"cf_admin_password: {uuid.uuid4().hex}\n")
        say("Using deployment '%s'" % option(args, "-d"))
        say("Task 42 | 12:00:00 | Preparing deployment: Preparing deployment (00:00:00)")
        say("Task 42 | 12:00:01 | Updating instance router: router/0 (canary) (00:00:01)")
        say("")
        say("Succeeded")
    else:
        sys.stderr.write(f"fake bosh: unknown command {args!r}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
