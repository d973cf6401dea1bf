import { classifyAwsError } from "./errors.ts";

/**
 * The pages of an SDK paginator (`paginateListTasks(...)` and the like), each failure classified as `awsCall`
 * classifies a single call's, so a listing fails with an `AwsError` naming the operation whichever page failed.
 */
export async function* awsPages<T>(
  service: string,
  operation: string,
  pages: AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  const iterator = pages[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<T>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw classifyAwsError(service, operation, error);
    }
    if (next.done === true) return;
    yield next.value;
  }
}
