/** Answers of the API as the server sends them (`schemas.job_out`, `schemas.run_out`). */
import type { JobOut, NotebookParametersOut, RunOut } from '../src/api';

export function jobOut(changes: Partial<JobOut> = {}): JobOut {
  return {
    id: 'report',
    name: 'report',
    task: {
      type: 'notebook',
      path: 'reports/daily.ipynb',
      parameters: { region: 'EU' },
      secret_parameters: [],
      kernel_name: null,
      timeout: null,
      cell_timeout: null,
      cwd: null,
      output_formats: ['ipynb', 'html'],
      snapshot: false
    },
    trigger: { type: 'interval', version: 1, interval: 600 },
    schedule: { every: '10m' },
    trigger_description: 'every 10 minutes',
    timezone: 'Europe/Paris',
    next_run_time: '2026-03-02T10:05:00+00:00',
    paused: false,
    executor: 'notebook',
    misfire_grace_time: 1,
    coalesce: true,
    max_instances: 1,
    max_runs: null,
    retries: 0,
    retry_backoff: 0,
    tags: [],
    run_count: 3,
    last_run: {
      id: 'r3',
      status: 'succeeded',
      scheduled_at: '2026-03-02T09:55:00+00:00',
      started_at: '2026-03-02T09:55:00.100000+00:00',
      finished_at: '2026-03-02T09:55:04.600000+00:00',
      duration: 4.5
    },
    ...changes
  };
}

export function runOut(changes: Partial<RunOut> = {}): RunOut {
  return {
    id: 'r3',
    job_id: 'report',
    scheduled_at: '2026-03-02T09:55:00+00:00',
    status: 'succeeded',
    attempt: 1,
    started_at: '2026-03-02T09:55:00.100000+00:00',
    finished_at: '2026-03-02T09:55:04.600000+00:00',
    duration: 4.5,
    worker: 'host:123',
    heartbeat_at: null,
    error_type: null,
    error_message: null,
    traceback: null,
    progress: null,
    cell_index: null,
    outputs: ['html', 'ipynb'],
    input_sha256: null,
    warnings: [],
    ...changes
  };
}

export function parametersOut(): NotebookParametersOut {
  return {
    path: 'reports/daily.ipynb',
    has_parameters_cell: true,
    kernel_name: 'python3',
    parameters: [
      { name: 'region', default: 'EU', expression: "'EU'", literal: true, type: 'str', annotation: null },
      { name: 'days', default: 7, expression: '7', literal: true, type: 'int', annotation: 'int' },
      { name: 'ratio', default: 0.5, expression: '0.5', literal: true, type: 'float', annotation: null },
      { name: 'verbose', default: false, expression: 'False', literal: true, type: 'bool', annotation: null },
      { name: 'columns', default: ['a', 'b'], expression: "['a', 'b']", literal: true, type: 'list', annotation: null },
      { name: 'limit', default: null, expression: 'None', literal: true, type: 'NoneType', annotation: null },
      { name: 'day', default: null, expression: 'date.today()', literal: false, type: null, annotation: null }
    ]
  };
}
