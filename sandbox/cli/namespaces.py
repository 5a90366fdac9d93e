"""`paysandbox namespaces list | create [NAME] | delete NAME`: the namespaces of a running sandbox."""

from __future__ import annotations

import argparse

from sandbox.cli.common import call, control_options, namespace, plural, segment
from sandbox.config import Config


def register(commands: argparse._SubParsersAction) -> None:
    namespaces = commands.add_parser("namespaces", help="the namespaces of a running sandbox (isolated shares of it)")
    actions = namespaces.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every namespace: the default one first, then by name")
    create = actions.add_parser("create", help="a new, empty namespace (its name is generated when none is given)")
    create.add_argument("name", nargs="?", type=namespace)
    delete = actions.add_parser("delete", help="drop a namespace with everything in it; its merchant ids are free")
    delete.add_argument("name", type=namespace)
    for action in (listing, create, delete):
        control_options(action, namespaced=False)
    listing.set_defaults(handler=_list)
    create.set_defaults(handler=_create)
    delete.set_defaults(handler=_delete)


def _list(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("GET", "/namespaces"), _render_list)


def _create(args: argparse.Namespace, config: Config) -> int:
    body = {"name": args.name} if args.name else {}
    return call(args, lambda c: c.call("POST", "/namespaces", body), lambda answer: answer["namespace"])


def _delete(args: argparse.Namespace, config: Config) -> int:
    path = f"/namespaces/{segment(args.name)}"
    return call(args, lambda c: c.call("DELETE", path), lambda answer: f"deleted {', '.join(answer['deleted'])}")


def _render_list(answer: dict) -> str:
    names = answer["namespaces"]
    return "\n".join([plural(len(names), "namespace"), *names])
