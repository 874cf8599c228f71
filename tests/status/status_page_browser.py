#!/usr/bin/python3
"""The live status page in a real headless Chromium (label `browser`, run once in CI).

reactord runs with --loops 2 and --http-listen; a child process holds 120 clients (one of
them echoing a few bytes every 200 ms, bounded) so the page has more than one page of
connections on two loops and numbers that move. Through selenium + chromedriver the test:
loads the page and waits for the 120 connections and both loops; sees the loop numbers
and the echoing client's bytes change between refreshes; follows the "next page" link (other
ids, the URL says where); filters by loop (only that loop's rows, fewer than all) and clears
the filter; sees the reactor events listed; saves a screenshot (SCREENSHOT path).

usage: status_page_browser.py REACTORD_BINARY SCREENSHOT.png"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, failures, verdict  # noqa: E402

CLIENTS = 120
HOLDER = r"""
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    got = b""
    while len(got) < 14:
        got += s.recv(14 - len(got))
    socks.append(s)
print("holding", flush=True)
deadline = time.monotonic() + 120          # bounded: the test ends long before
while time.monotonic() < deadline:
    socks[0].sendall(b"x" * 100)           # the first client keeps echoing
    got = b""
    while len(got) < 100:
        got += socks[0].recv(100 - len(got))
    time.sleep(0.2)
"""


def eventually(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except StaleElementReferenceException:  # the page re-rendered under us: look again
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.1)


def main():
    binary, screenshot = sys.argv[1], sys.argv[2]
    err = tempfile.TemporaryFile("w+")
    server = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                               "--control-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                               "--loops", "2"], stdout=subprocess.PIPE, stderr=err, text=True)
    holder = driver = None
    try:
        port = int(re.match(r"listening on 127\.0\.0\.1:(\d+)", server.stdout.readline()).group(1))

        def log():
            err.seek(0)
            return err.read()
        page = eventually("status page address in the log",
                          lambda: re.search(r"status page on (http://127\.0\.0\.1:\d+/)", log()))[1]
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(port), str(CLIENTS)],
                                  stdout=subprocess.PIPE, text=True)
        check(holder.stdout.readline().strip() == "holding", "the client holder did not connect")

        options = Options()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)
        driver.get(page)
        text = lambda element_id: driver.find_element(By.ID, element_id).text  # noqa: E731

        def cells(tbody):
            """The table's cell texts, read in one script (the page re-renders every second)."""
            return driver.execute_script(
                "return [...document.querySelectorAll(arguments[0] + ' tr')]"
                ".map(tr => [...tr.children].map(td => td.textContent));", "#" + tbody)

        # Live clients: 120 connections over two loops, server info filled in.
        eventually("120 connections shown", lambda: text("connections") == f"{CLIENTS}")
        check(text("state-badge").startswith("serving"), f"state badge: {text('state-badge')!r}")
        check(text("pid") == str(server.pid), f"pid {text('pid')!r} is not {server.pid}")
        loop_rows = driver.find_elements(By.CSS_SELECTOR, "#loops-body tr")
        check(len(loop_rows) == 2, f"{len(loop_rows)} loop rows")
        rows = lambda: cells("conns-body")  # noqa: E731
        first_page = eventually("a full first page", lambda: len(r := rows()) == 50 and r)
        print(f"page 1: {len(first_page)} rows; {text('page-label')}")

        # Numbers change: the loops' iterations and the echoing client's bytes.
        loops_before = cells("loops-body")
        first_row_before = rows()[0]
        eventually("loop stats change", lambda: cells("loops-body") != loops_before)
        # Columns: id loop peer state age idle in out buffered rtt; "in" grows with the echo.
        eventually("the echoing client's bytes change", lambda: rows()[0][6] != first_row_before[6])
        print("numbers changed: bytes in", first_row_before[6], "->", rows()[0][6])

        # Follow the page link: other ids, and the URL names the page.
        first_ids = [int(r[0]) for r in first_page]
        driver.find_element(By.ID, "page-next").click()
        second = eventually("the second page", lambda: (ids := [int(r[0]) for r in rows()])
                            and ids[0] > max(first_ids) and ids)
        check("start=" in driver.current_url, f"URL after the page link: {driver.current_url}")
        check(len(second) == 50, f"second page has {len(second)} rows")
        print(f"page 2: ids {second[0]}..{second[-1]}; {text('page-label')}")

        # Filter by loop 1: only loop 1's rows, fewer than all clients.
        driver.find_element(By.ID, "f-loop").send_keys("1")
        driver.find_element(By.ID, "f-apply").click()

        def loop_column():
            return [r[1] for r in rows()]
        filtered = eventually("rows of loop 1 only",
                              lambda: (col := loop_column()) and set(col) == {"1"} and col)
        check("loop=1" in driver.current_url, f"URL after filtering: {driver.current_url}")
        check(0 < len(filtered) < CLIENTS, f"{len(filtered)} rows for loop 1")
        print(f"filter loop=1: {len(filtered)} rows; {text('page-label')}")
        driver.find_element(By.ID, "f-clear").click()
        eventually("the filter cleared", lambda: set(loop_column()) == {"0", "1"})

        # Reactor events: listed with their counts.
        eventually("events listed", lambda: len(cells("events-body")) > CLIENTS)
        check("active" in text("event-counts"), f"event counts: {text('event-counts')!r}")

        os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
        check(driver.save_screenshot(screenshot), "save_screenshot failed")
        check(os.path.getsize(screenshot) > 10000, "screenshot is suspiciously small")
        print("screenshot:", screenshot)
    except AssertionError as e:
        check(False, str(e))
    finally:
        if driver is not None:
            driver.quit()
        if holder is not None:
            holder.kill()
            holder.wait()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=30)
            check(code == 0, f"reactord exited with {code}")
        except subprocess.TimeoutExpired:
            server.kill()
            check(False, "reactord did not stop")
        if failures:
            err.seek(0)
            print("reactord's log (tail):\n" + err.read()[-2000:])
    return verdict("status page (browser)")


if __name__ == "__main__":
    sys.exit(main())
