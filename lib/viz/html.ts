/** HTML text helpers shared by figure pages (lib/viz/plots.ts) and notebook output (lib/notebook/notebook.ts). */

/** Escapes the five characters that can change HTML's meaning, as numeric references. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
