import { CliError } from '../../shared/cli-error';
import { storageEnvironment } from './repos.command';

describe('storageEnvironment', () => {
  const env = { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's3cret', EMPTY: '' };

  it('sends the values of the named variables of the CLI environment', () => {
    expect(storageEnvironment(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], env)).toEqual({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's3cret' });
    expect(storageEnvironment([], env)).toBeUndefined();
  });

  it('refuses a variable that is not set, and a value on the command line', () => {
    expect(() => storageEnvironment(['MISSING'], env)).toThrow(new CliError('--storage-env MISSING: the variable MISSING is not set in this environment'));
    expect(() => storageEnvironment(['EMPTY'], env)).toThrow(CliError);
    expect(() => storageEnvironment(['AWS_SECRET_ACCESS_KEY=s3cret'], env)).toThrow(
      new CliError('--storage-env takes the name of a variable, not a value ("AWS_SECRET_ACCESS_KEY"): secrets stay off the command line'),
    );
  });
});
