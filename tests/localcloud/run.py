"""Runs the local-cloud unittest suite and writes its counts as JSON for build.sh."""
import argparse
import json
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--summary", required=True, help="where to write the pass/fail counts")
    parser.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    args = parser.parse_args()

    sys.path.insert(0, here)
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
    if args.pattern:
        suite = unittest.TestSuite(t for t in _flatten(suite) if args.pattern in t.id())
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)

    counts = {
        "run": result.testsRun,
        "failed": len(result.failures) + len(result.unexpectedSuccesses),
        "errors": len(result.errors),
        "skipped": len(result.skipped),
    }
    counts["passed"] = counts["run"] - counts["failed"] - counts["errors"] - counts["skipped"]
    with open(args.summary, "w") as f:
        json.dump(counts, f)
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


def _flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


if __name__ == "__main__":
    sys.exit(main())
