import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { NbschedApiError, NbschedClient, runQueryString } from '../src/api';
import { jobOut, parametersOut, runOut } from './fixtures';

interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

/** A client over a fake `fetch` that records each request and answers with `reply`. */
function fakeServer(reply: (sent: Sent) => Response | Promise<Response>, settings: Partial<ServerConnection.ISettings> = {}) {
  const sent: Sent[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const record = { method: request.method, url: request.url, headers: request.headers, body: await request.text() };
    sent.push(record);
    return reply(record);
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/base/',
    wsUrl: 'ws://localhost:8888/base/',
    token: 'secret',
    fetch,
    Request,
    Headers,
    ...settings
  });
  return { client: new NbschedClient({ serverSettings }), sent };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('NbschedClient', () => {
  it('builds URLs under the base URL and encodes ids', () => {
    const { client } = fakeServer(() => json({}));
    expect(client.url('jobs')).toBe('http://localhost:8888/base/nbsched/api/jobs');
    expect(client.url('jobs', 'a/b c?', 'run')).toBe('http://localhost:8888/base/nbsched/api/jobs/a%2Fb%20c%3F/run');
  });

  it('lists jobs through ServerConnection, with Jupyter token', async () => {
    const { client, sent } = fakeServer(() => json({ jobs: [jobOut()], broken: [{ id: 'x', reason: 'gone' }] }));
    const list = await client.listJobs();
    expect(list.jobs[0]?.trigger_description).toBe('every 10 minutes');
    expect(list.broken).toEqual([{ id: 'x', reason: 'gone' }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.method).toBe('GET');
    expect(sent[0]?.url).toBe('http://localhost:8888/base/nbsched/api/jobs');
    expect(sent[0]?.headers.get('Authorization')).toBe('token secret');
  });

  it('creates a job with a JSON body', async () => {
    const { client, sent } = fakeServer(() => json(jobOut({ id: 'new' }), 201));
    const job = await client.createJob({
      task: { type: 'notebook', path: 'a.ipynb', parameters: { n: 1 } },
      trigger: { every: '10s' },
      timezone: 'Europe/Paris'
    });
    expect(job.id).toBe('new');
    expect(sent[0]?.method).toBe('POST');
    expect(sent[0]?.url).toBe('http://localhost:8888/base/nbsched/api/jobs');
    expect(sent[0]?.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      task: { type: 'notebook', path: 'a.ipynb', parameters: { n: 1 } },
      trigger: { every: '10s' },
      timezone: 'Europe/Paris'
    });
  });

  it('sends each job action to its endpoint', async () => {
    const { client, sent } = fakeServer(sent =>
      sent.method === 'DELETE' ? new Response(null, { status: 204 }) : json(jobOut())
    );
    await client.getJob('j 1');
    await client.updateJob('j 1', { paused: true });
    await client.pauseJob('j 1');
    await client.resumeJob('j 1');
    await client.runJob('j 1');
    await expect(client.removeJob('j 1')).resolves.toBeUndefined();
    const base = 'http://localhost:8888/base/nbsched/api/jobs/j%201';
    expect(sent.map(s => `${s.method} ${s.url}`)).toEqual([
      `GET ${base}`,
      `PATCH ${base}`,
      `POST ${base}/pause`,
      `POST ${base}/resume`,
      `POST ${base}/run`,
      `DELETE ${base}`
    ]);
    expect(JSON.parse(sent[1]?.body ?? '')).toEqual({ paused: true });
    expect(sent[2]?.body).toBe('');
  });

  it('lists, reads, cancels and deletes runs', async () => {
    const { client, sent } = fakeServer(sent => {
      if (sent.method === 'DELETE') {
        return new Response(null, { status: 204 });
      }
      return sent.url.includes('/runs?') ? json({ runs: [runOut()], offset: 0, limit: 5, has_more: true }) : json(runOut());
    });
    const page = await client.listRuns({ job_id: 'report', status: ['running', 'failed'], limit: 5, offset: 10 });
    expect(page.has_more).toBe(true);
    expect(page.runs[0]?.outputs).toEqual(['html', 'ipynb']);
    await client.getRun('r3');
    await client.cancelRun('r3');
    await client.deleteRun('r3');
    const base = 'http://localhost:8888/base/nbsched/api/runs';
    expect(sent.map(s => `${s.method} ${s.url}`)).toEqual([
      `GET ${base}?job_id=report&status=running%2Cfailed&limit=5&offset=10`,
      `GET ${base}/r3`,
      `POST ${base}/r3/cancel`,
      `DELETE ${base}/r3`
    ]);
  });

  it('reads notebook parameters with the path in the query', async () => {
    const { client, sent } = fakeServer(() => json(parametersOut()));
    const info = await client.notebookParameters('reports/daily report.ipynb');
    expect(info.parameters.map(p => p.name)).toContain('region');
    expect(sent[0]?.url).toBe(
      'http://localhost:8888/base/nbsched/api/notebooks/parameters?path=reports%2Fdaily%20report.ipynb'
    );
  });

  it('gives output URLs for links', () => {
    const { client } = fakeServer(() => json({}));
    expect(client.outputUrl('r 3', 'html')).toBe('http://localhost:8888/base/nbsched/api/runs/r%203/output/html');
    expect(client.outputUrl('r3', 'ipynb', true)).toBe(
      'http://localhost:8888/base/nbsched/api/runs/r3/output/ipynb?download=1'
    );
  });

  it('reports the server message of an error answer', async () => {
    const message = "JobCreate: trigger.every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')";
    const { client } = fakeServer(() => json({ message, error: 'InvalidArgumentError' }, 400));
    const request = client.createJob({ task: { type: 'notebook', path: 'a.ipynb' }, trigger: { every: '5x' } });
    await expect(request).rejects.toBeInstanceOf(NbschedApiError);
    await expect(request).rejects.toMatchObject({ status: 400, message, error: 'InvalidArgumentError' });
  });

  it('reports 404 and 409 with their messages', async () => {
    const { client } = fakeServer(sent =>
      sent.url.endsWith('/run')
        ? json({ message: 'Job x is paused: resume it to run it', error: 'Conflict' }, 409)
        : json({ message: 'No job by the id of x was found', error: 'JobLookupError' }, 404)
    );
    await expect(client.getJob('x')).rejects.toMatchObject({ status: 404, message: 'No job by the id of x was found' });
    await expect(client.runJob('x')).rejects.toMatchObject({ status: 409, error: 'Conflict' });
  });

  it('reports an answer that is not JSON by its status line', async () => {
    const { client } = fakeServer(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(client.health()).rejects.toMatchObject({ status: 502, message: '502 Bad Gateway', error: 'HTTPError' });
  });

  it('reports a server that cannot be reached', async () => {
    const { client } = fakeServer(() => {
      throw new TypeError('Failed to fetch');
    });
    const request = client.listJobs();
    await expect(request).rejects.toBeInstanceOf(NbschedApiError);
    await expect(request).rejects.toMatchObject({
      status: 0,
      message: 'The Jupyter server could not be reached: Failed to fetch',
      error: 'NetworkError'
    });
  });

  it('uses an injected request function', async () => {
    const calls: string[] = [];
    const client = new NbschedClient({
      serverSettings: ServerConnection.makeSettings({ baseUrl: 'http://h/' }),
      makeRequest: (url, init) => {
        calls.push(`${init.method ?? ''} ${url}`);
        return Promise.resolve(json({ ok: true, version: '0.1.0', scheduler: { state: 'running' }, store: {}, counts: {}, error: null }));
      }
    });
    expect((await client.health()).ok).toBe(true);
    expect(calls).toEqual(['GET http://h/nbsched/api/health']);
  });
});

describe('runQueryString', () => {
  it('is empty without filters', () => {
    expect(runQueryString({})).toBe('');
    expect(runQueryString({ status: [] })).toBe('');
  });

  it('accepts one status and dates', () => {
    expect(runQueryString({ status: 'failed', since: '2026-03-01T00:00:00+01:00' })).toBe(
      '?status=failed&since=2026-03-01T00%3A00%3A00%2B01%3A00'
    );
  });
});
