"""The server-side session core that every slice's tests sign in through."""

from __future__ import annotations

from flask_login import current_user

from tests.helpers.auth import make_user, sign_in


def test_signed_in_client_is_the_user_and_revocation_ends_it(app):
    user = make_user(app, roles=("editor",))

    @app.get("/_whoami")
    def whoami():
        return current_user.email if current_user.is_authenticated else "anonymous"

    client = app.test_client()
    assert client.get("/_whoami").get_data(as_text=True) == "anonymous"
    sign_in(client, user)
    assert client.get("/_whoami").get_data(as_text=True) == user.email
    with app.app_context():
        from portal.accounts.models import User
        from portal.accounts.sessions import revoke_sessions
        from portal.extensions import db

        revoke_sessions(db.session.get(User, user.id))
        db.session.commit()
    assert client.get("/_whoami").get_data(as_text=True) == "anonymous"
