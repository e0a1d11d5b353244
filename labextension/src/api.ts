/**
 * The typed client of nbsched's REST API (`{baseUrl}nbsched/api/...`).
 *
 * The shapes mirror `nbsched/server/schemas.py` (and `nbsched/server/parameters.py` for the
 * notebook parameters) field for field, with the Python names: `tests/labextension/test_api_mirror.py`
 * fails when the two drift apart. `openapi.yaml` next to them documents the endpoints.
 *
 * Requests go through `ServerConnection.makeRequest`, so they carry Jupyter's token or login cookie
 * and XSRF header like every JupyterLab request. Errors are thrown as {@link NbschedApiError}, whose
 * `message` is the server's (it names the field and the value).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

// ------------------------------------------------------------------------------------ response shapes

/** What a run can be: `nbsched.runs.RunStatus`. */
export type RunStatus =
  | 'scheduled'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'lost'
  | 'skipped';

/** Statuses of a run that is not over yet (`nbsched.runs.ACTIVE`). */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set<string>([
  'scheduled',
  'running'
]);

/** The output kinds `GET runs/{id}/output/{kind}` serves (`handlers.OUTPUT_KINDS`). */
export type OutputKind = 'ipynb' | 'html' | 'stdout' | 'stderr' | 'kernel_log';

/** Body of every error response (`ErrorOut`). */
export interface ErrorOut {
  message: string;
  error: string;
}

/** The latest run of a job, in a job (`LastRunOut`). */
export interface LastRunOut {
  id: string;
  status: RunStatus;
  scheduled_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration: number | null;
}

/** The `task` of a notebook job; the values of secret parameters are `"***"`. */
export interface NotebookTaskOut {
  type: 'notebook';
  path: string;
  parameters: Record<string, unknown>;
  /** the names the task lists as secret (names such as `api_token` are secret without being listed) */
  secret_parameters: string[];
  kernel_name: string | null;
  timeout: number | null;
  cell_timeout: number | null;
  cwd: string | null;
  output_formats: string[];
  snapshot: boolean;
}

/** The `task` of a function job; the values of secret keyword arguments are `"***"`. */
export interface FunctionTaskOut {
  type: 'function';
  ref: string | null;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** The `task` of a cell job (scheduled from a kernel with `%%schedule`). */
export interface CellTaskOut {
  type: 'cell';
  source: string;
  mode: 'headless' | 'kernel';
  kernel_name: string | null;
  timeout: number | null;
  cell_timeout: number | null;
  cwd: string | null;
  output_formats: string[];
}

/** The `task` of a job whose task type this client does not know. */
export interface OtherTaskOut {
  type: string;
}

export type TaskOut = NotebookTaskOut | FunctionTaskOut | CellTaskOut | OtherTaskOut;

/** A job (`JobOut`); secret parameter values are `***`, in its task and in its name. */
export interface JobOut {
  id: string;
  name: string;
  task: TaskOut;
  /** the trigger's stored state (`type`, `version` and its fields) */
  trigger: { type: string; [key: string]: unknown };
  /** the trigger as a request's `trigger` object; `null` for triggers it cannot express */
  schedule: TriggerIn | null;
  /** the trigger in words: "every weekday at 09:00 (Europe/Paris)" */
  trigger_description: string;
  timezone: string | null;
  next_run_time: string | null;
  paused: boolean;
  executor: string;
  misfire_grace_time: number | null;
  coalesce: boolean;
  max_instances: number;
  max_runs: number | null;
  retries: number;
  retry_backoff: number;
  tags: string[];
  run_count: number;
  last_run: LastRunOut | null;
}

/** A stored job that cannot be loaded (`BrokenJobOut`). */
export interface BrokenJobOut {
  id: string;
  reason: string;
}

/** `GET jobs` (`JobListOut`). */
export interface JobListOut {
  jobs: JobOut[];
  broken: BrokenJobOut[];
}

/** A run (`RunOut`); `outputs` lists the kinds `GET runs/{id}/output/{kind}` serves for it. */
export interface RunOut {
  id: string;
  job_id: string;
  scheduled_at: string;
  status: RunStatus;
  attempt: number;
  started_at: string | null;
  finished_at: string | null;
  duration: number | null;
  worker: string | null;
  heartbeat_at: string | null;
  error_type: string | null;
  error_message: string | null;
  traceback: string | null;
  progress: string | null;
  cell_index: number | null;
  outputs: string[];
  /** SHA-256 (hex) of the notebook file or cell source the run ran; `null` for function runs */
  input_sha256: string | null;
  /** Notes on the run that are not its error: fire times coalesced into it, an output that could not be written */
  warnings: string[];
}

/** `GET runs` (`RunListOut`). */
export interface RunListOut {
  runs: RunOut[];
  offset: number;
  limit: number;
  has_more: boolean;
}

/** `GET health` (`HealthOut`). */
export interface HealthOut {
  ok: boolean;
  version: string;
  /** `state` ("running", "paused", "stopped"), `runs_jobs`, `timezone` */
  scheduler: {
    state?: string;
    runs_jobs?: boolean;
    timezone?: string | null;
    [key: string]: unknown;
  };
  store: { url?: string | null; [key: string]: unknown };
  counts: Record<string, number>;
  error: string | null;
}

/** One assignment of a notebook's `parameters` cell (`parameters.ParameterOut`). */
export interface ParameterOut {
  name: string;
  /** the default as JSON, or `null` when it is not a literal JSON can hold */
  default: unknown;
  /** the source text of the assigned expression */
  expression: string;
  /** whether `default` holds the value (`false`: the notebook evaluates `expression`) */
  literal: boolean;
  /** Python type name of a literal default (`str`, `int`, `float`, `bool`, `NoneType`, `list`, `dict`) */
  type: string | null;
  /** the annotation's source text, when the assignment has one */
  annotation: string | null;
}

/** `GET notebooks/parameters?path=` (`parameters.NotebookParametersOut`). */
export interface NotebookParametersOut {
  path: string;
  has_parameters_cell: boolean;
  parameters: ParameterOut[];
  kernel_name: string | null;
}

// ------------------------------------------------------------------------------------- request shapes

/** A notebook task in a request. */
export interface NotebookTaskIn {
  type: 'notebook';
  /** a .ipynb file relative to the server's root */
  path: string;
  parameters?: Record<string, unknown>;
  /** names among `parameters` that responses show as `***` */
  secret_parameters?: string[];
  kernel_name?: string | null;
  /** seconds for the whole run */
  timeout?: number | null;
  /** seconds for each cell */
  cell_timeout?: number | null;
  cwd?: string | null;
  output_formats?: ('ipynb' | 'html')[];
}

/** A function task in a request (needs the `execute` permission). */
export interface FunctionTaskIn {
  type: 'function';
  ref: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

/** `TaskIn`: a notebook or a function. */
export type TaskIn = NotebookTaskIn | FunctionTaskIn;

/**
 * `TriggerIn`: exactly one of `cron`, `every`, `at`; the rest go with `cron` and `every`. `every` is
 * "5m", "1h30m", "90s", "2 days", "1w" or seconds, read as the CLI and the magics read it.
 */
export interface TriggerIn {
  cron?: string;
  every?: string | number;
  at?: string;
  start_date?: string;
  end_date?: string;
  jitter?: number;
}

/** `POST jobs` (`JobCreateIn`). */
export interface JobCreateIn {
  task: TaskIn;
  trigger: TriggerIn;
  id?: string;
  name?: string;
  timezone?: string;
  paused?: boolean;
  misfire_grace_time?: number | null;
  coalesce?: boolean;
  max_instances?: number;
  max_runs?: number | null;
  retries?: number;
  retry_backoff?: number;
  tags?: string[];
}

/** `PATCH jobs/{id}` (`JobUpdateIn`): any field of {@link JobCreateIn} but `id`. */
export interface JobUpdateIn {
  task?: TaskIn;
  trigger?: TriggerIn;
  name?: string;
  /** only together with `trigger` */
  timezone?: string;
  /** pauses or resumes the job */
  paused?: boolean;
  misfire_grace_time?: number | null;
  coalesce?: boolean;
  max_instances?: number;
  max_runs?: number | null;
  retries?: number;
  retry_backoff?: number;
  tags?: string[];
}

/** The query of `GET runs`. */
export interface RunQuery {
  job_id?: string;
  status?: RunStatus | RunStatus[];
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
}

// ---------------------------------------------------------------------------------------------- client

/** The path of the API below the server's base URL. */
export const API_PATH = 'nbsched/api';

/** An error answer of the API (or a response that is not one). */
export class NbschedApiError extends Error {
  /**
   * @param status the HTTP status (0 when the server could not be reached)
   * @param message the server's message (it names the field and the value)
   * @param error the server's error class (`InvalidArgumentError`, `JobLookupError`, ...)
   */
  constructor(
    readonly status: number,
    message: string,
    readonly error: string
  ) {
    super(message);
    this.name = 'NbschedApiError';
  }

  /** The error of a failed response: its JSON `message` when it has one, else its status line. */
  static async fromResponse(response: Response): Promise<NbschedApiError> {
    const text = await response.text().catch(() => '');
    let message = `${response.status} ${response.statusText}`.trim();
    let error = 'HTTPError';
    try {
      const body = JSON.parse(text) as Partial<ErrorOut>;
      if (typeof body.message === 'string' && body.message) {
        message = body.message;
      }
      if (typeof body.error === 'string' && body.error) {
        error = body.error;
      }
    } catch {
      // not JSON (a proxy's error page): the status line says what happened
    }
    return new NbschedApiError(response.status, message, error);
  }
}

/** How the client sends a request; `ServerConnection.makeRequest` unless a test passes another. */
export type MakeRequest = (
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
) => Promise<Response>;

/** A client of the nbsched REST API of one Jupyter server. */
export class NbschedClient {
  /**
   * @param options.serverSettings the server (default: JupyterLab's own, `ServerConnection.makeSettings()`)
   * @param options.makeRequest how to send requests (default: `ServerConnection.makeRequest`)
   */
  constructor(
    options: {
      serverSettings?: ServerConnection.ISettings;
      makeRequest?: MakeRequest;
    } = {}
  ) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._makeRequest = options.makeRequest ?? ServerConnection.makeRequest;
  }

  /** The server this client talks to. */
  readonly serverSettings: ServerConnection.ISettings;

  /** The absolute URL of an API path; the segments are URL-encoded. */
  url(...segments: string[]): string {
    return URLExt.join(
      this.serverSettings.baseUrl,
      API_PATH,
      ...segments.map(encodeURIComponent)
    );
  }

  /** Version, scheduler state, store and counts. */
  health(): Promise<HealthOut> {
    return this._json('GET', this.url('health'));
  }

  /** Every job with its latest run, and the stored jobs that cannot be loaded. */
  listJobs(): Promise<JobListOut> {
    return this._json('GET', this.url('jobs'));
  }

  /** One job. */
  getJob(jobId: string): Promise<JobOut> {
    return this._json('GET', this.url('jobs', jobId));
  }

  /** Create a job. */
  createJob(body: JobCreateIn): Promise<JobOut> {
    return this._json('POST', this.url('jobs'), body);
  }

  /** Change a job; `paused` pauses or resumes it. */
  updateJob(jobId: string, body: JobUpdateIn): Promise<JobOut> {
    return this._json('PATCH', this.url('jobs', jobId), body);
  }

  /** Remove a job (its run history stays). */
  async removeJob(jobId: string): Promise<void> {
    await this._send('DELETE', this.url('jobs', jobId));
  }

  /** Pause a job. */
  pauseJob(jobId: string): Promise<JobOut> {
    return this._json('POST', this.url('jobs', jobId, 'pause'));
  }

  /** Resume a paused job from its next fire time from now. */
  resumeJob(jobId: string): Promise<JobOut> {
    return this._json('POST', this.url('jobs', jobId, 'resume'));
  }

  /** Run a job now (409 for a paused job). */
  runJob(jobId: string): Promise<JobOut> {
    return this._json('POST', this.url('jobs', jobId, 'run'));
  }

  /** Runs, newest first. */
  listRuns(query: RunQuery = {}): Promise<RunListOut> {
    return this._json('GET', this.url('runs') + runQueryString(query));
  }

  /** One run. */
  getRun(runId: string): Promise<RunOut> {
    return this._json('GET', this.url('runs', runId));
  }

  /** Delete a finished run and its outputs. */
  async deleteRun(runId: string): Promise<void> {
    await this._send('DELETE', this.url('runs', runId));
  }

  /** Record a scheduled or running run as cancelled. */
  cancelRun(runId: string): Promise<RunOut> {
    return this._json('POST', this.url('runs', runId, 'cancel'));
  }

  /** The names and defaults of a notebook's `parameters` cell (`path` relative to the server root). */
  notebookParameters(path: string): Promise<NotebookParametersOut> {
    return this._json(
      'GET',
      this.url('notebooks', 'parameters') + URLExt.objectToQueryString({ path })
    );
  }

  /**
   * The URL of a run's output, for a link or a new browser tab (the browser sends Jupyter's login
   * cookie). HTML is served inline in a sandbox; `download` makes any kind an attachment.
   */
  outputUrl(runId: string, kind: OutputKind, download = false): string {
    const url = this.url('runs', runId, 'output', kind);
    return download ? url + '?download=1' : url;
  }

  private async _json<T>(method: string, url: string, body?: unknown): Promise<T> {
    const response = await this._send(method, url, body);
    return (await response.json()) as T;
  }

  private async _send(method: string, url: string, body?: unknown): Promise<Response> {
    // Not the default `no-store`, for which ServerConnection appends a `?<timestamp>` cache buster: the
    // API refuses query parameters it does not know (`RunQuery: parameter ... is not known`). `no-cache`
    // still revalidates every answer.
    const init: RequestInit = { method, cache: 'no-cache' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: Response;
    try {
      response = await this._makeRequest(url, init, this.serverSettings);
    } catch (reason) {
      const detail = reason instanceof Error ? reason.message : String(reason);
      throw new NbschedApiError(0, `The Jupyter server could not be reached: ${detail}`, 'NetworkError');
    }
    if (!response.ok) {
      throw await NbschedApiError.fromResponse(response);
    }
    return response;
  }

  private readonly _makeRequest: MakeRequest;
}

/** The query string of `GET runs` (`""` for no filter); several statuses are comma-separated. */
export function runQueryString(query: RunQuery): string {
  const params = new URLSearchParams();
  if (query.job_id !== undefined) {
    params.set('job_id', query.job_id);
  }
  if (query.status !== undefined) {
    const statuses = Array.isArray(query.status) ? query.status : [query.status];
    if (statuses.length) {
      params.set('status', statuses.join(','));
    }
  }
  for (const key of ['since', 'until'] as const) {
    const value = query[key];
    if (value !== undefined) {
      params.set(key, value);
    }
  }
  for (const key of ['limit', 'offset'] as const) {
    const value = query[key];
    if (value !== undefined) {
      params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? '?' + text : '';
}
