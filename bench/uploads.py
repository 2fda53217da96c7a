#!/usr/bin/env python3
"""Uploads signed documents to a marketplace and prints the rate.

Usage: uploads.py BASE_URL DOCS_DIR CLIENTS COUNT

Posts the first COUNT documents under DOCS_DIR (`POST /metadata`, one
document a request, keep-alive) from CLIENTS threads. The documents of one
identifier all go through one thread, in name order (bench_data names an
entry's older history with smaller numbers), so that a newer entry never
arrives before an older one of its pair. Prints one line:

    requests N created C other O seconds S requests/s R created/s K

where `other` counts the answers that were not 201 (an expired or
deprecated-only document the server refuses, a 200 for one already there),
each by status on a second line.
"""

import collections
import http.client
import pathlib
import sys
import threading
import time
import urllib.parse
import zlib


def main() -> None:
    base, docs_dir, clients, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    url = urllib.parse.urlsplit(base)
    paths = sorted(pathlib.Path(docs_dir).rglob("*.xml"))[:count]
    queues = [[] for _ in range(clients)]
    for path in paths:
        identifier = path.name.rsplit("-", 1)[0]
        queues[zlib.crc32(identifier.encode()) % clients].append(path.read_bytes())
    statuses = collections.Counter()
    lock = threading.Lock()

    def client(bodies):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        seen = collections.Counter()
        for body in bodies:
            connection.request(
                "POST", "/metadata", body=body, headers={"Content-Type": "application/rdf+xml"}
            )
            response = connection.getresponse()
            response.read()
            seen[response.status] += 1
        connection.close()
        with lock:
            statuses.update(seen)

    threads = [threading.Thread(target=client, args=(q,)) for q in queues]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    total = sum(statuses.values())
    created = statuses[201]
    print(
        f"requests {total} created {created} other {total - created} seconds {seconds:.2f} "
        f"requests/s {total / seconds:.1f} created/s {created / seconds:.1f}"
    )
    print("statuses " + " ".join(f"{s}:{n}" for s, n in sorted(statuses.items())))


if __name__ == "__main__":
    main()
