// Typed errors of the client library; the CLI maps each to its exit code in one place.

/** The user's input is wrong (spec, arguments, unknown release): exit 2. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(message: string, readonly problems: string[] = []) {
    super(message);
  }
}

/** The release refused the request (approval rules, not paused, another release running): exit 3. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

/** No release with that id. */
export class ReleaseNotFoundError extends InvalidInputError {
  constructor(readonly releaseId: string) {
    super(`no release ${releaseId} (ids look like checkout@1.4.2; see \`tidegate list\`)`);
  }
}
