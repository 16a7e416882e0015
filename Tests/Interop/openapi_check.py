"""Conformance of `sigil serve` to its OpenAPI document: fetches BASE_URL/openapi.json, validates it as
OpenAPI 3.1 (openapi-spec-validator), then runs schemathesis against the live server, authenticated
with HTTP Basic, with the checks not_a_server_error, status_code_conformance, content_type_conformance
and response_schema_conformance.

Only operations that change nothing are run: every GET (but the proxy's), POST /v1/sign and POST
/v1/presign. The proxy forwards to upstreams; DELETE, PUT /v1/config and PUT /v1/secrets/... would
change the vault, POST /saml/... a session.

Run:  python3 Tests/Interop/openapi_check.py BASE_URL USER:PASSWORD [--examples N] [--schema FILE]
      (USER should be an admin, or operator-only and admin-only routes answer 403 throughout; --schema
      checks FILE instead of the server's own document, e.g. before the binary is rebuilt.)
Exit status 0 = the document is valid and schemathesis found nothing; the last line is a summary.
The run is deterministic (schemathesis's deterministic generation: no seed, no example database).
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# The only operations run besides GET: the others would change the vault (or a session) or reach upstreams.
SAFE_POSTS = {"/v1/sign", "/v1/presign"}
# schemathesis warnings that mean the run proved nothing (every request unauthenticated, a filter that
# matches no operation, a $ref it cannot follow).
FATAL_WARNINGS = ["missing_auth", "unmatched_filter", "unresolvable_reference", "base_url_mismatch"]


def fail(message):
    print(f"openapi_check: FAILED: {message}")
    sys.exit(1)


def get(url, credentials=None):
    request = urllib.request.Request(url)
    if credentials:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()
    except (urllib.error.URLError, OSError) as error:
        fail(f"GET {url}: {error}")


def load_document(base_url, schema_file):
    if schema_file:
        with open(schema_file, encoding="utf-8") as file:
            return json.load(file)
    status, content_type, body = get(base_url + "/openapi.json")
    if status != 200 or not content_type.startswith("application/json"):
        fail(f"GET /openapi.json answered {status} {content_type!r}")
    try:
        return json.loads(body)
    except ValueError as error:
        fail(f"GET /openapi.json is not JSON: {error}")


def validate(document):
    """The number of operations; fails on any problem openapi-spec-validator finds (3.1 rules)."""
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    if not str(document.get("openapi", "")).startswith("3.1."):
        fail(f"the document is OpenAPI {document.get('openapi')!r}, not 3.1")
    try:
        errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    except Exception as error:  # an unresolvable $ref raises rather than being reported
        fail(f"the document cannot be validated: {type(error).__name__}: {str(error)[:500]}")
    if errors:
        for error in errors:
            path = "/".join(str(part) for part in error.absolute_path)
            print(f"openapi_check: invalid at {path or '(root)'}: {error.message}", file=sys.stderr)
        fail(f"the document is not valid OpenAPI 3.1 ({len(errors)} problem(s))")
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return sum(1 for item in document.get("paths", {}).values() for method in item if method in methods)


def selected_operations(document):
    """The operationIds of the operations to run: every GET but the proxy's, and the safe POSTs."""
    selected = []
    for path, item in document.get("paths", {}).items():
        if path.startswith("/v1/proxy/"):
            continue
        for method, operation in item.items():
            if method == "get" or (method == "post" and path in SAFE_POSTS):
                if not operation.get("operationId"):
                    fail(f"{method.upper()} {path} has no operationId")
                selected.append(operation["operationId"])
    return selected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("credentials", help="USER:PASSWORD of a Sigil user (an admin)")
    parser.add_argument("--examples", type=int, default=25, help="test cases per operation (default 25)")
    parser.add_argument("--schema", help="check this document instead of BASE_URL/openapi.json")
    arguments = parser.parse_args()
    base_url = arguments.base_url.rstrip("/")
    if ":" not in arguments.credentials:
        parser.error("credentials: expected USER:PASSWORD")
    if arguments.examples < 1:
        parser.error("--examples: expected 1 or more")
    try:
        import openapi_spec_validator  # noqa: F401
        import schemathesis
    except ImportError as error:
        print(f"openapi_check: {error}; pip install -r scripts/requirements-interop.txt", file=sys.stderr)
        sys.exit(2)

    document = load_document(base_url, arguments.schema)
    operations = validate(document)
    expected = selected_operations(document)

    # Credentials that do not verify would pass every check with 401s (401 is documented): refuse them.
    status, _, _ = get(base_url + "/v1/auth/status", arguments.credentials)
    if status != 200:
        fail(f"GET /v1/auth/status with the credentials given answered {status}, not 200")

    with tempfile.TemporaryDirectory(prefix="openapi-check-") as work:
        schema_path = os.path.join(work, "openapi.json")
        report_path = os.path.join(work, "report.json")
        with open(schema_path, "w", encoding="utf-8") as file:
            json.dump(document, file)
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", schema_path,
            "--url", base_url,
            "--auth", arguments.credentials,
            "--checks", CHECKS,
            "--max-examples", str(arguments.examples),
            "--generation-deterministic",
            "--workers", "1",
            "--request-timeout", "30",
        ]
        for operation_id in expected:
            command += ["--include-operation-id", operation_id]
        command += ["--no-color", "--report", "json", "--report-json-path", report_path]
        started = time.monotonic()
        # Run in the scratch directory: no schemathesis.toml is picked up and nothing is written here.
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=1800)
        elapsed = time.monotonic() - started
        output = result.stdout + result.stderr
        try:
            with open(report_path, encoding="utf-8") as file:
                report = json.load(file)
        except (OSError, ValueError):
            print(output, file=sys.stderr)
            fail(f"schemathesis exited {result.returncode} without a report")

    problems = []
    if result.returncode != 0:
        problems.append(f"schemathesis exited {result.returncode}")
    cases = report.get("test_cases", {})
    tested = report.get("operations", {})
    if cases.get("with_failures") or report.get("failures"):
        problems.append(f"{cases.get('unique_failures', len(report.get('failures', [])))} failure(s)")
    if cases.get("errored") or report.get("errors") or tested.get("errored"):
        problems.append("errors")
    if tested.get("selected") != len(expected) or tested.get("tested") != len(expected):
        problems.append(
            f"{tested.get('selected')} operations selected and {tested.get('tested')} tested, "
            f"not the {len(expected)} expected")
    warnings = report.get("warnings") or {}
    for name in FATAL_WARNINGS:
        if warnings.get(name):
            problems.append(f"warning {name}: {', '.join(map(str, warnings[name]))}")
    if problems:
        print(output, file=sys.stderr)
    summary = (
        f"OpenAPI {document['openapi']} document valid ({operations} operations); schemathesis "
        f"{schemathesis.SCHEMATHESIS_VERSION}: {tested.get('tested')} operations, {cases.get('generated')} test cases "
        f"(--examples {arguments.examples}), {elapsed:.1f} s")
    if problems:
        fail(summary + ": " + "; ".join(problems))
    print("openapi_check: passed: " + summary)


if __name__ == "__main__":
    main()
