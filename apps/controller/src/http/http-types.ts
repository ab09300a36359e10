/*
 * The few parts of Express's request and response the controller uses (the project does
 * not install @types/express).
 */

/** An incoming HTTP request. */
export interface HttpRequest {
  method: string;
  path: string;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** The response being written. */
export interface HttpResponse {
  headersSent: boolean;
  setHeader(name: string, value: string): void;
  status(code: number): { json(body: unknown): void };
  end(): void;
}

/** Express error middleware signature. */
export type ErrorMiddleware = (err: unknown, req: HttpRequest, res: HttpResponse, next: (err?: unknown) => void) => void;
