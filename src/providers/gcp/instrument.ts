import type { ComputeMethod, ComputePort } from './port.js';

const methods: Readonly<Record<keyof ComputePort, ComputeMethod>> = {
  listRoutes: 'routes.list',
  getRoute: 'routes.get',
  insertRoute: 'routes.insert',
  deleteRoute: 'routes.delete',
  waitOperation: 'globalOperations.wait',
  getInstance: 'instances.get',
};

/** The same port, reporting every call's method and outcome (`ok`, `error`) to `count`. */
export function countedPort(
  port: ComputePort,
  count: (method: ComputeMethod, outcome: 'ok' | 'error') => void,
): ComputePort {
  const wrap =
    <A, R>(method: ComputeMethod, call: (request: A) => Promise<R>) =>
    async (request: A): Promise<R> => {
      try {
        const answer = await call(request);
        count(method, 'ok');
        return answer;
      } catch (error) {
        count(method, 'error');
        throw error;
      }
    };
  return {
    listRoutes: wrap(methods.listRoutes, (r) => port.listRoutes(r)),
    getRoute: wrap(methods.getRoute, (r) => port.getRoute(r)),
    insertRoute: wrap(methods.insertRoute, (r) => port.insertRoute(r)),
    deleteRoute: wrap(methods.deleteRoute, (r) => port.deleteRoute(r)),
    waitOperation: wrap(methods.waitOperation, (r) => port.waitOperation(r)),
    getInstance: wrap(methods.getInstance, (r) => port.getInstance(r)),
  };
}
