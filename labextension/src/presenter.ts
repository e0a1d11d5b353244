/**
 * What the side panel shows, computed from API answers by plain functions (STYLE.md #10): the panel
 * only renders these view models, and `test/presenter.spec.ts` checks them without a browser.
 */
import { nullTranslator, type TranslationBundle } from '@jupyterlab/translation';

import {
  ACTIVE_STATUSES,
  type HealthOut,
  type JobOut,
  type JobRunOut,
  type OutputKind,
  type RunOut
} from './api';
import { DEFAULT_REFRESH_INTERVALS, type RefreshIntervals } from './settings';

/**
 * The words of the panel when JupyterLab gives no translator (and in tests): English as written.
 * Every function that returns words takes the bundle of `ITranslator.load('nbsched')`.
 */
export const ENGLISH: TranslationBundle = nullTranslator.load('nbsched');

/** A status as the panel shows it. */
export interface StatusView {
  /** the API's status, or `"none"` */
  status: string;
  /** words for it: "succeeded", "timed out", "not run yet" */
  label: string;
}

/** A job as the panel shows it. */
export interface JobView {
  id: string;
  name: string;
  /** what runs: a notebook path, a function reference, "cell" */
  target: string;
  /** the trigger in words */
  schedule: string;
  /** "in 5 min (14:05)", "paused", "no further runs" */
  next: string;
  /** the exact next run time, for a tooltip */
  nextTitle: string;
  last: StatusView;
  /** "3 runs" */
  runs: string;
  paused: boolean;
  canPause: boolean;
  canResume: boolean;
  canRunNow: boolean;
}

/** An output link of a run. */
export interface OutputLink {
  kind: OutputKind;
  label: string;
  /** the notebook downloads; HTML opens in a new tab */
  download: boolean;
}

/** A run as the panel shows it. */
export interface RunView {
  id: string;
  status: StatusView;
  /** when it started (or was due, if it has not started) */
  when: string;
  whenTitle: string;
  /** "12 s", "running for 3 s", "" */
  duration: string;
  progress: string;
  /** "ValueError: bad region" (with the failing cell when known), or "" */
  error: string;
  traceback: string;
  /** notes that are not the error: fire times coalesced into the run, an output that could not be written */
  warnings: string[];
  attempt: string;
  outputs: OutputLink[];
  canCancel: boolean;
  canDelete: boolean;
}

/** The panel's header line about the server's scheduler. */
export interface HealthView {
  ok: boolean;
  text: string;
}

/** The statuses in words (a function, so that each call goes through the translator). */
function statusLabels(trans: TranslationBundle): Record<string, string> {
  return {
    scheduled: trans.__('scheduled'),
    running: trans.__('running'),
    succeeded: trans.__('succeeded'),
    failed: trans.__('failed'),
    timed_out: trans.__('timed out'),
    cancelled: trans.__('cancelled'),
    lost: trans.__('lost'),
    skipped: trans.__('skipped'),
    none: trans.__('not run yet')
  };
}

/** A status in words. */
export function statusView(status: string | null | undefined, trans: TranslationBundle = ENGLISH): StatusView {
  const key = status ?? 'none';
  return { status: key, label: statusLabels(trans)[key] ?? key.replace(/_/g, ' ') };
}

/** Seconds as people say them: "0.4 s", "12 s", "3 min 4 s", "2 h 5 min", "1 d 3 h". */
export function formatDuration(seconds: number | null | undefined, trans: TranslationBundle = ENGLISH): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  if (seconds < 10) {
    return trans.__('%1 s', Math.round(seconds * 10) / 10);
  }
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [
    [(count: number) => trans.__('%1 d', count), 86400],
    [(count: number) => trans.__('%1 h', count), 3600],
    [(count: number) => trans.__('%1 min', count), 60],
    [(count: number) => trans.__('%1 s', count), 1]
  ] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count || (size === 1 && !parts.length)) {
      parts.push(unit(count));
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** How far `iso` is from `now`: "in 5 min", "3 s ago", "now". */
export function formatRelative(iso: string, now: Date, trans: TranslationBundle = ENGLISH): string {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  if (!Number.isFinite(seconds)) {
    return '';
  }
  if (Math.abs(seconds) < 1) {
    return trans.__('now');
  }
  // whole seconds under a minute, whole minutes above: "in 59 min 57 s" reads worse than "in 1 h"
  const size = Math.abs(seconds);
  const span = formatDuration(size < 60 ? Math.round(size) : Math.round(size / 60) * 60, trans);
  return seconds > 0 ? trans.__('in %1', span) : trans.__('%1 ago', span);
}

/** A time in the browser's zone: "14:05:03" today, "Dec 1, 08:00" on another day. */
export function formatClock(iso: string, now: Date, locale?: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) {
    return iso;
  }
  const sameDay = time.toDateString() === now.toDateString();
  return sameDay
    ? time.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
    : time.toLocaleString(locale, {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false
      });
}

/** What a job runs, in a few words. */
export function jobTarget(job: JobOut, trans: TranslationBundle = ENGLISH): string {
  const task = job.task as { type: string; path?: unknown; ref?: unknown };
  if (task.type === 'notebook' && typeof task.path === 'string') {
    return task.path;
  }
  if (task.type === 'function' && typeof task.ref === 'string') {
    return task.ref;
  }
  return task.type === 'cell' ? trans.__('notebook cell') : task.type;
}

/** A job as the panel shows it, at `now`. */
export function jobView(job: JobOut, now: Date, trans: TranslationBundle = ENGLISH, locale?: string): JobView {
  let next: string;
  let nextTitle = '';
  if (job.next_run_time) {
    next = trans.__('%1 (%2)', formatRelative(job.next_run_time, now, trans), formatClock(job.next_run_time, now, locale));
    nextTitle = new Date(job.next_run_time).toString();
  } else {
    next = job.paused ? trans.__('paused') : trans.__('no further runs');
  }
  const count = job.run_count;
  return {
    id: job.id,
    name: job.name,
    target: jobTarget(job, trans),
    schedule: job.trigger_description,
    next,
    nextTitle,
    last: statusView(job.last_run?.status, trans),
    runs: trans._n('%1 run', '%1 runs', count),
    paused: job.paused,
    canPause: job.next_run_time !== null,
    canResume: job.paused,
    // a paused job runs once and stays paused (run_now's one meaning); a finished one-off job has nothing to run
    canRunNow: job.next_run_time !== null || job.paused
  };
}

function outputLabels(trans: TranslationBundle): Partial<Record<OutputKind, string>> {
  return {
    html: trans.__('HTML'),
    ipynb: trans.__('Notebook'),
    stdout: trans.__('stdout'),
    stderr: trans.__('stderr'),
    kernel_log: trans.__('kernel log')
  };
}

/** A run as the panel shows it, at `now`. */
export function runView(run: RunOut, now: Date, trans: TranslationBundle = ENGLISH, locale?: string): RunView {
  const active = ACTIVE_STATUSES.has(run.status);
  const started = run.started_at ?? run.scheduled_at;
  let duration = formatDuration(run.duration, trans);
  if (!duration && run.status === 'running' && run.started_at) {
    const seconds = (now.getTime() - new Date(run.started_at).getTime()) / 1000;
    duration = trans.__('running for %1', formatDuration(seconds, trans));
  }
  let error = '';
  if (run.error_type || run.error_message) {
    error = [run.error_type, run.error_message].filter(Boolean).join(': ');
    if (run.cell_index !== null) {
      error += trans.__(' (cell %1)', run.cell_index + 1);
    }
  }
  const order: OutputKind[] = ['html', 'ipynb', 'stdout', 'stderr', 'kernel_log'];
  const labels = outputLabels(trans);
  const outputs = order
    .filter(kind => run.outputs.includes(kind))
    .map(kind => ({ kind, label: labels[kind] ?? kind, download: kind === 'ipynb' }));
  return {
    id: run.id,
    status: statusView(run.status, trans),
    when: formatClock(started, now, locale),
    whenTitle: run.started_at
      ? trans.__('started %1', new Date(started).toString())
      : trans.__('due %1', new Date(started).toString()),
    duration,
    // "cell 4/4" says something only while the run is under way
    progress: active ? (run.progress ?? '') : '',
    error,
    traceback: run.traceback ?? '',
    warnings: run.warnings,
    attempt: run.attempt > 1 ? trans.__('attempt %1', run.attempt) : '',
    outputs,
    canCancel: active,
    canDelete: !active
  };
}

/** The header line about the server's scheduler. */
export function healthView(
  health: HealthOut | null,
  error: string | null,
  trans: TranslationBundle = ENGLISH
): HealthView {
  if (error) {
    return { ok: false, text: error };
  }
  if (!health) {
    return { ok: true, text: trans.__('Connecting…') };
  }
  if (!health.ok) {
    return { ok: false, text: health.error ?? trans.__('nbsched is not available') };
  }
  const zone = health.scheduler.timezone ? ` · ${health.scheduler.timezone}` : '';
  const state = health.scheduler.state;
  if (state === 'running' && health.scheduler.runs_jobs) {
    return { ok: true, text: trans.__('Scheduler running on this server%1', zone) };
  }
  if (state === 'paused') {
    return {
      ok: true,
      text: trans.__(
        'This server does not run jobs (run_scheduler is off): another process over the store runs them%1',
        zone
      )
    };
  }
  return { ok: false, text: trans.__('Scheduler %1%2', state, zone) };
}

/** Whether anything is under way, so the panel refreshes more often. */
export function hasActiveRuns(jobs: JobOut[], runs: RunOut[]): boolean {
  return (
    runs.some(run => ACTIVE_STATUSES.has(run.status)) ||
    jobs.some(job => job.last_run !== null && ACTIVE_STATUSES.has(job.last_run.status))
  );
}

/**
 * Milliseconds until the panel should refresh: `intervals.active` while runs are under way or due
 * within a minute, else `intervals.idle` (the settings `activeRefreshInterval`, `idleRefreshInterval`).
 */
export function refreshDelay(
  jobs: JobOut[],
  runs: RunOut[],
  now: Date,
  intervals: RefreshIntervals = DEFAULT_REFRESH_INTERVALS
): number {
  if (hasActiveRuns(jobs, runs)) {
    return intervals.active;
  }
  const soon = jobs.some(job => {
    if (!job.next_run_time) {
      return false;
    }
    const wait = new Date(job.next_run_time).getTime() - now.getTime();
    return wait < 60_000;
  });
  return soon ? intervals.active : intervals.idle;
}

/** What the panel tells after "Run now": the server's sentence, a warning when no scheduler will start the run. */
export interface RunNowNotice {
  kind: 'info' | 'warning';
  message: string;
}

/**
 * The notice of a `POST jobs/{id}/run` reply: the same sentence the CLI, the magics and the ipywidgets panel show
 * (`nbsched.liveness.RunNow.message`), as a warning when no scheduler runs jobs over the store.
 */
export function runNowNotice(reply: JobRunOut): RunNowNotice {
  return { kind: reply.warning ? 'warning' : 'info', message: reply.message };
}
