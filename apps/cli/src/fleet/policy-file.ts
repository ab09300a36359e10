import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { CliError } from '../shared/cli-error';

/** One policy document found in a file, with where it came from for messages. */
export interface PolicySource {
  /** The document as written: defaults are the controller's to fill in. */
  document: unknown;
  /** "web.yaml", or "web.yaml document 2" when the file holds several. */
  origin: string;
  /** Line of the file where the document starts (1-based). */
  line: number;
}

/** The name "-" stands for standard input. */
export const STDIN = '-';

/** Reads a policy file (or stdin for "-") and splits it into documents. */
export async function readPolicyFile(file: string): Promise<PolicySource[]> {
  const name = file === STDIN ? '<stdin>' : file;
  let text: string;
  try {
    text = file === STDIN ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new CliError(`cannot read ${name}: ${why}`);
  }
  return parsePolicyDocuments(text, name);
}

/**
 * Splits YAML text into documents: several separated by `---`, or JSON (a subset of YAML).
 * Empty documents (a trailing `---`, comments only) are skipped. A top-level list stands for
 * several documents, so `[{...}, {...}]` in JSON works as `---` does in YAML.
 * A syntax error throws a CliError naming the file, line and column: "web.yaml:3:7: …".
 */
export function parsePolicyDocuments(text: string, fileName: string): PolicySource[] {
  const documents = parseAllDocuments(text.replace(/^\uFEFF/, ''), { prettyErrors: true });
  const sources: { document: unknown; line: number }[] = [];
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) {
      const position = error.linePos?.[0];
      const where = position ? `${fileName}:${position.line}:${position.col}` : fileName;
      const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
      throw new CliError(`${where}: YAML syntax error: ${errorReason(error.message)}${more}`);
    }
    const line = lineOf(text, doc.contents?.range?.[0] ?? doc.range[0]);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias to no anchor, or aliases expanding beyond reason ("billion laughs").
      throw new CliError(`${fileName}:${line}: YAML error in the document starting here: ${(err as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) sources.push({ document: item, line });
    else sources.push({ document: value, line });
  }
  if (sources.length === 0) throw new CliError(`${fileName} holds no policy document`);
  return sources.map((s, i) => ({ ...s, origin: sources.length === 1 ? fileName : `${fileName} document ${i + 1}` }));
}

/** "Map keys must be unique at line 9, column 1:\n\n<excerpt>" → "Map keys must be unique". */
function errorReason(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
