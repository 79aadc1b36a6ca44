"""Load test of stateless scoring over HTTP: the CreditPortal API against a tutorial baseline.

Both servers run under the same gunicorn command (DEBUG off for Django; CreditPortal with its
production settings file, creditportal/gunicorn_conf.py), one after the other,
on loopback; `wrk` (Debian: `apt-get install wrk`) drives each from a separate process with
the same JSON body, 32 connections for 30 s, and reports requests/s and the latency
distribution.

- **CreditPortal**: `POST /api/v1/scorecards/card_default/score/` with a token: DRF
  authentication, throttling and permissions, validation by the scorecard schema, the cached
  production model (hash-checked), probabilities, points, band, recommendation, four reasons
  and the segment, and a Prediction row written to the database for the audit.
- **Baseline**: a Flask app written the way public tutorials write one: unpickle the same
  Random Forest pipeline at start-up, and per request `pd.DataFrame([request.json])` ->
  `predict_proba` -> JSON. No authentication, validation, explanation or storage.

The model is card_default trained with fixed hyperparameters on the real extract when
`CREDITPORTAL_DATA_DIR` has it (synthetic otherwise), in a throwaway database: SQLite in a
temporary folder by default; with DATABASE_URL set (PostgreSQL), a database created on that
server for the run and dropped after it.

    .venv/bin/python bench/bench_api.py [--duration 30] [--connections 32] [--workers N]
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCORECARD = "card_default"
API_PATH = f"/api/v1/scorecards/{SCORECARD}/score/"
BASELINE_PATH = "/predict"

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=32)
    # One wrk thread drives 32 connections at these rates and leaves the CPU to the servers.
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--prepare", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.prepare))
        return 0
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk")
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="creditportal-bench-api-"))
    env = server_environment(workdir)
    throwaway_db = None
    if env.get("DATABASE_URL"):
        throwaway_db, env["DATABASE_URL"] = _create_database(env["DATABASE_URL"])
    try:
        print(f"Load average before: {', '.join(_loadavg())}")
        print("Preparing: database, card_default model, user and token…", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--prepare", str(workdir)], env=env, cwd=REPO, check=True
        )
        setup = json.loads((workdir / "setup.json").read_text())
        print(f"Model: {setup['model']}")
        body = json.dumps(setup["inputs"])
        runs = [
            (
                "CreditPortal API (Django + DRF)",
                # The production settings: models loaded, then gc.freeze(), per worker.
                ["creditportal.wsgi:application", "--config", "creditportal/gunicorn_conf.py"],
                API_PATH,
                setup["token"],
            ),
            (
                "Flask tutorial baseline",
                ["bench.bench_api:create_baseline_app()"],
                BASELINE_PATH,
                None,
            ),
        ]
        results = []
        for name, app, path, token in runs:
            print(
                f"\n{name}: gunicorn, {args.workers} workers; wrk, {args.connections} "
                f"connections, {args.duration} s",
                flush=True,
            )
            results.append((name, load_test(args, env, workdir, app, path, body, token)))
    finally:
        if throwaway_db:
            _drop_database(*throwaway_db)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")

    report(args, results, database="PostgreSQL" if throwaway_db else "SQLite (WAL)")
    return 0


def server_environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "creditportal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-anything-else",
        "CREDITPORTAL_FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1maWVsZC1rZXktMzItYnl0ZXMhISE=",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # wrk speaks plain HTTP on loopback
        "DJANGO_LOG_LEVEL": "WARNING",
        "CREDITPORTAL_VAR_DIR": str(workdir),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        # Throttling stays on (its cost is measured), at a rate the load never reaches.
        "API_THROTTLE_USER_RATE": "100000000/minute",
        "BENCH_PIPELINE": str(workdir / "pipeline.pkl"),
        "PYTHONPATH": str(REPO),
    }


def prepare(workdir: Path) -> None:
    """In a subprocess with the server's environment: migrate, train, promote, user, token,
    and the pickled pipeline for the baseline."""
    import pickle

    import django

    django.setup()
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from creditportal.api.tokens import api_token_issue
    from creditportal.roles import LOAN_OFFICER
    from ml.scorecards import get_scorecard
    from scoring.services.registry import model_version_promote_initial
    from scoring.services.training import model_train_and_register, training_data_load
    from scoring.serving import production_model

    call_command("migrate", verbosity=0)
    version = model_train_and_register(scorecard_key=SCORECARD, search=False)
    model_version_promote_initial(version=version)
    user = get_user_model().objects.create_user(username="bench-client", password=None)
    user.groups.add(Group.objects.get(name=LOAN_OFFICER))
    token = api_token_issue(user=user, client="bench")

    scorecard = get_scorecard(SCORECARD)
    frame = training_data_load(scorecard=scorecard).frame
    required = [field.name for field in scorecard.fields if field.required]
    record = frame.dropna(subset=required).iloc[0].to_dict()
    inputs = {
        field.name: _plain(record[field.name])
        for field in scorecard.fields
        if _plain(record.get(field.name)) is not None
    }
    pipeline = production_model(SCORECARD).model.pipeline
    with open(workdir / "pipeline.pkl", "wb") as file:
        pickle.dump(pipeline, file)
    pipeline.predict_proba(pd.DataFrame([inputs]))  # the baseline's body works as it is
    (workdir / "setup.json").write_text(
        json.dumps({"token": token.secret, "inputs": inputs, "model": version.label})
    )


def _plain(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def create_baseline_app():
    """The tutorial-style baseline (gunicorn 'bench.bench_api:create_baseline_app()')."""
    import pickle

    import pandas as pd
    from flask import Flask, jsonify, request

    app = Flask(__name__)
    with open(os.environ["BENCH_PIPELINE"], "rb") as file:
        model = pickle.load(file)  # noqa: S301 - the file this benchmark just wrote

    @app.route(BASELINE_PATH, methods=["POST"])
    def predict():
        data = request.get_json()
        probabilities = model.predict_proba(pd.DataFrame([data]))[0]
        return jsonify(
            {"prediction": int(probabilities.argmax()), "probabilities": probabilities.tolist()}
        )

    @app.route("/")
    def index():
        return "ok"

    return app


def load_test(args, env, workdir: Path, app: list[str], path: str, body: str, token) -> dict:
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            *app,
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}{path}"
        _wait_until_up(port)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        for _ in range(20):  # warm every worker: model loaded, connections open
            status = _post(url, body, headers)
            if status not in (200, 201):
                raise RuntimeError(f"{url} answered {status} before the load test")
        script = workdir / "post.lua"
        auth = f'wrk.headers["Authorization"] = "Token {token}"' if token else ""
        script.write_text(WRK_SCRIPT.format(body=_lua_string(body), auth=auth))
        output = subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return parse_wrk(output)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def parse_wrk(output: str) -> dict:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50": latency_ms("50%"),
        "p90": latency_ms("90%"),
        "p99": latency_ms("99%"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


def report(args, results, database: str) -> None:
    cpu = _cpu_model()
    print(
        f"\nMachine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; CreditPortal database: {database}"
    )
    print(f"Load average (1, 5, 15 min) at the end: {', '.join(_loadavg())}")
    print(
        f"Load: wrk, {args.connections} connections, {args.threads} threads, "
        f"{args.duration} s each, loopback; gunicorn with {args.workers} sync workers each\n"
    )
    print(f"{'server':34} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results:
        print(
            f"{name:34} {r['rps']:9.1f} {r['p50']:8.2f} {r['p90']:8.2f} {r['p99']:8.2f} "
            f"{r['non_2xx']:8d}"
        )
    (_, api), (_, baseline) = results
    ratio = api["rps"] / baseline["rps"] if baseline["rps"] else float("inf")
    verdict = "met" if ratio >= 3 and api["p99"] < 100 else "NOT met"
    print(
        f"\nCreditPortal / baseline: {ratio:.2f}x requests/s; CreditPortal p99 "
        f"{api['p99']:.1f} ms. Target (>= 3x, p99 < 100 ms): {verdict}."
    )
    for name, r in results:
        if r["socket_errors"] != "none":
            print(f"{name}: socket errors {r['socket_errors']}")


def _create_database(url: str) -> tuple[tuple[str, str], str]:
    """A fresh database on the server of `url`: ((maintenance url, name), its url)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"creditportal_bench_api_{os.getpid()}"
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(_libpq_url(maintenance), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return (maintenance, name), urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _drop_database(maintenance: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_libpq_url(maintenance), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def _loadavg() -> list[str]:
    """Other processes on the machine skew the figures: they are printed with them."""
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["?"] * 3


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def _post(url: str, body: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        print(error.read().decode()[:500])
        return error.code


if __name__ == "__main__":
    sys.exit(main())
