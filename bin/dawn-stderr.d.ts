// Types of bin/dawn-stderr.js (a plain JavaScript module of the launcher), for the tests.

/** True for the first line of a block the filter drops (Dawn's "Warning: " and "Info: " lines). */
export function isDawnNotice(line: string): boolean;

/** A line filter: push(chunk) as chunks arrive, end() at the end; `write` gets the kept text. */
export function createDawnFilter(write: (text: string) => void): { push(chunk: string): void; end(): void };
