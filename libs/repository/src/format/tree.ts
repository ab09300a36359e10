import { IntegrityError } from '../crypto/envelope';

/** One entry of a directory listing, as stored in a tree blob. */
export interface TreeNode {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string. */
  mtime: string;
  /** Bytes of a file. */
  size?: number;
  /** Inode and device, for incremental backups and hard links. */
  inode?: string;
  dev?: string;
  /** Hard-link count when above one. */
  links?: number;
  /** Symlink target. */
  target?: string;
  /** Hex ids of a file's data blobs, in order. */
  content?: string[];
  /** Hex id of a directory's tree blob. */
  subtree?: string;
}

/** A directory listing: nodes sorted by name. */
export interface Tree {
  nodes: TreeNode[];
}

/** Serializes a tree deterministically, so unchanged directories get the same id. */
export function encodeTree(nodes: TreeNode[]): Buffer {
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Buffer.from(JSON.stringify({ nodes: sorted }));
}

/**
 * Parses a tree and rejects names that could escape a restore target: a manifest is
 * outside input, whoever wrote it.
 */
export function decodeTree(plain: Buffer, what: string): Tree {
  let tree: Tree;
  try {
    tree = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new IntegrityError(`${what} is not a valid tree`);
  }
  if (!tree || !Array.isArray(tree.nodes)) throw new IntegrityError(`${what} is not a valid tree`);
  const seen = new Set<string>();
  for (const n of tree.nodes) {
    if (!isSafeName(n?.name)) throw new IntegrityError(`${what} holds an unsafe name ${JSON.stringify(n?.name)}`);
    if (seen.has(n.name)) throw new IntegrityError(`${what} holds ${JSON.stringify(n.name)} twice`);
    seen.add(n.name);
    if (n.type !== 'file' && n.type !== 'dir' && n.type !== 'symlink') throw new IntegrityError(`${what}: ${n.name} has unknown type`);
  }
  return tree;
}

/** A single path component that cannot climb out of its directory. */
export function isSafeName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}
