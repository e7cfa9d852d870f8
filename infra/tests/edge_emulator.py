#!/usr/bin/env python3
"""The deployed front door on one machine: CloudFront and API Gateway (REST, Lambda proxy) in
front of the real Lambda package, with the rules taken from infra/template.yaml.

Usage: edge_emulator.py PORT SITE_PKG_DIR [BOOTSTRAP]
  Environment: EDGE_API_KEYS (comma-separated keys of the usage plan), and the function's own
  variables (KIRO_*), passed on to the bootstrap.

What it applies, as the template declares it (read with cfn-lint's CloudFormation decoder):
- CloudFront: /pkg/* from the site directory (the assets bucket); everything else to the API.
- The methods that exist (GET /, GET|OPTIONS|POST /{proxy+}); anything else is
  MISSING_AUTHENTICATION_TOKEN. POST requires a usage-plan key in x-api-key (INVALID_API_KEY),
  and the usage plan's throttle and daily quota apply per key (THROTTLED, QUOTA_EXCEEDED).
- API Gateway's 10 MB payload limit; the binary media types, whose bodies reach the function
  base64-encoded; Lambda's 6 MB invocation payload limit; the 29 s integration timeout
  (INTEGRATION_TIMEOUT). What API Gateway answers past the two size limits is not a gateway
  response it lets one customise, as reported in koki-develop/lgtm-generator#10: 413 with the
  text "HTTP content length exceeded 10485760 bytes." past 10 MB, and 413
  {"message": "Request Too Long"} when Lambda refuses the event; an answer over 6 MB is a 502.
- The REST proxy event (v1) with the stage in requestContext.path; the function's answer
  mapped back, base64 bodies decoded only when the request's Accept names a binary media type
  (what API Gateway does with a Lambda proxy answer).
- Every refusal is the template's gateway response for it (body, status, headers).
The function runs as Lambda runs it: BOOTSTRAP (default: the package target/lambda/bootstrap.zip
unpacked, else target/release/server) under a Runtime API served here, one invocation at a time.
"""
import base64
import fnmatch
import json
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cfnlint.decode import decode

from runtime_emulator import machine_and_runner

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNTIME = "/2018-06-01/runtime"
API_PAYLOAD_LIMIT = 10 * 1024 * 1024
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
INTEGRATION_TIMEOUT_SECS = 29
STAGE = "prod"


def stack_rules():
    """What the template says about the API: media types, methods, usage plan, responses."""
    template, errors = decode(str(ROOT / "infra" / "template.yaml"))
    if errors:
        sys.exit(f"template.yaml: {errors}")
    resources = template["Resources"]
    by_type = {}
    for resource in resources.values():
        by_type.setdefault(resource["Type"], []).append(resource["Properties"])
    api = by_type["AWS::ApiGateway::RestApi"][0]
    methods = {}
    for props in by_type["AWS::ApiGateway::Method"]:
        resource = "/" if "RootResourceId" in json.dumps(props["ResourceId"]) else "/{proxy+}"
        methods[(resource, props["HttpMethod"])] = props.get("ApiKeyRequired", False)
    plan = by_type["AWS::ApiGateway::UsagePlan"][0]
    responses = {}
    for props in by_type["AWS::ApiGateway::GatewayResponse"]:
        prefix = "gatewayresponse.header."
        responses[props["ResponseType"]] = {
            "status": int(props["StatusCode"]) if "StatusCode" in props else None,
            "headers": {k[len(prefix):]: v.strip("'")
                        for k, v in props.get("ResponseParameters", {}).items()},
            "body": props["ResponseTemplates"]["application/json"],
        }
    return {
        "binary": api.get("BinaryMediaTypes", []),
        "methods": methods,
        "rate": float(plan["Throttle"]["RateLimit"]),
        "burst": int(plan["Throttle"]["BurstLimit"]),
        "quota": int(plan["Quota"]["Limit"]),
        "responses": responses,
    }


# API Gateway's own status for each response type, when the template does not set one.
DEFAULT_STATUS = {
    "MISSING_AUTHENTICATION_TOKEN": 403, "INVALID_API_KEY": 403, "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429, "REQUEST_TOO_LARGE": 413, "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
}
DEFAULT_MESSAGE = {
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token", "INVALID_API_KEY": "Forbidden",
    "THROTTLED": "Too Many Requests", "QUOTA_EXCEEDED": "Limit Exceeded",
    "REQUEST_TOO_LARGE": "Request Too Long", "INTEGRATION_FAILURE": "Internal server error",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
}


class Function:
    """The bootstrap under a Runtime API: invoke() hands it one event and waits for its answer."""

    def __init__(self, bootstrap, env):
        self.events = queue.Queue()
        self.answers = {}
        self.lock = threading.Lock()  # one instance: one invocation at a time
        function = self

        class Api(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                request_id, event, answered = function.events.get()
                function.answers[request_id] = answered
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                deadline = int((time.time() + INTEGRATION_TIMEOUT_SECS) * 1000)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:eu-west-1:123456789012:function:kiro-access")
                self.send_header("Content-Length", str(len(event)))
                self.end_headers()
                self.wfile.write(event)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                parts = self.path.split("/")
                request_id, kind = parts[-2], parts[-1]
                self.send_response(202)
                self.end_headers()
                answered = function.answers.pop(request_id, None)
                if answered:
                    answered.put((kind, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{self.server.server_port}",
                   AWS_LAMBDA_FUNCTION_NAME="kiro-access", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
                   AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="edge",
                   AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/kiro-access",
                   AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH="true")
        runner = machine_and_runner(bootstrap)[1]  # qemu-user for an arm64 package
        self.process = subprocess.Popen([*runner, bootstrap], env=env, cwd=os.path.dirname(bootstrap))

    def invoke(self, event):
        """The function's answer (a dict), or a fixed answer (status, body), or a response type."""
        payload = json.dumps(event).encode()
        if len(payload) > LAMBDA_PAYLOAD_LIMIT:
            return (413, b'{"message": "Request Too Long"}')
        with self.lock:
            request_id = str(uuid.uuid4())
            answered = queue.Queue()
            self.events.put((request_id, payload, answered))
            try:
                kind, body = answered.get(timeout=INTEGRATION_TIMEOUT_SECS)
            except queue.Empty:
                return "INTEGRATION_TIMEOUT"
        if kind != "response":
            return "INTEGRATION_FAILURE"
        if len(body) > LAMBDA_PAYLOAD_LIMIT:
            return (502, b'{"message": "Internal server error"}')
        return json.loads(body)


class TokenBucket:
    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens, self.at = rate, burst, float(burst), time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def main():
    port, pkg_dir = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    bootstrap = sys.argv[3] if len(sys.argv) > 3 else default_bootstrap()
    rules = stack_rules()
    keys = {k.strip() for k in os.environ.get("EDGE_API_KEYS", "").split(",") if k.strip()}
    buckets, used_today = {}, {}
    plan_lock = threading.Lock()
    function = Function(bootstrap, os.environ)

    def is_binary(content_type):
        kind = (content_type or "").split(";")[0].strip().lower()
        return any(fnmatch.fnmatch(kind, pattern) for pattern in rules["binary"])

    class Edge(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_OPTIONS(self):
            self.handle_any("OPTIONS")

        def do_PUT(self):
            self.handle_any("PUT")

        def do_DELETE(self):
            self.handle_any("DELETE")

        def handle_any(self, method):
            length = int(self.headers.get("Content-Length", 0) or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            if method == "GET" and path.startswith("/pkg/"):
                return self.asset(path)
            request_id = str(uuid.uuid4())
            if length > API_PAYLOAD_LIMIT:
                return self.fixed(413, b"HTTP content length exceeded 10485760 bytes.", "text/plain")
            refusal = self.refusal(method, path)
            if refusal:
                return self.gateway_response(refusal, request_id)
            answer = function.invoke(self.event(method, path, query, body, request_id))
            if isinstance(answer, str):
                return self.gateway_response(answer, request_id)
            if isinstance(answer, tuple):
                return self.fixed(*answer, "application/json")
            self.proxy_answer(answer)

        def refusal(self, method, path):
            resource = "/" if path == "/" else "/{proxy+}"
            if (resource, method) not in rules["methods"]:
                return "MISSING_AUTHENTICATION_TOKEN"
            if rules["methods"][(resource, method)]:
                key = self.headers.get("x-api-key", "")
                if key not in keys:
                    return "INVALID_API_KEY"
                with plan_lock:
                    day = time.strftime("%Y-%m-%d", time.gmtime())
                    count = used_today.get((key, day), 0)
                    if count >= rules["quota"]:
                        return "QUOTA_EXCEEDED"
                    bucket = buckets.setdefault(key, TokenBucket(rules["rate"], rules["burst"]))
                    if not bucket.take():
                        return "THROTTLED"
                    used_today[(key, day)] = count + 1
            return None

        def event(self, method, path, query, body, request_id):
            headers = {}
            multi = {}
            for name, value in self.headers.items():
                headers[name] = value
                multi.setdefault(name, []).append(value)
            params = [p.partition("=") for p in query.split("&") if p] if query else []
            binary = bool(body) and is_binary(self.headers.get("Content-Type"))
            return {
                "resource": "/" if path == "/" else "/{proxy+}",
                "path": path,
                "httpMethod": method,
                "headers": headers,
                "multiValueHeaders": multi,
                "queryStringParameters": {k: v for k, _, v in params} or None,
                "multiValueQueryStringParameters":
                    {k: [v2 for k2, _, v2 in params if k2 == k] for k, _, _ in params} or None,
                "pathParameters": None if path == "/" else {"proxy": path.lstrip("/")},
                "stageVariables": None,
                "requestContext": {
                    "resourcePath": "/" if path == "/" else "/{proxy+}",
                    "httpMethod": method,
                    "path": f"/{STAGE}{path}",
                    "accountId": "123456789012",
                    "protocol": "HTTP/1.1",
                    "stage": STAGE,
                    "requestId": request_id,
                    "requestTimeEpoch": int(time.time() * 1000),
                    "identity": {"sourceIp": self.client_address[0],
                                 "userAgent": self.headers.get("User-Agent"),
                                 "apiKey": self.headers.get("x-api-key")},
                    "domainName": "edge.example.com",
                    "apiId": "edge",
                },
                "body": (base64.b64encode(body).decode() if binary
                         else body.decode("utf-8", "replace")) if body else None,
                "isBase64Encoded": binary,
            }

        def proxy_answer(self, answer):
            body = (answer.get("body") or "").encode()
            headers = dict(answer.get("headers") or {})
            for name, values in (answer.get("multiValueHeaders") or {}).items():
                headers[name] = values[-1] if values else ""
            if answer.get("isBase64Encoded"):
                accept = self.headers.get("Accept", "")
                wants_binary = any(is_binary(kind) for kind in accept.split(","))
                body = base64.b64decode(body) if wants_binary else body
            self.send_response(int(answer.get("statusCode", 502)))
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def gateway_response(self, kind, request_id):
            configured = rules["responses"].get(kind)
            if configured is None:
                configured = rules["responses"].get(
                    "DEFAULT_4XX" if DEFAULT_STATUS[kind] < 500 else "DEFAULT_5XX")
            message = json.dumps(DEFAULT_MESSAGE[kind])
            if configured is None:
                status, headers, body = DEFAULT_STATUS[kind], {}, f'{{"message":{message}}}'
            else:
                status = configured["status"] or DEFAULT_STATUS[kind]
                headers = configured["headers"]
                body = (configured["body"].replace("$context.requestId", request_id)
                        .replace("$context.error.messageString", message))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("x-amzn-ErrorType", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def fixed(self, status, data, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def asset(self, path):
            file = (pkg_dir / path[len("/pkg/"):]).resolve()
            if pkg_dir.resolve() not in file.parents or not file.is_file():
                # S3 behind CloudFront: AccessDenied for a missing key.
                return self.fixed(403, b"AccessDenied", "application/xml")
            data = file.read_bytes()
            kinds = {".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm"}
            self.send_response(200)
            self.send_header("Content-Type", kinds.get(file.suffix, "application/octet-stream"))
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Edge)
    print(f"edge emulator on http://127.0.0.1:{port} -> {bootstrap}", flush=True)
    try:
        server.serve_forever()
    finally:
        function.process.kill()


def default_bootstrap():
    """The Lambda package when it is at least as new as the release build, else that build."""
    package = ROOT / "target" / "lambda" / "bootstrap.zip"
    release = ROOT / "target" / "release" / "server"
    if package.exists() and (not release.exists()
                             or package.stat().st_mtime >= release.stat().st_mtime):
        task = pathlib.Path(tempfile.mkdtemp(prefix="edge-task-"))
        with zipfile.ZipFile(package) as z:
            z.extractall(task)
        (task / "bootstrap").chmod(0o755)
        return str(task / "bootstrap")
    print("no Lambda package as new as the release build (infra/build-lambda.sh makes one):"
          " running target/release/server as the bootstrap", file=sys.stderr)
    return str(release)


if __name__ == "__main__":
    main()
