/**
 * The file extension modules have in this run: `.ts` when Node runs the sources (it strips the types),
 * `.js` when it runs the build in `dist/` (what `npm start` and the image run). Files found or started
 * at run time (migrations, the extraction process) are named with it.
 */
export const moduleExtension = (moduleUrl: string) => (moduleUrl.endsWith('.ts') ? '.ts' : '.js');
