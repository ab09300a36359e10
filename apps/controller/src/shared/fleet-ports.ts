import type { PolicyDocument } from '@coffer/contracts';

/*
 * What the fleet side (agents, jobs, scheduler: apps/controller/src/fleet) needs from the
 * catalog side (repositories, policies, snapshots). The catalog side's global modules
 * provide these abstract classes; the fleet side injects them.
 */

/** A repository with its secrets decrypted, for a job only. Never logged or returned. */
export interface RepositoryAccessSecret {
  id: string;
  name: string;
  url: string;
  password: string;
  environment: Record<string, string>;
}

/** Registered repositories. */
export abstract class RepositoryDirectory {
  /** The repository with decrypted secrets; throws ApiException 404 not_found if unknown. */
  abstract resolveAccess(name: string): Promise<RepositoryAccessSecret>;
}

/** Named secrets (database passwords) that job specs refer to. */
export abstract class SecretDirectory {
  /** The decrypted values of those of `names` that exist, for a job only. Never logged or returned. */
  abstract resolveSecrets(names: string[]): Promise<Map<string, string>>;
}

/** A stored policy. */
export interface StoredPolicy {
  id: string;
  name: string;
  document: PolicyDocument;
  createdAt: Date;
  updatedAt: Date;
}

/** Stored policies. */
export abstract class PolicyDirectory {
  /** Every policy whose document says `enabled: true`. */
  abstract listEnabled(): Promise<StoredPolicy[]>;
  /** The policy, or null. */
  abstract findByName(name: string): Promise<StoredPolicy | null>;
}

/** What a snapshot says about itself (as an agent reports it and the repository stores it). */
export interface SnapshotFacts {
  id: string;
  time: Date;
  hostname: string;
  sourceKind: string;
  paths: string[];
  tags: string[];
  parentId: string | null;
  files: number;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
  durationSeconds: number;
}

/** A snapshot a job reported, for the catalog: its facts and where it came from. */
export interface SnapshotRecordInput extends SnapshotFacts {
  repositoryName: string;
  agentName: string | null;
  policyName: string | null;
  jobId: string | null;
}

/** A catalog entry found by id or prefix. */
export interface CatalogSnapshotRef {
  id: string;
  repositoryName: string;
  hostname: string;
  paths: string[];
  agentName: string | null;
  policyName: string | null;
  /** "files", "stdin", "postgres", "mysql", "redis". */
  sourceKind: string;
}

/** The snapshot catalog (an index of the repositories, never the only copy). */
export abstract class SnapshotCatalog {
  /** Records snapshots; idempotent on (repository, snapshot id). */
  abstract recordSnapshots(snapshots: SnapshotRecordInput[]): Promise<void>;
  /** Marks snapshots removed by retention as forgotten. Unknown ids are ignored. */
  abstract markForgotten(repositoryName: string, snapshotIds: string[]): Promise<void>;
  /**
   * The one snapshot whose id is `idOrPrefix` or starts with it; throws ApiException
   * 404 not_found when none, 409 ambiguous when several match. `repositoryName` limits the
   * search to one repository.
   */
  abstract findSnapshot(idOrPrefix: string, repositoryName?: string): Promise<CatalogSnapshotRef>;
}
