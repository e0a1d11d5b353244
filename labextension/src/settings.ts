/**
 * The extension's settings (`schema/plugin.json`, edited in JupyterLab's Settings Editor) as plain
 * values: read from the composite settings JupyterLab hands over, with today's behaviour as defaults.
 */
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/** How often the side panel refreshes itself while it is visible, in milliseconds. */
export interface RefreshIntervals {
  /** while a run is under way or a job is due within a minute */
  active: number;
  /** otherwise */
  idle: number;
}

/** The defaults, the same as the schema's (`test/settings.spec.ts` checks that they agree). */
export const DEFAULT_REFRESH_INTERVALS: Readonly<RefreshIntervals> = { active: 2000, idle: 10_000 };

/** The smallest intervals taken, in seconds, as the schema's `minimum`s: below that the panel would flood the server. */
export const MINIMUM_REFRESH_SECONDS: Readonly<RefreshIntervals> = { active: 0.5, idle: 1 };

/**
 * The refresh intervals of the settings `activeRefreshInterval` and `idleRefreshInterval` (seconds).
 *
 * JupyterLab validates the settings against the schema; a value that still is not a number of seconds
 * at least the minimum (a hand-edited file, an older schema) falls back to the default rather than
 * stopping or flooding the refresh.
 */
export function refreshIntervals(settings: ReadonlyPartialJSONObject | null | undefined): RefreshIntervals {
  const read = (key: string, which: keyof RefreshIntervals): number => {
    const value = settings?.[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < MINIMUM_REFRESH_SECONDS[which]) {
      return DEFAULT_REFRESH_INTERVALS[which];
    }
    return Math.round(value * 1000);
  };
  return { active: read('activeRefreshInterval', 'active'), idle: read('idleRefreshInterval', 'idle') };
}
