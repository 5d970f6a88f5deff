#!/usr/bin/env python3
"""The independent SCIM 2.0 peers of tests/integration/scim.rs (D158), both from python-scim on PyPI:

* ``client``: scim2-client (with scim2-models) as a facility's HR system: discover the server, create a User,
  find it by filter, replace it, PATCH it, de-provision it, and print what it saw as JSON;
* ``conformance``: scim2-tester's RFC 7643/7644 checks against the server, printed as JSON (one object per check:
  status, title, resource type, reason).

Both get their token from hcpki's /token (client_credentials, scope scim) with the client's secret (HTTP Basic),
as an HR system would.
"""

import argparse
import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import PatchOp, PatchOperation, SearchRequest


def token(args):
    """A SCIM token from the token endpoint."""
    r = httpx2.post(
        args.issuer + "/token",
        data={"grant_type": "client_credentials", "scope": "scim"},
        auth=(args.client_id, args.secret),
        verify=args.ca,
    )
    if r.status_code != 200:
        sys.exit(f"token endpoint: {r.status_code} {r.text}")
    return r.json()["access_token"]


def scim_client(args):
    http = httpx2.Client(
        base_url=args.issuer + "/scim/v2",
        headers={"Authorization": "Bearer " + token(args)},
        verify=args.ca,
    )
    client = SyncSCIMClient(http)
    client.discover()
    return client


def run_client(args):
    client = scim_client(args)
    seen = {"resource_types": sorted(rt.id for rt in client.provider.resource_types)}
    User_ = client.get_resource_model("User")
    user = User_(
        user_name=args.user_name,
        display_name="Peer Created",
        external_id="HR-PEER-1",
    )
    # The staff extension the server's /ResourceTypes requires: the person's hcRole (the facility is the client's).
    staff = next(iter(User_.get_extension_models().values()))
    user[staff] = staff(hc_role="nurse")
    created = client.create(user)
    seen["created"] = {
        "id": created.id,
        "version": created.meta.version,
        "active": created.active,
        "hc_role": created[staff].hc_role,
    }
    found = client.query(User_, query_parameters=SearchRequest(filter=f'userName eq "{args.user_name}"'))
    seen["found"] = [r.user_name for r in (found.resources or [])]
    everyone = client.query(User_)
    seen["listed"] = sorted(r.user_name for r in (everyone.resources or []))
    created.display_name = "Peer Replaced"
    replaced = client.replace(created)
    seen["replaced"] = {"display_name": replaced.display_name, "version": replaced.meta.version}
    patch = PatchOp[User_](
        operations=[PatchOperation(op=PatchOperation.Op.replace_, path="active", value=False)]
    )
    patched = client.modify(User_, created.id, patch)
    fetched = client.query(User_, created.id)
    seen["deprovisioned"] = {"patch_answer": patched is not None, "active": fetched.active}
    print(json.dumps(seen))


def run_conformance(args):
    from scim2_tester import check_server

    client = scim_client(args)
    results = check_server(client, resource_types=["User"])
    out = [
        {
            "status": r.status.name,
            "title": r.title,
            "resource_type": r.resource_type,
            "reason": r.reason,
            "tags": sorted(r.tags),
        }
        for r in results
    ]
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["client", "conformance"])
    p.add_argument("--issuer", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--user-name", default="peer.user")
    args = p.parse_args()
    {"client": run_client, "conformance": run_conformance}[args.mode](args)


if __name__ == "__main__":
    main()
