import { isObject } from '../object.js';

/** What one caller is shown of a tools/list answer, and the names it was not shown. */
export interface FilteredToolList {
  readonly message: unknown;
  readonly hidden: readonly string[];
}

/**
 * A tools/list answer with only the tools `visible` admits. Each page is filtered on its own and `nextCursor` is
 * the service's, untouched: the next page is filtered the same way, so paging through sees every visible tool
 * exactly once (a page may come back shorter, even empty, while `nextCursor` says more follow). Every result that
 * lists tools is filtered, whatever its id: on the stream answering a tools/list nothing else lists tools, and an
 * answer whose id the gateway did not expect (a service echoing 1 for "1") must not pass unfiltered. Other messages
 * (notifications, errors, the service's own requests on the same stream) pass as they are. A tool without a name,
 * or one `visible` throws on, is hidden: the list fails closed.
 */
export function filterToolList(message: unknown, visible: (name: string) => boolean): FilteredToolList {
  const listed = listedTools(message);
  if (!listed) return { message, hidden: [] };
  const hidden: string[] = [];
  const tools = listed.tools.filter((tool: unknown) => {
    const name = isObject(tool) && typeof tool.name === 'string' ? tool.name : undefined;
    let shown: boolean;
    try {
      shown = name !== undefined && visible(name);
    } catch {
      shown = false;
    }
    if (!shown) hidden.push(name ?? '(unnamed)');
    return shown;
  });
  return { message: { ...listed.message, result: { ...listed.result, tools } }, hidden };
}

/** The tools of a message that is a result listing tools, or undefined for any other message. */
export function listedTools(message: unknown): { message: Record<string, unknown>; result: Record<string, unknown>; tools: unknown[] } | undefined {
  if (!isObject(message) || !isObject(message.result) || !Array.isArray(message.result.tools)) return undefined;
  return { message, result: message.result, tools: message.result.tools };
}
