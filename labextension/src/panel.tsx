/**
 * The side panel: the server's jobs (trigger in words, next run, last status) and the runs of the one
 * that is open (status, duration, progress, error, output links), with pause/resume/run now/remove.
 *
 * A thin view: what it shows comes from `presenter.ts`. It refreshes itself while it is visible, every
 * two seconds while runs are under way or due, else every ten (the settings `activeRefreshInterval` and
 * `idleRefreshInterval`).
 */
import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import type { BrokenJobOut, HealthOut, JobOut, NbschedClient, RunOut } from './api';
import {
  healthView,
  jobView,
  refreshDelay,
  runNowNotice,
  runView,
  type JobView,
  type RunNowNotice,
  type RunView
} from './presenter';
import { DEFAULT_REFRESH_INTERVALS, type RefreshIntervals } from './settings';

/** How many runs of the open job the panel lists. */
const RUNS_SHOWN = 20;

/** The jobs and runs panel. */
export class SchedulerPanel extends ReactWidget {
  /**
   * @param _client the REST client
   * @param _trans the words of `ITranslator.load('nbsched')`
   */
  constructor(
    private readonly _client: NbschedClient,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-nbsched-panel');
  }

  /** How often it refreshes itself; takes effect now (the next refresh is rescheduled). */
  get refreshIntervals(): RefreshIntervals {
    return this._intervals;
  }

  set refreshIntervals(intervals: RefreshIntervals) {
    this._intervals = { ...intervals };
    if (!this._refreshing) {
      this._schedule();
    }
  }

  /** Open a job's runs (and refresh now). */
  select(jobId: string | null): void {
    this._selected = jobId;
    this._runs = [];
    void this.refresh();
  }

  /** Fetch the health, the jobs and the open job's runs, and show them. */
  async refresh(): Promise<void> {
    if (this._refreshing) {
      this._again = true;
      return this._refreshing;
    }
    this._refreshing = this._load();
    try {
      await this._refreshing;
    } finally {
      this._refreshing = null;
      this._schedule();
    }
    if (this._again) {
      this._again = false;
      await this.refresh();
    }
  }

  private async _load(): Promise<void> {
    try {
      const [health, list] = await Promise.all([this._client.health(), this._client.listJobs()]);
      this._health = health;
      this._jobs = list.jobs;
      this._broken = list.broken;
      this._error = null;
      const selected = this._selected;
      if (selected !== null && list.jobs.some(job => job.id === selected)) {
        const runs = await this._client.listRuns({ job_id: selected, limit: RUNS_SHOWN });
        if (this._selected === selected) {
          this._runs = runs.runs;
        }
      } else {
        this._runs = [];
      }
    } catch (reason) {
      this._error = reason instanceof Error ? reason.message : String(reason);
    }
    this.update();
  }

  private _schedule(): void {
    window.clearTimeout(this._timer);
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    const delay = refreshDelay(this._jobs, this._runs, new Date(), this._intervals);
    this._timer = window.setTimeout(() => void this.refresh(), delay);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    window.clearTimeout(this._timer);
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    super.dispose();
  }

  protected render(): React.ReactElement {
    const now = new Date();
    const trans = this._trans;
    return (
      <PanelView
        trans={trans}
        health={healthView(this._health, this._error, trans)}
        jobs={this._jobs.map(job => jobView(job, now, trans))}
        broken={this._broken}
        selected={this._selected}
        runs={this._runs.map(run => runView(run, now, trans))}
        outputUrl={(run, kind, download) => this._client.outputUrl(run, kind, download)}
        onRefresh={() => void this.refresh()}
        onSelect={id => this.select(id === this._selected ? null : id)}
        onAction={(action, id) => void this._act(action, id)}
      />
    );
  }

  private async _act(action: Action, id: string): Promise<void> {
    const client = this._client;
    const trans = this._trans;
    try {
      switch (action) {
        case 'pause':
          await client.pauseJob(id);
          break;
        case 'resume':
          await client.resumeJob(id);
          break;
        case 'run': {
          showRunNowNotice(runNowNotice(await client.runJob(id)));
          this._selected = id;
          break;
        }
        case 'remove': {
          const job = this._jobs.find(item => item.id === id);
          const answer = await showDialog({
            title: trans.__('Remove job'),
            body: trans.__(
              'Remove "%1"? It will not run again; its past runs stay in the history.',
              job?.name ?? id
            ),
            buttons: [
              Dialog.cancelButton({ label: trans.__('Cancel') }),
              Dialog.warnButton({ label: trans.__('Remove') })
            ]
          });
          if (!answer.button.accept) {
            return;
          }
          await client.removeJob(id);
          if (this._selected === id) {
            this._selected = null;
          }
          break;
        }
        case 'cancel-run':
          await client.cancelRun(id);
          break;
        case 'delete-run': {
          const answer = await showDialog({
            title: trans.__('Delete run'),
            body: trans.__('Delete this run from the history, with its output notebook and HTML?'),
            buttons: [
              Dialog.cancelButton({ label: trans.__('Cancel') }),
              Dialog.warnButton({ label: trans.__('Delete') })
            ]
          });
          if (!answer.button.accept) {
            return;
          }
          await client.deleteRun(id);
          break;
        }
      }
    } catch (reason) {
      await showErrorMessage('nbsched', reason instanceof Error ? reason.message : String(reason));
    }
    await this.refresh();
  }

  private _health: HealthOut | null = null;
  private _jobs: JobOut[] = [];
  private _broken: BrokenJobOut[] = [];
  private _runs: RunOut[] = [];
  private _selected: string | null = null;
  private _error: string | null = null;
  private _timer = 0;
  private _refreshing: Promise<void> | null = null;
  private _again = false;
  private _intervals: RefreshIntervals = { ...DEFAULT_REFRESH_INTERVALS };
}

type Action = 'pause' | 'resume' | 'run' | 'remove' | 'cancel-run' | 'delete-run';

function PanelView(props: {
  trans: TranslationBundle;
  health: ReturnType<typeof healthView>;
  jobs: JobView[];
  broken: BrokenJobOut[];
  selected: string | null;
  runs: RunView[];
  outputUrl: (runId: string, kind: RunView['outputs'][number]['kind'], download: boolean) => string;
  onRefresh: () => void;
  onSelect: (jobId: string) => void;
  onAction: (action: Action, id: string) => void;
}): React.ReactElement {
  const { trans } = props;
  return (
    <div className="jp-nbsched-panel-body">
      <header className="jp-nbsched-header">
        <h2 className="jp-nbsched-title">{trans.__('Scheduled jobs')}</h2>
        <button
          className="jp-nbsched-icon-button"
          title={trans.__('Refresh')}
          aria-label={trans.__('Refresh')}
          onClick={props.onRefresh}
        >
          <refreshIcon.react tag="span" />
        </button>
      </header>
      <div className={`jp-nbsched-health${props.health.ok ? '' : ' jp-mod-error'}`}>{props.health.text}</div>
      {!props.jobs.length && (
        <p className="jp-nbsched-empty">
          {trans.__('No jobs yet. Open a notebook and use')} <b>{trans.__('Schedule')}</b>{' '}
          {trans.__('in its toolbar, or right-click a notebook in the file browser.')}
        </p>
      )}
      <ul className="jp-nbsched-jobs">
        {props.jobs.map(job => (
          <JobItem
            key={job.id}
            job={job}
            trans={trans}
            open={job.id === props.selected}
            runs={job.id === props.selected ? props.runs : []}
            outputUrl={props.outputUrl}
            onSelect={props.onSelect}
            onAction={props.onAction}
          />
        ))}
      </ul>
      {props.broken.length > 0 && (
        <div className="jp-nbsched-broken">
          <h3>{trans.__('Jobs that cannot be loaded')}</h3>
          <ul>
            {props.broken.map(job => (
              <li key={job.id}>
                <code>{job.id}</code>: {job.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function JobItem(props: {
  job: JobView;
  trans: TranslationBundle;
  open: boolean;
  runs: RunView[];
  outputUrl: (runId: string, kind: RunView['outputs'][number]['kind'], download: boolean) => string;
  onSelect: (jobId: string) => void;
  onAction: (action: Action, id: string) => void;
}): React.ReactElement {
  const { job, trans } = props;
  const act = (action: Action) => (event: React.MouseEvent) => {
    event.stopPropagation();
    props.onAction(action, job.id);
  };
  return (
    <li className={`jp-nbsched-job${props.open ? ' jp-mod-open' : ''}`} data-job-id={job.id}>
      <div
        className="jp-nbsched-job-summary"
        role="button"
        tabIndex={0}
        aria-expanded={props.open}
        onClick={() => props.onSelect(job.id)}
        onKeyDown={event => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            props.onSelect(job.id);
          }
        }}
      >
        <div className="jp-nbsched-job-line">
          <span className="jp-nbsched-job-name">{job.name}</span>
          <StatusBadge status={job.last.status} label={job.last.label} />
        </div>
        <div className="jp-nbsched-job-target" title={job.target}>
          {job.target}
        </div>
        <div className="jp-nbsched-job-schedule">{job.schedule}</div>
        <div className="jp-nbsched-job-next" title={job.nextTitle}>
          {trans.__('Next:')} <span className="jp-nbsched-job-next-value">{job.next}</span> · {job.runs}
        </div>
      </div>
      <div className="jp-nbsched-job-actions">
        <button
          className="jp-nbsched-button"
          disabled={!job.canRunNow}
          onClick={act('run')}
          title={trans.__('Run it now')}
        >
          {trans.__('Run now')}
        </button>
        {job.canResume ? (
          <button className="jp-nbsched-button" onClick={act('resume')}>
            {trans.__('Resume')}
          </button>
        ) : (
          <button className="jp-nbsched-button" disabled={!job.canPause} onClick={act('pause')}>
            {trans.__('Pause')}
          </button>
        )}
        <button className="jp-nbsched-button jp-mod-warn" onClick={act('remove')}>
          {trans.__('Remove')}
        </button>
      </div>
      {props.open && (
        <RunList runs={props.runs} trans={trans} outputUrl={props.outputUrl} onAction={props.onAction} />
      )}
    </li>
  );
}

function RunList(props: {
  runs: RunView[];
  trans: TranslationBundle;
  outputUrl: (runId: string, kind: RunView['outputs'][number]['kind'], download: boolean) => string;
  onAction: (action: Action, id: string) => void;
}): React.ReactElement {
  const { trans } = props;
  if (!props.runs.length) {
    return <div className="jp-nbsched-runs jp-nbsched-empty">{trans.__('No runs yet.')}</div>;
  }
  return (
    <ul className="jp-nbsched-runs">
      {props.runs.map(run => (
        <li key={run.id} className="jp-nbsched-run" data-run-id={run.id} data-status={run.status.status}>
          <div className="jp-nbsched-run-line">
            <StatusBadge status={run.status.status} label={run.status.label} />
            <span className="jp-nbsched-run-when" title={run.whenTitle}>
              {run.when}
            </span>
            {run.duration && <span className="jp-nbsched-run-duration">{run.duration}</span>}
            {run.attempt && <span className="jp-nbsched-run-attempt">{run.attempt}</span>}
          </div>
          {run.progress && <div className="jp-nbsched-run-progress">{run.progress}</div>}
          {run.error && (
            <div className="jp-nbsched-run-error" title={run.traceback}>
              {run.error}
            </div>
          )}
          {run.warnings.map((warning, index) => (
            <div key={index} className="jp-nbsched-run-warning">
              {trans.__('warning: %1', warning)}
            </div>
          ))}
          <div className="jp-nbsched-run-links">
            {run.outputs.map(output => (
              <a
                key={output.kind}
                className={`jp-nbsched-output jp-nbsched-output-${output.kind}`}
                href={props.outputUrl(run.id, output.kind, output.download)}
                target="_blank"
                rel="noopener noreferrer"
                download={output.download ? '' : undefined}
              >
                {output.label}
              </a>
            ))}
            {run.canCancel && (
              <button className="jp-nbsched-link-button jp-nbsched-run-manage" onClick={() => props.onAction('cancel-run', run.id)}>
                {trans.__('Cancel')}
              </button>
            )}
            {run.canDelete && (
              <button
                className="jp-nbsched-link-button jp-nbsched-run-manage"
                title={trans.__('Delete this run and its outputs')}
                onClick={() => props.onAction('delete-run', run.id)}
              >
                {trans.__('Delete')}
              </button>
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}

function StatusBadge(props: { status: string; label: string }): React.ReactElement {
  return (
    <span className={`jp-nbsched-status jp-nbsched-status-${props.status}`} data-status={props.status}>
      {props.label}
    </span>
  );
}

/** Show what "Run now" did: a warning stays until closed (nothing will run until a scheduler starts). */
export function showRunNowNotice(notice: RunNowNotice): void {
  if (notice.kind === 'warning') {
    Notification.warning(notice.message, { autoClose: false });
  } else {
    Notification.info(notice.message, { autoClose: 5000 });
  }
}
