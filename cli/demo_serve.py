"""``picycle demo --serve``: the demo's database served as pages and API, each demo user
with a password printed beside their name, so a newcomer signs in and looks around."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from .demo import PEOPLE, Say, holdings


@dataclass(frozen=True)
class DemoSignIn:
    name: str
    password: str
    holds: str  # the user's groups, each in its unit


def demo_password(name: str) -> str:
    """Known to everyone who reads the output: the demo database is thrown away each run."""
    return f"{name}-picycle-demo"


def give_passwords(engine: Engine) -> list[DemoSignIn]:
    made = []
    for name, (role, held) in PEOPLE.items():
        with engine.unit_of_work() as uow:
            users.set_password(uow, SYSTEM, name, demo_password(name))
        made.append(DemoSignIn(name, demo_password(name), holdings(role, held)))
    return made


def serve_demo(engine: Engine, host: str, port: int, say: Say) -> None:
    """Serve until interrupted. The session cookie goes over plain http: the demo is
    served to this machine, not to a network."""
    from picycle.api import create_app
    from picycle.api.serve import create_server, listen

    sign_ins = give_passwords(engine)
    app = create_app(
        {
            "PICYCLE_ENGINE": engine,
            "PICYCLE_SECRET_KEY": secrets.token_hex(32),
            "PICYCLE_SECURE_COOKIES": False,
        }
    )
    server = create_server(app, sockets=[listen(host, port)])
    say(f"\nthe demo's pages: http://{host}:{server.effective_port}/ (the API at /api/v1)")
    say("sign in as:")
    width = max(len(s.password) for s in sign_ins)
    for s in sign_ins:
        say(f"  {s.name:<8} password {s.password:<{width}}  {s.holds}")
    say("Ctrl-C stops the server")
    server.run()  # waitress ends its loop on Ctrl-C itself
    say("stopped")
