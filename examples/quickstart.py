"""A first look at nbsched: APScheduler's API, plus run history.

Run it with ``python examples/quickstart.py``: it schedules three jobs, lets them run for a few seconds, then
prints the job list (APScheduler's layout) and the run history.
"""

from __future__ import annotations

import time

from nbsched.schedulers.background import BackgroundScheduler


def report(region: str) -> str:
    print(f"report for {region} at {time.strftime('%H:%M:%S')}")
    return f"{region}: ok"


def flaky() -> None:
    raise ConnectionError("the database is down")


def main() -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(report, "interval", seconds=1, args=["EU"], id="report-eu")
    scheduler.add_job(flaky, "interval", seconds=2, id="flaky")
    scheduler.add_job(report, "cron", day_of_week="mon-fri", hour=9, args=["US"], id="weekday-9am")
    scheduler.start()
    time.sleep(4.5)
    scheduler.print_jobs()
    print()
    print(f"{'job':<12} {'scheduled (UTC)':<20} {'status':<10} {'error'}")
    for run in scheduler.runs(limit=10):
        error = f"{run.error_type}: {run.error_message}" if run.error_type else ""
        print(f"{run.job_id:<12} {run.scheduled_at:%Y-%m-%d %H:%M:%S}  {run.status:<10} {error}")
    for job in scheduler.get_jobs():
        print(f"{job.id}: {job.trigger.describe()}")
    scheduler.shutdown()


if __name__ == "__main__":
    main()
