#!/usr/bin/env python3
"""A minimal AWS Lambda Runtime API, enough to start the real `bootstrap` and serve it one event.

Usage: runtime_emulator.py EVENT.json BOOTSTRAP [text expected in the response body ...]
Starts the API on a free loopback port, runs BOOTSTRAP in its own directory (as Lambda runs
/var/task/bootstrap) with AWS_LAMBDA_RUNTIME_API pointing at it, hands it EVENT, waits for the
response, checks it (statusCode 200 and every expected text in the body; for an event that is
not a request, such as the schedule's, every expected text in the response; the request id in
the JSON logs), stops the bootstrap and exits 0 on success, 1 otherwise. Prints the init time: from
starting BOOTSTRAP to its first poll for an event, what Lambda reports as Init Duration.
A bootstrap built for another machine (an arm64 package on x86_64) runs under qemu-user.
"""
import json
import os
import platform
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
REQUEST_ID = "c0ffee00-0000-4000-8000-00000000e2e0"
# ELF e_machine (two little-endian bytes at offset 18) -> the name `uname -m` gives that machine.
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}


def machine_and_runner(executable):
    """The executable's machine, and what runs it here: [] natively, qemu-user for another."""
    with open(executable, "rb") as f:
        header = f.read(20)
    if header[:4] != b"\x7fELF":
        raise SystemExit(f"{executable} is not an ELF executable")
    machine = int.from_bytes(header[18:20], "little")
    if machine not in ELF_MACHINES:
        raise SystemExit(f"{executable} is for ELF machine {machine:#x}, which this emulator does not run")
    name = ELF_MACHINES[machine]
    return name, [] if name == platform.machine() else [f"qemu-{name}"]


def main():
    event_path, bootstrap = sys.argv[1], sys.argv[2]
    expected = sys.argv[3:]
    event = open(event_path, "rb").read()
    done = threading.Event()
    result = {}
    handed_out = threading.Lock()

    class Api(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != f"{PREFIX}/invocation/next":
                self.send_error(404)
                return
            result.setdefault("init_ms", (time.monotonic() - started) * 1000)
            if not handed_out.acquire(blocking=False):
                done.wait(60)  # one event only; later polls wait for the end
                self.send_error(503)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Lambda-Runtime-Aws-Request-Id", REQUEST_ID)
            self.send_header("Lambda-Runtime-Deadline-Ms", "4102444800000")
            self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:eu-west-1:123456789012:function:kiro-access")
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            self.send_header("Content-Length", str(len(event)))
            self.end_headers()
            self.wfile.write(event)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            if self.path == f"{PREFIX}/invocation/{REQUEST_ID}/response":
                result["response"] = body
            else:
                result["error"] = (self.path, body)
            self.send_response(202)
            self.end_headers()
            done.set()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the bootstrap's next poll is cut off when it is stopped: expected

    server = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_port}",
               AWS_LAMBDA_FUNCTION_NAME="kiro-access",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
               AWS_LAMBDA_LOG_STREAM_NAME="emulator",
               AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/kiro-access")
    bootstrap = os.path.abspath(bootstrap)
    machine, runner = machine_and_runner(bootstrap)
    started = time.monotonic()
    child = subprocess.Popen([*runner, bootstrap], env=env, cwd=os.path.dirname(bootstrap),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finished = done.wait(60)
    child.kill()
    output = child.communicate()[0].decode(errors="replace")
    server.shutdown()
    if not finished or "response" not in result:
        print(f"no response from the bootstrap: {result.get('error')}\n--- its output:\n{output}")
        return 1
    response = json.loads(result["response"])
    is_http = isinstance(response, dict) and "statusCode" in response
    body = (response.get("body") or "") if is_http else result["response"].decode()
    missing = [text for text in expected if text not in body]
    ok = (not is_http or response.get("statusCode") == 200) and not missing
    print(f"init {result['init_ms']:.0f} ms ({' under '.join([machine, *runner])}); "
          f"bootstrap answered {response.get('statusCode') if is_http else 'a non-HTTP event'} with {len(body)} bytes"
          f" (isBase64Encoded={response.get('isBase64Encoded')}): {'ok' if ok else 'UNEXPECTED'}")
    if not ok:
        print(f"missing: {missing}\n{body[:500]}\n--- its output:\n{output}")
        return 1
    logs = [line for line in output.splitlines() if line.startswith("{")]
    if not any(REQUEST_ID in line for line in logs):
        print("the JSON logs do not carry the request id:\n" + output)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
