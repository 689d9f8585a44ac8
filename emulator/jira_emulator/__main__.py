"""``jira-emulator [--port N] [--url-file F]`` (or ``python -m jira_emulator``): serve, print the base URL first."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from .app import IDLE_TIMEOUT, EmulatorServer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="jira-emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--url-file", help="also write the base URL to this file once listening")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (with --tls-key)")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--idle-timeout", type=float, default=IDLE_TIMEOUT,
                        help=f"seconds before an idle keep-alive connection is closed (default {IDLE_TIMEOUT:g})")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.idle_timeout <= 0:
        parser.error("--idle-timeout must be more than 0 seconds")
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ssl_context = (args.tls_cert, args.tls_key) if args.tls_cert else None
    server = EmulatorServer(host=args.host, port=args.port, ssl_context=ssl_context, quiet=not args.verbose,
                            idle_timeout=args.idle_timeout)
    if args.url_file:
        tmp = args.url_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(server.url + "\n")
        os.replace(tmp, args.url_file)
    print(server.url, flush=True)  # last: whoever reads the URL here finds the file written too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
