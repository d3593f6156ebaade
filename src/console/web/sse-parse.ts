export interface ServerEvent {
  readonly event: string;
  readonly data: unknown;
}

/**
 * Splits received server-sent event text into complete events (JSON data; the console sends one data line per
 * event) and the unfinished rest, which waits for more bytes. No DOM: the tests read streams with it too.
 */
export function takeEvents(buffer: string): { events: ServerEvent[]; rest: string } {
  const events: ServerEvent[] = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf('\n\n')) !== -1) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') continue;
    try {
      events.push({ event, data: JSON.parse(data) });
    } catch {
      // not one of ours: skip it
    }
  }
  return { events, rest };
}
