// Display names for the surfaces the pipeline reports (the API's surface ids).

const SURFACE_NAMES: Readonly<Record<string, string>> = {
  claude_code: 'Claude Code',
  claude_code_desktop: 'Claude Code (Desktop)',
  cowork: 'Claude Cowork',
  claude_desktop: 'Claude Desktop',
};

export function surfaceName(surface: string): string {
  return SURFACE_NAMES[surface] ?? surface;
}
