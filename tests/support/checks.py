"""How the check scripts (tests/*/*_check.py and the like) report: check() records a failed
expectation, prints it at once and lets the script go on, so that one run shows every failure,
not only the first; verdict() prints the script's one-line result and gives its exit code."""

failures = []


def check(ok, message):
    """Records `message` as a failure unless `ok`; returns `ok` (to guard what depends on it)."""
    if not ok:
        failures.append(message)
        print("FAIL:", message)
    return ok


def verdict(what):
    """Prints "<what>: OK" or "<what>: N failures"; 0 when nothing failed, else 1."""
    print(f"{what}:", "OK" if not failures else f"{len(failures)} failures")
    return 0 if not failures else 1
