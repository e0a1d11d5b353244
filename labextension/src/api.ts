/**
 * The typed client of nbsched's REST API (`{baseUrl}nbsched/api/...`).
 *
 * The request and response shapes are not written here: they are defined once, in
 * `nbsched/server/shapes.py`, which generates the schemas of `nbsched/server/openapi.yaml`, from which
 * `openapi-typescript` generates `api.generated.ts` (`npm run generate:api`; `npm run lint` fails when
 * it is out of date). This module gives them their Python names.
 *
 * Requests go through `ServerConnection.makeRequest`, so they carry Jupyter's token or login cookie
 * and XSRF header like every JupyterLab request. Errors are thrown as {@link NbschedApiError}, whose
 * `message` is the server's (it names the field and the value).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components, operations } from './api.generated';

type Schemas = components['schemas'];

// ------------------------------------------------------------------------------------ response shapes

/** What a run can be: `nbsched.runs.RunStatus`. */
export type RunStatus = Schemas['RunStatus'];

/** Statuses of a run that is not over yet (`nbsched.runs.ACTIVE`). */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set<RunStatus>([
  'scheduled',
  'running'
]);

/** The output kinds `GET runs/{id}/output/{kind}` serves. */
export type OutputKind = Schemas['OutputKind'];

/** Body of every error response. */
export type ErrorOut = Schemas['ErrorOut'];
/** The latest run of a job, in a job. */
export type LastRunOut = Schemas['LastRunOut'];
/** The `task` of a notebook job; the values of secret parameters are `"***"`. */
export type NotebookTaskOut = Schemas['NotebookTaskOut'];
/** The `task` of a function job; the values of secret keyword arguments are `"***"`. */
export type FunctionTaskOut = Schemas['FunctionTaskOut'];
/** The `task` of a cell job (scheduled from a kernel with `%%schedule`). */
export type CellTaskOut = Schemas['CellTaskOut'];
/** The `task` of a job whose task type this client does not know. */
export type OtherTaskOut = Schemas['OtherTaskOut'];
/** The `task` of a job. */
export type TaskOut = Schemas['TaskOut'];
/** A job; secret parameter values are `***`, in its task and in its name. */
export type JobOut = Schemas['JobOut'];
/**
 * `POST jobs/{id}/run`: the job, due now, with the scheduler's `run_now` report: `message` is the sentence every
 * face shows; `warning` is set when no scheduler runs jobs over the store (nothing starts the run until one does).
 */
export type JobRunOut = Schemas['JobRunOut'];
/** A stored job that cannot be loaded. */
export type BrokenJobOut = Schemas['BrokenJobOut'];
/** `GET jobs`. */
export type JobListOut = Schemas['JobListOut'];
/** A run; `outputs` lists the kinds `GET runs/{id}/output/{kind}` serves for it. */
export type RunOut = Schemas['RunOut'];
/** `GET runs`. */
export type RunListOut = Schemas['RunListOut'];
/** `GET health`. */
export type HealthOut = Schemas['HealthOut'];
/** One assignment of a notebook's `parameters` cell. */
export type ParameterOut = Schemas['ParameterOut'];
/** `GET notebooks/parameters?path=`. */
export type NotebookParametersOut = Schemas['NotebookParametersOut'];

// ------------------------------------------------------------------------------------- request shapes

/** A notebook task in a request. */
export type NotebookTaskIn = Schemas['NotebookTaskIn'];
/** A function task in a request (needs the `execute` permission). */
export type FunctionTaskIn = Schemas['FunctionTaskIn'];
/** A notebook or a function. */
export type TaskIn = Schemas['TaskIn'];
/** Exactly one of `cron`, `every`, `at`; the rest go with `cron` and `every`. */
export type TriggerIn = Schemas['TriggerIn'];
/** `POST jobs`. */
export type JobCreateIn = Schemas['JobCreateIn'];
/** `PATCH jobs/{id}`: any field of {@link JobCreateIn} but `id`. */
export type JobUpdateIn = Schemas['JobUpdateIn'];

/** The query of `GET runs`; `status` may also be a single status. */
export type RunQuery = Omit<NonNullable<operations['listRuns']['parameters']['query']>, 'status'> & {
  status?: RunStatus | RunStatus[];
};

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
  runJob(jobId: string): Promise<JobRunOut> {
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
