import { Command } from 'commander';
import type { ApplyPolicyResult } from '@coffer/contracts';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { collect } from '../../shared/option-parsers';
import { Terminal } from '../../shared/terminal';
import { formatApplyResult, formatProblems, policySubject } from '../apply-report';
import { ApiError } from '../controller-client';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import type { PolicySource } from '../policy-file';

interface ApplyOptions extends ControllerOptions, JsonOptions {
  file: string[];
}

/** `coffer apply -f FILE`: create or update policies from YAML or JSON documents. */
export function registerApplyCommand(program: Command): void {
  const apply = program
    .command('apply')
    .description('create or update policies from YAML (one or several documents separated by ---) or JSON')
    .requiredOption('-f, --file <file>', 'policy file, or - for stdin (repeatable)', collect);
  withJson(withControllerOption(apply), 'one result per policy applied, as PUT /api/v1/policies/:name returns it (ApplyPolicyResult[])')
    .addHelpText(
      'after',
      `
Every document is checked before any is sent: when one is invalid, nothing is applied.
Output: policy "NAME" created|updated|unchanged, and under "updated" one line per change.

Example:
  coffer apply -f policies/web.yaml
  coffer policies show web > web.yaml && $EDITOR web.yaml && coffer apply -f web.yaml`,
    )
    .action(
      fleetAction(async (options: ApplyOptions) => {
        const out = new Terminal(!!options.json);
        // Loaded here, not at start-up: only apply reads YAML and validates policies.
        const { readPolicyFile } = await import('../policy-file');
        const { parsePolicyDocument } = await import('@coffer/contracts');

        const sources: PolicySource[] = [];
        for (const file of options.file) sources.push(...(await readPolicyFile(file)));
        checkNoDuplicates(sources);

        let invalid = 0;
        for (const source of sources) {
          const parsed = parsePolicyDocument(source.document);
          if (parsed.ok) continue;
          process.stderr.write(`${formatProblems(policySubject(source.document, source.origin), parsed.problems)}\n`);
          invalid++;
        }
        if (invalid > 0) {
          process.stderr.write(`nothing was applied: fix the ${invalid === 1 ? 'problem' : 'problems'} above and apply again\n`);
          return ExitCode.Failure;
        }

        const client = connect(options);
        const results: ApplyPolicyResult[] = [];
        let refused = 0;
        for (const source of sources) {
          const name = (source.document as { name: string }).name;
          try {
            const result = await client.applyPolicy(name, source.document);
            results.push(result);
            out.print(formatApplyResult(result));
          } catch (err) {
            // The controller knows more than the schema (does the repository exist?): report, go on.
            if (!(err instanceof ApiError) || err.problems.length === 0) throw err;
            process.stderr.write(`${formatProblems(policySubject(source.document, source.origin), err.problems)}\n`);
            refused++;
          }
        }
        if (out.json) out.printJson(results);
        return refused > 0 ? ExitCode.Failure : ExitCode.Success;
      }),
    );
}

function checkNoDuplicates(sources: PolicySource[]): void {
  const seen = new Map<string, string>();
  for (const { document, origin } of sources) {
    const name = (document as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') continue;
    const first = seen.get(name);
    if (first !== undefined) throw new CliError(`policy "${name}" is defined twice (${first} and ${origin}): nothing was applied`);
    seen.set(name, origin);
  }
}
