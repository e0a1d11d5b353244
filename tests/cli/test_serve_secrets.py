"""``nbsched serve``'s output never holds a secret value: not in its log lines, nor in what jobs print or the
tracebacks of their failures (issue 15, point 1)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, start_serve
from tests.cli.test_subprocess import _runs, _wait_for
from tests.leaky import holding

pytestmark = pytest.mark.realtime

PASSWORD = "serve-5ecret-pass"  # secret by its name
TAGGED = "serve-tagged-value"  # marked with --secret-param


@pytest.mark.slow
def test_what_jobs_print_and_their_tracebacks_are_masked(cli: Cli, home: Path) -> None:
    # One job stored before serve starts, one added while it runs (and run at once).
    assert cli("add", "tests.leaky:login", "--every", "1h", "-p", f"password={PASSWORD}", "--id", "named").code == 0
    serve = start_serve(home, 0.5)
    try:
        assert cli("run", "named", "--claim-timeout", "10").code == 0
        add = ("add", "tests.leaky:fail_with", "--every", "1h", "-p", f"message={TAGGED}", "--secret-param", "message")
        assert cli(*add, "--id", "tagged").code == 0
        assert cli("run", "tagged", "--claim-timeout", "10").code == 0
        assert _wait_for(lambda: sum(r["status"] == "failed" for r in _runs(home)) == 2, 60), _runs(home)
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    assert serve.returncode == 0, err
    assert holding(out + err, PASSWORD, TAGGED) == [], out + err
    assert out.count("printing ***\n") == 2, out
    assert err.count("stderr ***\n") == 2, err
    assert err.count("RuntimeError: login with *** refused") == 2, err
    assert err.count("KeyError: '***'") == 2, err


def test_a_job_submitted_before_the_next_read_of_the_store_is_masked_from_its_first_line() -> None:
    from nbsched.cli.serve import _Secrets
    from nbsched.job import Job
    from nbsched.schedulers.background import BackgroundScheduler

    class Store:  # has not seen the job yet
        def get_all_jobs(self) -> list[Job]:
            return []

    secrets = _Secrets(Store())
    try:
        job = BackgroundScheduler().add_job("tests.leaky:login", "date", kwargs={"password": PASSWORD}, id="new")
        assert secrets.current().text(PASSWORD) == PASSWORD
        secrets.note(job)
        assert secrets.current().text(PASSWORD) == "***"
        secrets.refresh()  # a read that still does not see it keeps what was noted
        assert secrets.current().text(PASSWORD) == "***"
    finally:
        secrets.stop()
