/**
 * What the side panel shows, computed from API answers by plain functions (STYLE.md #10): the panel
 * only renders these view models, and `test/presenter.spec.ts` checks them without a browser.
 */
import {
  ACTIVE_STATUSES,
  type HealthOut,
  type JobOut,
  type OutputKind,
  type RunOut
} from './api';

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

const STATUS_LABELS: Record<string, string> = {
  scheduled: 'scheduled',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed out',
  cancelled: 'cancelled',
  lost: 'lost',
  skipped: 'skipped',
  none: 'not run yet'
};

/** A status in words. */
export function statusView(status: string | null | undefined): StatusView {
  const key = status ?? 'none';
  return { status: key, label: STATUS_LABELS[key] ?? key.replace(/_/g, ' ') };
}

/** Seconds as people say them: "0.4 s", "12 s", "3 min 4 s", "2 h 5 min", "1 d 3 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  if (seconds < 10) {
    return `${Math.round(seconds * 10) / 10} s`;
  }
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['min', 60],
    ['s', 1]
  ] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count || (unit === 's' && !parts.length)) {
      parts.push(`${count} ${unit}`);
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** How far `iso` is from `now`: "in 5 min", "3 s ago", "now". */
export function formatRelative(iso: string, now: Date): string {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  if (!Number.isFinite(seconds)) {
    return '';
  }
  if (Math.abs(seconds) < 1) {
    return 'now';
  }
  // whole seconds under a minute, whole minutes above: "in 59 min 57 s" reads worse than "in 1 h"
  const size = Math.abs(seconds);
  const span = formatDuration(size < 60 ? Math.round(size) : Math.round(size / 60) * 60);
  return seconds > 0 ? `in ${span}` : `${span} ago`;
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
export function jobTarget(job: JobOut): string {
  const task = job.task as { type: string; path?: unknown; ref?: unknown };
  if (task.type === 'notebook' && typeof task.path === 'string') {
    return task.path;
  }
  if (task.type === 'function' && typeof task.ref === 'string') {
    return task.ref;
  }
  return task.type === 'cell' ? 'notebook cell' : task.type;
}

/** A job as the panel shows it, at `now`. */
export function jobView(job: JobOut, now: Date, locale?: string): JobView {
  let next: string;
  let nextTitle = '';
  if (job.next_run_time) {
    next = `${formatRelative(job.next_run_time, now)} (${formatClock(job.next_run_time, now, locale)})`;
    nextTitle = new Date(job.next_run_time).toString();
  } else {
    next = job.paused ? 'paused' : 'no further runs';
  }
  const count = job.run_count;
  return {
    id: job.id,
    name: job.name,
    target: jobTarget(job),
    schedule: job.trigger_description,
    next,
    nextTitle,
    last: statusView(job.last_run?.status),
    runs: `${count} run${count === 1 ? '' : 's'}`,
    paused: job.paused,
    canPause: job.next_run_time !== null,
    canResume: job.paused,
    // the server refuses to run a paused job (409); a finished one-off job has no next run to move
    canRunNow: job.next_run_time !== null
  };
}

const OUTPUT_LABELS: Partial<Record<OutputKind, string>> = {
  html: 'HTML',
  ipynb: 'Notebook',
  stdout: 'stdout',
  stderr: 'stderr',
  kernel_log: 'kernel log'
};

/** A run as the panel shows it, at `now`. */
export function runView(run: RunOut, now: Date, locale?: string): RunView {
  const active = ACTIVE_STATUSES.has(run.status);
  const started = run.started_at ?? run.scheduled_at;
  let duration = formatDuration(run.duration);
  if (!duration && run.status === 'running' && run.started_at) {
    duration = `running for ${formatDuration((now.getTime() - new Date(run.started_at).getTime()) / 1000)}`;
  }
  let error = '';
  if (run.error_type || run.error_message) {
    error = [run.error_type, run.error_message].filter(Boolean).join(': ');
    if (run.cell_index !== null) {
      error += ` (cell ${run.cell_index + 1})`;
    }
  }
  const order: OutputKind[] = ['html', 'ipynb', 'stdout', 'stderr', 'kernel_log'];
  const outputs = order
    .filter(kind => run.outputs.includes(kind))
    .map(kind => ({ kind, label: OUTPUT_LABELS[kind] ?? kind, download: kind === 'ipynb' }));
  return {
    id: run.id,
    status: statusView(run.status),
    when: formatClock(started, now, locale),
    whenTitle: `${run.started_at ? 'started' : 'due'} ${new Date(started).toString()}`,
    duration,
    // "cell 4/4" says something only while the run is under way
    progress: active ? (run.progress ?? '') : '',
    error,
    traceback: run.traceback ?? '',
    warnings: run.warnings,
    attempt: run.attempt > 1 ? `attempt ${run.attempt}` : '',
    outputs,
    canCancel: active,
    canDelete: !active
  };
}

/** The header line about the server's scheduler. */
export function healthView(health: HealthOut | null, error: string | null): HealthView {
  if (error) {
    return { ok: false, text: error };
  }
  if (!health) {
    return { ok: true, text: 'Connecting…' };
  }
  if (!health.ok) {
    return { ok: false, text: health.error ?? 'nbsched is not available' };
  }
  const zone = health.scheduler.timezone ? ` · ${health.scheduler.timezone}` : '';
  const state = health.scheduler.state;
  if (state === 'running' && health.scheduler.runs_jobs) {
    return { ok: true, text: `Scheduler running on this server${zone}` };
  }
  if (state === 'paused') {
    return {
      ok: true,
      text: `This server does not run jobs (run_scheduler is off): another process over the store runs them${zone}`
    };
  }
  return { ok: false, text: `Scheduler ${state}${zone}` };
}

/** Whether anything is under way, so the panel refreshes more often. */
export function hasActiveRuns(jobs: JobOut[], runs: RunOut[]): boolean {
  return (
    runs.some(run => ACTIVE_STATUSES.has(run.status)) ||
    jobs.some(job => job.last_run !== null && ACTIVE_STATUSES.has(job.last_run.status))
  );
}

/** Milliseconds until the panel should refresh: soon while runs are under way or due, else at ease. */
export function refreshDelay(jobs: JobOut[], runs: RunOut[], now: Date): number {
  if (hasActiveRuns(jobs, runs)) {
    return 2000;
  }
  const soon = jobs.some(job => {
    if (!job.next_run_time) {
      return false;
    }
    const wait = new Date(job.next_run_time).getTime() - now.getTime();
    return wait < 60_000;
  });
  return soon ? 2000 : 10_000;
}
