// The custom search attributes a release sets, by name and Temporal type. Shared by the workflow
// (which upserts them), the dev server launcher (which registers them) and operators' docs.
export const SEARCH_ATTRIBUTES = {
  TidegateService: 'Keyword',
  TidegateVersion: 'Keyword',
  TidegateStage: 'Keyword',
  TidegateOutcome: 'Keyword',
  /** Who may approve the release now (set while an approval gate waits): "everything waiting for me" is `TidegateAwaiting = 'alice'`. */
  TidegateAwaiting: 'KeywordList',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
