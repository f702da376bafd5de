#!/usr/bin/env python3
"""trader.py: call a signed EXchange endpoint with the key the tokentray
agent keeps, using only Python's standard library (CONTRACTS §4).

    python3 trader.py [--conn exchange] [--exchange URL] [--socket PATH]

TOKENTRAY_SOCK and TOKENTRAY_EXCHANGE give the defaults (`tokentray demo`
prints both). It does three things:

1. follows the agent's events (/v1/events) in a background thread;
2. asks the agent to sign GET /api/v2/members/me (/sign: the secret key
   never leaves the agent) and calls the exchange with the query it gets;
3. when the exchange says the key is dead (2008 unknown key, 2010 expired),
   asks the agent to refresh *the generation it used* (if_generation: many
   scripts reporting one dead key make one refresh) and tries once more.

The exchange's answer goes to stdout; everything else to stderr.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import urllib.error
import urllib.request

DEAD_KEY = {2008, 2010}  # unknown key, expired key


def default_socket():
    if os.environ.get("TOKENTRAY_SOCK"):
        return os.environ["TOKENTRAY_SOCK"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "tokentray", "agent.sock")
    return "/tmp/tokentray-%d/agent.sock" % os.getuid()


class UnixConnection(http.client.HTTPConnection):
    """HTTP over the agent's Unix socket; the host name is never dialled."""

    def __init__(self, path, timeout=30):
        super().__init__("tokentray", timeout=timeout)
        self.socket_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.socket_path)
        self.sock = s


class AgentError(Exception):
    """An error answer of the agent: {"error": {"code", "message"}}."""

    def __init__(self, status, code, message):
        super().__init__("%s (%s, HTTP %d)" % (message, code, status))
        self.code = code


class Agent:
    def __init__(self, path):
        self.path = path

    def call(self, method, url, body=None):
        conn = UnixConnection(self.path)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            conn.request(method, url, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            if resp.status // 100 != 2:
                err = json.loads(raw or b"{}").get("error", {})
                raise AgentError(resp.status, err.get("code"), err.get("message"))
            return json.loads(raw)
        finally:
            conn.close()

    def follow_events(self, on_event, subscribed):
        """Calls on_event(type, connection) for every event; sets subscribed
        once the agent has answered (from then on no event is missed)."""
        conn = UnixConnection(self.path, timeout=None)
        try:
            conn.request("GET", "/v1/events")
            resp = conn.getresponse()
        finally:
            subscribed.set()  # or failed: the caller need not wait
        kind = None
        while True:
            line = resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line.startswith("event: "):
                kind = line[len("event: "):]
            elif line.startswith("data: "):
                on_event(kind, json.loads(line[len("data: "):]))


def call_exchange(agent, exchange, conn_id, path):
    """Signs GET path through the agent and calls the exchange; returns
    (HTTP status, parsed answer)."""
    signed = agent.call("POST", "/v1/connections/%s/sign" % conn_id,
                        {"method": "GET", "path": path, "params": {}})
    req = urllib.request.Request(exchange + path + "?" + signed["query"],
                                 headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def error_code(answer):
    err = answer.get("error") if isinstance(answer, dict) else None
    return err.get("code") if isinstance(err, dict) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conn", default="exchange", help="connection id or provider id")
    ap.add_argument("--exchange", default=os.environ.get("TOKENTRAY_EXCHANGE", "https://f1cx.com"))
    ap.add_argument("--socket", default=default_socket())
    ap.add_argument("--path", default="/api/v2/members/me")
    args = ap.parse_args()
    agent = Agent(args.socket)

    # 1. Events, in the background.
    refreshed = threading.Event()
    subscribed = threading.Event()

    def on_event(kind, conn):
        if kind == "activity":
            return  # an access record (who used which connection), not a connection
        print("trader.py: agent event: %s (%s, generation %d)" % (kind, conn["id"], conn["generation"]),
              file=sys.stderr)
        if kind == "refreshed":
            refreshed.set()

    def follow():
        try:
            agent.follow_events(on_event, subscribed)
        except OSError as e:
            print("trader.py: events: %s" % e, file=sys.stderr)

    threading.Thread(target=follow, daemon=True).start()
    subscribed.wait(5)

    try:
        # 2. The generation of the key we are about to use, then the call.
        generation = agent.call("GET", "/v1/connections/%s" % args.conn)["generation"]
        status, answer = call_exchange(agent, args.exchange, args.conn, args.path)

        # 3. A dead key: refresh that generation (only), then once more.
        code = error_code(answer)
        if code in DEAD_KEY:
            print("trader.py: the exchange says the key is dead (%d); refreshing generation %d"
                  % (code, generation), file=sys.stderr)
            conn = agent.call("POST", "/v1/connections/%s/refresh" % args.conn,
                              {"if_generation": generation})
            print("trader.py: the key is now generation %d" % conn["generation"], file=sys.stderr)
            refreshed.wait(2)
            status, answer = call_exchange(agent, args.exchange, args.conn, args.path)
    except (AgentError, OSError) as e:
        print("trader.py: %s" % e, file=sys.stderr)
        return 1

    print(json.dumps(answer, separators=(",", ":")))
    if status // 100 != 2:
        print("trader.py: the exchange answered %d, error %s" % (status, error_code(answer)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
