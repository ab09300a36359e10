import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TaskMessage, WorkerMessage, WorkerSetup } from './protocol';
import { TaskWindow } from './task-window';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
/** A task as callers give it; the pool numbers it. */
export type Task = DistributiveOmit<Exclude<TaskMessage, { type: 'dedup-answer' | 'buffer-return' }>, 'taskId'>;
type Result = Extract<WorkerMessage, { type: 'backup-done' | 'chunks-done' | 'restore-done' | 'check-done' }>;

/** How the main thread answers workers during a backup. */
export interface PoolHandlers {
  /** Returns the ids, among those asked, that the repository lacks and this worker must store. */
  dedupAsk?(chunks: Array<[string, number]>): Promise<string[]> | string[];
  /**
   * New blobs sealed by a worker, back to back in `buffer`. The buffer is lent: the worker
   * reuses it once this returns, so copy what must be kept.
   */
  sealed?(blobs: Array<[string, number, number, number]>, buffer: Buffer): void;
}

// Under ts-jest this module is the TypeScript source; workers always run the built output.
const WORKER_SCRIPT = __filename.endsWith('.ts') ? join(__dirname, '../../dist/worker/pipeline-worker.js') : join(__dirname, 'pipeline-worker.js');

/**
 * A worker's objects are small and short-lived (its data lives in buffers outside the heap),
 * yet V8 would grow its young generation to tens of MiB per worker: measured on
 * `check --read-data`, this limit saved 40–80 MiB of peak RSS (two workers) at no cost in speed.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 };

interface Slot {
  worker: Worker;
  pending: number;
}

/** A fixed set of pipeline workers, one per core, fed in least-busy order. */
export class WorkerPool {
  private readonly slots: Slot[];
  private readonly waiting = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 1;
  private failure?: Error;

  constructor(setup: WorkerSetup, handlers: PoolHandlers = {}, size = availableParallelism()) {
    this.slots = Array.from({ length: Math.max(1, size) }, () => {
      const slot: Slot = { worker: new Worker(WORKER_SCRIPT, { workerData: setup, resourceLimits: WORKER_LIMITS }), pending: 0 };
      slot.worker.on('message', (msg: WorkerMessage) => this.onMessage(slot, msg, handlers));
      slot.worker.on('error', (err) => this.failAll(err));
      slot.worker.on('exit', (code) => code !== 0 && this.failAll(new Error(`a pipeline worker exited with code ${code}`)));
      return slot;
    });
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** A window of two tasks per worker: the next is queued while one runs, and no more. */
  taskWindow(): TaskWindow {
    return new TaskWindow(this.slots.length * 2);
  }

  /** Tasks handed out and not finished. */
  get busy(): number {
    return this.waiting.size;
  }

  /** Runs one task on the least busy worker; `transfer` moves those buffers to it. */
  run<T extends Result['type']>(task: Task, transfer?: ArrayBuffer[]): Promise<Extract<Result, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.pending < a.pending ? b : a));
    const taskId = this.nextId++;
    slot.pending++;
    return new Promise((resolve, reject) => {
      this.waiting.set(taskId, { resolve: resolve as (r: Result) => void, reject, slot });
      slot.worker.postMessage({ ...task, taskId }, transfer);
    });
  }

  private onMessage(slot: Slot, msg: WorkerMessage, handlers: PoolHandlers): void {
    switch (msg.type) {
      case 'dedup-ask':
        Promise.resolve(handlers.dedupAsk!(msg.chunks)).then(
          (newIds) => slot.worker.postMessage({ type: 'dedup-answer', taskId: msg.taskId, newIds }),
          (err: Error) => this.failAll(err),
        );
        return;
      case 'sealed':
        handlers.sealed!(msg.blobs, Buffer.from(msg.buffer));
        // Back to the worker instead of to the garbage collector: a buffer of megabytes per
        // round would otherwise pile up until V8's external-memory limit forces a collection.
        slot.worker.postMessage({ type: 'buffer-return', buffer: msg.buffer }, [msg.buffer]);
        return;
      case 'failed':
        return this.settle(msg.taskId, undefined, new Error(msg.message));
      default:
        return this.settle(msg.taskId, msg);
    }
  }

  private settle(taskId: number, result?: Result, error?: Error): void {
    const w = this.waiting.get(taskId);
    if (!w) return;
    this.waiting.delete(taskId);
    w.slot.pending--;
    if (error) w.reject(error);
    else w.resolve(result!);
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const [id] of this.waiting) this.settle(id, undefined, err);
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
