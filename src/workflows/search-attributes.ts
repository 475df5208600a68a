// Typed keys of tidegate's search attributes (names and types in src/core/search-attributes.ts).
import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';

const keyword = (name: { [K in keyof typeof SEARCH_ATTRIBUTES]: (typeof SEARCH_ATTRIBUTES)[K] extends 'Keyword' ? K : never }[keyof typeof SEARCH_ATTRIBUTES]) => defineSearchAttributeKey(name, 'KEYWORD');

export const SERVICE_KEY = keyword('TidegateService');
export const VERSION_KEY = keyword('TidegateVersion');
export const STAGE_KEY = keyword('TidegateStage');
export const OUTCOME_KEY = keyword('TidegateOutcome');
/** The approvers a release waits for now (a keyword list; absent when no gate waits). */
export const AWAITING_KEY = defineSearchAttributeKey('TidegateAwaiting', 'KEYWORD_LIST');
