// Server rendering of the ui/ components: a page is a Preact tree rendered to a string with
// preact-render-to-string (escaping every text and attribute), with the doctype in front.
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** A whole HTML document from a tree whose root is <html>. */
export function renderDocument(tree: VNode): string {
  return `<!doctype html>\n${renderToString(tree)}`;
}

/** A fragment (no doctype), e.g. a section handed to a page that is still a template. */
export function renderFragment(tree: VNode): string {
  return renderToString(tree);
}
