"""`python -m emulator`: the Dyplsapi emulator on a port, until Ctrl-C or SIGTERM."""

import argparse
import signal
import sys

from emulator.app import create_app
from emulator.server import WSGIServer


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Local emulator of Alibaba Cloud Dyplsapi 2017-05-25"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="added to every API call, like a real upstream"
    )
    parser.add_argument("--pools", help="JSON pools file (default: the built-in pool)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        app = create_app(pools=args.pools, latency_ms=args.latency_ms)
        server = WSGIServer(app, args.host, args.port)
    except (OSError, ValueError) as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(
            f"Dyplsapi emulator listening on http://{server.host}:{server.port}"
            f" pool key(s): {', '.join(app.catalog.pools)}"
            f" access key id(s): {', '.join(app.access_key_ids)}",
            flush=True,
        )
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
