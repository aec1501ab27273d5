"""Why a login was refused: one word kept in the session for the explanation page.

Kept apart from ``portal.auth`` so that the pages do not import the OIDC client library
(and its cryptography) before anyone logs in: the arrival page answers sooner.
"""

SESSION_KEY = "login_refused"
REASONS = ("loa", "code", "age")

# How the person identified (the first ``amr`` claim): the consent's collection method.
AMR_SESSION_KEY = "login_amr"
