#!/usr/bin/env python3
"""Run a command with the local test peers, localstripe and moto, on 127.0.0.1.

Usage: python3 scripts/peers/run.py [--install-only] -- COMMAND [ARG...]

The script installs scripts/peers/requirements.txt into the project's .venv/
(again only when that file changes), starts localstripe (through
localstripe_shim.py) and moto_server on free loopback ports, and waits until
both respond. It then runs COMMAND with LOCALSTRIPE_URL, MOTO_URL and fake AWS
settings in its environment. Both servers are stopped when COMMAND ends, also
when it fails or on Ctrl-C, and the script exits with COMMAND's exit code.
Server logs go to target/peers/.
"""

import argparse
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = ROOT / "scripts" / "peers"
REQUIREMENTS = PEERS_DIR / "requirements.txt"
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".peers-requirements.sha256"
LOG_DIR = ROOT / "target" / "peers"

STARTUP_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
START_ATTEMPTS = 3

# Fake credentials for moto, which accepts any. The metadata switch keeps the
# AWS SDKs from asking the EC2 metadata address (169.254.169.254) for
# credentials or a region when a test builds a client without them.
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def log(message):
    print("peers: " + message, file=sys.stderr, flush=True)


def requirements_digest():
    """Hash requirements.txt together with the Python that builds the venv."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_virtualenv():
    """Create .venv/ and install the peers into it unless the stamp matches."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    # Concurrent runs from one checkout must not install into .venv/ at once.
    with open(LOG_DIR / "venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        expected = requirements_digest()
        if (VENV_PYTHON.exists() and STAMP.exists()
                and STAMP.read_text().strip() == expected):
            return
        log("installing %s into %s" % (REQUIREMENTS.relative_to(ROOT),
                                       VENV.relative_to(ROOT)))
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", "--no-input",
             "--requirement", str(REQUIREMENTS)],
            check=True)
        STAMP.write_text(expected + "\n")


def free_loopback_port():
    """Return a port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def responds(url):
    """Return True when ``url`` sends any HTTP response, even an error."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class PeerStartError(Exception):
    """A peer that did not respond after every start attempt."""


class Peer:
    """One server process, its port and its log file."""

    # NOTE: two runs at once from one checkout write to the same log files.
    def __init__(self, name, command_for_port, ready_path):
        self.name = name
        self.command_for_port = command_for_port
        self.ready_path = ready_path
        self.log_path = LOG_DIR / (name + ".log")
        self.process = None
        self.url = None

    def start(self):
        """Start the server and wait until it responds, trying new ports."""
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_loopback_port()
            self.url = "http://127.0.0.1:%d" % port
            with open(self.log_path, "w") as log_file:
                self.process = subprocess.Popen(
                    self.command_for_port(port), cwd=ROOT,
                    stdin=subprocess.DEVNULL, stdout=log_file,
                    stderr=subprocess.STDOUT, start_new_session=True)
            if self.wait_until_ready():
                log("%s is listening at %s (log: %s)"
                    % (self.name, self.url, self.log_path.relative_to(ROOT)))
                return
            # Another program may have taken the port first, so retry.
            log("%s failed to start on port %d (attempt %d of %d). "
                "Its log:\n%s" % (self.name, port, attempt, START_ATTEMPTS,
                                  self.log_tail()))
            self.stop()
        raise PeerStartError("%s failed to start %d times; see %s"
                             % (self.name, START_ATTEMPTS, self.log_path))

    def wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if responds(self.url + self.ready_path):
                return True
            time.sleep(0.2)
        return False

    def stop(self):
        """Stop the server's process group: SIGTERM, then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            log("%s did not stop within %d s of SIGTERM, so sending SIGKILL"
                % (self.name, STOP_TIMEOUT_SECONDS))
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines=20):
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def build_peers():
    localstripe = Peer(
        "localstripe",
        lambda port: [str(VENV_PYTHON), str(PEERS_DIR / "localstripe_shim.py"),
                      "--port", str(port), "--from-scratch"],
        # The Stripe.js stand-in needs no API key and changes no state.
        "/js.stripe.com/v3/")
    moto = Peer(
        "moto",
        lambda port: [str(VENV / "bin" / "moto_server"),
                      "--host", "127.0.0.1", "--port", str(port)],
        "/moto-api/")
    return localstripe, moto


def command_environment(localstripe, moto):
    environment = dict(os.environ)
    environment.update(FAKE_AWS_ENVIRONMENT)
    environment["LOCALSTRIPE_URL"] = localstripe.url
    environment["MOTO_URL"] = moto.url
    # Keep loopback requests away from any HTTP proxy set on the machine.
    for name in ("NO_PROXY", "no_proxy"):
        existing = environment.get(name)
        environment[name] = ("127.0.0.1,localhost," + existing
                             if existing else "127.0.0.1,localhost")
    return environment


def run_command(command, environment):
    """Run ``command`` in the foreground and return its exit code."""
    log("running: " + " ".join(command))
    try:
        process = subprocess.Popen(command, env=environment)
    except FileNotFoundError:
        log("command not found: " + command[0])
        return 127
    # From here on, SIGTERM goes to the command, and the peers are stopped
    # once it exits.
    signal.signal(signal.SIGTERM,
                  lambda signum, frame: process.send_signal(signum))
    while True:
        try:
            return_code = process.wait()
            break
        except KeyboardInterrupt:
            # The terminal also sent SIGINT to the command. Wait for it to
            # stop, so the peers outlive it.
            continue
    if return_code < 0:
        # Killed by a signal: report it the way a shell does.
        return 128 - return_code
    return return_code


def main():
    parser = argparse.ArgumentParser(
        description="Run COMMAND with localstripe and moto running on "
        "127.0.0.1.")
    parser.add_argument(
        "--install-only", action="store_true",
        help="install the peers into .venv/ and exit without starting them")
    parser.add_argument(
        "command", nargs=argparse.REMAINDER,
        help="the command to run, after --")
    args = parser.parse_args()
    command = args.command
    if command and command[0] == "--":
        command = command[1:]
    if not command and not args.install_only:
        parser.error("missing COMMAND: pass it after --")

    try:
        ensure_virtualenv()
    except subprocess.CalledProcessError as error:
        log("installing the peers failed: %s" % error)
        return 1
    if args.install_only:
        return 0

    # SIGTERM before the command starts ends the run like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    peers = build_peers()
    try:
        for peer in peers:
            peer.start()
        return run_command(command, command_environment(*peers))
    except PeerStartError as error:
        log(str(error))
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for peer in peers:
            peer.stop()
        log("stopped localstripe and moto")


if __name__ == "__main__":
    sys.exit(main())
