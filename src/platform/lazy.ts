/**
 * An async function of another module that imports that module on its first call: what a package entry
 * exports so that importing the entry does not load (parse, link, evaluate) every operation behind it.
 * The result has exactly the type of the function it stands for, so callers and their types cannot tell.
 *
 * @example
 * export const openReembed = lazyAsync(() => import('./app/open.js'), 'openReembed');
 */
export function lazyAsync<M, K extends keyof M & string>(load: () => Promise<M>, name: K): M[K] {
  const call = async (...args: unknown[]): Promise<unknown> => {
    const fn = (await load())[name] as (...a: unknown[]) => Promise<unknown>;
    return fn(...args);
  };
  Object.defineProperty(call, 'name', { value: name });
  return call as M[K];
}
