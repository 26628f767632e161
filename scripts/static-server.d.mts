// Types for static-server.mjs (imported by test/browser.test.ts).
export interface StaticServer {
  url: string;
  port: number;
  close(): Promise<void>;
}
export function serveStatic(options: { routes: Record<string, string>; host?: string; port?: number }): Promise<StaticServer>;
