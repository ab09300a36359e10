import { rdbLengthFromStderr } from './redis-backup';

describe('rdbLengthFromStderr', () => {
  test('reads the RDB length redis-cli reports after a diskless transfer', () => {
    expect(rdbLengthFromStderr("SYNC sent to master, writing bytes of bulk transfer until EOF marker to '-'\nTransfer finished with success after 186 bytes\n")).toBe(186);
  });
  test('is undefined after a transfer that had a length prefix and so no marker', () => {
    expect(rdbLengthFromStderr("SYNC sent to master, writing 186 bytes to '-'\nTransfer finished with success.\n")).toBeUndefined();
  });
});
