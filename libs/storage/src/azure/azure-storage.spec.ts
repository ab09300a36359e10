import { openStorage } from '../open-storage';
import { StorageError } from '../storage';
import { azureBlobEndpoint, parseAzureLocation, readAzureCredential } from './azure-location';
import { openAzureStorage } from './azure-storage';

const KEY = Buffer.alloc(64, 7).toString('base64');

describe('parseAzureLocation', () => {
  it.each([
    ['azure:myaccount/backups', { account: 'myaccount', container: 'backups', prefix: '', display: 'azure:myaccount/backups' }],
    ['azure:myaccount/backups/', { account: 'myaccount', container: 'backups', prefix: '', display: 'azure:myaccount/backups' }],
    ['AZURE:acc/my-container/host1/repo/', { account: 'acc', container: 'my-container', prefix: 'host1/repo', display: 'azure:acc/my-container/host1/repo' }],
  ])('parses %s', (location, expected) => {
    expect(parseAzureLocation(location)).toEqual(expected);
  });

  it.each([
    ['azure:', /storage account name "" must be/],
    ['azure://acc/backups', /without "\/\/"/],
    ['azure:acc', /names no container/],
    ['azure:MyAccount/backups', /storage account name "MyAccount"/],
    ['azure:a/backups', /storage account name "a"/],
    ['azure:acc/Backups', /container name "Backups"/],
    ['azure:acc/ab', /container name "ab"/],
    ['azure:acc/back--ups', /container name "back--ups"/],
    ['azure:acc/-backups', /container name "-backups"/],
    ['azure:acc/backups//x', /prefix "\/x" is unusable: it starts with "\/"/],
    ['azure:acc/backups/a/../b', /prefix "a\/..\/b" is unusable: it contains "\.\."/],
    ['azure:acc/backups/a\\b', /backslash/],
  ])('refuses %s permanently, naming the expected form', (location, problem) => {
    const err = thrown(() => parseAzureLocation(location));
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).permanent).toBe(true);
    expect((err as Error).message).toMatch(problem);
    expect((err as Error).message).toContain('expected azure:ACCOUNT/CONTAINER[/PREFIX]');
  });

  it('keeps a SAS pasted into the location out of the message', () => {
    const message = (thrown(() => parseAzureLocation('azure:acc/backups?sv=2024&sig=SECRET')) as Error).message;
    expect(message).toContain('AZURE_ACCOUNT_SAS');
    expect(message).not.toContain('SECRET');
  });
});

describe('azureBlobEndpoint', () => {
  const location = parseAzureLocation('azure:acc/backups');

  it('defaults to the public cloud, and follows AZURE_ENDPOINT_SUFFIX', () => {
    expect(azureBlobEndpoint(location, {})).toBe('https://acc.blob.core.windows.net');
    expect(azureBlobEndpoint(location, { AZURE_ENDPOINT_SUFFIX: 'core.chinacloudapi.cn' })).toBe('https://acc.blob.core.chinacloudapi.cn');
  });

  it('takes COFFER_AZURE_ENDPOINT as it is, without a trailing slash', () => {
    expect(azureBlobEndpoint(location, { COFFER_AZURE_ENDPOINT: 'http://127.0.0.1:10000/devstoreaccount1/' })).toBe('http://127.0.0.1:10000/devstoreaccount1');
  });

  it.each([
    [{ COFFER_AZURE_ENDPOINT: 'not a url' }, /COFFER_AZURE_ENDPOINT is not a URL/],
    [{ COFFER_AZURE_ENDPOINT: 'ftp://host/acc' }, /COFFER_AZURE_ENDPOINT must be an http/],
    [{ COFFER_AZURE_ENDPOINT: 'https://acc.blob.core.windows.net/?sig=SECRET' }, /must not carry credentials, a query/],
    [{ AZURE_ENDPOINT_SUFFIX: 'core windows' }, /AZURE_ENDPOINT_SUFFIX "core windows" is not a DNS suffix/],
  ])('refuses %j, naming the variable and the location', (env, problem) => {
    const message = (thrown(() => azureBlobEndpoint(location, env)) as Error).message;
    expect(message).toMatch(problem);
    expect(message).toContain('azure:acc/backups');
    expect(message).not.toContain('SECRET');
  });
});

describe('readAzureCredential', () => {
  it('reads an account key', () => {
    expect(readAzureCredential({ AZURE_ACCOUNT_KEY: ` ${KEY}\n` })).toEqual({ variable: 'AZURE_ACCOUNT_KEY', accountKey: KEY });
  });

  it.each([['sv=2024-01-01&sig=abc'], ['?sv=2024-01-01&sig=abc'], ['https://acc.blob.core.windows.net/backups?sv=2024-01-01&sig=abc']])(
    'reads the SAS token in %s',
    (value) => {
      expect(readAzureCredential({ AZURE_ACCOUNT_SAS: value })).toEqual({ variable: 'AZURE_ACCOUNT_SAS', sasToken: 'sv=2024-01-01&sig=abc' });
    },
  );

  it.each([
    [{}, /no Azure credential: set AZURE_ACCOUNT_KEY .* or AZURE_ACCOUNT_SAS/],
    [{ AZURE_ACCOUNT_KEY: '', AZURE_ACCOUNT_SAS: ' ' }, /no Azure credential/],
    [{ AZURE_ACCOUNT_KEY: KEY, AZURE_ACCOUNT_SAS: 'sv=1&sig=2' }, /both AZURE_ACCOUNT_KEY and AZURE_ACCOUNT_SAS are set/],
    [{ AZURE_ACCOUNT_KEY: 'not base64!' }, /AZURE_ACCOUNT_KEY is not a storage account key/],
    [{ AZURE_ACCOUNT_SAS: 'sv=2024-01-01' }, /AZURE_ACCOUNT_SAS is not a SAS token/],
  ])('explains what is wrong with %j', (env, problem) => {
    const credential = readAzureCredential(env);
    expect(credential.variable).toBeUndefined();
    expect('problem' in credential && credential.problem).toMatch(problem);
  });
});

describe('openAzureStorage', () => {
  it('is what openStorage opens for azure: locations, with a message-safe location', () => {
    const storage = openStorage('azure:acc/backups/host1', { env: { AZURE_ACCOUNT_SAS: 'sv=1&sig=SECRET' } });
    expect(storage.location).toBe('azure:acc/backups/host1');
  });

  it('fails on first use, naming the variables, the location and the object, when there is no credential', async () => {
    const storage = openAzureStorage('azure:acc/backups', { COFFER_AZURE_ENDPOINT: 'http://127.0.0.1:9/acc' });
    for (const call of [() => storage.get('config'), () => storage.put('config', Buffer.from('x')), () => storage.exists('config')]) {
      const err = await rejection(call());
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).permanent).toBe(true);
      expect((err as Error).message).toMatch(/config .*azure:acc\/backups: no Azure credential: set AZURE_ACCOUNT_KEY .* or AZURE_ACCOUNT_SAS/);
    }
  });

  it('refuses calls once closed', async () => {
    const storage = openAzureStorage('azure:acc/backups', { AZURE_ACCOUNT_KEY: KEY });
    await storage.close();
    const err = await rejection(storage.get('config'));
    expect((err as StorageError).permanent).toBe(true);
    expect((err as Error).message).toBe('cannot read config in azure:acc/backups: the storage is closed');
  });

  it('loads the Azure SDK on first I/O, not when opened', async () => {
    let loaded = false;
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@azure/storage-blob', () => {
        loaded = true;
        return {};
      });
      const isolated = await import('./azure-storage');
      const storage = isolated.openAzureStorage('azure:acc/backups', { AZURE_ACCOUNT_KEY: KEY, COFFER_AZURE_ENDPOINT: 'http://127.0.0.1:9/acc' });
      expect(loaded).toBe(false);
      // The stand-in module has no clients, so the call fails, after loading it.
      expect((await rejection(storage.stat('config'))) as Error).toHaveProperty('message', expect.stringContaining('cannot load the Azure SDK'));
      expect(loaded).toBe(true);
    });
  });
});

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

async function rejection(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
