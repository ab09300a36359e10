import { objectNameProblem } from '../object-names';
import { StorageError } from '../storage';

/** What an `azure:` location must look like, quoted in every refusal. */
export const AZURE_LOCATION_FORM = 'azure:ACCOUNT/CONTAINER[/PREFIX], e.g. azure:mybackups/coffer/host1';

/** Azure's own rule for storage account names. */
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/** Azure's own rule for container names: lower-case letters, digits and single hyphens, not at either end. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** A DNS suffix such as core.windows.net or core.usgovcloudapi.net. */
const ENDPOINT_SUFFIX = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;

/** The public-cloud blob endpoint suffix, as restic's AZURE_ENDPOINT_SUFFIX defaults it. */
const DEFAULT_ENDPOINT_SUFFIX = 'core.windows.net';

/** A storage account key is 64 bytes, base64-encoded. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A parsed `azure:ACCOUNT/CONTAINER[/PREFIX]` location. */
export interface AzureLocation {
  account: string;
  container: string;
  /** Blob name prefix without leading or trailing '/', '' for the container root. */
  prefix: string;
  /** The normalised location, safe for messages (locations never carry credentials). */
  display: string;
}

/** How requests are authorised, and which variable it came from (messages name it). */
export type AzureCredential =
  | { variable: 'AZURE_ACCOUNT_KEY'; accountKey: string }
  | { variable: 'AZURE_ACCOUNT_SAS'; sasToken: string }
  /** No usable credential; reported on first use, since opening a storage does no I/O and needs none. */
  | { variable: undefined; problem: string };

/**
 * Parses `azure:ACCOUNT/CONTAINER[/PREFIX]` (scheme in any case; a trailing '/' is dropped).
 * Throws a permanent StorageError that names the expected form.
 */
export function parseAzureLocation(location: string): AzureLocation {
  const refuse = (problem: string): never => {
    throw new StorageError(`storage "${redactQuery(location)}" is not a valid Azure location: ${problem} (expected ${AZURE_LOCATION_FORM})`, true);
  };
  const match = /^azure:(.*)$/is.exec(location);
  if (!match) return refuse('it does not start with "azure:"');
  const rest = match[1].replace(/\/+$/, '');
  if (rest.includes('?')) refuse('it contains "?": a SAS token belongs in AZURE_ACCOUNT_SAS, not in the location');
  if (rest.startsWith('/')) refuse('the account name comes right after "azure:", without "//"');
  const [account = '', container = '', ...prefixSegments] = rest.split('/');
  if (!ACCOUNT_NAME.test(account)) refuse(`the storage account name "${account}" must be 3 to 24 lower-case letters and digits`);
  if (container === '') refuse('it names no container');
  if (!CONTAINER_NAME.test(container)) {
    refuse(`the container name "${container}" must be 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit`);
  }
  const prefix = prefixSegments.join('/');
  const problem = prefix === '' ? undefined : blobPathProblem(prefix);
  if (problem !== undefined) refuse(`the prefix "${prefix}" is unusable: ${problem}`);
  return { account, container, prefix, display: `azure:${account}/${container}${prefix ? `/${prefix}` : ''}` };
}

/**
 * The account's blob endpoint: COFFER_AZURE_ENDPOINT when set (Azurite, a private endpoint,
 * a proxy), else `https://ACCOUNT.blob.<AZURE_ENDPOINT_SUFFIX or core.windows.net>`.
 * Throws a permanent StorageError naming the variable when its value is unusable.
 */
export function azureBlobEndpoint(location: AzureLocation, env: NodeJS.ProcessEnv): string {
  const refuse = (variable: string, problem: string): never => {
    throw new StorageError(`cannot use ${location.display}: ${variable} ${problem}`, true);
  };
  const override = env.COFFER_AZURE_ENDPOINT?.trim();
  if (override) {
    let url: URL | undefined;
    try {
      url = new URL(override);
    } catch {
      return refuse('COFFER_AZURE_ENDPOINT', `is not a URL (expected e.g. https://${location.account}.blob.core.windows.net)`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') refuse('COFFER_AZURE_ENDPOINT', 'must be an http:// or https:// URL');
    // A SAS or a password in the endpoint would end up in messages and logs.
    if (url.username || url.password || url.search || url.hash) {
      refuse('COFFER_AZURE_ENDPOINT', 'must not carry credentials, a query or a fragment (a SAS token belongs in AZURE_ACCOUNT_SAS)');
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  const suffix = env.AZURE_ENDPOINT_SUFFIX?.trim() || DEFAULT_ENDPOINT_SUFFIX;
  if (!ENDPOINT_SUFFIX.test(suffix)) refuse('AZURE_ENDPOINT_SUFFIX', `"${suffix}" is not a DNS suffix such as ${DEFAULT_ENDPOINT_SUFFIX}`);
  return `https://${location.account}.blob.${suffix}`;
}

/**
 * The credential in AZURE_ACCOUNT_KEY or AZURE_ACCOUNT_SAS (restic's names). Exactly one
 * must be set: with both, which one is used would be a guess, and a writer meant to run with
 * a least-privilege SAS would silently run with the all-powerful key.
 */
export function readAzureCredential(env: NodeJS.ProcessEnv): AzureCredential {
  const key = env.AZURE_ACCOUNT_KEY?.trim();
  const sas = env.AZURE_ACCOUNT_SAS?.trim();
  if (key && sas) return { variable: undefined, problem: 'both AZURE_ACCOUNT_KEY and AZURE_ACCOUNT_SAS are set; set only one' };
  if (key) {
    if (!BASE64.test(key)) return { variable: undefined, problem: 'AZURE_ACCOUNT_KEY is not a storage account key (base64)' };
    return { variable: 'AZURE_ACCOUNT_KEY', accountKey: key };
  }
  if (sas) {
    // Accept what the portal and `az` hand out: the bare token, with a leading '?', or a whole SAS URL.
    const token = sas.slice(sas.indexOf('?') + 1);
    if (!/(^|&)sig=/.test(token)) return { variable: undefined, problem: 'AZURE_ACCOUNT_SAS is not a SAS token (it has no sig= parameter)' };
    return { variable: 'AZURE_ACCOUNT_SAS', sasToken: token };
  }
  return {
    variable: undefined,
    problem: 'no Azure credential: set AZURE_ACCOUNT_KEY (the storage account key) or AZURE_ACCOUNT_SAS (a SAS token)',
  };
}

/**
 * Why a '/'-separated blob path (an object name, a list prefix, a location prefix) is
 * unusable, or undefined when it is fine: the rules every driver applies, and Azure's own —
 * it drops a trailing '.' from URLs.
 */
export function blobPathProblem(path: string): string | undefined {
  return objectNameProblem(path) ?? (path.endsWith('.') ? 'it ends with ".", which Azure drops' : undefined);
}

/** The location up to any query, so a SAS pasted into it never reaches a message. */
function redactQuery(location: string): string {
  const query = location.indexOf('?');
  return query < 0 ? location : `${location.slice(0, query)}?…`;
}
