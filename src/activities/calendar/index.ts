// Whether a release may move on now: the spec's windows and freezes, the worker's calendar file
// (TIDEGATE_CALENDAR, read at every check, so an edit applies to running releases) and the global
// freeze. Computed in an activity, not in the workflow, so the answer (with the time zone rules of
// this worker's Node) is recorded in the history and replays unchanged when tzdata changes.
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { parseDocument } from 'yaml';
import { failure } from '../../core/failures.js';
import type { WindowsSpec } from '../../core/release-spec.js';
import { calendarAnswer } from '../../core/windows.js';
import { formatPath } from '../../spec/load.js';
import { windowsSchema } from '../../spec/schema.js';
import { readGlobalFreeze } from '../../temporal/freeze.js';
import type { CalendarActivities } from '../types.js';

export interface CalendarConfig {
  /** The worker's calendar file (YAML or JSON, the spec's `windows` shape). */
  file?: string;
}

/** The worker's calendar from its file's text; a problem names the file and the field. */
export function parseCalendar(text: string, source: string): WindowsSpec {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message.split('\n')[0] ?? 'not YAML'}`);
  const parsed = windowsSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${formatPath(i.path) || '(document)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function readCalendarFile(file: string): Promise<WindowsSpec> {
  return parseCalendar(await readFile(file, 'utf8'), file);
}

export function createCalendarActivities(client: Client, config: CalendarConfig = {}): CalendarActivities {
  return {
    async checkCalendar({ windows, at }) {
      const globalFreeze = await readGlobalFreeze(client);
      let worker: WindowsSpec | undefined;
      if (config.file && !globalFreeze) {
        try {
          worker = await readCalendarFile(config.file);
        } catch (err) {
          // a broken calendar holds releases back, visibly, rather than letting them past it
          throw failure('CalendarInvalid', `the worker's calendar could not be read (${err instanceof Error ? err.message : String(err)}): fix the file TIDEGATE_CALENDAR names`);
        }
      }
      return calendarAnswer({ ...(windows ? { spec: windows } : {}), ...(worker ? { worker } : {}), ...(globalFreeze ? { globalFreeze } : {}) }, Date.parse(at));
    },
  };
}
