import { describe, expect, it } from 'vitest';
import { timeFacts } from '../../src/input/clock.js';

describe('timeFacts', () => {
  it.each([
    ['2026-11-25T15:00:00Z', 'America/New_York', { weekday: 3, hour: 10, minute: 0 }],
    ['2026-11-25T14:29:59Z', 'America/New_York', { weekday: 3, hour: 9, minute: 29 }],
    ['2026-11-29T04:59:00Z', 'America/New_York', { weekday: 6, hour: 23, minute: 59 }],
    ['2026-11-29T05:00:00Z', 'America/New_York', { weekday: 0, hour: 0, minute: 0 }],
    ['2026-07-01T12:15:00Z', 'Asia/Kathmandu', { weekday: 3, hour: 18, minute: 0 }],
    ['2026-03-08T07:30:00Z', 'America/New_York', { weekday: 0, hour: 3, minute: 30 }],
  ])('%s in %s', (iso, tz, expected) => {
    const ms = Date.parse(iso);
    expect(timeFacts(tz)(ms)).toEqual({ now: new Date(ms).toISOString(), now_ms: ms, timezone: tz, ...expected });
  });

  it('stays right across minute boundaries while caching', () => {
    const clock = timeFacts('UTC');
    const t = Date.parse('2026-11-25T23:59:30Z');
    expect(clock(t)).toMatchObject({ hour: 23, minute: 59, weekday: 3 });
    expect(clock(t + 29_000)).toMatchObject({ hour: 23, minute: 59, weekday: 3 });
    expect(clock(t + 30_000)).toMatchObject({ hour: 0, minute: 0, weekday: 4 });
    expect(clock(t - 60_000)).toMatchObject({ hour: 23, minute: 58 });
  });
});
