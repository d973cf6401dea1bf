/**
 * A problem a patcher finds only once it sees the family (a container that does not exist, two routers), located by
 * a path inside the spec that caused it. Errors stop the family's plan; warnings become plan notes.
 */
export interface PatchIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly severity: "error" | "warning";
}

export interface PatchOptions {
  /** The operator's region: the default for `awslogs-region` and the outputs' `region`. */
  readonly region: string | undefined;
}
