import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag, names, nested } from "./_grant_fields.ts";
import { matchesPattern } from "./_grant_match.ts";

/**
 * The `registry` part of a {@linkcode ContainersGrant}: repository patterns (exact, or prefix
 * with a trailing `*`) for the room's container registry.
 *
 * JSON: `{ list?, pull?, run?, write? }`, each `string[]`; absent = unrestricted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContainerRegistryGrant } from "@meshagent/api";
 *
 * const registry = ContainerRegistryGrant.fromJson({ pull: ["team/*"] });
 * assert.equal(registry.canPull("team/app"), true);
 * assert.equal(registry.canPull("other/app"), false);
 * assert.equal(registry.canList("team/app"), true);
 * assert.equal(registry.canWrite("other/app"), true);
 * ```
 */
export class ContainerRegistryGrant extends ApiGrant {
  static {
    describeGrant(this, "containers.registry", {
      list: names("list"),
      pull: names("pull"),
      run: names("run"),
      write: names("write"),
    });
  }

  /** Repositories that may be listed; null = derived from pull/run/write. */
  declare readonly list: readonly string[] | null;
  /** Repositories that may be pulled; null = any. */
  declare readonly pull: readonly string[] | null;
  /** Repositories that may be run; null = any. */
  declare readonly run: readonly string[] | null;
  /** Repositories that may be pushed to; null = any. */
  declare readonly write: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options Pattern lists; null = unrestricted.
   */
  constructor(options: GrantOptions<ContainerRegistryGrant> = {}) {
    super(options);
  }

  /**
   * Whether `repository` may be listed: by `list` when set, otherwise by any of pull/run/write
   * that is set, otherwise always.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canList(repository: string): boolean {
    if (this.list !== null) return matchesPattern(this.list, repository, false);
    const lists = [this.pull, this.run, this.write].filter((list) => list !== null);
    if (lists.length === 0) return true;
    return lists.some((list) => matchesPattern(list, repository, false));
  }

  /**
   * Whether `repository` may be pulled.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canPull(repository: string): boolean {
    return matchesPattern(this.pull, repository, true);
  }

  /**
   * Whether images of `repository` may be run.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRun(repository: string): boolean {
    return matchesPattern(this.run, repository, true);
  }

  /**
   * Whether `repository` may be pushed to.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canWrite(repository: string): boolean {
    return matchesPattern(this.write, repository, true);
  }
}

/**
 * `containers` grant: running containers in the room.
 *
 * JSON: `{ use_containers? (true), logs? (true), pull?: string[], run?: string[],
 * registry?: ContainerRegistryGrant }`. Image patterns are exact or prefix with a trailing `*`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContainersGrant } from "@meshagent/api";
 *
 * const grant = ContainersGrant.fromJson({ run: ["python:*"], use_containers: true });
 * assert.equal(grant.canRun("python:3.12"), true);
 * assert.equal(grant.canRun("node:22"), false);
 * assert.equal(grant.canPull("node:22"), true);
 * assert.deepEqual(grant.toJson(), { run: ["python:*"] });
 * ```
 */
export class ContainersGrant extends ApiGrant {
  static {
    describeGrant(this, "containers", {
      useContainers: flag("use_containers", true, ["useContainers"]),
      logs: flag("logs", true),
      pull: names("pull"),
      run: names("run"),
      registry: nested("registry", ContainerRegistryGrant),
    });
  }

  /** Use containers at all (default true). */
  declare readonly useContainers: boolean;
  /** Read container logs (default true). */
  declare readonly logs: boolean;
  /** Image tags that may be pulled; null = any. */
  declare readonly pull: readonly string[] | null;
  /** Image tags that may be run; null = any. */
  declare readonly run: readonly string[] | null;
  /** Registry permissions; null = unrestricted. */
  declare readonly registry: ContainerRegistryGrant | null;

  /**
   * Creates the grant.
   *
   * @param options Flags (default true), image pattern lists and registry grant.
   */
  constructor(options: GrantOptions<ContainersGrant> = {}) {
    super(options);
  }

  /**
   * Whether image `tag` may be pulled.
   *
   * @param tag Image tag, e.g. `python:3.12`.
   * @returns The decision.
   */
  canPull(tag: string): boolean {
    return this.useContainers && matchesPattern(this.pull, tag, true);
  }

  /**
   * Whether image `tag` may be run.
   *
   * @param tag Image tag.
   * @returns The decision.
   */
  canRun(tag: string): boolean {
    return this.useContainers && matchesPattern(this.run, tag, true);
  }

  /**
   * Whether registry `repository` may be listed.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryList(repository: string): boolean {
    return this.registry === null || this.registry.canList(repository);
  }

  /**
   * Whether registry `repository` may be pulled.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryPull(repository: string): boolean {
    return this.registry === null || this.registry.canPull(repository);
  }

  /**
   * Whether registry `repository` may be run.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryRun(repository: string): boolean {
    return this.registry === null || this.registry.canRun(repository);
  }

  /**
   * Whether registry `repository` may be pushed to.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryWrite(repository: string): boolean {
    return this.registry === null || this.registry.canWrite(repository);
  }
}
