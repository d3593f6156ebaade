import type { ChangeGroup, ReplayTally, SimulationReport, Verdict } from './simulate-types.js';

const n = (x: number): string => x.toLocaleString('en-US');

/** The report as `toolgate policy simulate` prints it without --json. */
export function formatSimulation(r: SimulationReport): string {
  const lines: string[] = [];
  lines.push(`candidate ${r.candidate.revision} (sha256 ${r.candidate.sha256.slice(0, 12)}) replayed against ${r.source}`);
  if (r.window.since || r.window.until) lines.push(`  window: ${r.window.since ?? 'start'} .. ${r.window.until ?? 'end'}`);
  const skipped = [
    r.unreadable && `${n(r.unreadable)} unreadable`,
    r.skipped.notDecisions && `${n(r.skipped.notDecisions)} not decisions (completions, approvals)`,
    r.skipped.noInput && `${n(r.skipped.noInput)} refused before the policy saw them (no input)`,
    r.skipped.outsideWindow && `${n(r.skipped.outsideWindow)} outside the window`,
  ].filter(Boolean);
  lines.push(`  events read:        ${n(r.events)}${skipped.length ? ` (skipped: ${skipped.join(', ')})` : ''}`);
  if (r.tornBytes) lines.push(`  torn last line:     ${n(r.tornBytes)} bytes after the last complete event (a line still being written, or cut short by a crash): not replayed`);
  lines.push(`  decisions replayed: ${n(r.clear.replayed)}`);
  lines.push(`  unchanged:          ${n(r.clear.unchanged)}`);
  lines.push(`  changed:            ${n(r.clear.changed)}`);
  lines.push(...groups(r.clear));
  if (r.masked.replayed) {
    lines.push(`  masked inputs:      ${n(r.masked.replayed)} replayed apart, ${n(r.masked.unchanged)} unchanged, ${n(r.masked.changed)} changed`);
    lines.push('    (their audit input has values masked or erased that the policy saw in clear, so a replay may differ for that reason alone)');
    lines.push(...groups(r.masked));
  }
  const revisions = Object.entries(r.recordedRevisions).map(([rev, c]) => `${rev} (${n(c)})`);
  if (revisions.length) lines.push(`  recorded by:        ${revisions.join(', ')}`);
  lines.push(`  speed:              ${n(r.eventsPerS)} events/s (${n(r.events)} events in ${r.elapsedS.toFixed(1)} s); RSS ${r.memory.rssStartMb.toFixed(0)} MB at start, ${r.memory.rssPeakMb.toFixed(0)} MB peak`);
  if (r.maxChanged !== null) {
    lines.push(r.exceeded ? `FAILED: ${n(r.clear.changed)} changed decisions, more than --max-changed ${n(r.maxChanged)}` : `OK: ${n(r.clear.changed)} changed decisions, within --max-changed ${n(r.maxChanged)}`);
  }
  return `${lines.join('\n')}\n`;
}

function groups(t: ReplayTally): string[] {
  if (!t.changes.length) return [];
  const width = Math.max(...t.changes.map((g) => n(g.count).length));
  return t.changes.map((g) => `    ${n(g.count).padStart(width)}  ${describe(g)}${g.examples.length ? `  e.g. ${g.examples.join(', ')}` : ''}`);
}

function describe(g: ChangeGroup): string {
  if (g.kind === 'overflow') return 'other changes (past the number of distinct change groups kept)';
  if (g.kind === 'obligations') return `${g.tool}: ${verdict(g.from)}, obligations differ: ${(g.obligations ?? []).join(', ')}`;
  return `${g.tool}: ${verdict(g.from)} -> ${verdict(g.to)}`;
}

function verdict(v: Verdict): string {
  return `${v.outcome} [${v.codes.join(',')}]`;
}
