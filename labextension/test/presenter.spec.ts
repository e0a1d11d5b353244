import { describe, expect, it } from 'vitest';

import type { HealthOut } from '../src/api';
import {
  formatDuration,
  formatRelative,
  healthView,
  hasActiveRuns,
  jobTarget,
  jobView,
  refreshDelay,
  runNowNotice,
  runView,
  statusView
} from '../src/presenter';
import { jobOut, runOut } from './fixtures';

const NOW = new Date('2026-03-02T10:00:00+00:00');

describe('formatDuration', () => {
  it.each([
    [null, ''],
    [-1, ''],
    [0, '0 s'],
    [0.44, '0.4 s'],
    [4.5, '4.5 s'],
    [12.4, '12 s'],
    [184, '3 min 4 s'],
    [3600, '1 h'],
    [7500, '2 h 5 min'],
    [97200, '1 d 3 h']
  ])('%s -> %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('formatRelative', () => {
  it('says in how long or how long ago', () => {
    expect(formatRelative('2026-03-02T10:05:00Z', NOW)).toBe('in 5 min');
    expect(formatRelative('2026-03-02T09:59:57Z', NOW)).toBe('3 s ago');
    expect(formatRelative('2026-03-02T10:59:57Z', NOW)).toBe('in 1 h');
    expect(formatRelative('2026-03-02T09:57:50Z', NOW)).toBe('2 min ago');
    expect(formatRelative('2026-03-02T10:00:00.300Z', NOW)).toBe('now');
    expect(formatRelative('not a date', NOW)).toBe('');
  });
});

describe('statusView', () => {
  it('puts statuses in words', () => {
    expect(statusView('timed_out')).toEqual({ status: 'timed_out', label: 'timed out' });
    expect(statusView(null)).toEqual({ status: 'none', label: 'not run yet' });
    expect(statusView('new_state')).toEqual({ status: 'new_state', label: 'new state' });
  });
});

describe('jobView', () => {
  it('shows an active job', () => {
    const view = jobView(jobOut(), NOW);
    expect(view).toMatchObject({
      name: 'report',
      target: 'reports/daily.ipynb',
      schedule: 'every 10 minutes',
      last: { status: 'succeeded', label: 'succeeded' },
      runs: '3 runs',
      paused: false,
      canPause: true,
      canResume: false,
      canRunNow: true
    });
    expect(view.next).toMatch(/^in 5 min \(.+\)$/);
  });

  it('shows a paused job', () => {
    const view = jobView(jobOut({ next_run_time: null, paused: true, run_count: 1, last_run: null }), NOW);
    expect(view).toMatchObject({
      next: 'paused',
      runs: '1 run',
      last: { status: 'none', label: 'not run yet' },
      canPause: false,
      canResume: true,
      canRunNow: true // runs once and stays paused
    });
  });

  it('shows a one-off job that has run', () => {
    const view = jobView(jobOut({ next_run_time: null, paused: false }), NOW);
    expect(view).toMatchObject({ next: 'no further runs', canPause: false, canResume: false, canRunNow: false });
  });

  it('names what other tasks run', () => {
    expect(jobTarget(jobOut({ task: { type: 'function', ref: 'pkg.mod:refresh', args: [], kwargs: {} } }))).toBe(
      'pkg.mod:refresh'
    );
    expect(jobTarget(jobOut({ task: { type: 'cell', source: 'x', mode: 'headless', kernel_name: null, timeout: null, cell_timeout: null, cwd: null, output_formats: [] } }))).toBe('notebook cell');
    expect(jobTarget(jobOut({ task: { type: 'shell' } }))).toBe('shell');
  });
});

describe('runNowNotice', () => {
  it('warns when no scheduler runs jobs over the store', () => {
    const warning = 'no scheduler is running over this store: start `nbsched serve`';
    const reply = { ...jobOut(), scheduled_at: '2026-01-05T09:00:00+00:00', message: `marked report to run; ${warning}`, warning };
    expect(runNowNotice(reply)).toEqual({ kind: 'warning', message: `marked report to run; ${warning}` });
  });

  it('informs when a scheduler starts it', () => {
    const message = 'marked report to run now; a scheduler over this store starts it shortly';
    const reply = { ...jobOut(), scheduled_at: '2026-01-05T09:00:00+00:00', message, warning: null };
    expect(runNowNotice(reply)).toEqual({ kind: 'info', message });
  });
});

describe('runView', () => {
  it('shows a run that succeeded, HTML first, the notebook as a download', () => {
    const view = runView(runOut({ outputs: ['ipynb', 'html', 'stderr'], progress: 'cell 4/4' }), NOW);
    expect(view).toMatchObject({
      status: { status: 'succeeded' },
      progress: '',
      duration: '4.5 s',
      error: '',
      attempt: '',
      canCancel: false,
      canDelete: true
    });
    expect(view.outputs).toEqual([
      { kind: 'html', label: 'HTML', download: false },
      { kind: 'ipynb', label: 'Notebook', download: true },
      { kind: 'stderr', label: 'stderr', download: false }
    ]);
  });

  it('shows a failed run with its error and cell', () => {
    const view = runView(
      runOut({
        status: 'failed',
        error_type: 'ValueError',
        error_message: 'bad region',
        cell_index: 3,
        traceback: 'Traceback ...',
        attempt: 2
      }),
      NOW
    );
    expect(view.error).toBe('ValueError: bad region (cell 4)');
    expect(view.traceback).toBe('Traceback ...');
    expect(view.attempt).toBe('attempt 2');
  });

  it('shows the warnings of a run that succeeded with an output missing', () => {
    const warning = 'html not written: [Errno 28] No space left on device';
    const view = runView(runOut({ outputs: ['ipynb'], warnings: [warning] }), NOW);
    expect(view.warnings).toEqual([warning]);
    expect(view.outputs.map(output => output.kind)).toEqual(['ipynb']);
    expect(runView(runOut(), NOW).warnings).toEqual([]);
  });

  it('shows a running run with its progress', () => {
    const view = runView(
      runOut({ status: 'running', started_at: '2026-03-02T09:59:48Z', finished_at: null, duration: null, progress: 'cell 3/7', outputs: [] }),
      NOW
    );
    expect(view).toMatchObject({ duration: 'running for 12 s', progress: 'cell 3/7', canCancel: true, canDelete: false });
  });
});

describe('healthView', () => {
  const health: HealthOut = {
    ok: true,
    version: '0.1.0',
    scheduler: { state: 'running', runs_jobs: true, timezone: 'Europe/Paris' },
    store: { url: 'sqlite:///x.db' },
    counts: { jobs: 1, paused_jobs: 0, broken_jobs: 0, active_runs: 0 },
    error: null
  };

  it('says whether this server runs jobs', () => {
    expect(healthView(health, null)).toEqual({ ok: true, text: 'Scheduler running on this server · Europe/Paris' });
    expect(healthView({ ...health, scheduler: { state: 'paused', runs_jobs: false, timezone: null } }, null).text).toMatch(
      /^This server does not run jobs/
    );
  });

  it('shows errors', () => {
    expect(healthView({ ...health, ok: false, error: 'the job store could not be opened' }, null)).toEqual({
      ok: false,
      text: 'the job store could not be opened'
    });
    expect(healthView(null, 'The Jupyter server could not be reached')).toEqual({
      ok: false,
      text: 'The Jupyter server could not be reached'
    });
    expect(healthView(null, null)).toEqual({ ok: true, text: 'Connecting…' });
  });
});

describe('refreshDelay', () => {
  it('refreshes often while runs are under way or due', () => {
    expect(refreshDelay([jobOut()], [], NOW)).toBe(10_000);
    expect(refreshDelay([jobOut({ next_run_time: '2026-03-02T10:00:30Z' })], [], NOW)).toBe(2000);
    expect(refreshDelay([jobOut()], [runOut({ status: 'running' })], NOW)).toBe(2000);
    const running = jobOut({ last_run: { id: 'r4', status: 'scheduled', scheduled_at: NOW.toISOString(), started_at: null, finished_at: null, duration: null } });
    expect(hasActiveRuns([running], [])).toBe(true);
    expect(refreshDelay([], [], NOW)).toBe(10_000);
  });
});
