"""Verifies an access token from authd with Okta's okta-jwt-verifier, both its synchronous
path (requests: REQUESTS_CA_BUNDLE) and its asynchronous one (aiohttp: SSL_CERT_FILE).

    python verify_access_token.py <issuer> <audience> <access-token>

Prints one JSON line: the verified claims, or the error each path raised.
"""
import asyncio
import json
import sys

from okta_jwt_verifier import AccessTokenVerifier, JWTUtils

issuer, audience, token = sys.argv[1:4]
result = {}
try:
    AccessTokenVerifier(issuer=issuer, audience=audience).verify_sync(token)
    result["sync"] = "valid"
except Exception as err:  # noqa: BLE001 - the test reads what went wrong
    result["sync"] = f"{type(err).__name__}: {err}"
try:
    asyncio.run(AccessTokenVerifier(issuer=issuer, audience=audience).verify(token))
    result["async"] = "valid"
except Exception as err:  # noqa: BLE001
    result["async"] = f"{type(err).__name__}: {err}"
_headers, claims, _signing_input, _signature = JWTUtils.parse_token(token)
result["claims"] = claims
print(json.dumps(result))
