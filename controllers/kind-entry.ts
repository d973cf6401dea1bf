import type { Static, TSchema } from "@sinclair/typebox";
import type { AwsClients } from "./aws/clients.ts";
import type { IamContext, PolicyStatement } from "./iam.ts";
import type { WatchLister } from "./informers.ts";
import type { Reconciler } from "./reconciler.ts";
import type { KindDefinition } from "./spec/document.ts";

/**
 * What a kind's reconciler and watch listers are built from: the process's AWS clients (built once, in `cmd/`) and
 * the parts several kinds share.
 */
export interface KindParts {
  readonly clients: AwsClients;
  /**
   * The process's one `build(clients)`, built when a kind first asks for it: an adapter and its caches that two
   * kinds share (Cloud Map's namespace lookup), the task-definition engine both patching kinds plug into, the ECS task
   * lister. Keyed by the function itself, so `build` is a module-level function, never an inline arrow.
   */
  shared<T>(build: (clients: AwsClients) => T): T;
}

/**
 * Everything the operator needs to know about one kind, exported by its folder (`reconcilers/<kind>/`) and listed
 * once, in `cmd/kinds.ts`. The registry builds the loader's kind list, the reconcilers, the informers' listers and
 * the IAM policy from these entries, so a kind is added by writing its folder and one line of the registry.
 */
export interface KindEntry<S extends TSchema = TSchema> {
  /** The schema (the single source of the spec's type, its validator and the published JSON Schema), docs, checks. */
  readonly definition: KindDefinition<S>;
  /** Builds the kind's reconciler; called once per process. */
  reconciler(parts: KindParts): Reconciler;
  /**
   * True when the reconciler has `planOrphans`: it sweeps AWS every pass for what this owner made for specs that are
   * gone, whatever the specs hold. A static fact, so that `iam-policy` knows it offline (a test checks it against the
   * reconciler).
   */
  readonly sweeps: boolean;
  /**
   * The IAM statements the kind's adapters need for these specs (all of this kind, already validated), reads of its
   * sweep included when `ctx.sweeping`. Statements several kinds need go under one Sid (see `mergeStatements`).
   */
  iam(specs: readonly Static<S>[], ctx: IamContext): readonly PolicyStatement[];
  /**
   * What the task role of a family the kind's specs configure needs because of them (`iam-policy --role task`): no
   * part of the operator's own policy, since the family's tasks make those calls. Omitted when the kind asks nothing
   * of task roles.
   */
  readonly taskRole?: TaskRoleIam<Static<S>>;
  /**
   * What lists the AWS state this kind's watch keys name (`Reconciler.watches`), for the informers. A lister two kinds
   * use comes from `parts.shared`, so it is one lister. Omitted when the kind watches nothing.
   */
  watchListers?(parts: KindParts): readonly WatchLister[];
}

/** A kind's part of the task roles of the families its specs configure. */
export interface TaskRoleIam<T> {
  /** The statements for these specs (all of this kind), narrowed to those of `family` when it is given. */
  statements(specs: readonly T[], family: string | undefined): readonly PolicyStatement[];
  /** The families whose task roles need something from these specs, named when `--family` picks none of them. */
  families(specs: readonly T[]): readonly string[];
  /** What such a spec does, in words that follow the kind's name: "reads init files from S3". */
  readonly need: string;
}

/** Types a kind's entry against its own schema: `iam` receives the schema's static type. */
export function defineKindEntry<S extends TSchema>(entry: KindEntry<S>): KindEntry<S> {
  return entry;
}

/** `KindParts` over one set of clients. */
export class SharedKindParts implements KindParts {
  readonly clients: AwsClients;
  private readonly built = new Map<(clients: AwsClients) => unknown, unknown>();

  constructor(clients: AwsClients) {
    this.clients = clients;
  }

  shared<T>(build: (clients: AwsClients) => T): T {
    if (!this.built.has(build)) this.built.set(build, build(this.clients));
    return this.built.get(build) as T;
  }
}
