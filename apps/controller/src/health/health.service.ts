import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const DATABASE_CHECK_TIMEOUT_MS = 3_000;

/** Whether the controller can serve requests. */
@Injectable()
export class HealthService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Null when the database answers SELECT 1 in time, else why not. */
  async databaseProblem(): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the database did not answer within ${DATABASE_CHECK_TIMEOUT_MS / 1000} s`), DATABASE_CHECK_TIMEOUT_MS);
    });
    const check = this.dataSource.query('SELECT 1').then(
      () => null,
      (err: Error) => `the database does not answer: ${err.message}`,
    );
    try {
      return await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
