"""The `edgevision` command: `edgevision demo` (the main job on a built-in frame), `edgevision speed`."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def _demo(args: argparse.Namespace) -> int:
    import edgevision
    from edgevision import speed

    info = edgevision.build_info()
    print(f"edgevision {info['version']}: native core on {info['architecture']}, SIMD path '{info['isa']}' "
          f"(supported: {', '.join(info['supported_isas'])}; {info['compiler']}, {info['build_type']} build)")
    print("Kernels on a built-in 1280x720 frame, single-threaded, median ms per call:\n")
    rows = speed.measure(budget_s=args.budget, peers=not args.no_peers)
    print(speed.format_table(rows))
    return 0


def _speed(args: argparse.Namespace) -> int:
    from edgevision import speed

    return speed.main(args.rest)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="edgevision", description="On-device vision models with native kernels.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the kernels on a built-in frame and print build info and timings")
    demo.add_argument("--budget", type=float, default=0.3, help="seconds of timing per kernel (default 0.3)")
    demo.add_argument("--no-peers", action="store_true", help="skip the OpenCV/NumPy comparisons")
    demo.set_defaults(run=_demo)
    speed = sub.add_parser("speed", help="the full speed report (see bench/)", add_help=False)
    speed.add_argument("rest", nargs=argparse.REMAINDER)
    speed.set_defaults(run=_speed)
    from edgevision.models import cli as models_cli

    models_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
