// Typed keys of tidegate's search attributes (names and types in src/core/search-attributes.ts).
import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';

const keyword = (name: keyof typeof SEARCH_ATTRIBUTES) => defineSearchAttributeKey(name, 'KEYWORD');

export const SERVICE_KEY = keyword('TidegateService');
export const VERSION_KEY = keyword('TidegateVersion');
export const STAGE_KEY = keyword('TidegateStage');
export const OUTCOME_KEY = keyword('TidegateOutcome');
