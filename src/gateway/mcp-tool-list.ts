import { isObject } from '../object.js';

/** What one caller is shown of a tools/list answer, and the names it was not shown. */
export interface FilteredToolList {
  readonly message: unknown;
  readonly hidden: readonly string[];
}

/**
 * The answer to the caller's tools/list `rpcId` with only the tools `visible` admits. Each page is filtered on its
 * own and `nextCursor` is the service's, untouched: the next page is filtered the same way, so paging through
 * sees every visible tool exactly once (a page may come back shorter, even empty, while `nextCursor` says more
 * follow). Other messages (notifications, the service's own requests on the same stream) pass as they are. A tool
 * without a name, or one `visible` throws on, is hidden: the list fails closed.
 */
export function filterToolList(message: unknown, rpcId: string | number | null | undefined, visible: (name: string) => boolean): FilteredToolList {
  const listed = listedTools(message, rpcId);
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

/** The tools of a message that answers the caller's tools/list `rpcId`, or undefined for any other message. */
export function listedTools(message: unknown, rpcId: string | number | null | undefined): { message: Record<string, unknown>; result: Record<string, unknown>; tools: unknown[] } | undefined {
  if (!isObject(message) || message.id !== rpcId || !isObject(message.result) || !Array.isArray(message.result.tools)) return undefined;
  return { message, result: message.result, tools: message.result.tools };
}
