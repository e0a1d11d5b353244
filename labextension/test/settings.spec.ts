import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { CommandIDs, TOOLBAR_ITEM } from '../src/ids';
import { refreshDelay } from '../src/presenter';
import { DEFAULT_REFRESH_INTERVALS, MINIMUM_REFRESH_SECONDS, refreshIntervals } from '../src/settings';
import { jobOut, runOut } from './fixtures';

interface Property {
  type: string;
  default: unknown;
  minimum: number;
}

interface Schema {
  properties: Record<string, Property>;
  'jupyter.lab.toolbars': Record<string, { name: string; rank: number }[]>;
  'jupyter.lab.menus': { context: { command: string; selector: string }[] };
}

const SCHEMA = JSON.parse(readFileSync(new URL('../schema/plugin.json', import.meta.url), 'utf8')) as Schema;
const NOW = new Date('2026-03-02T10:00:00+00:00');

function property(name: string): Property {
  const found = SCHEMA.properties[name];
  if (!found) {
    throw new Error(`schema/plugin.json has no property ${name}`);
  }
  return found;
}

describe('refreshIntervals', () => {
  it("defaults to today's 2 s and 10 s", () => {
    expect(refreshIntervals(undefined)).toEqual({ active: 2000, idle: 10_000 });
    expect(refreshIntervals({})).toEqual(DEFAULT_REFRESH_INTERVALS);
  });

  it('reads seconds into milliseconds', () => {
    expect(refreshIntervals({ activeRefreshInterval: 0.5, idleRefreshInterval: 60 })).toEqual({
      active: 500,
      idle: 60_000
    });
    expect(refreshIntervals({ activeRefreshInterval: 5 })).toEqual({ active: 5000, idle: 10_000 });
  });

  it('keeps the default for a value that is not a number of seconds at least the minimum', () => {
    for (const bad of ['5', null, true, -1, 0, 0.2, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(refreshIntervals({ activeRefreshInterval: bad, idleRefreshInterval: bad })).toEqual(
        DEFAULT_REFRESH_INTERVALS
      );
    }
    expect(refreshIntervals({ idleRefreshInterval: 0.5 }).idle).toBe(10_000);
  });
});

describe('schema/plugin.json', () => {
  it('declares the refresh intervals with the same defaults and minimums as the code', () => {
    const active = property('activeRefreshInterval');
    const idle = property('idleRefreshInterval');
    expect([active.type, idle.type]).toEqual(['number', 'number']);
    expect({ active: Number(active.default) * 1000, idle: Number(idle.default) * 1000 }).toEqual(
      DEFAULT_REFRESH_INTERVALS
    );
    expect({ active: active.minimum, idle: idle.minimum }).toEqual(MINIMUM_REFRESH_SECONDS);
  });

  it('declares the notebook toolbar button and the file browser menu item the plugin provides', () => {
    expect(SCHEMA['jupyter.lab.toolbars'].Notebook?.map(item => item.name)).toEqual([TOOLBAR_ITEM]);
    expect(SCHEMA['jupyter.lab.menus'].context).toEqual([
      expect.objectContaining({
        command: CommandIDs.scheduleSelected,
        selector: '.jp-DirListing-item[data-file-type="notebook"]'
      })
    ]);
  });
});

describe('refreshDelay with the settings', () => {
  it('waits the configured intervals', () => {
    const intervals = refreshIntervals({ activeRefreshInterval: 1, idleRefreshInterval: 30 });
    expect(refreshDelay([jobOut()], [], NOW, intervals)).toBe(30_000);
    expect(refreshDelay([jobOut()], [runOut({ status: 'running' })], NOW, intervals)).toBe(1000);
    expect(refreshDelay([jobOut({ next_run_time: '2026-03-02T10:00:30Z' })], [], NOW, intervals)).toBe(1000);
  });
});
