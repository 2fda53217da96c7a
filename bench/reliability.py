#!/usr/bin/env python3
"""Helpers of bench/reliability.sh (standard library only).

Subcommands (each prints one JSON object on stdout when it has a result):

  gen     --bin B --out DIR --count N [--desc-bytes D] [--doc-bytes T]
          [--endorsers K] [--tag T]
          N signed documents (``marketplace build`` + ``marketplace sign``,
          self-signed RSA-2048 certificates carrying the endorsers' e-mails),
          DIR/docs/doc-NNNNN.xml and DIR/docs.txt; with --desc-bytes the
          description is D bytes of words; with --doc-bytes the document is
          padded to about T bytes with an element of another namespace
          (application metadata, which the format keeps but never reads).
  upload  --base URL --list FILE --out DIR [--clients C] [--retry] [--deadline S]
          uploads every listed document once (C threads); with --retry a
          document answered 503 or a broken connection is sent again (after
          --retry-sleep s) until --deadline. Every attempt goes to
          DIR/attempts.tsv (finished at, document, status, Retry-After,
          answer, milliseconds), the final outcome of each document to
          DIR/results.tsv (document, status, Location).
  verify  --base URL --results FILE
          every acknowledged document (201, or 200 "already stored") read
          back with GET /metadata/{id}/{email}/{created}: byte for byte?
  flood   --host H --port P --flood-source A --connections K --duration S
          --search-source A2 --queries FILE
          keeps K idle TCP connections from A open (re-opening the ones the
          server closes) while a client on A2 searches, one new connection
          per request.
  bomb    --base-doc FILE --out DIR
          writes the namespace-bomb variants (unsigned) into DIR.
  cpu     --base URL --pid PID --repeat R FILE...
          POSTs each file R times and reports the server's CPU time (utime +
          stime of /proc/PID/stat) per upload and the statuses.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import random
import resource
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

WORDS = (
    "ubuntu debian centos rocky alma fedora alpine image virtual machine cloud grid cluster "
    "compute storage network secure updated kernel packages release stable minimal tools "
    "python java rust compiler scientific analysis physics biology simulation workflow batch "
    "monitoring docker jupyter cuda kubernetes condor postgresql server worker node hpc "
    "notebook tensorflow pytorch openmpi slurm xrootd voms proxy certificate federated"
).split()


def log(msg):
    print(f"reliability.py: {msg}", file=sys.stderr, flush=True)


# --- gen ---------------------------------------------------------------------


def make_cert(outdir, k, tag):
    cert = os.path.join(outdir, f"endorser{k}.pem")
    key = os.path.join(outdir, f"endorser{k}.key")
    if not os.path.exists(cert):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
             "-out", cert, "-days", "3650", "-subj",
             f"/C=EU/O=Reliability Suite/CN=Endorser {k}",
             "-addext", f"subjectAltName=email:endorser{k}.{tag}@reliability.example.org"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def words(rng, nbytes):
    """Words, at most nbytes (and nearly that many) bytes."""
    out, size = [], 0
    while True:
        w = rng.choice(WORDS)
        if size + len(w) + 1 > nbytes:
            return " ".join(out)
        out.append(w)
        size += len(w) + 1


def run(cmd):
    """Runs a command; a failure stops with what it printed."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        lines = [line for line in p.stdout.splitlines() if line.strip()]
        raise SystemExit(f"{os.path.basename(cmd[0])} {cmd[1]} failed (exit {p.returncode}): "
                         + " / ".join(lines[:4]))


# What signing adds to a document: the signature and the certificate.
SIGNATURE_BYTES = 5000


def gen(a):
    os.makedirs(os.path.join(a.out, "docs"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "keys"), exist_ok=True)
    creds = [make_cert(os.path.join(a.out, "keys"), k, a.tag) for k in range(a.endorsers)]
    oses = [("ubuntu", "24.04"), ("debian", "12"), ("centos", "7.9"), ("rocky", "9.4"),
            ("alpine", "3.20"), ("fedora", "40")]
    arches = ["x86_64", "aarch64", "i686"]

    def one(i):
        rng = random.Random(f"{a.tag}-{i}-{a.seed}")
        sha1 = "%040x" % rng.getrandbits(160)
        sha256 = "%064x" % rng.getrandbits(256)
        os_, ver = rng.choice(oses)
        arch = rng.choice(arches)
        unsigned = os.path.join(a.out, "docs", f"doc-{i:05d}.unsigned.xml")
        signed = os.path.join(a.out, "docs", f"doc-{i:05d}.xml")
        placeholder = "RELIABILITY-DESCRIPTION-PLACEHOLDER"
        head = f"{os_} {ver} {arch} "
        comment = placeholder if a.desc_bytes else head + words(rng, 200)
        run([a.bin, "build", "--no-md5", "--no-sha512", "--sha1", sha1, "--sha256", sha256,
             "--bytes", str(rng.randrange(10**8, 10**10)), "--os", os_, "--os-version", ver,
             "--os-arch", arch, "--title", f"{a.tag} {os_} {ver} {arch} image {i}",
             "--comment", comment, "--format", "qcow2", "--hypervisor", "kvm",
             "--location", f"https://images.reliability.example.org/{a.tag}/{i}.img",
             "--valid", "5y", "-o", unsigned, f"{a.tag}-{i}.img"])
        with open(unsigned, encoding="utf-8") as f:
            text = f.read()
        if a.desc_bytes:
            # (A command-line argument holds at most 128 KiB: put in afterwards.)
            text = text.replace(placeholder, head + words(rng, a.desc_bytes - len(head)), 1)
        room = a.doc_bytes - SIGNATURE_BYTES - len(text.encode())
        if a.doc_bytes and room > 200:
            # Application metadata (another namespace): kept and signed,
            # never read by the format's rules.
            open_tag = '<rel:notes xmlns:rel="http://reliability.example.org/ns#">'
            close_tag = "</rel:notes>\n  "
            pad = words(rng, room - len(open_tag) - len(close_tag))
            text = text.replace("</rdf:Description>",
                                open_tag + pad + close_tag + "</rdf:Description>", 1)
        with open(unsigned, "w", encoding="utf-8") as f:
            f.write(text)
        cert, key = creds[i % len(creds)]
        run([a.bin, "sign", "--cert", cert, "--key", key, "-o", signed, unsigned])
        os.unlink(unsigned)
        return signed

    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        paths = list(pool.map(one, range(a.count)))
    with open(os.path.join(a.out, "docs.txt"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    sizes = [os.path.getsize(p) for p in paths]
    print(json.dumps({"documents": len(paths), "bytes": sum(sizes), "largest": max(sizes)}))


# --- HTTP --------------------------------------------------------------------


def request(base, method, path, body=None, headers=None, timeout=60, source=None):
    """One request on a new connection: (status, headers dict, body) or
    (0, {}, error text) when the connection failed."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    except (OSError, http.client.HTTPException) as e:
        return 0, {}, f"{type(e).__name__}: {e}".encode()
    finally:
        conn.close()


# --- upload ------------------------------------------------------------------


def upload(a):
    os.makedirs(a.out, exist_ok=True)
    with open(a.list) as f:
        docs = [line.strip() for line in f if line.strip()]
    lock = threading.Lock()
    queue = list(reversed(docs))
    attempts = open(os.path.join(a.out, "attempts.tsv"), "a", buffering=1)
    results = {}
    deadline = time.monotonic() + a.deadline

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                doc = queue.pop()
            with open(doc, "rb") as f:
                body = f.read()
            while True:
                started = time.monotonic()
                status, hdrs, data = request(
                    a.base, "POST", "/metadata", body,
                    {"Content-Type": "application/rdf+xml"}, timeout=a.timeout)
                text = data[:300].decode("utf-8", "replace").replace("\t", " ").replace("\n", " ")
                with lock:
                    attempts.write(f"{time.time():.3f}\t{doc}\t{status}\t"
                                   f"{hdrs.get('retry-after', '-')}\t{text}\t"
                                   f"{(time.monotonic() - started) * 1000:.0f}\n")
                retryable = status == 0 or status == 503
                if a.retry and retryable and time.monotonic() < deadline:
                    time.sleep(a.retry_sleep)
                    continue
                with lock:
                    results[doc] = (status, hdrs.get("location", "-"))
                break
            if a.pace:
                time.sleep(a.pace)

    threads = [threading.Thread(target=worker) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    attempts.close()
    with open(os.path.join(a.out, "results.tsv"), "w") as f:
        for doc in docs:
            status, location = results.get(doc, (-1, "-"))
            f.write(f"{doc}\t{status}\t{location}\n")
    counts = {}
    for status, _ in results.values():
        counts[str(status)] = counts.get(str(status), 0) + 1
    print(json.dumps({"documents": len(docs), "final": counts}))


def verify(a):
    checked = same = 0
    problems = []
    with open(a.results) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for doc, status, location in rows:
        if status not in ("200", "201"):
            continue
        checked += 1
        path = urllib.parse.urlsplit(location).path
        status, hdrs, data = request(a.base, "GET", path, headers={"Accept": "application/rdf+xml"})
        with open(doc, "rb") as f:
            want = f.read()
        if status == 200 and data == want:
            same += 1
        else:
            what = f"HTTP {status}" if status != 200 else f"{len(data)} bytes differ from {len(want)}"
            problems.append(f"{os.path.basename(doc)}: {what}")
    print(json.dumps({"acknowledged": checked, "identical": same, "problems": problems[:10],
                      "problem_count": len(problems)}))


# --- flood -------------------------------------------------------------------


def alive(sock):
    """Whether the server still holds this connection open."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        return data != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def flood(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.connections + 1024)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    stop = threading.Event()
    stats = {"connect_attempts": 0, "connect_failures": 0, "samples": []}
    with open(a.queries) as f:
        queries = [q.strip() for q in f if q.strip()]

    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((a.flood_source, 0))
        s.settimeout(2)
        stats["connect_attempts"] += 1
        try:
            s.connect((a.host, a.port))
            s.setblocking(False)  # (a timeout would make a peek wait)
            return s
        except OSError:
            stats["connect_failures"] += 1
            s.close()
            return None

    socks = []

    def flooder():
        for _ in range(a.connections):
            if stop.is_set():
                break
            s = connect()
            if s:
                socks.append(s)
        time.sleep(1.5)
        first = True
        while not stop.is_set():
            open_now = []
            for s in socks:
                if alive(s):
                    open_now.append(s)
                else:
                    s.close()
            stats["samples"].append(len(open_now))
            if first:
                stats["admitted_first"] = len(open_now)
                first = False
            socks[:] = open_now
            # Re-open what the server closed: the flood keeps knocking.
            for _ in range(a.connections - len(socks)):
                if stop.is_set():
                    break
                s = connect()
                if s:
                    socks.append(s)
            stop.wait(1.0)

    searches = []

    def searcher():
        i = 0
        while not stop.is_set():
            q = queries[i % len(queries)]
            i += 1
            t = time.monotonic()
            status, _, data = request(f"http://{a.host}:{a.port}", "GET",
                                      "/api/v1/images?q=" + urllib.parse.quote_plus(q),
                                      headers={"Connection": "close"}, timeout=15,
                                      source=a.search_source)
            ms = (time.monotonic() - t) * 1000
            err = "" if status == 200 else data[:120].decode("utf-8", "replace")
            searches.append((status, ms, err))
            time.sleep(a.search_pause)

    ft = threading.Thread(target=flooder)
    ft.start()
    time.sleep(a.search_delay)
    st = [threading.Thread(target=searcher) for _ in range(a.search_clients)]
    for t in st:
        t.start()
    time.sleep(a.duration)
    stop.set()
    for t in st + [ft]:
        t.join()
    for s in socks:
        s.close()
    ok = [ms for status, ms, _ in searches if status == 200]
    bad = [(status, err) for status, _, err in searches if status != 200]
    ok.sort()

    def pct(p):
        return round(ok[min(len(ok) - 1, int(len(ok) * p))], 1) if ok else None

    samples = stats["samples"]
    print(json.dumps({
        "connect_attempts": stats["connect_attempts"],
        "connect_failures": stats["connect_failures"],
        "admitted_first": stats.get("admitted_first"),
        "open_max": max(samples) if samples else None,
        "open_min": min(samples) if samples else None,
        "searches": len(searches), "search_ok": len(ok), "search_failed": len(bad),
        "failures": [f"{s}: {e}" for s, e in bad[:5]],
        "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": round(ok[-1], 1) if ok else None,
    }))


# --- namespace bomb ----------------------------------------------------------


def bomb(a):
    """Namespace-bomb variants of an (unsigned) document: nested elements
    put in as the last property of rdf:Description, each declaring many
    prefixes, within the markup limits (64 attributes, 128 levels)."""
    with open(a.base_doc, encoding="utf-8") as f:
        base = f.read()
    os.makedirs(a.out, exist_ok=True)
    anchor = "</rdf:Description>"
    assert anchor in base, "no </rdf:Description> in the base document"

    def nested(levels, prefixes, fresh=True, uri_pad=0, literal=False):
        parts = []
        pad = "x" * uri_pad
        for level in range(levels):
            decls = []
            for p in range(prefixes):
                name = f"p{level}_{p}" if fresh else f"p{p}"
                decls.append(f' xmlns:{name}="u:{level}:{p}{pad}"')
            own = f"p{level}_0" if fresh else "p0"
            attr = ' rdf:parseType="Literal"' if literal and level == 0 else ""
            parts.append(f"<{own}:e{level}{attr}{''.join(decls)}>")
        inner = "".join(parts)
        closing = "".join(
            f"</{(f'p{level}_0' if fresh else 'p0')}:e{level}>" for level in reversed(range(levels)))
        return inner + closing

    def flat(count, prefixes):
        out = []
        for k in range(count):
            decls = "".join(f' xmlns:q{k}_{p}="u:{k}:{p}"' for p in range(prefixes))
            out.append(f"<q{k}_0:f{k}{decls}>x</q{k}_0:f{k}>")
        return "".join(out)

    variants = {
        # 126 nested elements x 62 fresh prefixes (~159 KB): 7812 in scope at the bottom
        "nested-126x62": nested(126, 62),
        # the same 62 prefixes re-declared on each level (others' URIs)
        "redeclared-126x62": nested(126, 62, fresh=False),
        # inside an XML literal (rdf:parseType="Literal": the RDF pass keeps the markup)
        "literal-126x62": nested(126, 62, literal=True),
        # 126 sibling elements x 62 prefixes each (nothing accumulates)
        "flat-126x62": flat(126, 62),
        # nested, long namespace URIs: close to the 1 MiB upload limit
        "nested-long-uris-126x62": nested(126, 62, uri_pad=100),
        # within the format's namespace limits (16 declarations per element,
        # 32 in scope, 1024 in a document): siblings, 1008 declarations
        "flat-63x16": flat(63, 16),
    }
    written = {}
    for name, blob in variants.items():
        text = base.replace(anchor, blob + anchor, 1)
        path = os.path.join(a.out, f"{name}.xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written[name] = len(text.encode())
    print(json.dumps(written))


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def cpu(a):
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    # The server's own background work (lock holder, checkpoints), per second.
    t0, c0 = time.monotonic(), cpu_ticks(a.pid)
    time.sleep(2)
    idle_ms_per_s = (cpu_ticks(a.pid) - c0) * 1000 / hz / (time.monotonic() - t0)
    for path in a.files:
        with open(path, "rb") as f:
            body = f.read()
        statuses, walls, first = {}, [], ""
        c0 = cpu_ticks(a.pid)
        t0 = time.monotonic()
        for _ in range(a.repeat):
            t = time.monotonic()
            status, _, data = request(a.base, "POST", "/metadata", body,
                                      {"Content-Type": "application/rdf+xml", "Accept": "text/plain"},
                                      timeout=120)
            walls.append((time.monotonic() - t) * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            first = first or data[:160].decode("utf-8", "replace").split("\n")[0]
        elapsed = time.monotonic() - t0
        used_ms = (cpu_ticks(a.pid) - c0) * 1000 / hz - idle_ms_per_s * elapsed
        out[os.path.basename(path)[:-4]] = {
            "bytes": len(body), "statuses": statuses, "answer": first,
            "cpu_ms_per_upload": round(max(used_ms, 0) / a.repeat, 1),
            "wall_ms_per_upload": round(sum(walls) / len(walls), 1),
        }
    summary, answers = [], {}
    for name, v in out.items():
        st = "/".join(f"{n}x{s}" if n > 1 else s for s, n in sorted(v["statuses"].items()))
        answers.setdefault(v["answer"][:140], []).append(name)
        summary.append(f"{name} ({v['bytes'] // 1000} kB): HTTP {st}, "
                       f"{v['cpu_ms_per_upload']:g} ms CPU")
    said = "; ".join(f"{', '.join(names)}: {answer!r}" for answer, names in answers.items())
    print(json.dumps({"idle_cpu_ms_per_s": round(idle_ms_per_s, 2), "variants": out,
                      "summary": "; ".join(summary) + "; the server said: " + said}))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--bin", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--desc-bytes", type=int, default=0)
    g.add_argument("--doc-bytes", type=int, default=0)
    g.add_argument("--endorsers", type=int, default=8)
    g.add_argument("--tag", default="rel")
    g.add_argument("--seed", default=str(os.getpid()))
    u = sub.add_parser("upload")
    u.add_argument("--base", required=True)
    u.add_argument("--list", required=True)
    u.add_argument("--out", required=True)
    u.add_argument("--clients", type=int, default=8)
    u.add_argument("--retry", action="store_true")
    u.add_argument("--retry-sleep", type=float, default=0.5)
    u.add_argument("--deadline", type=float, default=120)
    u.add_argument("--timeout", type=float, default=60)
    u.add_argument("--pace", type=float, default=0, help="pause of each client between documents")
    v = sub.add_parser("verify")
    v.add_argument("--base", required=True)
    v.add_argument("--results", required=True)
    fl = sub.add_parser("flood")
    fl.add_argument("--host", default="127.0.0.1")
    fl.add_argument("--port", type=int, required=True)
    fl.add_argument("--flood-source", default="127.0.0.2")
    fl.add_argument("--connections", type=int, default=3000)
    fl.add_argument("--duration", type=float, default=20)
    fl.add_argument("--search-source", default="127.0.0.3")
    fl.add_argument("--search-clients", type=int, default=1)
    fl.add_argument("--search-delay", type=float, default=1.0)
    fl.add_argument("--search-pause", type=float, default=0.05)
    fl.add_argument("--queries", required=True)
    b = sub.add_parser("bomb")
    b.add_argument("--base-doc", required=True)
    b.add_argument("--out", required=True)
    c = sub.add_parser("cpu")
    c.add_argument("--base", required=True)
    c.add_argument("--pid", type=int, required=True)
    c.add_argument("--repeat", type=int, default=5)
    c.add_argument("files", nargs="+")
    a = p.parse_args()
    {"gen": gen, "upload": upload, "verify": verify, "flood": flood, "bomb": bomb,
     "cpu": cpu}[a.cmd](a)


if __name__ == "__main__":
    main()
