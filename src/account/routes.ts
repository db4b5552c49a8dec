export function registerAccountRoutes(_router: unknown, _deps: unknown): void {}
