"""The city profile's GDPR API (``/gdpr-api/v1/profiles/<uuid>``): query, delete, dry run.

Tokens are real RS256 JWTs from a tiny local issuer (its discovery document and JWKS
served over HTTP, as helusers fetches them); the erasure runs for real on a workspace
whose derived stores hold the person beside someone else, as a nightly run leaves them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from flows import audit
from flows.privacy import REGISTER, find_traces
from portal import consent, contact, exports
from portal.identity import mask
from portal.models import ConsentRecord, Person, User

pytestmark = pytest.mark.django_db
CODES = ("010106A9423", "020207A901M")
QUERY, DELETE = "ennakko.gdprquery", "ennakko.gdprdelete"
PHONE = "040 123 4567"
# Where a nightly run leaves a person's rows (scores, features, reviews, a list version).
STORES = (
    "scores/2025-12-01.parquet",
    "features/2025-12-01.parquet",
    "reviews/decisions.parquet",
    "lists/.versions/20251201T0300-a1/2025-12-01_keskusta.parquet",
)


@dataclass(frozen=True)
class Erasable:
    person: Person
    other: Person
    workspace: Path
    data_dir: Path

    def store_files(self) -> list[Path]:
        parts = (exports.PART, exports.CONTACTS_PART, exports.REQUESTS)
        return [self.workspace / s for s in STORES] + [self.data_dir / p for p in parts]

    def digests(self) -> dict[str, str]:
        """Every store file, the audit log and the register, by content."""
        files = [*self.store_files(), audit.log_path(self.workspace)]
        files.append(self.workspace.joinpath(*REGISTER))
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


def make_person(n: int) -> Person:
    user = User.objects.create(uuid=uuid.uuid4(), username=f"gdpr{n}")
    return Person.objects.create(
        user=user,
        encrypted_identity_code=CODES[n],
        identity_code=CODES[n],
        birth_year=2006,
        postal_code="00100",
        language="fi",
        team="keskusta",
    )


def decisions(ids: list[str]) -> pl.DataFrame:
    """Counsellors' decisions about both, in the reviews store's own schema."""
    from outreach.decisions import STORE_SCHEMA

    day = date(2025, 12, 2)
    rows = [
        {"list_id": "2025-12-01/keskusta", "person_id": pid, "decision": "contacted",
         "decided_at": day, "team": "keskusta", "rank": rank, "imported_at": day}
        for rank, pid in enumerate(ids, start=1)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=STORE_SCHEMA)


@pytest.fixture(autouse=True)
def keep_environment() -> Iterator[None]:
    """The erasure's run context sets Prefect's and MLflow's variables (for this test's
    workspace): put the process environment back afterwards."""
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


@pytest.fixture
def erasable(settings, portal_workspace: Path, tmp_path: Path) -> Erasable:
    """Two persons with consents exported to the data folder, and derived stores holding
    both (the person to erase and someone who must stay)."""
    settings.PORTAL_DATA_DIR = tmp_path / "city"
    settings.PORTAL_ERASURE_LOCK_WAIT = 0.3
    person, other = make_person(0), make_person(1)
    shown = consent.notice("v1", "fi")
    for who in (person, other):
        consent.record_changes(who, {"scoring", "contact"}, shown, "jodel", "suomi_fi")
    values = {"method": "sms", "phone": PHONE, "email": "", "language": "fi"}
    contact.ask(person, values | {"situation": "", "help_wanted": ""}, "Testi Nuori", "jodel")
    assert exports.after_change()  # consents, contacts and contact requests parts
    ids = [person.person_id, other.person_id]
    for name in STORES:
        path = portal_workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"person_id": ids, "score": [0.71, 0.22]}).write_parquet(path)
    decisions(ids).write_parquet(portal_workspace / "reviews" / "decisions.parquet")
    version = portal_workspace / STORES[-1]
    (portal_workspace / "lists" / "2025-12-01").symlink_to(version.parent)  # published
    return Erasable(person, other, portal_workspace, settings.PORTAL_DATA_DIR)


@contextmanager
def workspace_held(workspace: Path) -> Iterator[None]:
    """Hold the workspace lock as another process (a nightly run) would: its own flock."""
    workspace.mkdir(parents=True, exist_ok=True)
    fd = os.open(workspace / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclass(frozen=True)
class Issuer:
    url: str
    key: object

    def token(self, sub: str, *scopes: str, audience: str = "ennakko-portal") -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": sub,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "authorization": {"permissions": [{"scopes": list(scopes)}]},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test-key"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    """A local token issuer: RSA key, discovery document and JWKS over HTTP."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key())) | {
        "kid": "test-key",
        "use": "sig",
        "alg": "RS256",
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_port}"
            documents = {
                "/.well-known/openid-configuration": {"issuer": base, "jwks_uri": f"{base}/certs"},
                "/certs": {"keys": [jwk]},
            }
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Issuer(f"http://127.0.0.1:{server.server_port}", key)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(settings, issuer: Issuer, client):
    """Call the GDPR API for a person's profile with a token of ``sub`` and ``scopes``."""
    settings.OIDC_API_TOKEN_AUTH = settings.OIDC_API_TOKEN_AUTH | {"ISSUER": issuer.url}

    def call(method: str, person: Person, sub=None, scopes=(QUERY,), query: str = ""):
        url = f"/gdpr-api/v1/profiles/{person.user.uuid}{query}"
        token = issuer.token(str(sub or person.user.uuid), *scopes)
        send = client.get if method == "GET" else client.delete
        return send(url, HTTP_AUTHORIZATION=f"Bearer {token}")

    return call


def values(tree: dict) -> dict:
    return {c["key"]: c.get("value", c.get("children")) for c in tree["children"]}


def test_query_returns_the_persons_own_data(api, erasable: Erasable) -> None:
    answer = api("GET", erasable.person)
    assert answer.status_code == 200, answer.content
    tree = answer.json()
    assert tree["key"] == "PERSON"
    found = values(tree)
    assert found["PERSON_ID"] == erasable.person.person_id
    assert found["IDENTITY_CODE"] == mask(CODES[0]) and CODES[0] not in answer.content.decode()
    records = [values(r) for r in found["CONSENTS"]]
    assert sorted(r["PURPOSE"] for r in records) == ["contact", "scoring"]
    assert {r["STATE"] for r in records} == {"given"} and {r["NOTICE"] for r in records} == {
        "v1/fi"
    }
    (request,) = [values(r) for r in found["CONTACT_REQUESTS"]]
    assert request["METHOD"] == "sms" and request["PHONE"] == PHONE  # the person's own
    assert erasable.other.person_id not in answer.content.decode()


def test_wrong_scope_or_no_token_is_refused(api, client, erasable: Erasable) -> None:
    assert api("GET", erasable.person, scopes=(DELETE,)).status_code == 403
    assert api("DELETE", erasable.person, scopes=(QUERY,)).status_code == 403
    anonymous = client.get(f"/gdpr-api/v1/profiles/{erasable.person.user.uuid}")
    assert anonymous.status_code == 401
    assert Person.objects.filter(pk=erasable.person.pk).exists()


def test_another_persons_profile_is_refused(api, erasable: Erasable) -> None:
    before = erasable.digests()
    someone = erasable.other.user.uuid
    assert api("GET", erasable.person, sub=someone).status_code == 403
    assert api("DELETE", erasable.person, sub=someone, scopes=(DELETE,)).status_code == 403
    assert Person.objects.filter(pk=erasable.person.pk).exists()
    assert erasable.digests() == before


def test_dry_run_delete_changes_nothing(api, erasable: Erasable) -> None:
    before, records = erasable.digests(), ConsentRecord.objects.count()
    answer = api("DELETE", erasable.person, scopes=(DELETE,), query="?dry_run=true")
    assert answer.status_code == 204, answer.content
    assert Person.objects.filter(pk=erasable.person.pk).exists()
    assert ConsentRecord.objects.count() == records == 4
    assert erasable.digests() == before
    assert find_traces(erasable.workspace, [erasable.person.person_id])  # still everywhere


def test_delete_erases_the_person_from_every_store(api, erasable: Erasable) -> None:
    person_id, other_id = erasable.person.person_id, erasable.other.person_id
    assert len(find_traces(erasable.workspace, [person_id])) == len(STORES)
    assert len(find_traces(erasable.data_dir, [PHONE])) == 1  # the contacts part
    answer = api("DELETE", erasable.person, scopes=(DELETE,))
    assert answer.status_code == 204, answer.content

    assert not Person.objects.filter(person_id=person_id).exists()
    assert not User.objects.filter(pk=erasable.person.user.pk).exists()
    assert set(ConsentRecord.objects.values_list("person__person_id", flat=True)) == {other_id}
    assert find_traces(erasable.workspace, [person_id]) == []
    assert find_traces(erasable.data_dir, [person_id, PHONE]) == []
    for path in erasable.store_files()[: len(STORES) + 1]:  # the other person stays in each
        assert pl.read_parquet(path)["person_id"].to_list() == [other_id]
    log, key = consent.audit_log()
    assert audit.verify(log.path, key).ok
    events = [e["event"] for e in audit.read(log.path)]
    assert events[-2:] == ["erasure", "portal.erasure"]
    last = audit.read(log.path)[-1]
    assert last["person_hash"] == consent.person_hash(person_id, key) and last["via"] == "gdpr-api"
    assert last["records_deleted"] == 2 and last["rows_removed"] == len(STORES)


def test_a_busy_workspace_is_a_403_in_three_languages(api, erasable: Erasable) -> None:
    before = erasable.digests()
    with workspace_held(erasable.workspace):
        answer = api("DELETE", erasable.person, scopes=(DELETE,))
        dry = api("DELETE", erasable.person, scopes=(DELETE,), query="?dry_run=true")
    assert answer.status_code == dry.status_code == 403
    (error,) = answer.json()["errors"]
    assert error["code"] == "busy" and set(error["message"]) == {"fi", "sv", "en"}
    assert Person.objects.filter(pk=erasable.person.pk).exists()
    assert erasable.digests() == before


def test_a_broken_audit_log_erases_nothing_and_says_so(api, erasable: Erasable) -> None:
    log, _key = consent.audit_log()
    log.path.write_text(log.path.read_text()[:-5])  # a torn last line
    before = erasable.digests()
    answer = api("DELETE", erasable.person, scopes=(DELETE,))
    assert answer.status_code == 403
    (error,) = answer.json()["errors"]
    assert error["code"] == "technical_error" and set(error["message"]) == {"fi", "sv", "en"}
    assert erasable.person.person_id not in answer.content.decode()
    assert Person.objects.filter(pk=erasable.person.pk).exists()
    assert erasable.digests() == before
