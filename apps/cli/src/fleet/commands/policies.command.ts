import { Command } from 'commander';
import type { PolicySource, PolicyView } from '@coffer/contracts';
import { ExitCode } from '../../shared/exit-codes';
import { formatTable } from '../../shared/format';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { formatLabels, relativeTime } from '../fleet-format';

type PoliciesOptions = ControllerOptions & JsonOptions;

/** `coffer policies [list]|show|delete`: the backup policies on the controller. */
export function registerPoliciesCommands(program: Command): void {
  const policies = program.command('policies').description('backup policies (create and change them with coffer apply)').helpCommand(false);

  const list = policies.command('list', { isDefault: true }).description('list the policies (the default)');
  withJson(withControllerOption(list), 'the policies as the API returns them (PolicyView[])').action(
    fleetAction(async (options: PoliciesOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listPolicies();
      if (out.json) out.printJson(views);
      else out.print(policyTable(views));
      return ExitCode.Success;
    }),
  );

  const show = policies
    .command('show')
    .description('print a policy document as YAML, ready to edit and apply again')
    .argument('<name>', 'policy name');
  withJson(withControllerOption(show), 'the policy as the API returns it, with id, times and next run (PolicyView)').action(
    fleetAction(async (name: string, options: PoliciesOptions) => {
      const out = new Terminal(!!options.json);
      const view = await connect(options).getPolicy(name);
      if (out.json) {
        out.printJson(view);
      } else {
        // Loaded here, not at start-up: only this command and apply need YAML.
        const { stringify } = await import('yaml');
        out.print(stringify(view.document, { lineWidth: 0 }));
      }
      return ExitCode.Success;
    }),
  );

  const remove = policies
    .command('delete')
    .description('delete a policy: no more scheduled backups; its snapshots stay in the repository')
    .argument('<name>', 'policy name');
  withControllerOption(remove).action(
    fleetAction(async (name: string, options: ControllerOptions) => {
      await connect(options).deletePolicy(name);
      new Terminal(false).print(`policy "${name}" deleted`);
      return ExitCode.Success;
    }),
  );
}

function policyTable(views: PolicyView[]): string {
  if (views.length === 0) return 'no policies: write one in YAML and run coffer apply -f FILE';
  const now = Date.now();
  const rows = views.map(({ document: d, nextRunAt }) => [
    d.name,
    d.enabled ? 'yes' : 'no',
    formatLabels(d.selector) || '(all agents)',
    d.repository,
    d.sources.map(describeSource).join(', '),
    d.schedules.map((s) => (s.timezone === 'UTC' ? s.cron : `${s.cron} ${s.timezone}`)).join('; ') || '-',
    nextRunAt ? relativeTime(nextRunAt, now) : '-',
  ]);
  return formatTable(['NAME', 'ENABLED', 'SELECTOR', 'REPOSITORY', 'SOURCES', 'SCHEDULES', 'NEXT RUN'], rows);
}

function describeSource(source: PolicySource): string {
  if ('files' in source) return source.files.paths.join(' ');
  if ('command' in source) return `${source.command.filename} (command)`;
  if ('postgres' in source) return `${source.postgres.url} (postgres)`;
  if ('mysql' in source) return `${source.mysql.url} (mysql)`;
  return `${source.redis.url} (redis)`;
}
