import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../shared/cli-error';
import { parsePolicyDocuments, readPolicyFile } from './policy-file';

function failure(run: () => unknown): CliError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
}

describe('parsePolicyDocuments', () => {
  it('reads one YAML document, keeping camelCase fields as written', () => {
    const sources = parsePolicyDocuments('name: web\nrepository: main\nretention: { keepDaily: 7 }\n', 'web.yaml');
    expect(sources).toEqual([{ document: { name: 'web', repository: 'main', retention: { keepDaily: 7 } }, origin: 'web.yaml', line: 1 }]);
  });

  it('splits documents at ---, skipping empty ones, and numbers them with their first line', () => {
    const text = ['# policies', '---', 'name: a', '---', '# nothing here', '---', 'name: b', 'enabled: false', '---', ''].join('\n');
    const sources = parsePolicyDocuments(text, 'all.yaml');
    expect(sources.map((s) => s.document)).toEqual([{ name: 'a' }, { name: 'b', enabled: false }]);
    expect(sources.map((s) => s.origin)).toEqual(['all.yaml document 1', 'all.yaml document 2']);
    expect(sources.map((s) => s.line)).toEqual([3, 7]);
  });

  it('reads JSON, an object or a list of them', () => {
    expect(parsePolicyDocuments('{"name": "web", "schedules": [{"cron": "0 2 * * *"}]}', 'web.json').map((s) => s.document)).toEqual([
      { name: 'web', schedules: [{ cron: '0 2 * * *' }] },
    ]);
    expect(parsePolicyDocuments('[{"name": "a"}, {"name": "b"}]', 'p.json').map((s) => s.origin)).toEqual(['p.json document 1', 'p.json document 2']);
  });

  it('keeps YAML 1.2 meanings: "on", "yes" and times stay strings', () => {
    const [{ document }] = parsePolicyDocuments('name: web\ndescription: yes\ntags: [on, 12:30]\n', 'web.yaml');
    expect(document).toEqual({ name: 'web', description: 'yes', tags: ['on', '12:30'] });
  });

  it('names the file, line and column of a syntax error, counted from the start of the file', () => {
    const text = 'name: a\n---\nname: b\nsources:\n  - files: { paths: [/srv }\n';
    expect(failure(() => parsePolicyDocuments(text, 'web.yaml')).message).toMatch(/^web\.yaml:5:\d+: YAML syntax error: /);
  });

  it('reports a bad indentation and a duplicate key with their positions, without the excerpt', () => {
    const bad = failure(() => parsePolicyDocuments('name: web\n  repository: main\n', 'web.yaml'));
    expect(bad.message).toMatch(/^web\.yaml:1:7: YAML syntax error: [^\n]+$/);
    const duplicate = failure(() => parsePolicyDocuments('name: web\nrepository: a\nrepository: b\n', 'dup.yaml'));
    expect(duplicate.message).toBe('dup.yaml:3:1: YAML syntax error: Map keys must be unique');
  });

  it('reports a JSON syntax error with its position too', () => {
    expect(failure(() => parsePolicyDocuments('{\n  "name": "web",,\n}', 'web.json')).message).toMatch(/^web\.json:2:\d+: YAML syntax error: /);
  });

  it('refuses a file with no document at all', () => {
    expect(failure(() => parsePolicyDocuments('# just a comment\n---\n', 'empty.yaml')).message).toBe('empty.yaml holds no policy document');
  });
});

describe('readPolicyFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'coffer-policy-file-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, a byte-order mark included', async () => {
    const file = join(dir, 'web.yaml');
    writeFileSync(file, '\uFEFFname: web\n');
    expect(await readPolicyFile(file)).toEqual([{ document: { name: 'web' }, origin: file, line: 1 }]);
  });

  it('says plainly when the file cannot be read', async () => {
    await expect(readPolicyFile(join(dir, 'missing.yaml'))).rejects.toThrow(new CliError(`cannot read ${join(dir, 'missing.yaml')}: no such file`));
    await expect(readPolicyFile(dir)).rejects.toThrow(new CliError(`cannot read ${dir}: it is a directory`));
  });
});

describe('parsePolicyDocuments, aliases', () => {
  it('reports an alias to no anchor as a problem of the file, not a crash', () => {
    expect(failure(() => parsePolicyDocuments('name: a\n---\nname: b\nrepository: *main\n', 'web.yaml')).message).toMatch(
      /^web\.yaml:3: YAML error in the document starting here: Unresolved alias/,
    );
  });

  it('expands anchors and aliases', () => {
    const [{ document }] = parsePolicyDocuments('name: web\nschedules:\n  - &nightly { cron: "0 2 * * *" }\n  - *nightly\n', 'web.yaml');
    expect(document).toEqual({ name: 'web', schedules: [{ cron: '0 2 * * *' }, { cron: '0 2 * * *' }] });
  });
});
