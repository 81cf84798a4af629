/**
 * The query's outcome, or an error naming `what` once `ms` have passed: a hung database (a frozen
 * server holds its connections open without answering) then costs a request a bounded wait. The
 * query itself runs on; whoever started it may still use its answer.
 */
export function withDatabaseTimeout<T>(query: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    query,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no answer from the database in ${ms} ms`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}
